"""The exact large-deviation (Chernoff) bound for two-layer networks (paper appendix B.3).

Network `f(x) = sum_{i<=N} a_i phi(w_i . x)`, `a_i ~ N(0, sigma_a^2/(chi N))`,
`w_i ~ N(0, sigma_w^2 I/d)`, target `He_k(z)/sqrt(k!)`; `g(u)` is one neuron's alignment
(`ldt_alignment`).  Given the `w_i`, `A = sum_i a_i g(u_i)` is Gaussian, so integrating
out the readout (B.2, eq. 31) and using that neurons are i.i.d. (eq. 34),

    log E[e^{tA}] = N log Z(t),   Z(t) = E_{u ~ N(0, sigma_w^2/d)} exp(lam g(u)^2),
    lam = t^2 sigma_a^2 / (2 chi N),

    E(alpha) = sup_{t >= 0} F(t),   F(t) = t alpha - N log Z(t)       (Chernoff, eq. 25)

`log Z` is the cumulant generating function of one neuron's `a g(u)`, hence convex in `t`;
`F` is concave with `F'(0) = alpha > 0`, and its maximiser solves (eq. 37)

    F'(t) = alpha - (t sigma_a^2 / chi) <g^2>_t = 0,

`<.>_t` the tilted measure `N(u; 0, sigma_w^2/d) exp(lam g^2) / Z`.  `F'` is decreasing in
`t`, so the root is bracketed and found by Brent's method in `log lam`.

Numerics.  Write `lam = d lamt`: the tilted log-density is `d (lamt g^2 - u^2/(2 sigma_w^2))`,
so every feature of the integrand (the bulk at `u ~ sigma_w/sqrt(d)`, the peak of the
aligned neurons at `u ~ 1`) has width of order `sigma_w/sqrt(d)`.  Z is the trapezoidal
rule on a uniform grid `u = 0, h, 2h, ..., U` with `h <= sigma_w/(4 sqrt(d))` (spectrally
accurate for such smooth, even integrands; nodes whose weight stays below e^-760 are
dropped, so a point costs milliseconds at any d), in log space with normalised weights and
`log Z = log1p(sum w (e^{lam g^2} - 1))` so tiny tilts keep full relative precision.  `U`
bounds the neglected tail by `e^-50`, from `g(u)^2 <= B u^2` on a log-spaced probe grid up
to `10^6 sigma_w`.  Where `g` grows linearly (ReLU, linear), `Z` is finite only below
`t_max` (`lam < d/(2 sigma_w^2 B_inf)`, `B_inf = lim g^2/u^2`); where it grows faster
(a polynomial whose top power of the parity of k is >= 2: cubic at k = 1 or 3, quadratic
at k = 2), `Z = inf` for every `t > 0` and the Chernoff bound is vacuous.  As `d -> inf` with bounded `g`,
`E -> alpha sqrt(chi N d) min_u(u/|g(u)|) / (sigma_a sigma_w)`: the (N d)^(1/2) of the
specialisation pattern (docs/theory.md section 7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import brentq
from scipy.special import erf

from curse_cli.ldt.alignment import (
    Phi,
    activation_callable,
    alignment_g,
    erf_g,
    g_evaluator,
    hermite_coefficient,
    uses_erf_closed_form,
)

__all__ = [
    "LdtPoint",
    "activation_callable",
    "alignment_g",
    "chernoff",
    "log_slopes",
    "tilted_density",
]

Status = Literal["ok", "boundary", "vacuous", "unreachable"]

_TAIL_LOG = -50.0  # neglected tail mass of Z, in log
_MAX_POINTS = 40_000
_PROBE = np.logspace(-3.0, 6.0, 181)  # in units of sigma_w; 20 points a decade


@dataclass(frozen=True)
class LdtPoint:
    """The Chernoff bound at one `(d, N)`.

    `energy` is `E(alpha) = sup_t [t alpha - N log Z(t)]`, reached at `t_star`
    (`log_z = log Z(t_star)`).  `specialised` is the expected number of specialised
    neurons, `N P_tilt(|u| > u_c)` at `t_star`, with `u_c = sigma_w d^(-1/4)`: the
    geometric midpoint between the bulk scale `sigma_w/sqrt(d)` and the aligned scale
    `sigma_w`.  The untilted bulk alone puts `N erfc(d^(1/4)/sqrt(2)) ~ N e^{-sqrt(d)/2}`
    neurons there, so the count is meaningful once `d >~ 100` (and `N << d^5`, where the
    lazy bulk is not what carries the alignment).  `t_max` is where `Z` stops being
    finite (`inf` for bounded `g`).

    `status`: `ok`; `boundary` (the maximiser lies closer to `t_max` than the grid can
    resolve; `energy` is `F` at the largest resolvable `t = t_star`, and since
    `F' <= alpha` the sup lies in `[energy, energy + alpha (t_max - t_star)]`);
    `vacuous` (`Z = inf` for all `t > 0`: the bound says only `E >= 0`, `energy = 0`);
    `unreachable` (`g = 0`: `A = 0` surely, `energy = inf`).
    """

    d: float
    N: float
    k: int
    chi: float
    alpha: float
    sigma_w: float
    sigma_a: float
    energy: float
    t_star: float
    t_max: float
    log_z: float
    specialised: float
    u_c: float
    status: Status


@dataclass(frozen=True)
class _Probe:
    """`g^2/u^2` on the log-spaced probe grid and what it tells about the tail."""

    u: np.ndarray
    suffix_max: np.ndarray  # B_j = max_{i >= j} g_i^2 / u_i^2
    ratio_max: float  # max_u g^2/u^2: lam_c = d / (2 sigma_w^2 ratio_max)
    b_inf: float  # lim g^2/u^2 (0 for sublinear g)
    growth: Literal["zero", "bounded", "linear", "superlinear"]


@dataclass(frozen=True)
class _Grid:
    """The trapezoidal rule for `E_u[.]`, `u >= 0`: normalised log weights and `g^2`."""

    u: np.ndarray
    logw: np.ndarray
    g2: np.ndarray
    log_g2: np.ndarray
    log_cut: np.ndarray  # the weights of the rule on [u_c, U] (-inf below u_c)
    cut: tuple[float, float, float, float]  # (h, log w(u_c), g^2(u_c), dg^2/du(u_c))


def _probe(k: int, phi: Phi | None, sigma_w: float, closed: bool) -> _Probe:
    u = sigma_w * _PROBE
    s = np.sqrt(u * u + sigma_w * sigma_w)
    with np.errstate(all="ignore"):
        if closed:
            g = erf_g(u, k, sigma_w)
            zero = k % 2 == 0
        else:
            coef, scale = hermite_coefficient(phi if phi is not None else erf, k, s, with_scale=True)
            g = (u / s) ** k * coef
            zero = bool(np.all(np.abs(coef) <= 1e-10 * scale + 1e-300))
        ratio = (g / u) ** 2
        # growth exponent of |g| between 1e5 and 1e6 sigma_w (rho = u/s = 1 there)
        p = math.log10(abs(g[-1]) / abs(g[-21])) if g[-21] != 0 else (0.0 if g[-1] == 0 else math.inf)
    if zero:
        growth = "zero"
    elif not (np.all(np.isfinite(ratio)) and math.isfinite(p)) or p > 1.02:
        growth = "superlinear"
    elif p >= 0.98:
        growth = "linear"
    else:
        growth = "bounded"
    finite = np.where(np.isfinite(ratio), ratio, np.inf)
    suffix = np.maximum.accumulate(finite[::-1])[::-1]
    b_inf = float(ratio[-1]) if growth == "linear" else 0.0
    return _Probe(u, suffix, float(np.max(finite)), b_inf, growth)  # type: ignore[arg-type]  # one of the four


def _extent(probe: _Probe, lam: float, d: float, sigma_w: float) -> float:
    """The smallest probe `U` with `int_{|u|>U} N(u) e^{lam g^2} < e^-50`, from
    `g^2 <= B_j u^2` beyond the probe point `u_j` (`Z >= 1`, so this is relative)."""
    margin = 1.1 if probe.growth == "bounded" else 1.0
    gamma = d / (2 * sigma_w**2) - lam * margin * probe.suffix_max
    with np.errstate(all="ignore"):
        tail = (
            -gamma * probe.u**2
            - np.log(gamma * probe.u)
            + 0.5 * math.log(d / (2 * math.pi * sigma_w**2))  # both signs of u
        )
    ok = (gamma > 0) & (tail < _TAIL_LOG)
    return float(probe.u[np.argmax(ok)]) if ok.any() else math.inf


def _step(d: float, sigma_w: float) -> float:
    return sigma_w * min(0.25 / math.sqrt(d), 1.0 / 16.0)


def _logsumexp(a: np.ndarray) -> float:
    """`log sum exp(a)`, without overflow (`-inf` for an empty or all `-inf` array)."""
    if a.size == 0:
        return -math.inf
    m = float(np.max(a))
    if not math.isfinite(m):
        return m
    return m + math.log(float(np.sum(np.exp(a - m))))


def _grid(extent: float, lam_hi: float, d: float, sigma_w: float, u_c: float, gfun) -> _Grid:
    """The rule on `[0, extent]`, keeping only the nodes that can matter for `lam <= lam_hi`
    (`w e^{lam_hi g^2} > e^-760`, below what a double resolves against `Z >= 1`).  The
    step divides `u_c`, so that `P(u > u_c)` is a trapezoidal rule too."""
    h = u_c / math.ceil(u_c / _step(d, sigma_w))
    n = int(math.ceil(extent / h))
    u = h * np.arange(n + 1)
    logw = -d * u * u / (2 * sigma_w**2)
    logw[0] -= math.log(2.0)  # trapezoid on [0, U] of an even integrand
    logw -= _logsumexp(logw)
    g2 = gfun(u) ** 2
    i_c = round(u_c / h)
    log_cut = np.where(np.arange(n + 1) >= i_c, logw, -np.inf)
    cut = (h, -math.inf, 0.0, 0.0)
    if i_c <= n:
        log_cut[i_c] -= math.log(2.0)
        eps = 1e-4 * u_c
        dg2 = (gfun(np.array([u_c + eps]))[0] ** 2 - gfun(np.array([u_c - eps]))[0] ** 2) / (2 * eps)
        cut = (h, float(logw[i_c]), float(g2[i_c]), float(dg2))
    keep = logw + lam_hi * g2 > -760.0
    with np.errstate(divide="ignore"):
        log_g2 = np.log(g2[keep])
    return _Grid(u[keep], logw[keep], g2[keep], log_g2, log_cut[keep], cut)


def _log_z(grid: _Grid, lam: float) -> float:
    """`log Z = log1p(sum w (e^x - 1))`, `x = lam g^2`, stable for tiny and huge `x`."""
    x = lam * grid.g2
    with np.errstate(divide="ignore"):
        log_expm1 = x + np.log(-np.expm1(-x))
    return float(np.logaddexp(0.0, _logsumexp(grid.logw + log_expm1)))


def _log_mean_g2(grid: _Grid, lam: float, log_z: float) -> float:
    return _logsumexp(grid.logw + lam * grid.g2 + grid.log_g2) - log_z


def _slope(grid: _Grid, lam: float, alpha: float, N: float, chi: float, sigma_a: float) -> float:
    """`log alpha - log((t sigma_a^2/chi) <g^2>_t)`: same sign as `F'(t)`, decreasing."""
    log_mean = _log_mean_g2(grid, lam, _log_z(grid, lam))
    return math.log(alpha) - 0.5 * math.log(2 * N * lam / chi) - math.log(sigma_a) - log_mean


def _largest_resolvable(probe: _Probe, lam_cap: float, d: float, sigma_w: float) -> float:
    """The largest `lam < lam_cap` whose grid has at most `_MAX_POINTS` points."""
    u_cap = _MAX_POINTS * _step(d, sigma_w)
    if _extent(probe, lam_cap, d, sigma_w) <= u_cap:
        return lam_cap
    lo, hi = -700.0, math.log(lam_cap)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _extent(probe, math.exp(mid), d, sigma_w) <= u_cap else (lo, mid)
    return math.exp(lo)


def _validate(**values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def chernoff(
    d: float,
    N: float,
    k: int,
    *,
    alpha: float = 0.5,
    sigma_w: float = 1.0,
    sigma_a: float = 1.0,
    chi: float = 1.0,
    phi: Phi | None = None,
) -> LdtPoint:
    """The Chernoff energy `E(alpha)` of a two-layer network at input dimension `d`, width `N`.

    `phi=None` is erf (closed-form `g`); any other vectorised activation goes through
    quadrature (`activation_callable` builds the builtins and polynomials).  Standard
    scaling is `chi = 1`, mean-field `chi = N`.  Raises `ValueError` on invalid input;
    every other outcome is a `status` of the returned point.
    """
    _validate(d=d, N=N, alpha=alpha, sigma_w=sigma_w, sigma_a=sigma_a, chi=chi)
    d, N, alpha, sigma_w, sigma_a, chi = map(float, (d, N, alpha, sigma_w, sigma_a, chi))
    closed = uses_erf_closed_form(phi, None)
    gfun = g_evaluator(k, phi, sigma_w, None)
    u_c = sigma_w * d**-0.25

    def point(energy: float, t: float, t_max: float, log_z: float, spec: float, status: Status) -> LdtPoint:
        return LdtPoint(d, N, int(k), chi, alpha, sigma_w, sigma_a, energy, t, t_max, log_z, spec, u_c, status)

    def t_of(lam: float) -> float:
        return math.sqrt(2 * chi * N * lam) / sigma_a

    probe = _probe(k, phi, sigma_w, closed)
    if probe.growth == "zero":
        return point(math.inf, math.inf, math.inf, 0.0, math.nan, "unreachable")
    if probe.growth == "superlinear":
        return point(0.0, 0.0, 0.0, 0.0, 0.0, "vacuous")
    lam_max = d / (2 * sigma_w**2 * probe.b_inf) if probe.b_inf > 0 else math.inf
    lam_c = d / (2 * sigma_w**2 * probe.ratio_max)  # tilt at which aligned neurons match the bulk
    cap = lam_max * (1 - 1e-12) if math.isfinite(lam_max) else lam_c * 1e30
    lam_res = _largest_resolvable(probe, cap, d, sigma_w)

    def build(lam: float) -> _Grid:
        return _grid(_extent(probe, lam, d, sigma_w), lam, d, sigma_w, u_c, gfun)

    def falling(grid: _Grid, lam: float) -> bool:
        return _slope(grid, lam, alpha, N, chi, sigma_a) < 0

    # lam_c brackets the root unless N d is small.  Otherwise check that the root lies
    # before lam_res, then step towards lam_max (the grid grows like (lam_max - lam)^-1/2).
    lam_hi = min(lam_c, lam_res, 0.5 * lam_max)
    grid = build(lam_hi)
    if not falling(grid, lam_hi):
        grid_res = build(lam_res)
        if not falling(grid_res, lam_res):  # F still rising at the last resolvable t
            log_z = _log_z(grid_res, lam_res)
            spec = _specialised(grid_res, lam_res, log_z, d, sigma_w, u_c, N)
            t = t_of(lam_res)
            return point(t * alpha - N * log_z, t, t_of(lam_max), log_z, spec, "boundary")
        while not falling(grid_res, lam_hi):  # the lam_res grid serves every lam <= lam_res
            lam_hi = 2 * lam_hi if math.isinf(lam_max) else lam_max - 0.0625 * (lam_max - lam_hi)
            if lam_hi >= lam_res:
                lam_hi = lam_res
                break
        grid = grid_res if lam_hi == lam_res else build(lam_hi)

    mean_hi = math.exp(_log_mean_g2(grid, lam_hi, _log_z(grid, lam_hi)))
    lam_lo = chi * (alpha / (2 * sigma_a * mean_hi)) ** 2 / (2 * N)  # slope > 0 there
    x = brentq(
        lambda x: _slope(grid, math.exp(x), alpha, N, chi, sigma_a),
        math.log(lam_lo),
        math.log(lam_hi),
        xtol=1e-13,
        rtol=4 * np.finfo(float).eps,
    )
    lam = math.exp(x)
    log_z = _log_z(grid, lam)
    t = t_of(lam)
    return point(t * alpha - N * log_z, t, t_of(lam_max), log_z, _specialised(grid, lam, log_z, d, sigma_w, u_c, N),
                 "ok")


def _specialised(grid: _Grid, lam: float, log_z: float, d: float, sigma_w: float, u_c: float, N: float) -> float:
    """`N P_tilt(|u| > u_c)`: the trapezoidal rule on `[u_c, U]` plus its Euler-Maclaurin
    end correction `h^2 f'(u_c)/12` (the tilted density `f` is steep at `u_c` for small d)."""
    h, log_w, g2, dg2 = grid.cut
    trapezoid = math.exp(_logsumexp(grid.log_cut + lam * grid.g2) - log_z)
    if not math.isfinite(log_w):
        return N * trapezoid
    dlog_f = lam * dg2 - d * u_c / sigma_w**2
    return N * (trapezoid + h / 12 * math.exp(log_w + lam * g2 - log_z) * dlog_f)


def tilted_density(
    point: LdtPoint,
    u: np.ndarray,
    *,
    phi: Phi | None = None,
    erf_closed_form: bool | None = None,
    log: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The tilted density of `u = w . w*` at `t_star`, evaluated at the points `u`.

    `p(u) = N(u; 0, sigma_w^2/d) exp(lam g(u)^2) / Z`, `lam = t_star^2 sigma_a^2/(2 chi N)`:
    a probability density on the real line (even in `u`).  Returns `(u, p)`, or
    `(u, log p)` with `log=True` (the aligned peak is often far below the bulk).  Pass the
    same `phi` as to `chernoff`.  Only for points with status `ok` or `boundary`.
    """
    if point.status not in ("ok", "boundary"):
        raise ValueError(f"no tilted measure for a point with status {point.status!r}")
    u = np.asarray(u, dtype=float)
    lam = point.t_star**2 * point.sigma_a**2 / (2 * point.chi * point.N)
    g = g_evaluator(point.k, phi, point.sigma_w, erf_closed_form)(np.abs(u).ravel()).reshape(u.shape)
    var = point.sigma_w**2 / point.d
    log_p = -0.5 * np.log(2 * math.pi * var) - u * u / (2 * var) + lam * g * g - point.log_z
    return u, (log_p if log else np.exp(log_p))


def log_slopes(xs, ys) -> list[float]:
    """Local log-log slopes `(log y2 - log y1)/(log x2 - log x1)` of consecutive points."""
    lx, ly = np.log(np.asarray(xs, dtype=float)), np.log(np.asarray(ys, dtype=float))
    if lx.shape != ly.shape or lx.ndim != 1:
        raise ValueError("xs and ys must be one-dimensional and of equal length")
    return [float(v) for v in np.diff(ly) / np.diff(lx)]
