"""The Chernoff (large-deviation) bound for two-layer networks: `curse_cli.ldt.bound`."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.optimize import minimize_scalar
from scipy.special import erf

from curse_cli.ldt import bound as ldt
from curse_cli.ldt.bound import LdtPoint, activation_callable, alignment_g, chernoff, log_slopes, tilted_density
from curse_cli.ldt.alignment import g_evaluator
from curse_cli.archs.problem import Activation, Support

# -- acceptance: the specialisation exponent of docs/theory.md section 7 ---------------------


@pytest.mark.parametrize("gamma, expected", [(1.0, 1.0), (1.5, 1.25), (2.0, 1.5)])
def test_energy_slope_matches_specialisation_exponent(gamma, expected):
    # Sp row: E ∝ (N d)^(1/2), so at N = d^gamma the slope in d is (1 + gamma)/2.
    ds = [1e4, 1e5]
    points = [chernoff(d, d**gamma, 3, alpha=0.5, chi=1.0) for d in ds]
    assert all(p.status == "ok" for p in points)
    (slope,) = log_slopes(ds, [p.energy for p in points])
    assert slope == pytest.approx(expected, abs=0.01)


def test_specialised_neurons_scale_as_sqrt_n_over_d():
    # M = (N/d)^(1/2) (docs/theory.md section 7): slope 1/4 in d at N = d^(3/2).
    ds = [1e4, 1e5]
    counts = [chernoff(d, d**1.5, 3).specialised for d in ds]
    assert log_slopes(ds, counts)[0] == pytest.approx(0.25, abs=0.01)


def test_leading_order_energy_and_count():
    # d -> inf: E -> alpha sqrt(chi N d) min_u(u/|g|) / (sigma_a sigma_w), and the tilted
    # count -> alpha sigma_w sqrt(chi N / d) / (sigma_a |g(u*)| u*) at the minimiser u*.
    sw, sa, chi, alpha, d, N = 1.3, 0.7, 2.0, 0.8, 1e6, 1e7
    best = minimize_scalar(
        lambda u: u / abs(alignment_g(np.array([u]), 3, sigma_w=sw)[0]),
        bounds=(0.1 * sw, 10 * sw),
        method="bounded",
        options={"xatol": 1e-10},
    )
    p = chernoff(d, N, 3, alpha=alpha, sigma_w=sw, sigma_a=sa, chi=chi)
    assert p.energy / (alpha * math.sqrt(chi * N * d) * best.fun / (sa * sw)) == pytest.approx(1, abs=1e-4)
    count = alpha * sw * math.sqrt(chi * N / d) / (sa * best.x**2 / best.fun)
    assert p.specialised == pytest.approx(count, rel=1e-2)


def test_mean_field_energy_is_linear_in_width():
    # chi = N: Z depends on t/N only, so E = N sup_tau [tau alpha - log Z(tau)].
    d = 1e4
    energies = [chernoff(d, N, 3, chi=N).energy for N in (d, 10 * d, 100 * d)]
    assert log_slopes([d, 10 * d, 100 * d], energies) == pytest.approx([1.0, 1.0], abs=1e-9)


# -- the optimisation -------------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(
    log_d=st.floats(1.0, 6.0),
    width=st.floats(0.5, 2.0),
    alphas=st.lists(st.floats(0.05, 5.0), min_size=2, max_size=2, unique=True),
)
def test_energy_grows_with_alpha(log_d, width, alphas):
    d = 10**log_d
    lo, hi = sorted(alphas)
    e_lo, e_hi = (chernoff(d, d**width, 3, alpha=a).energy for a in (lo, hi))
    assert 0 < e_lo < e_hi


def test_energy_is_convex_in_alpha_with_slope_t_star():
    # E is the Legendre transform of N log Z: convex, with E'(alpha) = t* (envelope).
    d, N, a, h = 1e3, 1e4, 0.5, 1e-4
    p = chernoff(d, N, 3, alpha=a)
    e_plus, e_minus = chernoff(d, N, 3, alpha=a + h).energy, chernoff(d, N, 3, alpha=a - h).energy
    assert (e_plus - e_minus) / (2 * h) == pytest.approx(p.t_star, rel=1e-7)
    assert e_plus + e_minus - 2 * p.energy > 0


def test_linear_network_matches_closed_form():
    # phi(v) = v, k = 1: g(u) = u exactly, Z = (1 - t^2 c)^(-1/2), c = sa^2 sw^2/(chi N d).
    for d, N, chi, sa, sw, alpha in [(100, 100, 1, 1, 1, 0.5), (1e3, 1e6, 1e6, 2, 0.7, 1.0), (10, 1e3, 1, 1, 1, 3.0)]:
        p = chernoff(d, N, 1, alpha=alpha, chi=chi, sigma_a=sa, sigma_w=sw, phi=activation_callable("linear"))
        c = sa**2 * sw**2 / (chi * N * d)
        t = (-N * c + math.sqrt((N * c) ** 2 + 4 * alpha**2 * c)) / (2 * alpha * c)
        assert p.status == "ok"
        assert p.t_max == pytest.approx(1 / math.sqrt(c), rel=1e-12)
        assert p.t_star == pytest.approx(t, rel=1e-10)
        assert p.energy == pytest.approx(t * alpha + N / 2 * math.log(1 - t * t * c), rel=1e-10)


def test_log_z_matches_adaptive_quadrature():
    d, N = 100.0, 300.0
    p = chernoff(d, N, 3)
    lam = p.t_star**2 / (2 * N)
    s = math.sqrt(1 / d)

    def f(u):
        g = alignment_g(np.array([u]), 3)[0]
        return math.exp(-u * u / (2 * s * s) + lam * g * g) / math.sqrt(2 * math.pi * s * s)

    z = 2 * sum(quad(f, a, b, epsabs=0, epsrel=1e-13, limit=200)[0] for a, b in [(0, 0.5), (0.5, 2), (2, 10)])
    assert p.log_z == pytest.approx(math.log(z), abs=1e-13)


@pytest.mark.parametrize("d, N", [(10, 10), (100, 300), (1e4, 1e6), (1e6, 1e6)])
def test_grid_refinement_changes_nothing(monkeypatch, d, N):
    coarse = chernoff(d, N, 3)
    step = ldt._step
    monkeypatch.setattr(ldt, "_step", lambda d, s: step(d, s) / 2)
    fine = chernoff(d, N, 3)
    assert fine.energy == pytest.approx(coarse.energy, rel=1e-12)
    assert fine.specialised == pytest.approx(coarse.specialised, rel=1e-4)


@pytest.mark.parametrize("d", [10, 1e3, 1e6])
def test_energies_finite_across_dimensions(d):
    for N in (d, d**2):
        for phi in (None, activation_callable("tanh")):
            p = chernoff(d, N, 3, phi=phi)
            assert p.status == "ok"
            assert math.isfinite(p.energy) and p.energy > 0
            assert math.isfinite(p.t_star) and math.isfinite(p.log_z) and math.isfinite(p.specialised)
        relu = chernoff(d, N, 1, phi=activation_callable("relu"))
        assert relu.status == "ok" and math.isfinite(relu.energy) and relu.t_star < relu.t_max


def test_statuses():
    relu, cubic = activation_callable("relu"), activation_callable("cubic")
    assert chernoff(1e3, 1e3, 3, phi=relu).status == "unreachable"  # ReLU has no He_3
    assert chernoff(1e3, 1e3, 3, phi=relu).energy == math.inf
    assert chernoff(1e3, 1e3, 2).status == "unreachable"  # erf is odd
    vacuous = chernoff(1e3, 1e3, 3, phi=cubic)  # g ~ u^3: E exp(t A) = inf for t > 0
    assert (vacuous.status, vacuous.energy) == ("vacuous", 0.0)
    # ReLU at k = 2: the optimum crowds t_max (q-specialisation at |w| -> inf)
    p = chernoff(1e3, 1e3, 2, phi=relu)
    assert p.status in ("ok", "boundary") and p.t_star < p.t_max
    assert p.energy <= chernoff(1e3, 1e3, 2, phi=relu, alpha=0.6).energy


@pytest.mark.parametrize("d, k", [(10, 2), (10, 4), (1e3, 2), (1e5, 4)])
def test_relu_energy_is_pinned_between_the_bracket(monkeypatch, d, k):
    # At `boundary` the sup lies in [energy, energy + alpha (t_max - t_star)]; a finer
    # resolution of t_max must land inside that bracket.
    relu = activation_callable("relu")
    p = chernoff(d, d, k, phi=relu)
    monkeypatch.setattr(ldt, "_MAX_POINTS", 4 * ldt._MAX_POINTS)
    q = chernoff(d, d, k, phi=relu)
    gap = p.alpha * (p.t_max - p.t_star)
    assert p.status in ("ok", "boundary")
    assert p.energy - 1e-9 * p.energy <= q.energy <= p.energy + gap + 1e-9 * p.energy
    if p.status == "boundary":  # the bracket is narrow: the energy is pinned
        assert gap < 1e-6 * p.energy
    else:  # an interior maximiser does not move when t_max is resolved more finely
        assert q.energy == pytest.approx(p.energy, rel=1e-9)


def test_invalid_input():
    for kwargs in ({"d": 0.0}, {"N": -1.0}, {"alpha": 0.0}, {"chi": math.inf}, {"sigma_a": math.nan}):
        args = {"d": 100.0, "N": 100.0} | kwargs
        with pytest.raises(ValueError):
            chernoff(args.pop("d"), args.pop("N"), 3, **args)
    with pytest.raises(ValueError):
        chernoff(100, 100, 0)
    with pytest.raises(ValueError):
        alignment_g(np.array([0.5]), 3, np.tanh, erf_closed_form=True)


# -- the tilted measure ---------------------------------------------------------------


def test_tilted_density_is_normalised_and_counts_specialists():
    p = chernoff(1e3, 1e3, 3)
    u = np.linspace(-3, 3, 6001)
    _, density = tilted_density(p, u)
    h = u[1] - u[0]
    assert density.sum() * h == pytest.approx(1, abs=1e-10)
    assert p.N * density[np.abs(u) > p.u_c].sum() * h == pytest.approx(p.specialised, rel=1e-5)
    _, log_density = tilted_density(p, u, log=True)
    assert np.allclose(np.exp(log_density), density)
    # bimodal: a bulk at 0 and an aligned peak near u ~ 1
    far = np.abs(u) > 0.5
    assert u[far][np.argmax(density[far])] ** 2 == pytest.approx(3.0, abs=0.1)


def test_tilted_density_refuses_without_a_tilt():
    p = chernoff(1e3, 1e3, 3, phi=activation_callable("cubic"))
    with pytest.raises(ValueError):
        tilted_density(p, np.zeros(3), phi=activation_callable("cubic"))


# -- the alignment g ------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("sigma_w", [0.5, 1.0, 2.0])
def test_erf_closed_form_matches_quadrature(k, sigma_w):
    u = np.linspace(-5, 5, 101)
    closed = alignment_g(u, k, sigma_w=sigma_w)
    numeric = alignment_g(u, k, erf, sigma_w=sigma_w, erf_closed_form=False)
    assert np.max(np.abs(closed - numeric)) < 1e-8
    if k % 2 == 0:  # erf is odd: E[erf(w.x) He_k(z)] vanishes for even k
        assert np.max(np.abs(closed)) < 1e-12
    else:
        assert np.max(np.abs(closed)) > 0.1


def _monte_carlo_g(phi, k, u, sigma_w, n=400_000, d=6, seed=0):
    """g(u) from samples of x ~ N(0, I_d), with w = u e_1 + sigma_w e_2 and w* = e_1."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    z = x[:, 0]
    he = np.polynomial.hermite_e.hermeval(z, [0] * k + [1]) / math.sqrt(math.factorial(k))
    values = phi(u * x[:, 0] + sigma_w * x[:, 1]) * he
    return values.mean(), values.std(ddof=1) / math.sqrt(n)


@pytest.mark.parametrize(
    "name, coefficients, k",
    [("relu", None, 1), ("relu", None, 2), ("relu", None, 4), ("tanh", None, 3),
     ("polynomial", [0.3, 1.0, -0.5, 0.4], 1), ("polynomial", [0.3, 1.0, -0.5, 0.4], 2),
     ("polynomial", [0.3, 1.0, -0.5, 0.4], 3)],
)
def test_quadrature_matches_monte_carlo(name, coefficients, k):
    phi = activation_callable(name, coefficients)
    for u, sigma_w in [(0.3, 1.0), (1.0, 0.8), (-2.0, 1.5)]:
        mean, se = _monte_carlo_g(phi, k, u, sigma_w)
        g = alignment_g(np.array([u]), k, phi, sigma_w=sigma_w)[0]
        assert abs(g - mean) < 4.5 * se + 1e-12, (u, g, mean, se)


def test_polynomial_alignment_is_exact():
    # phi = v^3 = He_3 + 3 He_1 at |w|^2 = u^2 + sigma^2: g_3 = sqrt(6) u^3, g_1 = 3 u s^2.
    u = np.linspace(-3, 3, 13)
    s2 = u * u + 0.49
    cubic = activation_callable("polynomial", [0, 0, 0, 1])
    assert np.allclose(alignment_g(u, 3, cubic, sigma_w=0.7), math.sqrt(6) * u**3, atol=1e-12)
    assert np.allclose(alignment_g(u, 1, cubic, sigma_w=0.7), 3 * u * s2, atol=1e-12)


@pytest.mark.parametrize("name", ["tanh", "relu", "erf"])
def test_interpolated_g_matches_direct(name):
    phi = activation_callable(name)
    u = np.linspace(0, 30, 5000)  # long enough to take the interpolant
    for k in (1, 2, 3, 4):
        fast = g_evaluator(k, phi, 1.0, False)(u)
        assert np.max(np.abs(fast - alignment_g(u, k, phi, erf_closed_form=False))) < 1e-10


# -- small pieces -----------------------------------------------------------------------


def test_activation_callable():
    x = np.array([-1.5, 0.0, 2.0])
    assert np.allclose(activation_callable("ReLU")(x), [0, 0, 2])
    assert np.allclose(activation_callable("quadratic")(x), x**2)
    assert np.allclose(activation_callable("polynomial", [1, 0, 2])(x), 1 + 2 * x**2)
    profile = Activation("tanh", "bounded", Support(parity=1), Support(parity=1))
    assert activation_callable(profile) is np.tanh
    with pytest.raises(ValueError):
        activation_callable("polynomial")
    with pytest.raises(ValueError):
        activation_callable("softsign")
    with pytest.raises(ValueError):
        activation_callable("tanh", [1.0])


def test_log_slopes():
    assert log_slopes([1, 10, 100], [2, 20, 2000]) == pytest.approx([1.0, 2.0])
    with pytest.raises(ValueError):
        log_slopes([1, 2], [1, 2, 3])


def test_point_is_frozen():
    p = chernoff(100, 100, 3)
    assert isinstance(p, LdtPoint)
    with pytest.raises(AttributeError):
        p.energy = 0.0  # type: ignore[misc]
