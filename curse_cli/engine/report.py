"""The result types the engine returns to its callers (frozen, printing-free)."""

from __future__ import annotations

from enum import Enum
from fractions import Fraction
from typing import NamedTuple

from curse_cli.engine.patterns import Pattern, Step
from curse_cli.archs.problem import Problem
from curse_cli.algebra.scales import Monomial


class Status(str, Enum):
    """How a pattern's scoring ended (the JSON's `status`): a proper optimum; one that
    reduces to a simpler pattern (a GFL layer's amplification at one); no branch that
    uses every layer it names; no readout term that reaches the target."""

    OPTIMAL = "optimal"
    TRIVIAL = "trivial"
    INCONSISTENT = "inconsistent"
    UNREACHABLE = "unreachable"


class Quantity(NamedTuple):
    """A size or cost at the optimum: `label` (how it is written with the free sizes,
    e.g. `M2 q2^2`), its formula as a monomial of the scales, and its exponent `[.]`
    at the spec's point."""

    label: str
    formula: Monomial
    exponent: Fraction


class LayerReport(NamedTuple):
    index: int  # type: ignore[assignment]  # a field named like tuple.index, which it shadows
    step: Step
    corner: str | None           # Sp: M-Sp, Mag, q-Sp, partial, full, or a face; GFL: None
    sizes: tuple[Quantity, ...]  # the determined sizes or combinations
    cost: Quantity | None        # the layer's total cost at the optimum (GP: None)
    note: str | None = None


class PatternReport(NamedTuple):
    """One pattern scored: its exact optimum, or why it has none."""

    name: str
    pattern: Pattern
    energy: Monomial | None
    exponent: Fraction | None
    layers: tuple[LayerReport, ...] = ()
    readout: Quantity | None = None
    active: tuple[str, ...] = ()
    status: Status = Status.OPTIMAL
    note: str | None = None
    tie_key: tuple = ()     # (exponent,): equal keys are ties at the spec's point
    order_key: tuple = ()   # ranking: exponent, then growth beyond the point, then simplicity

    @property
    def scored(self) -> bool:
        return self.exponent is not None

    @property
    def counts(self) -> bool:
        """Whether the pattern competes for the prediction (a proper optimum)."""
        return self.status is Status.OPTIMAL


class EngineWarning(NamedTuple):
    """Something the caller should know about a result that is still returned: `code`
    (stable, for programs: max-order, powers, scale) and a one-line `message`."""

    code: str
    message: str


class Bounded(NamedTuple):
    """What a best-first search (`engine.search`) for the `top` best patterns left
    unranked: `patterns` patterns, none of them a proper optimum with `[E] <= above`
    (None: fewer proper optima exist than were asked for, so those left have none at
    all); `scored` patterns were scored exactly on the way and `expanded` prefixes
    expanded."""

    top: int
    patterns: int
    above: Fraction | None
    scored: int
    expanded: int


class Prediction(NamedTuple):
    """The patterns ranked (all of them, or the best found by a search: then `bounded`
    says what was left), the winner(s) and the sample-complexity exponent."""

    problem: Problem
    patterns: tuple[PatternReport, ...]
    winners: tuple[PatternReport, ...]
    p_star: Monomial | None
    p_star_exponent: Fraction | None
    unreachable: str | None
    max_order: int
    total_patterns: int
    warnings: tuple[EngineWarning, ...] = ()
    bounded: Bounded | None = None

    @property
    def energy_exponent(self) -> Fraction | None:
        return self.winners[0].exponent if self.winners else None

    @property
    def tied(self) -> bool:
        return len(self.winners) > 1

    def ranks(self) -> dict[str, int]:
        """Every proper optimum's competition rank, by name, in one sort: a pattern's
        rank is one plus the number of proper optima strictly better than it, i.e. the
        position of the first of its ties."""
        out: dict[str, int] = {}
        first: dict[tuple, int] = {}
        for position, p in enumerate(sorted((p for p in self.patterns if p.counts), key=lambda p: p.tie_key)):
            out[p.name] = first.setdefault(p.tie_key, position + 1)
        return out


class KernelLine(NamedTuple):
    """One named component of a kernel, or its strongest He_k amplitude terms."""

    name: str
    eigenvalue: tuple[str, ...]
    detail: str = ""


class Progress(NamedTuple):
    """How far a long run is, for a caller's progress line: `done` of `total` units of
    `what` (`total` None: not known in advance, as a search's prefixes)."""

    what: str
    done: int
    total: int | None = None


class CostTerm(NamedTuple):
    """A layer's cost term: its formula (`M1 q1^2 / lambda_z`), the component whose
    eigenvalue it divides by and that eigenvalue (`z`, `1/d`; None for a GFL layer's
    `N D`), and what it is in words."""

    formula: str
    component: str | None
    eigenvalue: str | None
    words: str


class ReadoutTerm(NamedTuple):
    """A candidate for the readout term a_y: its formula and the layers it relies on
    (none: the lazy term).  For a target of several pieces, the piece's order, whether
    the optimum chose it and whether that piece is the active one; a formula of None:
    no component of the last kernel carries the piece."""

    formula: str | None
    layers: tuple[int, ...]
    order: int | None = None
    chosen: bool = False
    active: bool = False


class ExplainStep(NamedTuple):
    layer: int
    step: Step
    kernel_in: tuple[KernelLine, ...]
    cost_terms: tuple[CostTerm, ...]
    text: str


class Explanation(NamedTuple):
    report: PatternReport
    steps: tuple[ExplainStep, ...]
    readout_terms: tuple[ReadoutTerm, ...]
    constraints: tuple[tuple[str, str, str], ...]   # (label, multiplier, row at optimum)
    summary: str
