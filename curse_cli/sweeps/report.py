"""The result types of `curse sweep` (frozen, printing-free).

A sweep varies one or two scale exponents over a grid (`Axis`).  Every grid point gets
an `Outcome`: the winning pattern(s) and the formula of `P*`, exactly as `curse
predict --set ...` gives them at that point.  Points with the same outcome form a
`Region`; regions meet along exact linear relations between the swept exponents
(`Boundary`).  In one dimension the line is cut into `Segment`s at exact rational
breakpoints.
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple, Sequence

from curse_cli.archs.problem import Problem
from curse_cli.engine.api import PatternReport
from curse_cli.algebra.scales import Monomial


class Axis(NamedTuple):
    """`NAME=START:STOP:COUNT`: COUNT equally spaced exponents from START to STOP."""

    name: str
    start: Fraction
    stop: Fraction
    count: int  # type: ignore[assignment]  # a field named like tuple.count, which it shadows

    @property
    def values(self) -> tuple[Fraction, ...]:
        if self.count == 1:
            return (self.start,)
        step = (self.stop - self.start) / (self.count - 1)
        return tuple(self.start + i * step for i in range(self.count))

    @property
    def step(self) -> Fraction:
        return Fraction(0) if self.count == 1 else (self.stop - self.start) / (self.count - 1)


class Outcome(NamedTuple):
    """What `predict` answers at a point: winners (ranked as `predict` ranks them; more
    than one is a tie), the energy and `P* = ridge E` as monomials of the scales, or
    why there is no answer."""

    winners: tuple[str, ...]
    energy: Monomial | None
    p_star: Monomial | None
    unreachable: str | None = None

    @classmethod
    def of(cls, ridge: Monomial, winners: Sequence[PatternReport], unreachable: str | None) -> Outcome:
        """The outcome of ranked winners (the first one's formula, as `predict` gives it)."""
        if not winners:
            return cls((), None, None, unreachable)
        return cls(tuple(w.name for w in winners), winners[0].energy, ridge * winners[0].energy)  # type: ignore[operator]  # a winner has an energy

    @property
    def tied(self) -> bool:
        return len(self.winners) > 1

    @property
    def key(self) -> tuple:
        return (self.winners, self.p_star, self.unreachable)


class GridPoint(NamedTuple):
    coords: tuple[Fraction, ...]     # one exponent per axis
    region: int                      # index into Sweep.regions
    energy_exponent: Fraction | None
    p_star_exponent: Fraction | None


class Relation(NamedTuple):
    """`constant + sum(coefficients[i] [axis_i]) = 0`, the other scales at their values;
    integers with no common factor, first non-zero axis coefficient positive."""

    constant: Fraction
    coefficients: tuple[Fraction, ...]
    text: str                        # e.g. "[N1] = [N2]", "[N] = 5"


class Boundary(NamedTuple):
    other: int                       # the neighbouring region
    relation: Relation | None        # None: not resolved exactly (see note)
    note: str | None = None


class Region(NamedTuple):
    index: int  # type: ignore[assignment]  # a field named like tuple.index, which it shadows
    outcome: Outcome
    points: int                      # grid points in it
    boundaries: tuple[Boundary, ...]


class Segment(NamedTuple):
    """One dimension: an interval of the axis with one outcome; a tie at a single
    breakpoint is a segment with start == stop."""

    start: Fraction
    stop: Fraction
    start_closed: bool
    stop_closed: bool
    region: int


class Sweep(NamedTuple):
    problem: Problem                 # the spec's problem (before the sweep's values)
    axes: tuple[Axis, ...]
    points: tuple[GridPoint, ...]    # row-major: the last axis varies fastest
    regions: tuple[Region, ...]
    segments: tuple[Segment, ...]    # one-dimensional sweeps only
    solves: int                      # engine solves it took (one per certified cell)

    @property
    def breakpoints(self) -> tuple[Fraction, ...]:
        """Where the outcome changes along a one-dimensional sweep (exact)."""
        out: list[Fraction] = []
        for a in self.segments[:-1]:
            if not out or out[-1] != a.stop:
                out.append(a.stop)
        return tuple(out)
