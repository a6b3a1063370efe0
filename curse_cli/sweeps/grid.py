"""Covering a sweep's grid (and, in one dimension, its whole line) with certified cells.

One context serves the whole sweep: its kernels are pruned so that they hold on the
sweep's box (every scale's range, widened by `PAD` so that the comparisons just
beyond a point stay inside), and each solve only moves the point of the linear
programmes.  A cell's constraints are restricted to the swept exponents (the other
scales are fixed) and tested on all grid points at once, in exact integer
arithmetic.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd, lcm
from typing import NamedTuple, Sequence

import numpy as np

from curse_cli.engine.api import (Context, Options, Pattern, PatternReport, Progress, Status, enumerate_patterns,
                                  unreachable_reason)
from curse_cli.archs.problem import Problem
from curse_cli.sweeps.cells import Cell, Constraint, Sense, solve_cell
from curse_cli.sweeps.relation import on_grid, relation
from curse_cli.sweeps.report import Axis, Outcome, Relation, Segment

PAD = Fraction(1)
MAX_LINE_SOLVES = 400
BOUNDARY_SOLVES = 4   # extra solves allowed per boundary between two regions


class Linear(NamedTuple):
    """`constant + sum(coefficients[i] x_i)` `>= 0`, `> 0` or `= 0` (`kind`: a plain
    sense) in the swept exponents `x`."""

    constant: Fraction
    coefficients: tuple[Fraction, ...]
    kind: Sense

    def holds(self, x: Sequence[Fraction]) -> bool:
        return self.kind.holds(self.constant + sum((c * v for c, v in zip(self.coefficients, x)), Fraction(0)))


class Piece(NamedTuple):
    """A cell restricted to the sweep: its outcome and linear constraints."""

    outcome: Outcome
    constraints: tuple[Linear, ...]
    cell: Cell

    def holds(self, x: Sequence[Fraction]) -> bool:
        return all(c.holds(x) for c in self.constraints)


class Interval(NamedTuple):
    lo: Fraction
    lo_closed: bool
    hi: Fraction
    hi_closed: bool

    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_closed and self.hi_closed))


class CellSolver:
    def __init__(self, problem: Problem, axes: Sequence[Axis], options: Options) -> None:
        self.problem, self.axes, self.options = problem, tuple(axes), options
        self.names = [a.name for a in axes]
        values = problem.scale_values()
        ranges = {a.name: (a.start, a.stop) for a in axes}
        self.box = {n: (ranges.get(n, (v, v))[0], ranges.get(n, (v, v))[1] + PAD) for n, v in problem.scales}
        self.patterns = list(enumerate_patterns(problem.activation, problem.depth, problem.feature))
        self.scale_names = [n for n, _ in problem.scales]
        self.fixed = values
        self._contexts: dict[int, Context] = {}
        self._unreachable: str | None = None
        self.solves = 0
        self.pieces: list[Piece] = []
        dens = [d for a in axes for d in (a.start.denominator, a.step.denominator or 1)]
        self._base = self._context(dens)

    # -- solving ------------------------------------------------------------------------

    def _context(self, dens: Sequence[int]) -> Context:
        """A context whose unit resolves points of these denominators: the first, or one
        refined from it (its kernels carried over)."""
        for ctx in self._contexts.values():
            if all(ctx.space.unit % (2 * d) == 0 for d in dens):
                return ctx
        if self._contexts:
            ctx = next(iter(self._contexts.values())).refined(dens)
        else:
            ctx = Context(self.problem, self.options, self.box, dens)
        self._contexts[ctx.space.unit] = ctx
        return ctx

    def context_at(self, values: dict[str, Fraction]) -> Context:
        """The context at these values of the swept scales."""
        return self._context([v.denominator for v in values.values()]).at(values)

    def unreachable(self, ctx: Context) -> str:
        if self._unreachable is None:
            self._unreachable = unreachable_reason(ctx, self.patterns)
        return self._unreachable

    def solve(self, x: Sequence[Fraction]) -> Piece:
        """Solve at swept exponents `x` and restrict the certified cell to the sweep."""
        values = dict(zip(self.names, x))
        ctx = self.context_at(values)
        self.solves += 1
        seed = [w.pattern for w in self.pieces[-1].cell.winners] if self.pieces else []
        cell = solve_cell(ctx, self.patterns, seed=seed)
        if not cell.winners and all(r.status is Status.UNREACHABLE for r in cell.reports):
            cell = cell._replace(outcome=cell.outcome._replace(unreachable=self.unreachable(ctx)))
        v = [Fraction(d, ctx.space.unit) for d in ctx.space.direction[1:ctx.space.first_variable]]
        piece = Piece(cell.outcome, self._restrict(cell.constraints, v), cell)
        if not piece.holds(x):  # pragma: no cover - a certificate must hold where it was made
            raise AssertionError(f"the cell certified at {values} does not contain its own point")
        self.pieces.append(piece)
        return piece

    def _restrict(self, constraints: Sequence[Constraint], v: Sequence[Fraction]) -> tuple[Linear, ...]:
        out: dict[tuple, Linear] = {}
        for c in constraints:
            form = c.form
            slope = sum((a * b for a, b in zip(form[1:], v)), Fraction(0))
            kind = c.kind.along(slope)
            constant = form[0]
            for name, a in zip(self.scale_names, form[1:]):
                if name in self.names:
                    continue
                constant += a * self.fixed[name]
            coeffs = tuple(form[1 + self.scale_names.index(n)] for n in self.names)
            lin = _normalise(Linear(constant, coeffs, kind))
            if lin is not None and self._binding(lin):
                out.setdefault(lin[:3], lin)
        return tuple(out.values())

    def _binding(self, lin: Linear) -> bool:
        """False if the constraint holds on the whole sweep box."""
        if lin.kind is Sense.EQ:
            return True
        low = lin.constant + sum((min(c * a.start, c * a.stop) for c, a in zip(lin.coefficients, self.axes)),
                                 Fraction(0))
        return not (low > 0 or (low == 0 and lin.kind is Sense.GE))

    # -- the grid -----------------------------------------------------------------------

    def cover_grid(self) -> np.ndarray:
        """Every grid point's cell (an index into `pieces`): solve at the first point
        not yet answered, give its cell to every grid point inside the cell, repeat."""
        shape = [a.count for a in self.axes]
        index = np.indices(shape).reshape(len(shape), -1)
        total = index.shape[1]
        cell = self.cell_of = np.full(total, -1, dtype=np.int64)
        for k in range(total):
            if cell[k] >= 0:
                continue
            if self.options.progress is not None:
                self.options.progress(Progress("grid points answered", int(np.count_nonzero(cell >= 0)), total))
            x = tuple(a.start + int(i) * a.step for a, i in zip(self.axes, index[:, k]))
            piece = self.solve(x)
            open_ = np.flatnonzero(cell < 0)
            cell[open_[self._inside(piece, index[:, open_])]] = len(self.pieces) - 1
            cell[k] = len(self.pieces) - 1
        return cell

    def _inside(self, piece: Piece, idx: np.ndarray) -> np.ndarray:
        """Which grid points (index columns) satisfy every constraint, exactly: each
        constraint times a positive integer is integer-affine in the indices."""
        mask = np.ones(idx.shape[1], dtype=bool)
        for lin in piece.constraints:
            value, _ = on_grid(lin.constant, lin.coefficients, self.axes, idx)  # type: ignore[arg-type]  # an index array is a sequence of rows
            mask &= lin.kind.holds(value)
        return mask

    # -- boundaries between neighbouring grid points ---------------------------------------

    def boundary(self, a: Outcome, b: Outcome, ka: int, kb: int) -> tuple[Relation | None, str | None, Outcome | None]:
        """The exact relation where outcome `a` (at grid point `ka`) meets `b` (at `kb`),
        or a note why there is none; and the tie between them, if they meet across a
        line of ties no grid point falls on.

        Candidates: the two formulas are equal (the energy is continuous); or, when they
        agree, a pattern that wins on one side only meets the common formula.  The
        segment between the two points is covered with certified cells (solving where
        none reaches); a candidate is accepted when the outcome changes once, from `a`
        to `b` (possibly through a single tie point), exactly where it crosses."""
        pa, pb = self.coords(ka), self.coords(kb)
        pieces = self.march(pa, pb, BOUNDARY_SOLVES)
        if pieces is None:
            return None, "not resolved between neighbouring grid points; refine the grid", None
        merged = _merge(pieces)
        via = merged[1][1] if len(merged) == 3 and merged[1][0].start == merged[1][0].stop else None
        if [o.key for _, o in merged] not in ([a.key, b.key], [a.key, via and via.key, b.key]):
            found = " -> ".join("=".join(o.winners) or "none" for _, o in merged)
            return None, f"between neighbouring grid points the outcome passes through {found}; refine the grid", None
        junction = merged[0][0].stop
        piece_a, piece_b = self.pieces[self.cell_of[ka]], self.pieces[self.cell_of[kb]]
        for form in self._candidates(a, b, piece_a, piece_b):
            rel = relation(self.problem, self.axes, form)
            if rel is None:
                continue
            va, vb = (rel.constant + sum((c * x for c, x in zip(rel.coefficients, p)), Fraction(0)) for p in (pa, pb))
            if va != vb and -va / (vb - va) == junction:
                return rel, None, via
        return None, "no exact relation found between these grid points", via

    def _candidates(self, a: Outcome, b: Outcome, piece_a: Piece, piece_b: Piece):
        if a.p_star is not None and b.p_star is not None and a.p_star != b.p_star:
            yield a.p_star / b.p_star
        for here, piece, there in ((a, piece_a, piece_b), (b, piece_b, piece_a)):
            if here.energy is None:
                continue
            for w in sorted(there.cell.winners, key=lambda r: r.name):
                if w.name in here.winners:
                    continue
                report = self._report(piece, w.pattern)
                if report.energy is not None:
                    yield report.energy / here.energy

    def _report(self, piece: Piece, pattern: Pattern) -> PatternReport:
        """A pattern's report at a piece's point: from its cell when the cell scored
        it, else scored there now (a search scores few patterns)."""
        held = next((r for r in piece.cell.reports if r.pattern == pattern), None)
        if held is not None:
            return held
        values = {n: piece.cell.point[n] for n in self.names}
        return self.context_at(values).score(pattern)

    def coords(self, k: int) -> tuple[Fraction, ...]:
        shape = [a.count for a in self.axes]
        idx = np.unravel_index(k, shape)
        return tuple(a.start + int(i) * a.step for a, i in zip(self.axes, idx))

    def along(self, piece: Piece, pa: Sequence[Fraction], pb: Sequence[Fraction]) -> Interval:
        """The piece on the segment `pa + t (pb - pa)`, `0 <= t <= 1`, as an interval of `t`.

        In integers: a piece's constraints have integer coefficients (`_normalise`), and
        with the segment's ends over a common denominator `D`, each constraint along it
        is `(c0 + c1 t) / D`, whose sign is that of `c0 + c1 t`."""
        den = lcm(*(x.denominator for x in (*pa, *pb)))
        ends = [(int(x * den), int(y * den)) for x, y in zip(pa, pb)]
        lines = []
        for lin in piece.constraints:
            assert lin.constant.denominator == 1 and all(c.denominator == 1 for c in lin.coefficients), lin
            coefficients = [c.numerator for c in lin.coefficients]
            c0 = lin.constant.numerator * den + sum(c * a for c, (a, _) in zip(coefficients, ends))
            c1 = sum(c * (b - a) for c, (a, b) in zip(coefficients, ends))
            lines.append((c0, c1, lin.kind))
        return _interval(lines, Fraction(0), Fraction(1))

    # -- the line (one axis) --------------------------------------------------------------


    def march(self, pa: Sequence[Fraction], pb: Sequence[Fraction], budget: int
              ) -> list[tuple[Interval, Outcome]] | None:
        """Exact pieces of the segment `pa + t (pb - pa)`, `0 <= t <= 1`: from `t = 0`,
        extend with the known cell that reaches furthest; where none does, solve there
        (at most `budget` times; None when that is not enough)."""
        pos, strict = Fraction(0), False   # cover t >= pos (t > pos when strict)
        out: list[tuple[Interval, Outcome]] = []
        known: dict[int, Interval] = {}
        while True:
            best: tuple[Interval, Piece] | None = None
            for i, piece in enumerate(self.pieces):
                if i not in known:
                    known[i] = self.along(piece, pa, pb)
                iv = known[i]
                if iv.empty() or not _starts(iv, pos, strict):
                    continue
                if best is None or (iv.hi, iv.hi_closed) > (best[0].hi, best[0].hi_closed):
                    best = (iv, piece)
            if best is None:
                budget -= 1
                if budget < 0:
                    return None
                if strict:  # just beyond pos: halfway to the next known start
                    ahead = [iv.lo for iv in known.values() if iv.lo > pos]
                    t = (pos + min(ahead, default=Fraction(1))) / 2
                else:
                    t = pos
                self.solve(tuple(x + t * (y - x) for x, y in zip(pa, pb)))
                continue
            iv, piece = best
            out.append((Interval(pos, not strict, iv.hi, iv.hi_closed), piece.outcome))
            if iv.hi == 1 and iv.hi_closed:
                return out
            pos, strict = iv.hi, iv.hi_closed

    def cover_line(self) -> list[tuple[Segment, Outcome]]:
        """Exact segments of the whole axis (one dimension), breakpoints included."""
        axis = self.axes[0]
        pieces = self.march((axis.start,), (axis.stop,), MAX_LINE_SOLVES)
        if pieces is None:  # pragma: no cover - cells are finitely many
            raise RuntimeError("the line needed too many solves to cover")
        width = axis.stop - axis.start
        return _merge([(Interval(axis.start + iv.lo * width, iv.lo_closed, axis.start + iv.hi * width, iv.hi_closed), o)
                       for iv, o in pieces])


def _interval(constraints: Sequence[tuple[int, int, Sense]], lo: Fraction, hi: Fraction) -> Interval:
    """The solutions within `[lo, hi]` of one-dimensional constraints `c0 + c1 t`
    `>= 0`, `> 0` or `= 0` (integers `c0`, `c1` and the kind)."""
    iv = Interval(lo, True, hi, True)
    for c0, c1, kind in constraints:
        closed = kind is not Sense.GT
        if c1 == 0:
            if not kind.holds(c0):
                return Interval(lo, False, lo, False)
            continue
        r = Fraction(-c0, c1)
        if kind is Sense.EQ:
            iv = _tighten_hi(_tighten_lo(iv, r, True), r, True)
        elif c1 > 0:
            iv = _tighten_lo(iv, r, closed)
        else:
            iv = _tighten_hi(iv, r, closed)
    return iv


def _starts(iv: Interval, pos: Fraction, strict: bool) -> bool:
    """Whether the interval covers `pos` (or, when strict, the points just right of it)."""
    if strict:
        return iv.lo <= pos < iv.hi
    left = iv.lo < pos or (iv.lo == pos and iv.lo_closed)
    right = iv.hi > pos or (iv.hi == pos and iv.hi_closed)
    return left and right


def _tighten_lo(iv: Interval, r: Fraction, closed: bool) -> Interval:
    if r > iv.lo or (r == iv.lo and not closed):
        return iv._replace(lo=r, lo_closed=closed)
    return iv


def _tighten_hi(iv: Interval, r: Fraction, closed: bool) -> Interval:
    if r < iv.hi or (r == iv.hi and not closed):
        return iv._replace(hi=r, hi_closed=closed)
    return iv


def _merge(pieces: list[tuple[Interval, Outcome]]) -> list[tuple[Segment, Outcome]]:
    out: list[tuple[Segment, Outcome]] = []
    for iv, outcome in pieces:
        if out and out[-1][1].key == outcome.key:
            seg = out[-1][0]
            out[-1] = (seg._replace(stop=iv.hi, stop_closed=iv.hi_closed), outcome)
        else:
            out.append((Segment(iv.lo, iv.hi, iv.lo_closed, iv.hi_closed, -1), outcome))
    return out


def _normalise(lin: Linear) -> Linear | None:
    """Scaled to coprime integers (a positive factor keeps the meaning); None when the
    constraint does not involve the swept exponents and holds."""
    values = (lin.constant, *lin.coefficients)
    if not any(lin.coefficients) and lin.holds(()):
        return None
    den = lcm(*(v.denominator for v in values))
    ints = [int(v * den) for v in values]
    g = 0
    for v in ints:
        g = gcd(g, v)
    g = g or 1
    if lin.kind is Sense.EQ and next((v for v in ints[1:] if v), 1) < 0:
        g = -g
    return Linear(Fraction(ints[0] // g), tuple(Fraction(v // g) for v in ints[1:]), lin.kind)
