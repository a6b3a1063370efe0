"""Algebraic laws the engine must obey on random problems (hypothesis).

None of these compares the engine with a stored output: each states a relation that
follows from docs/theory.md (the ridge only multiplies, chi only shifts the readout, lazy
learning costs d^(k(1 - v))), or a property of the method itself (the formula reported
at a point holds on the side of growing sizes).
"""

from __future__ import annotations

from fractions import Fraction as F

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curse_cli.archs.activations import builtin, custom
from curse_cli.engine.api import predict
from curse_cli.archs.problem import Problem
from curse_cli.algebra.scales import Monomial

exponents = st.fractions(min_value=0, max_value=3, max_denominator=4)
ACTS = ["erf", "tanh", "relu", "linear", "quadratic", "cubic"]


def problem(act, widths, degree, scales, chi=Monomial(), variance=F(0), ridge=F(0)) -> Problem:
    names = [f"N{i + 1}" for i in range(len(widths))]
    values = tuple(zip(names, widths)) + (("kappa", ridge),)
    return Problem(
        activation=act, widths=tuple(Monomial({n: 1}) for n in names), degree=degree, chi=chi,
        lambda0=Monomial({"d": variance - 1}), ridge=Monomial({"kappa": 1}), scales=values,
    )


settings_ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reachable(act: str, depth: int, k: int) -> bool:
    """Whether some network of this activation and depth can represent He_k(z), by parity
    and degree alone.  erf, tanh and cubic are odd, so every feature is an odd function of
    z and an even target is out of reach; a linear network computes only z (k = 1); the
    quadratic v^2 nests to a polynomial of degree 2^depth with even powers only.  ReLU's
    Hermite orders are 1 and the even ones: one layer reaches k = 1 and even k; an odd k
    above 1 needs the product of an odd and an even feature, so a second layer."""
    if act in ("erf", "tanh", "cubic"):
        return k % 2 == 1
    if act == "linear":
        return k == 1
    if act == "quadratic":
        return k % 2 == 0 and k <= 2**depth
    return depth >= 2 or k == 1 or k % 2 == 0  # relu


@settings_
@given(st.sampled_from(ACTS), st.lists(exponents, min_size=1, max_size=2), st.integers(1, 4))
def test_every_problem_gets_an_answer(act, widths, degree):
    """A prediction exactly when the target is reachable (`reachable`, derived by parity),
    whose P* is ridge x E and whose energy is the least of all properly scored patterns;
    otherwise the reason names the target."""
    pred = predict(problem(builtin(act), widths, degree, None))
    assert bool(pred.winners) == reachable(act, len(widths), degree), (act, widths, degree, pred.unreachable)
    if pred.winners:
        assert pred.p_star_exponent == pred.energy_exponent  # kappa = d^0
        assert pred.energy_exponent == min(r.exponent for r in pred.patterns if r.counts)
        assert {w.name for w in pred.winners} == {
            r.name for r in pred.patterns if r.counts and r.exponent == pred.energy_exponent}
        assert pred.unreachable is None
    else:
        assert f"He_{degree}" in pred.unreachable


@settings_
@given(st.lists(exponents, min_size=1, max_size=2), st.integers(1, 4), exponents)
def test_ridge_only_multiplies(widths, degree, ridge):
    """[P*] = [kappa] + [E]: the ridge leaves every energy alone."""
    act = builtin("erf")
    base = predict(problem(act, widths, degree, None))
    shifted = predict(problem(act, widths, degree, None, ridge=ridge))
    assert [r.exponent for r in base.patterns] == [r.exponent for r in shifted.patterns]
    if base.winners:
        assert shifted.p_star_exponent == base.p_star_exponent + ridge


@settings_
@given(st.lists(exponents, min_size=1, max_size=2), st.sampled_from([1, 3]),
       st.fractions(min_value=-1, max_value=1, max_denominator=3))
def test_lazy_energy_by_hand(widths, degree, variance):
    """All-GP erf network: He_k first appears in K_1 as the k-th power of z, with
    [lambda] = k([sigma^2] - 1), and lazy layers keep it: [E_GP] = [chi] + k(1 - v)."""
    pred = predict(problem(builtin("erf"), widths, degree, None, variance=variance))
    gp = next(r for r in pred.patterns if all(s.kind == "GP" for s in r.pattern))
    assert gp.exponent == degree * (1 - variance)


@settings_
@given(st.lists(exponents, min_size=1, max_size=2), st.sampled_from([1, 3]))
def test_chi_shifts_every_energy_that_the_readout_sets(widths, degree):
    """Mean-field chi = N_L multiplies the readout term only: the lazy energy grows by
    exactly [N_L] (odd k: erf is odd, so even targets are unreachable)."""
    act = builtin("erf")
    std = predict(problem(act, widths, degree, None))
    names = [f"N{i + 1}" for i in range(len(widths))]
    mf = predict(problem(act, widths, degree, None, chi=Monomial({names[-1]: 1})))
    gp = lambda p: next(r for r in p.patterns if all(s.kind == "GP" for s in r.pattern))  # noqa: E731
    assert gp(mf).exponent == gp(std).exponent + widths[-1]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(exponents, min_size=2, max_size=2))
def test_formula_holds_just_beyond_the_point(widths):
    """The formula reported at s is the one of the phase on the side of growing sizes:
    at s' = s + v/10007 (v: the engine's growth direction) a fresh solve gives, for
    every pattern, exactly the value of the formula reported at s."""
    act = builtin("erf")
    here = predict(problem(act, widths, 3, None))
    step = F(1, 10007)
    # The growth direction: every scale grows, later-declared ones slightly faster.
    n_scales = 3
    v = [F(4 * (n_scales + 1) + i + 1, 5 * (n_scales + 1)) for i in range(n_scales)]
    moved = [w + step * v[i] for i, w in enumerate(widths)]
    there = predict(problem(act, moved, 3, None, ridge=step * v[2]))
    values = dict(zip(["N1", "N2", "kappa"], [*moved, step * v[2]]))
    after = {r.name: r.exponent for r in there.patterns if r.scored}
    for r in here.patterns:
        if r.scored and r.name in after:
            assert r.energy.exponent(values) == after[r.name], r.name


@settings_
@given(st.sets(st.integers(1, 4), min_size=1, max_size=3), st.sets(st.integers(1, 4), min_size=1, max_size=3),
       st.sampled_from(["bounded", "polynomial"]), st.integers(1, 3), st.lists(exponents, min_size=1, max_size=2))
def test_custom_activations_never_crash(hermite, taylor, kind, degree, widths):
    """Parity decides some answers in advance: with only even Hermite and Taylor orders
    every feature is an even function of z, so an odd target is unreachable; with only odd
    ones every feature is odd, so an even target is.  Otherwise there is exactly one of a
    prediction and a reason."""
    act = custom(sorted(hermite), sorted(taylor), kind)
    pred = predict(problem(act, widths, degree, None))
    orders = hermite | taylor
    if all(j % 2 == 0 for j in orders) and degree % 2 == 1 or all(j % 2 == 1 for j in orders) and degree % 2 == 0:
        assert not pred.winners and f"He_{degree}" in pred.unreachable
    assert bool(pred.winners) != bool(pred.unreachable)
