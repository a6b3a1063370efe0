"""Certified cells: the polyhedron of scale exponents on which one solve's answer holds.

At a point `s0` the winners are found (by the search of `engine.search`, in a context
whose kernels hold on the whole sweep box); the other patterns need only their
programmes, not their scores.  The answer -- the winners and the formula `F(s)` of the
energy -- then
holds at every `s` that satisfies a list of linear constraints, each affine in `s`:

* each winner's optimal basis stays feasible: its rows, evaluated at the basis
  solution `x(s), t(s)`, stay `<= 0` (so the winner's energy is at most its formula);
* every other branch of a winner stays at least as high: an affine lower bound valid
  for all `s` -- a row's minimum over the sizes' bounds, a Fourier-Motzkin
  combination of a branch's rows, or the branch's LP dual `t >= y . h(s)` -- is
  `>=` the winner's formula (so the winner's energy is at least its formula);
* every branch of every other pattern stays strictly above `F` in the same way, or
  stays infeasible (the dual of its phase-one programme);
* tied winners keep equal values, and amplified (GFL) layers keep `D > 0`.

Comparisons marked `lex` are made at `s` and just beyond it along the direction of
growing sizes, as `predict` makes them, so a grid point on a kink gets the formula of
the growing side there too.  Where the answer cannot be certified this way (a
pattern ties at `s0` without counting), the cell is the point alone: still exact,
only not shared.
"""

from __future__ import annotations

from enum import Enum
from fractions import Fraction
from functools import cached_property
from math import lcm
from typing import Any, NamedTuple, Sequence

from curse_cli.solve import lp
from curse_cli.engine.api import (Context, Evaluation, Mechanism, Optimum, Option, Pattern, PatternReport, Program,
                                  RowCache, Status, Trail, enumerate_patterns, form_at, pattern_name, rank)
from curse_cli.sweeps.report import Outcome

Affine = tuple[Fraction, ...]
"""Coefficients over (constant, scale_1, ..., scale_S)."""



class Sense(Enum):
    """How a constraint's form compares with zero: `>= 0`, `> 0`, `= 0`, or `>= 0` and
    `> 0` at the point and just beyond it along the direction of growing sizes (`_LEX`:
    the pair (value, slope) compared lexicographically, as `predict` compares)."""

    GE = "ge"
    GT = "gt"
    EQ = "eq"
    GE_LEX = "ge_lex"
    GT_LEX = "gt_lex"

    def holds(self, value: Any, slope: Any = 0) -> Any:
        """Whether a form of this value (and slope) satisfies it; the plain senses also
        compare numpy arrays element-wise."""
        if self is Sense.GE:
            return value >= 0
        if self is Sense.GT:
            return value > 0
        if self is Sense.EQ:
            return value == 0
        pair = (value, slope)
        return pair >= (0, 0) if self is Sense.GE_LEX else pair > (0, 0)

    def along(self, slope: Fraction) -> Sense:
        """The plain sense on the side of the point the slope leaves it by (a `_LEX`
        sense at a form growing along the direction holds with equality too)."""
        if self is Sense.GE_LEX:
            return Sense.GE if slope >= 0 else Sense.GT
        if self is Sense.GT_LEX:
            return Sense.GE if slope > 0 else Sense.GT
        return self


class Constraint(NamedTuple):
    """`form(s)` compared with zero as `kind` says."""

    form: Affine
    kind: Sense
    why: str


class Cell(NamedTuple):
    outcome: Outcome
    winners: tuple[PatternReport, ...]
    constraints: tuple[Constraint, ...]
    point: dict[str, Fraction]
    reports: tuple[PatternReport, ...] = ()   # the patterns scored at the point (a search scores few)


def _sub(a: Affine, b: Affine) -> Affine:
    return tuple(x - y for x, y in zip(a, b))


class _Against:
    """A target's value and slope at the point, for comparing bounds held as integers
    over a positive denominator (`value / den`, `slope / den`) without building a
    Fraction: certificates compare many row bounds with few targets."""

    def __init__(self, kind: Sense, value: Fraction, slope: Fraction) -> None:
        self.kind = kind
        self.num, self.den = value.numerator, value.denominator
        self.slope_num, self.slope_den = slope.numerator, slope.denominator

    def good(self, value: int, slope: int, den: int) -> bool:
        """Whether `(value / den, slope / den)` is `kind`-above the target (exactly)."""
        diff = value * self.den - self.num * den
        if self.kind is Sense.GT:
            return diff > 0
        if self.kind is Sense.GE or diff:
            return diff >= 0 if self.kind is Sense.GE else diff > 0
        tilt = slope * self.slope_den - self.slope_num * den
        return tilt > 0 if self.kind is Sense.GT_LEX else tilt >= 0


class _Memo:
    """What the certificates of the patterns at one point share (their rows are shared):
    each row's bound at the point, and its constraint against a target."""

    def __init__(self) -> None:
        self.quick: dict[tuple[int, ...], tuple[int, int, Option] | None] = {}
        self.rows: dict[tuple, Constraint] = {}   # (row, kind, target's number) -> constraint
        self.targets: dict[Affine, int] = {}      # each target compared with, numbered by value

    def target(self, target: Affine) -> int:
        """The target's number: equal targets share one (few targets, many rows)."""
        return self.targets.setdefault(target, len(self.targets))


class _Pattern:
    """Certificates for one pattern's branches, at one point."""

    def __init__(self, ctx: Context, program: Program, s0: Affine, v: Affine, memo: _Memo | None = None) -> None:
        self.ctx = ctx
        self.space = ctx.space
        self.program = program
        self.s0, self.v = s0, v
        self._infeasible: Affine | None = None
        self._memo = memo if memo is not None else _Memo()
        self._quick = self._memo.quick

    @cached_property
    def cache(self) -> RowCache:
        """The programme's rows for exact LPs (only a branch no bound closes needs them)."""
        return self.ctx.rows(self.program)

    def at(self, form: Affine) -> tuple[Fraction, Fraction]:
        return _at(form, self.s0, self.v)

    def _bound_ints(self, vec: Sequence[int]) -> list[int] | None:
        """A row's minimum over the sizes' bounds, affine in the scales and valid for
        all of them, in units of 1/unit**2 (None: a needed bound is missing)."""
        aff, bounded = self.space.bound_affine(vec)
        if not bounded:
            return None
        u = self.space.unit
        return [vec[j] * u + a for j, a in enumerate(aff)]

    def row_bound(self, vec: Sequence[int]) -> Affine | None:
        """`_bound_ints` as Fractions."""
        ints = self._bound_ints(vec)
        u2 = self.space.unit ** 2
        return None if ints is None else tuple(Fraction(c, u2) for c in ints)

    def combined(self, chosen: tuple[Option, ...]) -> tuple[list[int], int] | None:
        """`energy.combined_bound`, exactly and as an affine function of the scales: the
        bound times `weight` in units of 1/unit**2 (`_bound_ints`), and `weight`."""
        parts = self.ctx.combination(self.program, chosen)
        den = lcm(*(q for _, q, _ in parts))
        ints = [0] * self.space.size
        for p, q, option in parts:   # the combination times `den`, in integers
            k = p * (den // q)
            ints = [t + k * x for t, x in zip(ints, option.vec)]
        bound = self._bound_ints(ints)
        return None if bound is None else (bound, sum(p * (den // q) for p, q, _ in parts))

    def _point_ints(self, ints: Sequence[int]) -> tuple[int, int]:
        """The value and slope at the point of a form in units of 1/unit**2, in units of
        1/unit**3."""
        p, d = self.space.point, self.space.direction
        return sum(c * x for c, x in zip(ints, p)), sum(c * x for c, x in zip(ints, d))

    def dual(self, sol: lp.Solution, mm: lp.MinMax) -> Affine:
        """`t >= sum_i y_i h_i(s)`: the LP's dual bound, valid for every `s`."""
        out = [Fraction(0)] * len(mm.point)
        for i, y in sol.multipliers.items():
            if y:
                for j, h in enumerate(mm.rows[i].h):
                    out[j] += y * h
        return tuple(out)

    def infeasible(self) -> Affine | None:
        """The phase-one bound: every size choice violates some condition by at least
        this (affine in the scales); positive where the pattern is infeasible."""
        if self._infeasible is None:
            rows = tuple(lp.Row(r.g, -1, r.h, r.label, r.tag) for r in self.cache.base if r.tau == 0)
            mm = lp.MinMax(len(self.cache.idx), rows, self.cache.point, self.cache.direction, self.space.nudge)
            sol = lp.exact_optimum(mm, face=False)
            if sol is None:  # pragma: no cover - a max of violations is always finite
                return None
            self._infeasible = self.dual(sol, mm)
        return self._infeasible

    def quick(self, option: Option) -> tuple[int, int, Option] | None:
        """A row's bound at `s0` (value, slope, in units of 1/unit**3), in integers until
        it is needed whole."""
        key = option.vec
        if key not in self._quick:
            ints = self._bound_ints(option.vec)
            self._quick[key] = None if ints is None else (*self._point_ints(ints), option)
        return self._quick[key]

    def certify(self, target: Affine | None, kind: Sense, skip: tuple[Option, ...] | None = None
                ) -> list[Constraint] | None:
        """Constraints keeping every branch's value `kind`-above `target` (None: every
        branch infeasible).  None if some branch cannot be certified at `s0`.

        Depth first over the decisions: a subtree is closed as soon as one of its rows'
        bounds is high enough (each node checks the row it adds); a complete branch by
        the Fourier-Motzkin combination, or else by its exact LP dual."""
        program = self.program
        decisions = program.decisions
        out: list[Constraint] = []
        against = _Against(kind, *self.at(target)) if target is not None else None
        number = self._memo.target(target) if target is not None else None
        u3 = self.space.unit ** 3

        def good(value: int, slope: int, den: int = u3) -> bool:
            return against is not None and against.good(value, slope, den)

        def ok(bound: Affine | None) -> bool:
            if bound is None or against is None:
                return False
            value, slope = self.at(bound)
            # value * d / d with d the common denominator: compared exactly
            d = lcm(value.denominator, slope.denominator)
            return good(value.numerator * (d // value.denominator), slope.numerator * (d // slope.denominator), d)

        def emit(bound: Affine, why: str) -> None:
            out.append(Constraint(_sub(bound, target), kind, why))  # type: ignore[arg-type]  # emitted only with a target

        def shared(key: tuple, bound, why: str) -> None:
            """`emit(bound(), why)`, made once per point, kind and target for `key` (the
            patterns at one point share most rows and combinations)."""
            key = (key, kind, number)
            held = self._memo.rows.get(key)
            if held is None:
                assert target is not None
                held = self._memo.rows[key] = Constraint(_sub(bound(), target), kind, why)
            out.append(held)

        def closes(option: Option) -> bool:
            q = self.quick(option)
            if q is None or not good(q[0], q[1]):
                return False
            shared(option.vec, lambda: self.row_bound(option.vec), "row bound")
            return True

        def leaf(chosen: tuple[Option, ...]) -> bool:
            if not program.uses_every_layer(chosen) or chosen == skip:
                return True
            if against is not None and (fm := self.combined(chosen)) is not None and \
                    good(*self._point_ints(fm[0]), u3 * fm[1]):
                den = self.space.unit ** 2 * fm[1]
                shared((tuple(fm[0]), den), lambda: tuple(Fraction(c, den) for c in fm[0]), "combined bound")
                return True
            mm = self.cache.minmax(chosen)
            sol = lp.exact_optimum(mm, face=False)
            if sol is None:
                bound = self.infeasible()
                if bound is None or self.at(bound) <= (0, 0):  # type: ignore[operator]  # Fractions against int zeros
                    return False
                out.append(Constraint(bound, Sense.GT_LEX, "infeasible"))
                return True
            bound = self.dual(sol, mm)
            if not ok(bound):
                return False
            emit(bound, "branch dual")
            return True

        need = program.readout_need()

        def walk(k: int, chosen: tuple[Option, ...]) -> bool:
            if k == len(decisions):
                return leaf(chosen)
            for option in decisions[k].options:
                if k == 0 and option.prov & need != need:
                    continue   # a readout term in no branch that counts
                if not closes(option) and not walk(k + 1, chosen + (option,)):
                    return False
            return True

        if any(not d.options for d in decisions):
            return out
        floor = [q for q in map(self.quick, program.terms) if q is not None and good(q[0], q[1])]
        if floor:
            emit(self.row_bound(max(floor, key=lambda q: q[:2])[2].vec), "row bound")  # type: ignore[arg-type]  # a good row has a bound
            return out
        return out if walk(0, ()) else None


def _basis_rows(opt: Optimum) -> list[Constraint]:
    """The winner's basis solution stays feasible: each row `<= 0` at `x(s), t(s)`."""
    sol = opt.solution
    out = []
    for row in opt.minmax.rows:
        form = [f + row.tau * t for f, t in zip(form_at(row, sol.x), sol.t)]
        if any(form):
            out.append(Constraint(tuple(-c for c in form), Sense.GE_LEX, f"basis: {row.label}"))
    return out


def _amplified(report: PatternReport) -> list[tuple[int, str]]:
    return [(layer.index, layer.step.feature) for layer in report.layers if layer.step.kind is Mechanism.GFL]  # type: ignore[misc]  # a GFL step names its feature


def _stays_amplified(ctx: Context, program: Program, report: PatternReport, target: Affine, s0: Affine, v: Affine
                     ) -> list[Constraint] | None:
    """A winner's GFL layers keep paying off: with any one `D` held at one, every branch
    stays strictly above the winner's energy (`analysis._lazy_ties` is then false)."""
    out: list[Constraint] = []
    for layer, feature in _amplified(report):
        lazy = ctx.without_amplification(program, layer, feature)
        found = _Pattern(ctx, lazy, s0, v).certify(target, Sense.GT)
        if found is None:
            return None
        out += found
    return out


def _stays_reducible(ctx: Context, program: Program, report: PatternReport, target: Affine, s0: Affine, v: Affine
                     ) -> list[Constraint] | None:
    """A pattern that ties with the winners at `s0` only by reducing to a simpler one
    (a GFL layer lazy at its optimum) keeps doing so: its energy stays `>=` the
    winners', and its optimum with that layer held lazy stays feasible with a value
    `<=` theirs.  Then holding the layer lazy reaches the same energy, which is what
    makes it trivial (values at the point, as ties are)."""
    for layer, feature in _amplified(report):
        lazy = ctx.without_amplification(program, layer, feature)
        opt = ctx.minimise(lazy)
        if opt is None or opt.solution.value != report.exponent:
            continue
        below = _Pattern(ctx, program, s0, v).certify(target, Sense.GE)
        if below is None:
            return None
        rows = [c._replace(kind=Sense.GE) for c in _basis_rows(opt)]
        if opt.solution.t != target:
            rows.append(Constraint(_sub(target, opt.solution.t), Sense.GE, f"layer {layer} stays lazy at the optimum"))
        return below + rows
    return None


def solve_cell(ctx: Context, patterns: Sequence[Pattern], searched: bool = True, seed: Sequence[Pattern] = ()
               ) -> Cell:
    """Find the winners at `ctx`'s point and certify where the answer holds.

    `searched`: the winners by the search of `engine.search` (`seed`: patterns to
    score first, such as a neighbouring cell's winners), which scores few patterns;
    every pattern it bounded away is then certified from its programme alone, without
    being scored, exactly as a scored non-winner would be, so the cell is the one full
    scoring gives.  Otherwise, or when no pattern has a proper optimum, every one of
    `patterns` is scored."""
    if searched:
        trail = Trail()
        if ctx.search(1, trail, seed).theta is not None:
            problem = ctx.problem
            scored = {e.report.pattern for e in trail.scored}
            unscored = [p for prefix in trail.dropped
                        for p in enumerate_patterns(problem.activation, problem.depth, problem.feature, prefix)
                        if p not in scored]
            return _certified(ctx, trail.scored, unscored)
    return _certified(ctx, [ctx.evaluate(p) for p in patterns], ())


def _certified(ctx: Context, evaluations: Sequence[Evaluation], unscored: Sequence[Pattern] = ()) -> Cell:
    """The cell of the winners among the scored `evaluations`, with every pattern of
    `unscored` (none of them a winner) certified to stay strictly above them; one whose
    certificate fails at the point (a tie, say) is scored and treated like the rest."""
    space = ctx.space
    u, f = space.unit, space.first_variable
    s0 = tuple(Fraction(p, u) for p in space.point[:f])
    v = tuple(Fraction(x, u) for x in space.direction[:f])
    point = dict(ctx.problem.scales)
    evaluations = list(evaluations)
    reports, winners = rank(e.report for e in evaluations)
    target: Affine | None = None
    if winners:
        first = next(e.optimum for e in evaluations if e.report.name == winners[0].name)
        assert first is not None
        target = first.solution.t
    constraints: dict[tuple, Constraint] = {}   # by form and kind: patterns share many
    memo = _Memo()   # row bounds at the point, shared by the patterns' certificates

    def holding(found: list[Constraint] | None) -> bool:
        """Whether `found` is a certificate holding at the point; if so it is kept."""
        if found is None:
            return False
        new = [c for c in found if (c.form, c.kind) not in constraints]   # shared ones come again and again
        if not all(_holds(c, s0, v) for c in new):
            return False   # a condition that only holds on the other side of the point
        constraints.update(((c.form, c.kind), c) for c in new)
        return True

    for pattern in unscored:
        program = ctx.program(pattern, keep=True)
        if holding(_Pattern(ctx, program, s0, v, memo).certify(target, Sense.GT)):
            continue
        evaluations.append(ctx.evaluate(pattern, program))
        reports, now = rank(e.report for e in evaluations)
        if now != winners:  # pragma: no cover - the search keeps every winner
            raise AssertionError(f"{pattern_name(pattern)} was bounded away but wins")
    by_name = {e.report.name: e for e in evaluations}
    outcome = Outcome.of(ctx.problem.ridge, winners, None)   # the caller names why a target is unreachable
    alone = Cell(outcome, winners, _pin(ctx, point), point, reports)
    if winners:
        assert target is not None
        for w in winners:
            program, opt, report = by_name[w.name]
            assert opt is not None
            gfl = _stays_amplified(ctx, program, report, target, s0, v)
            own = _Pattern(ctx, program, s0, v, memo).certify(opt.solution.t, Sense.GE_LEX, skip=opt.choice)
            if gfl is None or own is None:
                return alone
            tie = [Constraint(_sub(opt.solution.t, target), Sense.EQ, f"tie with {w.name}")] \
                if opt.solution.t != target else []
            if not holding(_basis_rows(opt) + gfl + own + tie):
                return alone
    elif any(e.report.scored for e in evaluations):
        return alone   # scored patterns, none proper: not certified beyond the point
    names = {w.name for w in winners}
    for program, _, report in evaluations:
        if report.name in names or report.status is Status.UNREACHABLE:
            continue
        if target is not None and report.scored and report.exponent == winners[0].exponent:
            found = _stays_reducible(ctx, program, report, target, s0, v) if report.status is Status.TRIVIAL else None
        else:
            found = _Pattern(ctx, program, s0, v, memo).certify(target, Sense.GT)
        if not holding(found):
            return alone
    return Cell(outcome, winners, tuple(constraints.values()), point, reports)


def _at(form: Affine, s0: Affine, v: Affine) -> tuple[Fraction, Fraction]:
    """A form's value at `s0` and its slope along `v`."""
    return _dot(form, s0), _dot(form, v)


def _dot(form: Affine, xs: Affine) -> Fraction:
    """`sum(form[i] xs[i])`, exactly, in integers (one reduction at the end rather than
    one per product and sum: certificates evaluate many forms)."""
    num, den = 0, 1
    for c, x in zip(form, xs):
        if c and x:
            d = c.denominator * x.denominator
            num, den = num * d + c.numerator * x.numerator * den, den * d
    return Fraction(num, den)


def _holds(c: Constraint, s0: Affine, v: Affine) -> bool:
    value = _dot(c.form, s0)
    if c.kind in (Sense.GE, Sense.GT, Sense.EQ):
        return c.kind.holds(value)
    return c.kind.holds(value, _dot(c.form, v))


def _pin(ctx: Context, point: dict[str, Fraction]) -> tuple[Constraint, ...]:
    """Constraints that hold at the point alone."""
    names = [n for n, _ in ctx.problem.scales]
    out = []
    for i, n in enumerate(names):
        form = [Fraction(0)] * (1 + len(names))
        form[0], form[1 + i] = -point[n], Fraction(1)
        out.append(Constraint(tuple(form), Sense.EQ, "the point"))
    return tuple(out)
