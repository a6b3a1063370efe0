"""`curse sweep`: the outcome of `predict` over a grid of scale exponents.

The optimum is piecewise affine in the scale exponents (docs/theory.md section 6), so one
solve answers a whole polyhedron of them.  `sweep` solves at the first grid point not
yet answered, certifies the polyhedron on which that answer holds exactly
(`sweep_cells.Cell`), answers every grid point in it, and repeats.  Where the outcome
changes, the boundary is an exact linear relation: the formulas of the two sides are
equal there, because the energy is continuous.

`sweep_points` is the plain reference: one full `predict` per grid point.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Callable, Iterable, Sequence

import numpy as np

from curse_cli.errors import CurseError
from curse_cli.engine.api import Options, Prediction, check_limits, check_size, predict
from curse_cli.sweeps.grid import CellSolver
from curse_cli.sweeps.relation import on_grid, relation
from curse_cli.archs.problem import Problem
from curse_cli.algebra.scales import BASE, ExponentError, Monomial, format_fraction, parse_exponent
from curse_cli.sweeps.report import Axis, Boundary, GridPoint, Outcome, Region, Relation, Segment, Sweep

MAX_POINTS = 250_000


class SweepError(CurseError):
    """Bad sweep input (an axis, a scale name): one line, exit 2.  `axis` is the index of
    the axis it is about (None: not one axis); the text calls the axes x and y, as the
    Python API does, and a caller words it with its own names (`worded`)."""

    def __init__(self, message: str, axis: int | None = None) -> None:
        self.message, self.axis = message, axis
        super().__init__(self.worded(("x", "y")))

    def worded(self, names: tuple[str, str]) -> str:
        return self.message if self.axis is None else f"{names[self.axis]} {self.message}"


_AXIS = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^:]+):([^:]+):\s*(\d+)\s*$")


def parse_axis(text: str, flag: str = "x") -> Axis:
    """`NAME=START:STOP:COUNT` with exact bounds (`0:3:61`, `1/2:5/2:41`, `0.5:2:4`);
    `flag` is the caller's name for the axis, which its errors begin with."""
    m = _AXIS.match(text)
    if not m:
        raise SweepError(f"{flag} {text!r}: expected NAME=START:STOP:COUNT, e.g. N1=0:3:61")
    name, start, stop, count = m.group(1), m.group(2).strip(), m.group(3).strip(), int(m.group(4))
    try:
        lo, hi = parse_exponent(start), parse_exponent(stop)
    except ExponentError as err:
        raise SweepError(f"{flag} {text!r}: {err}") from None
    if count < 1:
        raise SweepError(f"{flag} {text!r}: COUNT must be at least 1")
    if count == 1 and lo != hi:
        raise SweepError(f"{flag} {text!r}: one point needs START = STOP; use COUNT >= 2 for a range")
    if count > 1 and lo >= hi:
        raise SweepError(f"{flag} {text!r}: START must be below STOP")
    return Axis(name, lo, hi, count)


def check_axes(problem: Problem, axes: Sequence[Axis], origin: str | None = None) -> None:
    """Axis names must be distinct declared scales; the architecture's limits hold on
    the whole axis (a width stays >= 0, a patch between 1 and d); the grid is bounded.
    `origin` (the spec's file) is named where a scale is unknown to it."""
    declared = [n for n, _ in problem.scales]
    for index, axis in enumerate(axes):
        if axis.name == BASE:
            raise SweepError(f"{axis.name}: d is the base scale (exponent 1 by definition); sweep a declared scale",
                             index)
        if axis.name not in declared:
            where = f" in {origin}" if origin else ""
            raise SweepError(f"{axis.name}: unknown scale (declared{where}: {', '.join(declared)}); "
                             f"sweep one of those", index)
        for limit in problem.limits:
            if limit.size != Monomial({axis.name: 1}):
                continue
            below = limit.low is not None and axis.start < limit.low
            if below or (limit.high is not None and axis.stop > limit.high):
                low = "" if limit.low is None else f" >= {format_fraction(limit.low)}"
                high = "" if limit.high is None else f" <= {format_fraction(limit.high)}"
                joint = " and" if low and high else ""
                raise SweepError(f"{axis.name}={format_fraction(axis.start)}:{format_fraction(axis.stop)}:...: "
                                 f"{axis.name} is {limit.what}, so its exponent must be{low}{joint}{high} "
                                 f"({limit.note})", index)
    if len(axes) == 2 and axes[0].name == axes[1].name:
        raise SweepError(f"sweeps {axes[0].name}, as the first axis does; give two different scales", 1)
    _check_range(problem, axes)
    total = 1
    for a in axes:
        total *= a.count
    if total > MAX_POINTS:
        raise SweepError(f"{total} grid points exceed the limit of {MAX_POINTS}; use fewer points per axis")


def _check_range(problem: Problem, axes: Sequence[Axis]) -> None:
    """Every grid point inside the range the engine resolves exactly (`spec.limits`):
    the ends' sizes, and the common denominator of the step, the ends and the spec's
    other exponents."""
    from curse_cli.spec import limits

    swept = {a.name for a in axes}
    den = limits.common_denominator([v for n, v in problem.scales if n not in swept])
    for index, axis in enumerate(axes):
        text = f"{axis.name}={format_fraction(axis.start)}:{format_fraction(axis.stop)}:{axis.count}"
        for end in (axis.start, axis.stop):
            refusal = limits.check_exponent(end)
            if refusal is not None:
                raise SweepError(f"{text}: {refusal.message}", index)
        den = limits.common_denominator([Fraction(1, den), axis.start, axis.step])
        if den > limits.MAX_DENOMINATOR:
            raise SweepError(f"{text}: the grid's exponents (step {format_fraction(axis.step)}, with the spec's) have "
                             f"common denominator {den}, above the limit {limits.MAX_DENOMINATOR}; use fewer points "
                             f"(N=0:3:61 steps by 1/20)", index)


def at(problem: Problem, values: dict[str, Fraction]) -> Problem:
    """The problem with some scales moved."""
    from dataclasses import replace

    return replace(problem, scales=tuple((n, values.get(n, v)) for n, v in problem.scales))


def grid(axes: Sequence[Axis]) -> list[tuple[Fraction, ...]]:
    """Grid points, row-major (the last axis fastest)."""
    out: list[tuple[Fraction, ...]] = [()]
    for values in [a.values for a in axes]:
        out = [(*p, v) for p in out for v in values]
    return out


def _exponents(problem: Problem, axes: Sequence[Axis], form: Monomial | None, where: np.ndarray) -> list:
    """`[form]` at the grid points with flat indices `where`, exactly: the form times a
    positive integer is integer-affine in the grid indices."""
    if form is None:
        return [None] * len(where)
    names = [a.name for a in axes]
    fixed = problem.scale_values()
    constant = form.power(BASE) + sum((p * fixed[n] for n, p in form.items() if n != BASE and n not in names),
                                      Fraction(0))
    idx = np.unravel_index(where, [a.count for a in axes])
    value, den = on_grid(constant, [form.power(n) for n in names], axes, idx)
    distinct, inverse = np.unique(value, return_inverse=True)
    exact = [Fraction(int(v), den) for v in distinct]   # one Fraction per distinct value, shared
    return [exact[i] for i in inverse.tolist()]


def outcome_of(pred: Prediction) -> Outcome:
    return Outcome.of(pred.problem.ridge, pred.winners, pred.unreachable)


# -- assembling a sweep from per-point outcomes ---------------------------------------


def _neighbours(axes: Sequence[Axis]) -> Iterable[tuple[int, int]]:
    if len(axes) == 1:
        yield from ((i, i + 1) for i in range(axes[0].count - 1))
        return
    nx, ny = axes[0].count, axes[1].count
    for i in range(nx):
        for j in range(ny):
            k = i * ny + j
            if j + 1 < ny:
                yield k, k + 1
            if i + 1 < nx:
                yield k, k + ny


def formula_relation(problem: Problem, axes: Sequence[Axis], a: Outcome, b: Outcome
                     ) -> tuple[Relation | None, str | None, None]:
    """Between two outcomes (the reference's boundaries): where their formulas are equal."""
    if a.p_star is None or b.p_star is None:
        return None, "one side has no prediction", None
    rel = relation(problem, axes, a.p_star / b.p_star)
    return rel, (None if rel else "the formulas agree; the winners change where another pattern meets them"), None


Resolver = Callable[[Outcome, Outcome, int, int], tuple[Relation | None, str | None, Outcome | None]]


def assemble(problem: Problem, axes: tuple[Axis, ...], labels: Sequence[int], labelled: Sequence[Outcome],
             solves: int, extra: Sequence[tuple[Segment, Outcome]] = (), resolve: Resolver | None = None) -> Sweep:
    """Group points by outcome into regions and find where neighbouring regions meet.

    Grid point `k` has outcome `labelled[labels[k]]`.  In one dimension, `extra` gives
    the exact segments with their outcomes (some may fall between grid points); the
    boundaries are their breakpoints.  In two, each pair of regions with neighbouring
    grid points is resolved once (`resolve`, or the equality of the two formulas); a
    tie line crossed between them becomes a region of its own."""
    index: dict[tuple, int] = {}
    order: list[Outcome] = []

    def region_of(o: Outcome) -> int:
        if o.key not in index:
            index[o.key] = len(order)
            order.append(o)
        return index[o.key]

    ids = np.array([region_of(o) for o in labelled], dtype=np.int64)[np.asarray(labels, dtype=np.int64)]
    segments = tuple(seg._replace(region=region_of(o)) for seg, o in extra)
    edges: dict[int, list[Boundary]] = {}

    def edge(x: int, y: int, rel: Relation | None, note: str | None = None) -> None:
        for p, q in ((x, y), (y, x)):
            found = edges.setdefault(p, [])
            if not any(bd.other == q and bd.relation == rel for bd in found):
                found.append(Boundary(q, rel, note))

    if segments:
        for left, right in zip(segments, segments[1:]):
            edge(left.region, right.region, relation(problem, axes, Monomial({axes[0].name: 1, BASE: -left.stop})))
    else:
        pairs: dict[tuple[int, int], tuple[int, int]] = {}
        flat = ids.tolist()
        for i, j in _neighbours(axes):
            a, b = flat[i], flat[j]
            if a != b:
                pairs.setdefault((min(a, b), max(a, b)), (i, j) if a < b else (j, i))
        for (a, b), (ka, kb) in sorted(pairs.items()):
            rel, note, via = (formula_relation(problem, axes, order[a], order[b]) if resolve is None
                              else resolve(order[a], order[b], ka, kb))
            if via is None:
                edge(a, b, rel, note)
            else:
                v = region_of(via)
                edge(a, v, rel, note)
                edge(v, b, rel, note)
    counts = np.bincount(ids, minlength=len(order))
    regions = tuple(Region(r, order[r], int(counts[r]), tuple(edges.get(r, ()))) for r in range(len(order)))
    energy: list = [None] * len(ids)
    p_star: list = [None] * len(ids)
    for r, o in enumerate(order):
        where = np.flatnonzero(ids == r)
        for out, form in ((energy, o.energy), (p_star, o.p_star)):
            for k, v in zip(where.tolist(), _exponents(problem, axes, form, where)):
                out[k] = v
    points = grid(axes)
    grid_points = tuple(GridPoint(p, int(r), e, ps) for p, r, e, ps in zip(points, ids.tolist(), energy, p_star))
    return Sweep(problem, axes, grid_points, regions, segments, solves)


def sweep_points(problem: Problem, axes: tuple[Axis, ...], options: Options = Options()) -> Sweep:
    """The reference: one full `predict` per grid point (slow; for tests and checks)."""
    check_axes(problem, axes)
    check_size(problem, options)
    points = grid(axes)
    outcomes = [outcome_of(predict(at(problem, dict(zip((a.name for a in axes), p))), options)) for p in points]
    return assemble(problem, axes, range(len(points)), outcomes, solves=len(points))


def sweep(problem: Problem, axes: tuple[Axis, ...], options: Options = Options()) -> Sweep:
    """The sweep, one solve per certified cell (see the module docstring).  A target of
    several pieces is swept at its alignment point by point (`sweep_points`: the
    staircase's set may change from cell to cell, docs/theory.md section 12)."""
    check_axes(problem, axes)
    check_limits(problem, options)
    check_size(problem, options)
    if problem.shares:
        return sweep_points(problem, axes, options)
    solver = CellSolver(problem, axes, options)
    labels = solver.cover_grid()
    segments = solver.cover_line() if len(axes) == 1 and axes[0].count > 1 else []
    return assemble(problem, axes, labels, [p.outcome for p in solver.pieces], solver.solves, segments,  # type: ignore[arg-type]  # an array of region labels
                    resolve=solver.boundary)
