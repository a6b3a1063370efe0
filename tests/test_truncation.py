"""No answer depends on the truncation (issue 9, section 1; docs/theory.md section 9).

The four specs of the issue's table are regression tests with values derived by hand
in each docstring; a property test checks, on random small specs, that the default
truncation and one raised by three orders give the same exponents.
"""

from __future__ import annotations

from fractions import Fraction as F
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curse_cli.engine import api
from curse_cli.engine.api import Options, predict
from curse_cli.spec.load import load_spec_text


def spec(act: str, widths: list[str], k: int, scaling: str) -> str:
    ws = ", ".join(f'"{w}"' for w in widths)
    return (f"architecture: {{kind: fcn, activation: {act}, widths: [{ws}]}}\n"
            f"target: {{kind: hermite, degree: {k}}}\nscaling: {scaling}\n")


def run(text: str, options: Options = Options(workers=1)):
    return predict(load_spec_text(text, "t.yaml").problem, options)


def raised(text: str, by: int):
    """`run` with the safe truncation raised by `by` orders and powers."""
    safe = api.safe_truncation

    def more(degree: int, depth: int):
        t = safe(degree, depth)
        return t._replace(max_order=t.max_order + by, power_cap=t.power_cap + by)

    with mock.patch.object(api, "safe_truncation", more):
        return run(text)


def by_name(pred):
    return {r.name: r for r in pred.patterns}


def test_cubic_activation_keeps_order_one_through_v_cubed():
    """cubic (v^3 = He_3 + 3 He_1: J = {1, 3}, T = {3}), widths [d, d^3], He_1,
    mean-field (chi = N2 = d^3).  Exponents in units of [d]; m = [M], q = [q].

    Sp(z) at layer 1: cost C1 = m1 + 2 q1 + 1; sigma1 = q1^3 (He_3 + 3 He_1), content
    3 q1 at orders 1 and 3, eigenvalue m1 - 1.  Sp(sigma1) at layer 2: cost
    C2 = m2 + 2 q2 - (m1 - 1); sigma2 = q2^3 sigma1^3 has order-1 content 3 q2 + 9 q1
    (sigma1^3 reaches order 1 from orders 1, 1, 1), eigenvalue m2 - 3.  Readout
    R = 3 - 2 ((m2 - 3)/2 + 3 q2 + 9 q1) = 6 - m2 - 6 q2 - 18 q1.
    LP: multipliers of C1, C2, R from the free q1, q2: 2 y1 = 18 y3, 2 y2 = 6 y3, so
    (y1, y2, y3) = (9, 3, 1)/13; the reduced costs of m1 (y1 - y2) and m2 (y2 - y3) are
    positive, so m1 = m2 = 0 and [E] = (9 * 1 + 3 * 1 + 1 * 6)/13 = 18/13, with
    q1 = q2 = (18/13 - 1)/2 = 5/26.
    Sp(z)-GP reads sigma1 through the lazy layer: j = 3 gives 3 a1 (a1 = (m1 - 1)/2 +
    3 q1), and so does j = 1 boosted by s^4 (docs/theory.md 9); R = 6 - 3 m1 - 18 q1 against
    C1: q1 buys 9 times its cost, m1 only 3, so m1 = 0, 6 - 18 q1 = 1 + 2 q1: [E] = 3/2.
    (The old default, powers <= 2, dropped v^3 from every spike: [P*] = 3.)"""
    pred = run(spec("cubic", ["d", "d^3"], 1, "mean-field"))
    assert [w.name for w in pred.winners] == ["Sp(z)-Sp(sigma1)"]
    assert pred.p_star_exponent == F(18, 13)
    assert by_name(pred)["Sp(z)-GP"].exponent == F(3, 2)
    assert not pred.warnings


def test_quartic_polynomial_three_layers_narrow_first():
    """phi = v^2 + v^4 (J = T = {2, 4}), widths [d^(1/4), d, d^2], He_2, standard.
    Only Sp(z)-Sp(sigma1)-Sp(sigma2) can read a term relying on layer 3 (sigma3).
    sigma1 content at orders 0, 2: {2 q1, 4 q1}; sigma_{l+1} = q^2 sigma^2 + q^4 sigma^4,
    so sigma3's order-2 content terms are a q3 + b q2 + c q1 with (a, b, c) in
    (2, 4, 8..16), (2, 8, 16..32), (4, 8, 16..32), (4, 16, 32..64) (each sigma factor
    contributing 2 or 4 of its q, each sigma1 factor 2 q1 or 4 q1).  Costs:
    C1 = m1 + 2 q1 + 1, C2 = m2 + 2 q2 - m1 + 1/4, C3 = m3 + 2 q3 - m2 + 1; readout
    R = 2 - m3 - 2 (a q3 + b q2 + c q1).  Stationarity in q1, q2, q3 gives multipliers
    (c, b, a, 1)/(a + b + c + 1); the reduced costs c - b, b - a, a - 1 of m1, m2, m3
    are >= 0, so all M = 1 and [E] = (c + b/4 + a + 2)/(a + b + c + 1)
    = 1 - (3b/4 - 1)/(a + b + c + 1), least at (4, 16, 32): 42/53.  Then
    q1 = q3 = -11/106 and q2 = 115/424 (q2 + 2 q1 > 0 and q3 + 4 (q2 + 2 q1) > 0, so
    those terms are indeed the largest).  Sp(z)-Sp(sigma1)-GP: the unboosted j = 2
    power of sigma2 (amplitude 2 ((m2 - 1)/2 + 4 q2 + 8 q1); the boost is zero there
    since that amplitude is negative at the optimum): multipliers (16, 8, 1)/25,
    [E] = (16 + 8/4 + 2)/25 = 4/5.  (Default before: v^4 cut, 11/13.)"""
    pred = run(spec("{polynomial: [0, 0, 1, 0, 1]}", ["d^(1/4)", "d", "d^2"], 2, "standard"))
    rows = by_name(pred)
    assert [w.name for w in pred.winners] == ["Sp(z)-Sp(sigma1)-Sp(sigma2)"]
    assert pred.p_star_exponent == F(42, 53)
    assert rows["Sp(z)-Sp(sigma1)-GP"].exponent == F(4, 5)


def test_quartic_polynomial_three_layers_wide_first():
    """The same activation, widths [d^3, d^(1/4), d^(3/4)], He_2, standard.  With the
    terms of the previous test: C1 = m1 + 2 q1 + 1, C2 = m2 + 2 q2 - m1 + 3,
    C3 = m3 + 2 q3 - m2 + 1/4, R = 3/4 - m3 - 2 (a q3 + b q2 + c q1); multipliers
    (c, b, a, 1)/(a + b + c + 1), all M = 1, so
    [E] = (c + 3 b + a/4 + 3/4)/(a + b + c + 1) = 1 + (2 b - (3 a + 1)/4)/(a + b + c + 1),
    least for the largest c = 4 b and the smallest b: (a, b, c) = (2, 4, 16) gives
    1 + (25/4)/23 = 117/92 ((2, 6, 24): 1 + 41/132; (4, 8, 32): 1 + 51/180).
    q1 = 25/184, q2 = -159/184, q3 = 47/92.  (Default before: 17/12.)"""
    pred = run(spec("{polynomial: [0, 0, 1, 0, 1]}", ["d^3", "d^(1/4)", "d^(3/4)"], 2, "standard"))
    assert [w.name for w in pred.winners] == ["Sp(z)-Sp(sigma1)-Sp(sigma2)"]
    assert pred.p_star_exponent == F(117, 92)
    assert not pred.warnings


def test_relu_below_a_large_spike_is_normalised_by_its_input_scale():
    """ReLU, widths [d^(1/2), d^(1/2), d^(3/4)], He_3, mean-field (chi = N3 = d^(3/4)).
    ReLU is homogeneous of degree one: relu(q f) = q s_f relu(f / s_f), and below an
    input scale s the j-th Hadamard power enters with s^(2 - 2j) (docs/theory.md 9), so a
    q-specialised layer's spike keeps its scale instead of growing like s^(2j).
    Sp(z)-Sp(sigma1)-Sp(sigma2): sigma1 = q1 relu(z) (content q1 at orders 1 and even,
    eigenvalue m1 - 1/2); sigma2 = relu(q2 sigma1) has content q2 + q1 at every order
    (the j-th power of sigma1 gives j q1, less (j - 1) q1 for its scale), order 3
    included; sigma3 likewise q3 + q2 + q1.  Costs C1 = m1 + 2 q1 + 1,
    C2 = m2 + 2 q2 - (m1 - 1/2), C3 = m3 + 2 q3 - (m2 - 1/2); readout
    R = 3/4 - (m3 - 3/4) - 2 (q1 + q2 + q3).  C1 + C2 + C3 + R = 7/2 whatever the
    sizes, so [E] >= 7/8, reached by equalising the four (multipliers 1/4 each, every
    m on a face): 7/8.  GFL(z)-Sp(z)-Sp(sigma2) ties: C1 = 1/2 + D1,
    C2 = m2 + 2 q2 - (D1 - 1), C3 = m3 + 2 q3 - (m2 - 1/2), R = 3/2 - m3 - 2 (q2 + q3):
    the sum is again 7/2.  Sp(z)-Sp(sigma1)-GP reads sigma2 lazily:
    R = 3/4 - (m2 - 1/2) - 2 (q1 + q2), C1 + C2 + R = 11/4, so 11/12.  (The old rule let
    the j-th power of a large spike grow like s^(2j): 4/5, 11/14, 7/9 as the cut-off rose.)"""
    pred = run(spec("relu", ["d^(1/2)", "d^(1/2)", "d^(3/4)"], 3, "mean-field"))
    rows = by_name(pred)
    assert pred.p_star_exponent == F(7, 8)
    assert {"Sp(z)-Sp(sigma1)-Sp(sigma2)", "GFL(z)-Sp(z)-Sp(sigma2)"} <= {w.name for w in pred.winners}
    assert rows["Sp(z)-Sp(sigma1)-GP"].exponent == F(11, 12)
    assert not pred.warnings


def test_max_order_is_honoured_exactly_with_a_warning():
    """--max-order 1 with a He_3 target tracks orders 0..1 only (no longer raised to 3):
    no kernel carries He_3, so nothing is reachable, and the caller is warned."""
    pred = run(spec("erf", ["d"], 3, "standard"), Options(max_order=1, workers=1))
    assert pred.max_order == 1
    assert not pred.winners
    assert [w.code for w in pred.warnings] == ["max-order"]
    assert not run(spec("erf", ["d"], 3, "standard")).warnings
    # At or above the safe truncation (orders 3, erf's odd powers up to 3): no warning.
    assert not run(spec("erf", ["d"], 3, "standard"), Options(max_order=3, workers=1)).warnings
    cubic = run(spec("cubic", ["d"], 1, "standard"), Options(max_order=2, workers=1))
    assert [w.code for w in cubic.warnings] == ["max-order"]   # v^3 needs power 3


POLYS = ["{polynomial: [0, 1, 0, 1]}", "{polynomial: [0, 0, 1, 0, 1]}"]
ACTS = ["erf", "tanh", "relu", "linear", "quadratic", "cubic", *POLYS]
widths = st.lists(st.sampled_from(["1/4", "1/2", "1", "3/2", "2"]), min_size=1, max_size=3)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ACTS), widths, st.integers(1, 3), st.sampled_from(["standard", "mean-field"]),
       st.sampled_from(["0", "1/2"]))
def test_default_truncation_equals_default_plus_three(act, ws, k, scaling, variance):
    """Raising the safe truncation by three orders (and so the powers of an infinite
    series) changes neither P* nor the winners, nor the exponent of any pattern scored
    at the default.  The higher powers of erf/tanh/ReLU only add terms dominated in value
    that rely on more layers (docs/theory.md section 9.2): a pattern that uses a layer
    only through such a term is inconsistent at the default and may score at the higher
    truncation, never below P*.  A spec that is not certified says so at both."""
    text = spec(act, [f"d^({w})" for w in ws], k, scaling) + f"data: {{target_variance: \"{variance}\"}}\n"
    if len(ws) == 3 and act in ("relu", *POLYS):
        ws = ws[:2]  # keep the example fast: depth 3 with unbounded q is seconds per spec
        text = spec(act, [f"d^({w})" for w in ws], k, scaling) + f"data: {{target_variance: \"{variance}\"}}\n"
    low = run(text)
    high = raised(text, 3)
    assert {w.code for w in low.warnings} == {w.code for w in high.warnings}
    if low.warnings:
        return
    assert low.p_star_exponent == high.p_star_exponent
    assert [w.name for w in low.winners] == [w.name for w in high.winners]
    after = {r.name: r for r in high.patterns}
    for r in low.patterns:
        if r.scored:
            assert (after[r.name].exponent, after[r.name].status) == (r.exponent, r.status), r.name
        elif after[r.name].scored:
            assert r.status == "inconsistent" and after[r.name].exponent >= low.p_star_exponent, r.name


@pytest.mark.xfail(strict=True, reason="known: a pattern inconsistent at the default truncation (a layer used only "
                                       "through a higher power) scores at P* with three more powers, so it joins "
                                       "the tied winners; P* is unchanged")
def test_higher_powers_do_not_add_tied_winners():
    """Found by the property test above (erf, widths d^(1/4), d^(1/4), d, He_1, mean-field,
    target variance 1/2): at the default, Sp(z)-GFL(z)-GP and Sp(z)-Sp(z)-GP are
    inconsistent; raised by three they score [E] = 1 = the winners'.  Kept as a strict
    expected failure so that it is visible, and flips when the consistency test no
    longer depends on the powers kept."""
    text = spec("erf", ["d^(1/4)", "d^(1/4)", "d"], 1, "mean-field") + 'data: {target_variance: "1/2"}\n'
    low, high = run(text), raised(text, 3)
    assert low.p_star_exponent == high.p_star_exponent
    assert [w.name for w in low.winners] == [w.name for w in high.winners]
