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
from curse_cli.limits import RULES, WorkLimit

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
    """Coefficients in the probabilists' Hermite basis of `sum_m coeffs[m] v^m`, exactly;
    entry n is the coefficient of He_n.

    Horner's scheme in the Hermite basis, in integers over the common denominator: from
    the top coefficient down, multiply by v (`v He_j = He_(j+1) + j He_(j-1)`) and add
    the next coefficient.  A loop, no recursion and no factorials: one pass over the
    coefficients per degree.
    """
    taylor = [exact(c) for c in coeffs]
    den = math.lcm(1, *(a.denominator for a in taylor))
    ints = [a.numerator * (den // a.denominator) for a in taylor]
    acc: list[int] = []
    for a in reversed(ints):
        shifted = [0, *acc]                 # v He_j contributes He_(j+1) ...
        for j in range(1, len(acc)):
            shifted[j - 1] += j * acc[j]    # ... and j He_(j-1)
        shifted[0] += a
        acc = shifted
    out = [Fraction(c, den) for c in acc[:len(taylor)]]
    return out + [Fraction(0)] * (len(taylor) - len(out))


def polynomial_degree(coeffs: Sequence[Coefficient]) -> int:
    """The degree of `sum_m coeffs[m] v^m` (0 for a constant): one pass, before any
    conversion, so that a limit on it is checked in linear time."""
    return max((m for m, a in enumerate(coeffs) if exact(a) != 0), default=0)


def from_polynomial(coeffs: Sequence[Coefficient]) -> Activation:
    """The profile of `phi(v) = sum_m coeffs[m] v^m` (kind polynomial).

    J: orders n >= 1 with a non-zero Hermite coefficient; T: powers m >= 1 with a_m != 0.
    `ValueError` when every coefficient of order >= 1 is zero (a constant is no activation),
    or when the degree is above the most any run may track (`limits`, checked first).
    """
    taylor = {m for m, a in enumerate(coeffs) if m >= 1 and exact(a) != 0}
    if not taylor:
        raise ValueError(
            "the polynomial is a constant; give a non-zero coefficient of order >= 1, e.g. [0, 1]"
        )
    ceiling = RULES[WorkLimit.POWER].ceiling
    assert ceiling is not None
    if max(taylor) > ceiling:
        raise ValueError(f"the polynomial has degree {max(taylor)}, above the highest activation order any run "
                         f"tracks ({ceiling}: {RULES[WorkLimit.POWER].why}); use a polynomial of degree at most "
                         f"{ceiling}")
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
    ceiling = RULES[WorkLimit.POWER].ceiling
    assert ceiling is not None
    too_high = max((n for n in [*orders, *(taylor or ())] if isinstance(n, int)), default=0)
    if too_high > ceiling:
        raise ValueError(f"order {too_high} is above the highest activation order any run tracks ({ceiling}); "
                         f"list orders up to {ceiling}")
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
