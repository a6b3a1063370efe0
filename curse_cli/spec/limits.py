"""The range of exponents the engine resolves exactly, and values worth a warning.

The limits' values and reasons live in `curse_cli.limits`; these are their checks.  The
engine's linear programmes are solved in floating point and then certified exactly
(`solve.lp`): a float solve must tell apart formulas whose values differ by one over the
common denominator of the exponents, and its tolerances are about 1e-7.  Beyond about a
thousand (in size or in denominator) it can no longer, and a run would end in an
uncertifiable programme after minutes; so such inputs are refused when the spec is read,
with the field and the limit.  Measured: every bundled spec answers at `--set N=10000`
and at denominators 1000; `N=100000` or a denominator of 10^7 fails to certify.

A value inside the limits can still be implausible: `N: 1000` is read as the exponent
of d (`N = d^1000`), not as a width of a thousand.  Those get a warning that shows how
the value was read (the CLI prints it; the library never does).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Iterable

from curse_cli.algebra.scales import format_fraction, format_monomial
from curse_cli.limits import MAX_DENOMINATOR, MAX_EXPONENT  # noqa: F401 - re-exported

PLAUSIBLE_EXPONENT = 20
"""Above this |exponent| a value is most likely a size written instead of its exponent."""


@dataclass(frozen=True)
class Refusal:
    """An exponent outside the resolved range: which limit, and the one-line reason."""

    limit: str  # "exponent" or "denominator"
    message: str


@dataclass(frozen=True)
class SpecWarning:
    """A value that is valid but probably not what was meant, and how it was read."""

    origin: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.origin}: {where}{self.message}"


def _shown(value: Fraction) -> str:
    text = format_fraction(value)
    return text if len(text) <= 40 else f"{text[:12]}...{text[-12:]} ({len(text)} characters)"


def check_exponent(value: Fraction) -> Refusal | None:
    """Is one exponent inside the resolved range? (None: yes.)"""
    if abs(value) > MAX_EXPONENT:
        return Refusal("exponent", f"exponent {_shown(value)} is beyond the limit |exponent| <= {MAX_EXPONENT}; "
                                   "a size is written as its exponent of d (d^2 is 2)")
    if value.denominator > MAX_DENOMINATOR:
        return Refusal("denominator", f"exponent {_shown(value)} has denominator {value.denominator}, above the limit "
                                      f"{MAX_DENOMINATOR}; round it (e.g. 1/3 for 0.333...)")
    return None


def common_denominator(values: Iterable[Fraction]) -> int:
    return lcm(1, *(Fraction(v).denominator for v in values))


def check_common(den: int) -> Refusal | None:
    """The exponents together: their common denominator `den` must be at most the limit."""
    if den > MAX_DENOMINATOR:
        return Refusal("denominator", f"the exponents' common denominator is {den}, above the limit "
                                      f"{MAX_DENOMINATOR}; use exponents with fewer distinct denominators")
    return None


def implausible(value: Fraction) -> str | None:
    """A warning text when `value` is most likely a size written instead of its exponent."""
    if abs(value) <= PLAUSIBLE_EXPONENT:
        return None
    shown = format_fraction(value)
    return (f"{shown} is read as the exponent of d, i.e. {format_monomial({'d': value})}, not as a size of "
            f"{shown}; sizes are written as exponents (d^(3/2) is 1.5), and beyond {PLAUSIBLE_EXPONENT} "
            "they are rarely meant")
