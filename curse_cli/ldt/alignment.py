"""The alignment of one hidden neuron with a Hermite target (paper appendix B.3).

A two-layer network `f(x) = sum_i a_i phi(w_i . x)` on Gaussian data `x ~ N(0, I_d)` and
the target `y = He_k(z) / sqrt(k!)`, `z = w* . x`, `|w*| = 1`.  One neuron contributes
`a_i g(w_i)` to the alignment `A = <f, y>`, where

    g(w) = E_x[ phi(w . x) y(x) ].

`g` depends on `w` only through `u = w . w*` and `|w|^2`; the perpendicular part is frozen
at its typical size, `|w|^2 = u^2 + sigma_w^2` (B.3).  Then `X = w . x ~ N(0, s^2)` with
`s^2 = u^2 + sigma_w^2` and `Cov(X, z) = u`, so (Mehler: `E[He_k(z) | X] = rho^k He_k(X/s)`,
`rho = u/s`)

    g(u) = rho^k c_k(s),        c_k(s) = E_xi[ phi(s xi) He_k(xi) ] / sqrt(k!),  xi ~ N(0, 1),

a one-dimensional integral (the k-th normalised Hermite coefficient of `phi(s .)`).
Equivalently, by Stein's identity, `g(u) = u^k E[phi^(k)(X)] / sqrt(k!)`.  For erf,
`erf^(k)(x) = (2/sqrt(pi)) (-1)^(k-1) H_{k-1}(x) exp(-x^2)` (physicists' Hermite) and
`E[H_{2m}(X) exp(-X^2)] = (2m)!/m! (-1)^m (1 + 2 s^2)^(-m-1/2)`, hence for odd `k = 2m+1`

    g(u) = u^k / sqrt(k!) * (2/sqrt(pi)) * (-1)^m (2m)!/m! * (1 + 2 s^2)^(-m-1/2),

and `g = 0` for even `k` (`erf_g`).  Every other activation goes through `c_k(s)`, computed by
Gauss-Legendre quadrature split at `xi = 0` (exact treatment of the ReLU kink).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
from numpy.polynomial import Chebyshev
from numpy.polynomial.hermite_e import hermeval
from scipy.special import erf

from curse_cli.archs.problem import Activation

Phi = Callable[[np.ndarray], np.ndarray]

_XI_MAX = 16.0  # the Gaussian weight is below e^-128 beyond; ample for k + deg(phi) <~ 40
_NODES = 120  # Gauss-Legendre nodes on each half line [0, _XI_MAX]
_INTERPOLATE_ABOVE = 2048  # grids longer than this use a Chebyshev interpolant of c_k(s)
_CHEB_DEGREE = 96


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _linear(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _quadratic(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=float) ** 2


def _cubic(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=float) ** 3


_BUILTIN: dict[str, Phi] = {
    "erf": erf,
    "tanh": np.tanh,
    "relu": _relu,
    "linear": _linear,
    "quadratic": _quadratic,
    "cubic": _cubic,
}


def activation_callable(
    activation: str | Activation, coefficients: Sequence[float] | None = None
) -> Phi:
    """The activation as a vectorised function.

    `activation` is a builtin name (`erf`, `tanh`, `relu`, `linear`, `quadratic`,
    `cubic`, case-insensitive) or an `Activation` profile (its `name` is used).  For
    `polynomial`, `coefficients` are required, in ascending powers:
    `phi(v) = sum_m coefficients[m] v^m` (the profile carries only the supports, not the
    coefficients).  Raises `ValueError` for an unknown name or missing coefficients.
    """
    name = (activation.name if isinstance(activation, Activation) else activation).strip().lower()
    if name == "polynomial":
        if coefficients is None or len(coefficients) == 0:
            raise ValueError("a polynomial activation needs its coefficients (ascending powers)")
        coefs = np.asarray(coefficients, dtype=float)
        if not np.all(np.isfinite(coefs)):
            raise ValueError("polynomial coefficients must be finite")
        return lambda x: np.polynomial.polynomial.polyval(np.asarray(x, dtype=float), coefs)
    if coefficients is not None:
        raise ValueError(f"coefficients are only accepted for 'polynomial', not {name!r}")
    try:
        return _BUILTIN[name]
    except KeyError:
        known = ", ".join([*_BUILTIN, "polynomial"])
        raise ValueError(f"unknown activation {name!r}; known: {known}") from None


def uses_erf_closed_form(phi: Phi | None, erf_closed_form: bool | None) -> bool:
    """Whether `alignment_g` takes the closed form: by default iff `phi` is erf (or None)."""
    if erf_closed_form is None:
        return phi is None or phi is erf
    if erf_closed_form and not (phi is None or phi is erf):
        raise ValueError("erf_closed_form=True needs phi to be erf (or None)")
    return erf_closed_form


def erf_g(u: np.ndarray, k: int, sigma_w: float = 1.0) -> np.ndarray:
    """`g(u)` for `phi = erf` in closed form (module docstring); zero for even `k`."""
    u = np.asarray(u, dtype=float)
    if k % 2 == 0:
        return np.zeros_like(u)
    m = (k - 1) // 2
    s2 = u * u + sigma_w * sigma_w
    const = (2.0 / math.sqrt(math.pi)) * (-1) ** m * math.factorial(2 * m) / math.factorial(m)
    return const / math.sqrt(math.factorial(k)) * u**k * (1.0 + 2.0 * s2) ** (-(m + 0.5))


@lru_cache(maxsize=64)
def _hermite_rule(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes `xi` and weights with `sum w_i f(xi_i) = E[f(xi) He_k(xi)] / sqrt(k!)`."""
    x, w = np.polynomial.legendre.leggauss(_NODES)
    half = 0.5 * _XI_MAX * (x + 1.0)
    xi = np.concatenate([-half[::-1], half])
    wl = np.concatenate([w[::-1], w]) * 0.5 * _XI_MAX
    coef = np.zeros(k + 1)
    coef[k] = 1.0
    weights = wl * np.exp(-0.5 * xi * xi) / math.sqrt(2.0 * math.pi) * hermeval(xi, coef)
    weights /= math.sqrt(math.factorial(k))
    xi.setflags(write=False)
    weights.setflags(write=False)
    return xi, weights


def hermite_coefficient(
    phi: Phi, k: int, s: np.ndarray, *, with_scale: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """`c_k(s) = E[phi(s xi) He_k(xi)] / sqrt(k!)` by quadrature, for every entry of `s`.

    With `with_scale`, also return `sum_i |w_i phi(s xi_i)|`, the size of the terms that
    cancel: a coefficient far below it is zero (e.g. ReLU at odd `k >= 3`).
    """
    xi, weights = _hermite_rule(k)
    s = np.asarray(s, dtype=float)
    values = np.asarray(phi(np.multiply.outer(s, xi)), dtype=float)
    coef = values @ weights
    if with_scale:
        return coef, np.abs(values) @ np.abs(weights)
    return coef


def _check(k: int, sigma_w: float) -> None:
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"the target degree k must be an integer >= 1, got {k!r}")
    if not (sigma_w > 0 and math.isfinite(sigma_w)):
        raise ValueError(f"sigma_w must be positive and finite, got {sigma_w!r}")


def alignment_g(
    u: np.ndarray,
    k: int,
    phi: Phi | None = None,
    *,
    sigma_w: float = 1.0,
    erf_closed_form: bool | None = None,
) -> np.ndarray:
    """`g(u) = E_x[phi(w . x) He_k(w* . x)] / sqrt(k!)` at `w . w* = u`, `|w|^2 = u^2 + sigma_w^2`.

    `phi=None` means erf.  `erf_closed_form` defaults to True exactly when `phi` is erf;
    pass False to force the quadrature (used to check the closed form).  Direct
    quadrature at every `u` (no interpolation).
    """
    _check(k, sigma_w)
    u = np.asarray(u, dtype=float)
    if uses_erf_closed_form(phi, erf_closed_form):
        return erf_g(u, k, sigma_w)
    s = np.sqrt(u * u + sigma_w * sigma_w)
    return (u / s) ** k * hermite_coefficient(phi if phi is not None else erf, k, s)


def g_evaluator(
    k: int, phi: Phi | None, sigma_w: float, erf_closed_form: bool | None
) -> Callable[[np.ndarray], np.ndarray]:
    """`u -> g(u)` for long grids of `u >= 0`: the closed form for erf; otherwise direct
    quadrature on short grids and, on long ones, a Chebyshev interpolant of `c_k` in
    `log s` over the grid's range of `s` (`c_k` is smooth in `s > 0` even for kinked
    `phi`; the factor `rho^k` carrying the small-`u` behaviour stays exact)."""
    _check(k, sigma_w)
    if uses_erf_closed_form(phi, erf_closed_form):
        return lambda u: erf_g(u, k, sigma_w)
    f = phi if phi is not None else erf

    def evaluate(u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        s = np.sqrt(u * u + sigma_w * sigma_w)
        if u.size <= _INTERPOLATE_ABOVE:
            return (u / s) ** k * hermite_coefficient(f, k, s)
        lo, hi = math.log(float(s.min())), math.log(float(s.max()))
        if hi - lo < 1e-12:
            return (u / s) ** k * hermite_coefficient(f, k, s)
        cheb = Chebyshev.interpolate(
            lambda x: hermite_coefficient(f, k, np.exp(x)), _CHEB_DEGREE, domain=[lo, hi]  # type: ignore[arg-type, return-value]
        )
        return (u / s) ** k * cheb(np.log(s))

    return evaluate
