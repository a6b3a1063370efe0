"""Activation profiles (docs/theory.md section 4): builtins, polynomials, custom supports.

A profile is an `Activation`: its Hermite support J, its Taylor support T and its kind.
Polynomials are converted to the probabilists' Hermite basis exactly, with `Fraction`s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Union

from curse_cli.archs.problem import Activation, ActivationKind, Support
from curse_cli.algebra.scales import exact_number

Coefficient = Union[int, float, Fraction, str]

_ODD = Support(parity=1, start=1)

_BUILTINS: dict[str, Activation] = {
    # erf and tanh are odd: odd Hermite orders, odd Taylor powers; |phi| <= 1.
    "erf": Activation("erf", ActivationKind.BOUNDED, hermite=_ODD, taylor=_ODD),
    "tanh": Activation("tanh", ActivationKind.BOUNDED, hermite=_ODD, taylor=_ODD),
    # ReLU = v/2 + |v|/2: order 1 and every even order; no Taylor series.
    "relu": Activation(
        "relu", ActivationKind.HOMOGENEOUS, hermite=Support(frozenset({1}), parity=0, start=2), taylor=None
    ),
    "linear": Activation(
        "linear", ActivationKind.HOMOGENEOUS, hermite=Support(frozenset({1})), taylor=Support(frozenset({1}))
    ),
    # v^2 = He_2 + 1;  v^3 = He_3 + 3 He_1.
    "quadratic": Activation(
        "quadratic", ActivationKind.POLYNOMIAL, hermite=Support(frozenset({2})), taylor=Support(frozenset({2}))
    ),
    "cubic": Activation(
        "cubic", ActivationKind.POLYNOMIAL, hermite=Support(frozenset({1, 3})), taylor=Support(frozenset({3}))
    ),
}

BUILTIN_NAMES: tuple[str, ...] = tuple(_BUILTINS)

KINDS: tuple[str, ...] = tuple(k.value for k in ActivationKind)


def builtin(name: str) -> Activation:
    """The profile of a builtin activation; `ValueError` naming the allowed ones otherwise."""
    try:
        return _BUILTINS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {name!r}; allowed: {', '.join(BUILTIN_NAMES)}"
        ) from None


def exact(value: Coefficient) -> Fraction:
    """A coefficient as an exact `Fraction`: floats as the decimal they print as (0.1 -> 1/10)."""
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"expected a number like 1, 0.5 or \"1/3\", got {value!r}") from None
    return exact_number(value)


def hermite_coefficients(coeffs: Sequence[Coefficient]) -> list[Fraction]:
    """Coefficients in the probabilists' Hermite basis of `sum_m coeffs[m] v^m`, exactly.

    Uses `v^m = sum_t m! / (t! (m-2t)! 2^t) He_{m-2t}(v)`; entry n is the coefficient of He_n.
    """
    taylor = [exact(c) for c in coeffs]
    out = [Fraction(0)] * len(taylor)
    for m, a in enumerate(taylor):
        if a == 0:
            continue
        for t in range(m // 2 + 1):
            weight = Fraction(
                math.factorial(m), math.factorial(t) * math.factorial(m - 2 * t) * 2**t
            )
            out[m - 2 * t] += a * weight
    return out


def from_polynomial(coeffs: Sequence[Coefficient]) -> Activation:
    """The profile of `phi(v) = sum_m coeffs[m] v^m` (kind polynomial).

    J: orders n >= 1 with a non-zero Hermite coefficient; T: powers m >= 1 with a_m != 0.
    `ValueError` when every coefficient of order >= 1 is zero (a constant is no activation).
    """
    taylor = {m for m, a in enumerate(coeffs) if m >= 1 and exact(a) != 0}
    if not taylor:
        raise ValueError(
            "the polynomial is a constant; give a non-zero coefficient of order >= 1, e.g. [0, 1]"
        )
    hermite = {n for n, h in enumerate(hermite_coefficients(coeffs)) if n >= 1 and h != 0}
    return Activation(
        "polynomial",
        ActivationKind.POLYNOMIAL,
        hermite=Support(frozenset(hermite)),
        taylor=Support(frozenset(taylor)),
    )


def custom(hermite: Iterable[int], taylor: Iterable[int] | None, kind: str) -> Activation:
    """A profile from explicit finite supports (name "custom").

    `hermite` must be non-empty; `taylor` may be `None` only for a homogeneous activation.
    """
    orders = frozenset(hermite)
    if not orders:
        raise ValueError("hermite must list at least one order >= 1")
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in orders):
        raise ValueError("hermite orders must be integers >= 1")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}")
    profile = ActivationKind(kind)
    if taylor is None:
        if profile is not ActivationKind.HOMOGENEOUS:
            raise ValueError(
                f"a {kind} activation needs `taylor` (the powers of its Taylor series)"
            )
        return Activation("custom", profile, hermite=Support(orders), taylor=None)
    powers = frozenset(taylor)
    if not powers:
        raise ValueError(
            "taylor must list at least one power >= 1 (omit it for a homogeneous activation)"
        )
    if any(isinstance(m, bool) or not isinstance(m, int) or m < 1 for m in powers):
        raise ValueError("taylor powers must be integers >= 1")
    return Activation("custom", profile, hermite=Support(orders), taylor=Support(powers))
