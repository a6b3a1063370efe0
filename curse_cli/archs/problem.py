"""The frozen core description of a problem: what the engine computes on.

An architecture (`archs/fcn.py`, `cnn.py`, `attention.py`) resolves its spec block into
the fields of a `Problem`; nothing downstream sees YAML, pydantic or the architecture's
kind: the engine reads widths, the input component, the activation profile, the readout
scale and factor, and the words to describe them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from typing import NamedTuple

from curse_cli.algebra.scales import BASE, Monomial

class ActivationKind(str, Enum):
    """How an activation grows: bounded (`|phi| <= 1`, so `[q] <= 0`), positively
    homogeneous (its layers need their input scale) or a polynomial (its powers gain
    from a large input scale)."""

    BOUNDED = "bounded"
    HOMOGENEOUS = "homogeneous"
    POLYNOMIAL = "polynomial"


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
    """An activation's profile (docs/theory.md section 4).

    `hermite` is J, the orders j >= 1 with a non-zero Hermite coefficient (it drives the
    lazy rule); `taylor` is T, the powers m >= 1 of its Taylor series (it drives the content
    of a spike; `None` for positively homogeneous activations, whose spike content comes
    from `hermite` instead); `kind` decides whether the specialisation magnitude `q` is
    bounded (`[q] <= 0`) and how `phi(q u)` scales.
    """

    name: str
    kind: ActivationKind
    hermite: Support
    taylor: Support | None

    @property
    def bounded(self) -> bool:
        return self.kind is ActivationKind.BOUNDED


class Limit(NamedTuple):
    """`low <= [size] <= high` (either may be None): a bound an architecture puts on one
    of its sizes, checked after `--set` and on every sweep axis.  `path` is the spec
    field that sets the size; `what` names it ("a width"), `note` says why ("a width
    is at least 1") and `plain` says the bound in words ("at least 1")."""

    size: Monomial
    low: Fraction | None
    high: Fraction | None
    path: str
    what: str
    note: str
    plain: str


class Words(NamedTuple):
    """How an architecture's layers and readout are described in tables and `explain`.

    `network`: the network in a few words; `unit`: what a layer's width counts
    (neurons, channels, heads); `input`: where the
    input component comes from; `cost`: the per-unit weight-space cost of a mean `q f`;
    `readout`: the readout term with its factor; `target`: the target in words."""

    network: str = "a fully connected network"
    unit: str = "neurons"
    input: str = "K_0 = x.x'/d"
    cost: str = "the RKHS norm q^2/lambda_f"
    readout: str = "a_y = chi / <y|K_L|y>"
    target: str = "He_k(z)"


@dataclass(frozen=True)
class Problem:
    """A network, a target and the scales, ready for the engine.

    Sizes are monomials of scale names (`N1`, or `d^2` as `{d: 2}`); `scales` gives each
    named scale's exponent of d (d itself is implicit, exponent 1).  `degree` is the
    Hermite order the readout reads; `feature` names the input component (eigenvalue
    `lambda0`); the readout term is `chi * readout_factor / <y|K_L|y>`.  `dimension` is
    the number of entries of the direction the network must find (d for a fully
    connected first layer or attention's u, v, w; S for a convolutional filter): fewer
    samples than that is outside the heuristic's range.

    A polynomial target (docs/theory.md section 12) has `shares`, each piece's order and
    share of the target's variance (empty: the one piece `degree`), and asks for the
    `alignment` it must reach.  `orders` are the pieces the readout reads at once, one
    readout family each (a set of pieces; empty: `degree` alone); then `degree` is the
    highest of them, which the truncation follows.
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
    kind: str = "fcn"
    feature: str = "z"
    readout_factor: Monomial = Monomial()
    dimension: Monomial = Monomial({BASE: 1})
    shares: tuple[tuple[int, Fraction], ...] = ()
    alignment: Fraction = Fraction(1)
    orders: tuple[int, ...] = ()
    # How the sizes are bounded and described: checked and shown, never computed with,
    # so two problems with the same mathematics are equal whatever their words.
    limits: tuple[Limit, ...] = field(default=(), compare=False)
    words: Words = field(default=Words(), compare=False)

    @property
    def depth(self) -> int:
        return len(self.widths)

    @property
    def read_orders(self) -> tuple[int, ...]:
        """The orders the readout reads, one readout family each."""
        return self.orders or (self.degree,)

    @property
    def pieces(self) -> tuple[tuple[int, Fraction], ...]:
        """(order, share) of the target's pieces."""
        return self.shares or ((self.degree, Fraction(1)),)

    def scale_values(self) -> dict[str, Fraction]:
        return dict(self.scales)
