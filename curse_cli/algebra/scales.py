"""Monomials of named scales with exact exponents, and the exponent parser.

A `Monomial` is an immutable mapping scale name -> `Fraction` exponent, zero exponents
dropped so that equality and hashing are canonical (the shape of pint's
`UnitsContainer`).  It is used in two readings:

* as a size, `N1^(1/3) N2^(1/3) d^(1/3)`;
* as an affine form in log space, `([N1] + [N2] + 1)/3`, where `[X] = log X / log d`.

The two are the same algebra: `*` adds exponent vectors, `**` scales them.  The base
scale `d` has `[d] = 1`, so evaluating a monomial at scale exponents gives its exponent
of `d` (`Monomial.exponent`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import Union

BASE = "d"

Number = Union[int, Fraction]


class Monomial(Mapping[str, Fraction]):
    """Immutable product of named scales raised to rational powers."""

    __slots__ = ("_items", "_hash")

    def __init__(self, items: Mapping[str, Number] | None = None, /, **kwargs: Number) -> None:
        merged: dict[str, Fraction] = {}
        for source in (items or {}, kwargs):
            for name, power in source.items():
                value = merged.get(name, Fraction(0)) + Fraction(power)
                merged[name] = value
        self._items = {k: v for k, v in sorted(merged.items()) if v != 0}
        self._hash = hash(tuple(self._items.items()))

    # -- mapping protocol ------------------------------------------------------------
    def __getitem__(self, name: str) -> Fraction:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Monomial):
            return self._items == other._items
        return NotImplemented

    def power(self, name: str) -> Fraction:
        """The exponent of `name` (zero when absent)."""
        return self._items.get(name, Fraction(0))

    # -- algebra ---------------------------------------------------------------------
    def __mul__(self, other: Monomial) -> Monomial:
        if not isinstance(other, Monomial):
            return NotImplemented
        return Monomial(_add(self._items, other._items, 1))

    def __truediv__(self, other: Monomial) -> Monomial:
        if not isinstance(other, Monomial):
            return NotImplemented
        return Monomial(_add(self._items, other._items, -1))

    def __pow__(self, exponent: Number) -> Monomial:
        e = Fraction(exponent)
        return Monomial({k: v * e for k, v in self._items.items()})

    # -- evaluation ------------------------------------------------------------------
    def exponent(self, scales: Mapping[str, Fraction]) -> Fraction:
        """`[self]`: the exponent of d when every scale takes its exponent in `scales`.

        `d` itself always has exponent 1; a name missing from `scales` is an error.
        """
        total = Fraction(0)
        for name, power in self._items.items():
            total += power * (Fraction(1) if name == BASE else scales[name])
        return total

    # -- printing --------------------------------------------------------------------
    def __str__(self) -> str:
        return format_monomial(self)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {_frac(v)}" for k, v in self._items.items())
        return f"Monomial({{{inner}}})"

    def linear(self) -> str:
        """The log-space reading, e.g. `([N1] + [N2] + 1)/3`."""
        return format_linear(self)


def _add(a: Mapping[str, Fraction], b: Mapping[str, Fraction], sign: int) -> dict[str, Fraction]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, Fraction(0)) + sign * v
    return out


def _frac(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def format_fraction(value: Fraction) -> str:
    """`3/2`, `-1`, `0`: the exact string used in every output."""
    return _frac(Fraction(value))


def _order(name: str) -> tuple[int, str]:
    # Named scales first (in alphabetical order), the base scale d last: `N1 N2 d`.
    return (1 if name == BASE else 0, name)


def _common_power(powers: list[Fraction]) -> Fraction:
    """The largest positive rational r with every power an integer multiple of r."""
    nums = [p.numerator for p in powers]
    dens = [p.denominator for p in powers]
    lcm = 1
    for den in dens:
        lcm = lcm * den // math.gcd(lcm, den)
    gcd = 0
    for num, den in zip(nums, dens):
        gcd = math.gcd(gcd, abs(num) * (lcm // den))
    return Fraction(gcd, lcm)


def _factor(name: str, power: int) -> str:
    return name if power == 1 else f"{name}^{power}"


def format_monomial(m: Mapping[str, Fraction]) -> str:
    """Print a monomial the way a theorist writes it.

    `{N1: 1/3, N2: 1/3, d: 1/3}` -> `(N1 N2 d)^(1/3)`; `{N: 1/2, d: -1/2}` -> `(N/d)^(1/2)`;
    `{d: 3}` -> `d^3`; `{}` -> `1`.
    """
    items = [(k, Fraction(v)) for k, v in m.items() if v != 0]
    if not items:
        return "1"
    if all(v < 0 for _, v in items):
        return "1/" + format_monomial({k: -v for k, v in items})
    items.sort(key=lambda kv: _order(kv[0]))
    r = _common_power([v for _, v in items])
    ints = [(k, int(v / r)) for k, v in items]
    num = " ".join(_factor(k, p) for k, p in ints if p > 0)
    den = " ".join(_factor(k, -p) for k, p in ints if p < 0)
    den_count = sum(1 for _, p in ints if p < 0)
    if den:
        den_text = f"({den})" if den_count > 1 else den
        body = f"{num or '1'}/{den_text}"
    else:
        body = num
    if r == 1:
        return body
    single = len(ints) == 1 and ints[0][1] == 1
    base = body if single else f"({body})"
    return f"{base}^{_frac(r) if r.denominator == 1 else '(' + _frac(r) + ')'}"


def format_linear(m: Mapping[str, Fraction]) -> str:
    """Print the log-space form: `{N1: 1/3, N2: 1/3, d: 1/3}` -> `([N1] + [N2] + 1)/3`."""
    items = [(k, Fraction(v)) for k, v in m.items() if v != 0]
    if not items:
        return "0"
    items.sort(key=lambda kv: _order(kv[0]))
    lcm = 1
    for _, v in items:
        lcm = lcm * v.denominator // math.gcd(lcm, v.denominator)
    parts: list[str] = []
    for name, v in items:
        coef = v * lcm
        symbol = "" if name == BASE else f"[{name}]"
        mag = abs(coef)
        if symbol:
            text = symbol if mag == 1 else f"{_frac(mag)}{symbol}"
        else:
            text = _frac(mag)
        sign = "-" if coef < 0 else "+"
        parts.append(text if not parts and sign == "+" else (f"-{text}" if not parts else f" {sign} {text}"))
    body = "".join(parts)
    if lcm == 1:
        return body
    return f"({body})/{lcm}" if len(items) > 1 or body.startswith("-") else f"{body}/{lcm}"


# -- parsing -------------------------------------------------------------------------

_NUMBER = r"[0-9]+(?:\.[0-9]+)?(?:/[0-9]+)?"
_PATTERNS = [
    (re.compile(rf"^(-?{_NUMBER})$"), lambda m: _number(m.group(1))),
    (re.compile(r"^d$"), lambda m: Fraction(1)),
    (re.compile(rf"^d\s*\^\s*(-?{_NUMBER})$"), lambda m: _number(m.group(1))),
    (re.compile(rf"^d\s*\^\s*\(\s*(-?{_NUMBER})\s*\)$"), lambda m: _number(m.group(1))),
    (re.compile(r"^sqrt\s*\(\s*d\s*\)$"), lambda m: Fraction(1, 2)),
]

EXPONENT_FORMS = '1, 0.5, "1/2", "d", "d^2", "d^(3/2)", "sqrt(d)"'


class ExponentError(ValueError):
    """An exponent that is not one of the accepted forms."""


def _number(text: str) -> Fraction:
    if "/" in text:
        num, den = text.split("/")
        if Fraction(den) == 0:
            raise ExponentError(f"division by zero in {text!r}")
        return Fraction(num) / Fraction(den)
    return Fraction(text)  # Fraction('0.5') == 1/2 exactly: decimals are read as written


def exact_number(value: object) -> Fraction:
    """An int, Fraction or finite float as an exact `Fraction`; a float is read as the
    decimal it prints as (`0.1` -> 1/10).  Anything else (booleans included) is a
    `ValueError`."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value}")
        return Fraction(repr(value))
    raise ValueError(f"expected a number, got {type(value).__name__}")


def parse_exponent(value: object) -> Fraction:
    """Read a power of d given as a number or a string; return its exact exponent.

    Accepted: `1`, `0.5` (read as the decimal it is written as: 1/2), `"1/2"`, `"d"`,
    `"d^2"`, `"d^(3/2)"`, `"sqrt(d)"`.  A small pattern match, never `eval`.
    """
    if isinstance(value, str):
        text = value.strip()
        for pattern, convert in _PATTERNS:
            match = pattern.match(text)
            if match:
                return convert(match)
        raise ExponentError(f"cannot read {value!r} as a power of d; accepted forms: {EXPONENT_FORMS}")
    try:
        return exact_number(value)
    except ValueError as err:
        raise ExponentError(f"{err}; a power of d is one of {EXPONENT_FORMS}") from None
