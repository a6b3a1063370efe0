"""The frozen core description of a problem: what the engine computes on.

`spec.py` turns a YAML spec into a `Problem`; nothing downstream sees YAML or pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from curse_cli.algebra.scales import BASE, Monomial

Kind = Literal["bounded", "homogeneous", "polynomial"]


@dataclass(frozen=True)
class Support:
    """A set of positive integers: `finite` plus, if `parity` is set, every
    n >= `start` with n % 2 == parity (the infinite tails of erf's and ReLU's series)."""

    finite: frozenset[int] = frozenset()
    parity: int | None = None
    start: int = 1

    def upto(self, limit: int) -> tuple[int, ...]:
        """The members <= limit, ascending."""
        tail = set()
        if self.parity is not None:
            tail = {n for n in range(self.start, limit + 1) if n % 2 == self.parity}
        return tuple(sorted({n for n in self.finite if n <= limit} | tail))

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int):
            return False
        if n in self.finite:
            return True
        return self.parity is not None and n >= self.start and n % 2 == self.parity

    @property
    def infinite(self) -> bool:
        return self.parity is not None

    def describe(self) -> str:
        parts = [str(n) for n in sorted(self.finite)]
        if self.parity is not None:
            parts.append(f"{'odd' if self.parity else 'even'} orders >= {self.start}")
        return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True)
class Activation:
    """An activation's profile (THEORY.md section 4).

    `hermite` is J, the orders j >= 1 with a non-zero Hermite coefficient (it drives the
    lazy rule); `taylor` is T, the powers m >= 1 of its Taylor series (it drives the content
    of a spike; `None` for positively homogeneous activations, whose spike content comes
    from `hermite` instead); `kind` decides whether the specialisation magnitude `q` is
    bounded (`[q] <= 0`) and how `phi(q u)` scales.
    """

    name: str
    kind: Kind
    hermite: Support
    taylor: Support | None

    @property
    def bounded(self) -> bool:
        return self.kind == "bounded"


@dataclass(frozen=True)
class Problem:
    """A network, a target and the scales, ready for the engine.

    Sizes are monomials of scale names (`N1`, or `d^2` as `{d: 2}`); `scales` gives each
    named scale's exponent of d (d itself is implicit, exponent 1).
    """

    activation: Activation
    widths: tuple[Monomial, ...]
    degree: int
    chi: Monomial = Monomial()
    lambda0: Monomial = Monomial({BASE: -1})
    ridge: Monomial = Monomial()
    scales: tuple[tuple[str, Fraction], ...] = ()
    measure: str = "gaussian"
    name: str | None = None

    @property
    def depth(self) -> int:
        return len(self.widths)

    def scale_values(self) -> dict[str, Fraction]:
        return dict(self.scales)
