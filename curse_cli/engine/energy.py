"""Scoring a pattern: its cost terms, readout term and exact optimum (docs/theory.md 2, 3, 6).

`[E_q] = max(layer costs, [a_y])`.  A specialised layer's cost `[M] + 2[q] - [lambda_f]`
and the readout `[chi] - 2 max_e a_e[k]` are minima of affine forms, so the minimum of
`[E_q]` is a minimum over *branches*, one affine form chosen for each, of linear
programmes.  Branches are explored depth first and pruned against the best complete
branch with cheap lower bounds (each row's minimum over the box, and one
Fourier-Motzkin combination of a complete branch's rows) before any LP is solved.

A branch only counts if the pattern really uses every layer it names: the readout's
term must rely on each non-lazy layer, directly or through the eigenvalue a specialised
layer pays for.  Otherwise the pattern would merely tie with a simpler one (a layer
with a vanishing magnitude is a lazy layer).
"""

from __future__ import annotations

import functools
import operator
from enum import Enum
from fractions import Fraction
from functools import cached_property
from typing import Iterable, NamedTuple

import numpy as np

from curse_cli.solve import lp
from curse_cli.engine.folder import Folder
from curse_cli.engine.kernels import Feature, Kernel
from curse_cli.engine.patterns import Mechanism, Pattern
from curse_cli.engine.report import PatternReport
from curse_cli.engine.symbols import display, var
from curse_cli.algebra.scales import BASE, Monomial
from curse_cli.algebra.space import Space


class Role(Enum):
    """What a row of a pattern's programme stands for (read by the optimum reader)."""

    COST = "cost"            # a layer's cost: t >= it
    READOUT = "readout"      # the readout term: t >= it
    FLOOR = "floor"          # M_l >= 1, D_l >= 1
    WIDTH = "width"          # M_l <= N_l
    CAP = "cap"              # q_l <= 1 (bounded), D_l lambda_f <= 1
    SEARCH = "search bound"  # |[q_l]| <= Q, far beyond any optimum
    SCALE = "input scale"    # [s_l] >= each top term of the kernel below (docs/theory.md section 9)


class Option(NamedTuple):
    """One affine form a branch may choose: `row >= ...` with its provenance, its role
    and its layer (0: the readout)."""

    vec: tuple[int, ...]
    prov: int
    label: str
    role: Role
    layer: int


class Decision(NamedTuple):
    """A minimum over options: the readout, or one specialised layer's cost."""

    layer: int          # 0 for the readout
    options: tuple[Option, ...]


class Program(NamedTuple):
    """A pattern's energy as data: fixed rows, side conditions and decisions."""

    pattern: Pattern
    kernels: tuple[Kernel, ...]
    terms: tuple[Option, ...]        # t >= each (GFL costs)
    conditions: tuple[Option, ...]   # each <= 0 (bounds, caps on amplification)
    decisions: tuple[Decision, ...]
    required: int                    # bit mask of the layers the pattern must use
    variables: tuple[str, ...]

    def readout_need(self) -> int:
        """The layers the readout's term must rely on itself in a branch that uses every
        layer: the required ones no cost option relies on (`uses_every_layer` reaches a
        layer only through the readout's term and the options of the layers reached).  A
        readout term without them is in no branch that counts."""
        return _need(self.required, self.decisions)

    def uses_every_layer(self, choice: tuple[Option, ...]) -> bool:
        """Whether the readout's terms (one per piece read), and the eigenvalues paid for
        by the layers they rely on, together rely on every non-lazy layer of the pattern."""
        by_layer = {d.layer: o for d, o in zip(self.decisions, choice, strict=True) if d.layer}
        readouts = (o.prov for d, o in zip(self.decisions, choice, strict=True) if not d.layer)
        used = functools.reduce(operator.or_, readouts, 0)
        frontier = used
        while frontier:
            new = 0
            for l, o in by_layer.items():
                if l and frontier >> l & 1:
                    new |= o.prov
            frontier = new & ~used
            used |= new
        return self.required & ~used == 0


def _neg(vec: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(-x for x in vec)


def _plus(*vecs: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(sum(xs) for xs in zip(*vecs))


class Rows:
    """The rows of a programme, layer by layer (docs/theory.md section 3's table, section
    5's readout)."""

    def __init__(self, folder: Folder) -> None:
        self.folder = folder
        self.terms: list[Option] = []
        self.conditions: list[Option] = []
        self.decisions: list[Decision] = []
        self.variables: list[str] = []
        self.required = 0

    def gfl(self, l: int, name: str, feature: Feature, required: bool = True) -> None:
        """A GFL layer amplifying `name`: cost `N_l D_l`, `D_l >= 1`, `D_l lambda <= 1`."""
        self.variables.append(var("D", l, name))
        self.required |= (1 << l) if required else 0
        term, conditions = self.folder.rows(("gfl", l, name, feature.eigen), lambda: self._gfl(l, name, feature))
        self.terms.append(term)
        self.conditions += conditions

    def _gfl(self, l: int, name: str, feature: Feature) -> tuple[Option, tuple[Option, ...]]:
        folder = self.folder
        width = folder.space.form(folder.problem.widths[l - 1])
        d = folder.form(var("D", l, name))
        conditions = [Option(_neg(d), 0, f"D{l} >= 1", Role.FLOOR, l)]
        for e in feature.eigen:
            conditions.append(Option(_plus(e.vec, d), 0, f"D{l} lambda_{name} <= 1", Role.CAP, l))
        return Option(_plus(width, d), 0, f"layer {l}: GFL cost N{l} D{l}", Role.COST, l), tuple(conditions)

    def sp(self, l: int, name: str, feature: Feature, required: bool = True) -> None:
        """A specialised layer on `name`: cost `min_e M_l q_l^2 / lambda_e`, `1 <= M_l <= N_l`,
        `q_l` within its bounds."""
        self.variables += [var("M", l), var("q", l)]
        self.required |= (1 << l) if required else 0
        conditions, decision = self.folder.rows(("sp", l, name, feature.eigen), lambda: self._sp(l, name, feature))
        self.conditions += conditions
        self.decisions.append(decision)

    def _sp(self, l: int, name: str, feature: Feature) -> tuple[tuple[Option, ...], Decision]:
        folder, problem = self.folder, self.folder.problem
        width = folder.space.form(problem.widths[l - 1])
        m, q = folder.form(var("M", l)), folder.form(var("q", l))
        conditions = [Option(_neg(m), 0, f"M{l} >= 1", Role.FLOOR, l),
                      Option(_plus(m, _neg(width)), 0, f"M{l} <= N{l}", Role.WIDTH, l)]
        bound = folder.form(BASE, folder.q_bound)
        conditions.append(Option(_plus(_neg(q), _neg(bound)), 0, f"q{l} >= d^-Q (search bound)", Role.SEARCH, l))
        if problem.activation.bounded:
            conditions.append(Option(q, 0, f"q{l} <= 1 (bounded activation)", Role.CAP, l))
        else:
            conditions.append(Option(_plus(q, _neg(bound)), 0, f"q{l} <= d^Q (search bound)", Role.SEARCH, l))
        cost = _plus(m, folder.form(var("q", l), 2))
        return tuple(conditions), Decision(l, tuple(
            Option(_plus(cost, _neg(e.vec)), e.prov, f"layer {l}: Sp cost M{l} q{l}^2 / lambda_{name}", Role.COST, l)
            for e in feature.eigen))

    def _readout(self, chi: tuple[int, ...], last: Kernel, k: int, lean: bool) -> Decision:
        """The readout family of the piece `He_k`: one option per component of the last
        kernel that carries order `k` (`lean`: only those that rely on every layer of
        `readout_need`, for a readout that reads one piece)."""
        problem = self.folder.problem
        readout = last.amplitude[k] if k < len(last.amplitude) else ()
        if lean:
            need = self.readout_need()
            readout = tuple(a for a in readout if a.prov & need == need)
        y = "y" if len(problem.read_orders) == 1 else f"He_{k}"
        label = f"readout chi / <{y}|K|{y}>" if problem.readout_factor == Monomial() else \
            f"readout chi {problem.readout_factor} / <{y}|K|{y}>"
        vecs = (np.array(chi, dtype=object) - 2 * np.array([a.vec for a in readout], dtype=object)).tolist() \
            if readout else []
        return Decision(0, tuple(Option(tuple(v), a.prov, label, Role.READOUT, 0)
                                 for v, a in zip(vecs, readout, strict=True)))

    def readout_need(self) -> int:
        """`readout_need` of the programme these rows make."""
        return _need(self.required, self.decisions)

    def program(self, pattern: Pattern, kernels: tuple[Kernel, ...], lean: bool = False) -> Program:
        """The programme, with the input-scale floors and the readout of the last kernel
        (`lean`: only its terms that rely on every layer of `readout_need`; the others are
        in no branch that counts, so the optimum and which branches count are the same)."""
        folder, problem = self.folder, self.folder.problem
        variables, conditions = list(self.variables), list(self.conditions)
        last = kernels[-1]
        for name, term in dict.fromkeys(last.floors):
            if name not in variables:
                variables.append(name)
                # An upper bound far above any input scale, so that the programme has a vertex.
                cap = folder.form(BASE, 2 * (problem.depth + 1) * folder.q_bound)
                conditions.append(Option(_plus(folder.form(name), _neg(cap)), 0,
                                         f"{display(name)} <= d^Q (search bound)", Role.SEARCH, 0))
            conditions.append(Option(_plus(term.vec, _neg(folder.form(name))), 0,
                                     f"{display(name)} >= the input scale (section 9)", Role.SCALE, 0))
        chi = folder.space.form(problem.chi * problem.readout_factor)
        orders = problem.read_orders
        decisions = [self._readout(chi, last, k, lean and len(orders) == 1) for k in orders]
        decisions += self.decisions
        return Program(pattern, kernels, tuple(self.terms), tuple(conditions), tuple(decisions), self.required,
                       tuple(variables))


def layer_rows(folder: Folder, pattern: Pattern, lean: bool = False) -> tuple[Rows, tuple[Kernel, ...]]:
    """The rows of the layers of `pattern` (a whole pattern or a prefix) and its kernels
    `K_0 .. K_l` (`lean`: the last one `Folder.readout_kernel`'s)."""
    kernels = [folder.kernel(pattern[:l]) for l in range(len(pattern))]
    rows = Rows(folder)
    for l, step in enumerate(pattern, start=1):
        if step.kind is Mechanism.GP:
            continue
        assert step.feature is not None   # GFL and Sp steps name their feature
        feature = kernels[l - 1].feature(step.feature)
        assert feature is not None
        (rows.gfl if step.kind is Mechanism.GFL else rows.sp)(l, step.feature, feature)
    last = folder.readout_kernel(pattern, rows.readout_need()) if lean else folder.kernel(pattern)
    return rows, (*kernels, last)


def build_program(folder: Folder, pattern: Pattern, lean: bool = False) -> Program:
    """The rows of a pattern's energy (docs/theory.md section 3's table, section 5's
    readout; `lean`: `Rows.program`'s, for a search that only solves it)."""
    rows, kernels = layer_rows(folder, pattern, lean)
    return rows.program(pattern, kernels, lean)


def without_amplification(space: Space, program: Program, layer: int, feature: str) -> Program:
    """The programme with `D_layer` held at one: the pattern with that layer lazy, paying
    the GFL cost of its `N` neurons.  `[D] = 0` is substituted into every row (and `D`
    leaves the free sizes), so the cheap bounds see it fixed too."""
    name = var("D", layer, feature)
    col = space.index(name)

    def fixed(o: Option) -> Option:
        if not o.vec[col]:
            return o
        vec = list(o.vec)
        vec[col] = 0
        return o._replace(vec=tuple(vec))

    conditions = tuple(fixed(o) for o in program.conditions if any(x for i, x in enumerate(o.vec) if i != col))
    return program._replace(
        terms=tuple(fixed(o) for o in program.terms),
        conditions=conditions,
        decisions=tuple(d._replace(options=tuple(fixed(o) for o in d.options)) for d in program.decisions),
        variables=tuple(v for v in program.variables if v != name),
    )


def spike_may_count(folder: Folder, pattern: Pattern) -> bool:
    """Whether a pattern whose last layer `L` specialises may have a branch that uses
    every non-lazy layer (`Program.uses_every_layer`), judged without making its last kernel.

    Layer `L`'s bit enters a branch only through the readout's term: no cost option
    carries it (a specialised layer's options are the eigenvalue terms of its feature,
    made below it).  The readout terms that carry it are the spike's `phi(q f)`, whose
    provenance is at most that of `f`'s content plus `L`.  From there, each
    specialised layer reached adds at most the provenance of its feature's eigenvalue
    terms.  When even that cannot reach every non-lazy layer, no branch counts (the
    float search would find none: a pattern with two unrelated spikes, say, whose last
    layer reads only one)."""
    depth = len(pattern)
    assert pattern[-1].kind is Mechanism.SP
    kernels = [folder.kernel(pattern[:l]) for l in range(depth)]   # K_0 .. K_{L-1}, computed already
    widest = {}   # a specialised layer: the provenance of all its cost options
    for l, step in enumerate(pattern, start=1):
        if step.kind is Mechanism.SP:
            assert step.feature is not None
            feature = kernels[l - 1].feature(step.feature)
            assert feature is not None
            widest[l] = functools.reduce(operator.or_, (e.prov for e in feature.eigen), 0)
    content = kernels[depth - 1].feature(pattern[-1].feature).content  # type: ignore[union-attr, arg-type]  # the last layer specialises on a feature of K_{L-1}
    used = frontier = functools.reduce(operator.or_, (t.prov for order in content for t in order), 1 << depth)
    while frontier:
        new = functools.reduce(operator.or_, (p for l, p in widest.items() if frontier >> l & 1), 0)
        frontier = new & ~used
        used |= new
    required = functools.reduce(operator.or_, (1 << l for l, step in enumerate(pattern, start=1)
                                               if step.kind is not Mechanism.GP), 0)
    return required & ~used == 0


def _need(required: int, decisions: Iterable[Decision]) -> int:
    """The required layers no cost option (a decision of a layer > 0) relies on."""
    costs = (d for d in decisions if d.layer)
    return required & ~functools.reduce(operator.or_, (o.prov for d in costs for o in d.options), 0)




class RowCache:
    """LP rows of one programme's options, converted to Fractions once, and only when
    a linear programme is built (a branch and bound may prune every branch first)."""

    def __init__(self, space: Space, program: Program) -> None:
        self.space = space
        self.program = program
        self.idx = [space.index(v) for v in program.variables]
        self.rows: dict[tuple[Option, int], lp.Row] = {}

    @cached_property
    def base(self) -> tuple[lp.Row, ...]:
        """The fixed rows: side conditions, then the GFL cost terms."""
        program = self.program
        return tuple([self.row(o, 0) for o in program.conditions] + [self.row(o, -1) for o in program.terms])

    @cached_property
    def point(self) -> tuple[Fraction, ...]:
        return tuple(Fraction(p, self.space.unit) for p in self.space.point[:self.space.first_variable])

    @cached_property
    def direction(self) -> tuple[Fraction, ...]:
        return tuple(Fraction(v, self.space.unit) for v in self.space.direction[:self.space.first_variable])

    def row(self, o: Option, tau: int) -> lp.Row:
        """The option as an exact LP row with `tau` (0: a side condition, -1: `t >= row`)."""
        key = (o, tau)
        held = self.rows.get(key)
        if held is None:
            u, width = self.space.unit, self.space.first_variable
            held = lp.Row(tuple(Fraction(o.vec[i], u) for i in self.idx), tau,
                          tuple(Fraction(o.vec[i], u) for i in range(width)), o.label, (o.role, o.layer))
            self.rows[key] = held
        return held

    @cached_property
    def _float_base(self) -> tuple[np.ndarray, np.ndarray]:
        program = self.program
        options = program.conditions + program.terms
        taus = [0.0] * len(program.conditions) + [-1.0] * len(program.terms)
        return self._float_rows(options, taus)

    def _float_rows(self, options, taus) -> tuple[np.ndarray, np.ndarray]:
        """`[g | tau]` and the constant-and-scale parts, as floats (`g` over the free sizes)."""
        u = self.space.unit
        f = self.space.first_variable
        vecs = np.array([o.vec for o in options], dtype=float).reshape(len(options), self.space.size)
        g = np.column_stack([vecs[:, self.idx] / u, np.array(taus, dtype=float)])
        return g, vecs[:, :f] / u

    def float_value(self, choice: tuple[Option, ...], nudge: float | None = None) -> float | None:
        """The branch's optimum in floating point at the nudged point, built straight
        from the integer rows (the Fraction rows are only needed to certify)."""
        g0, h0 = self._float_base
        g1, h1 = self._float_rows(choice, [-1.0] * len(choice))
        space = self.space
        step = space.nudge if nudge is None else nudge
        f = space.first_variable
        at = (np.array(space.point[:f], dtype=float) + step * np.array(space.direction[:f], dtype=float)) / space.unit
        a = np.vstack([g0, g1])
        b = -np.concatenate([h0 @ at, h1 @ at])
        return lp.float_solve(len(self.idx), a, b)

    def minmax(self, choice: Iterable[Option], nudge: float | None = None) -> lp.MinMax:
        """The linear programme of a branch: the fixed rows and the chosen options."""
        rows = self.base + tuple(self.row(o, -1) for o in choice)
        return lp.MinMax(len(self.idx), rows, self.point, self.direction, self.space.nudge if nudge is None else nudge)


class Optimum(NamedTuple):
    """A programme's exact optimum: the branch chosen, its LP and certified solution."""

    program: Program
    choice: tuple[Option, ...]
    solution: lp.Solution
    minmax: lp.MinMax


class Evaluation(NamedTuple):
    """A scored pattern: its programme, exact optimum (None if it has none) and report."""

    program: Program
    optimum: Optimum | None
    report: PatternReport


def lower_bound(space: Space, vec: tuple[float, ...], nudge: float | None = None) -> float:

    """A cheap lower bound on a row (integer or float coefficients) over the free
    sizes' box, at the nudged point (`nudge`: default the space's): `Space.minimum`
    read at one number."""
    low = space.minimum(vec)
    if low is None:
        return float("-inf")
    step = space.nudge if nudge is None else nudge
    return (low[0] + step * low[1]) / space.unit**3


def lower_bounds(space: Space, options: tuple[Option, ...], nudge: float | None = None) -> list[float]:
    """`lower_bound` of many options at once (`Space.minimum` vectorised; the same numbers)."""
    if len(options) < 8 or not space.fits_int64:
        return [lower_bound(space, o.vec, nudge) for o in options]
    vecs = np.array([o.vec for o in options], dtype=np.int64)
    f, u = space.first_variable, space.unit
    ar = space.arrays
    a = vecs[:, :f] @ ar["p0"]        # base value and slope, in 1/unit**3 (p0, p1 carry a factor unit)
    b = vecs[:, :f] @ ar["p1"]
    coef = vecs[:, f:]
    lo_missing, lo0, lo1 = ar["lower"]
    up_missing, up0, up1 = ar["upper"]
    pos, neg = np.maximum(coef, 0), np.minimum(coef, 0)
    unbounded = (pos[:, lo_missing].any(axis=1)) | (neg[:, up_missing].any(axis=1))
    low0 = pos @ lo0 + neg @ up0
    low1 = pos @ lo1 + neg @ up1
    step = space.nudge if nudge is None else nudge
    out = ((a + low0).astype(float) + step * (b + low1).astype(float)) / u**3
    out[unbounded] = float("-inf")
    return out.tolist()


def combination(space: Space, program: Program, chosen: tuple[Option, ...],
                piece: int = 0) -> list[tuple[int, int, Option]]:
    """The weights of `combined_bound`'s convex combination, as exact ratios `(p, q)`
    (weight `p/q`) with their rows: the readout with weight one, and each cost row that
    can eliminate its layer's own size (`q_l` of an Sp cost, `D_l` of a GFL cost)
    against the readout, where that size enters with the opposite sign.  With several
    pieces, the readout of the `piece`-th (`t` is above each of them)."""
    costs = [(o, d.layer) for d, o in zip(program.decisions, chosen, strict=True) if d.layer]
    return _combination(space, chosen[piece], costs, program.terms)


def _combination(space: Space, readout_option: Option, chosen_costs: list[tuple[Option, int]],
                 terms: tuple[Option, ...]) -> list[tuple[int, int, Option]]:
    """`combination` of one readout row and the chosen cost rows (with their layers)."""
    readout = readout_option.vec
    f = space.first_variable
    out = [(1, 1, readout_option)]
    costs: list[tuple[Option, int | None]] = [*chosen_costs, *((o, None) for o in terms)]
    for option, layer in costs:
        own = space.index(var("q", layer)) if layer is not None \
            else next((i for i in range(f, space.size) if option.vec[i]), None)
        if own is None:   # a GFL cost whose D is held fixed: nothing to eliminate
            continue
        r, c = readout[own], option.vec[own]
        if r < 0 < c:
            out.append((-r, c, option))
    return out


def combined_bound(space: Space, program: Program, chosen: tuple[Option, ...], nudge: float | None = None,
                   piece: int = 0) -> float:
    """A lower bound from one convex combination of the branch's rows (Fourier-Motzkin
    on one variable per layer, `combination`, against the readout of `piece`).  Since
    `t >= row` for every row, `t >= sum(w row) / sum(w)` for weights `w >= 0`.  In
    floating point, like the LP values it is compared with."""
    return _weighted_bound(space, combination(space, program, chosen, piece), nudge)


def _weighted_bound(space: Space, weights: list[tuple[int, int, Option]], nudge: float | None) -> float:
    """`lower_bound` of the convex combination `weights` of rows."""
    total = np.zeros(space.size)
    weight = 0.0
    for p, q, option in weights:
        w = p / q
        weight += w
        total += w * np.asarray(option.vec, dtype=float)
    return lower_bound(space, tuple(total.tolist()), nudge) / weight


def search(space: Space, program: Program, tol: float = 1e-9, cutoff: float = float("inf"),
           nudge: float | None = None, first: bool = False) -> tuple[float, tuple[Option, ...], RowCache] | None:
    """The best branch in floating point: its value, its choice of options (None: no
    branch uses every layer and beats `cutoff`).

    Depth first over the decisions; a branch is skipped when a cheap bound (each row's
    minimum over the box, or `combined_bound` of a complete branch) cannot beat the
    best so far, or when none of its completions can use every layer; only the
    survivors' LPs are solved.  Values are taken at the point nudged by `nudge`
    (default: the space's; 0: the point itself).  With `first`, the first branch found
    below `cutoff` is returned (whether any beats it, not the best).
    """
    if any(not d.options for d in program.decisions):
        return None
    # One readout family: decided first.  Several (a set of pieces): decided after the
    # costs, the highest order first, and each option is bounded with the rows chosen so
    # far (`_combination`, then their linear programme) before the pieces' options
    # multiply: a subtree whose rows already reach the best value is skipped whole.
    n = len(program.decisions)
    several = sum(1 for d in program.decisions if not d.layer) > 1
    order = [i for i, d in enumerate(program.decisions) if d.layer] + \
        [i for i, d in reversed(list(enumerate(program.decisions))) if not d.layer] if several else list(range(n))
    decisions = [program.decisions[i] for i in order]

    def original(chosen: tuple[Option, ...]) -> tuple[Option, ...]:
        out: list = [None] * n
        for i, o in zip(order, chosen, strict=True):
            out[i] = o
        return tuple(out)

    floor = max((lower_bound(space, o.vec, nudge) for o in program.terms), default=float("-inf"))
    ordered = [sorted(zip(lower_bounds(space, d.options, nudge), d.options), key=lambda p: p[0]) for d in decisions]
    best: list = [cutoff, None]   # branches that cannot beat the cutoff are pruned like any other
    cache = RowCache(space, program)
    layers = [d.layer for d in decisions]
    widest = [functools.reduce(operator.or_, (o.prov for o in d.options), 0) for d in decisions]

    def may_use_every_layer(chosen: tuple[Option, ...]) -> bool:
        """Whether a completion of `chosen` may use every layer: `Program.uses_every_layer` with
        each undecided layer relying on the layers of all its options at once (which
        any one option relies on a subset of)."""
        provs = [o.prov for o in chosen] + widest[len(chosen):]
        used = frontier = functools.reduce(operator.or_, (p for l, p in zip(layers, provs) if not l), 0)
        while frontier:
            new = 0
            for l, p in zip(layers, provs):
                if l and frontier >> l & 1:
                    new |= p
            frontier = new & ~used
            used |= new
        return program.required & ~used == 0

    def walk(k: int, chosen: tuple[Option, ...], cheap: float, solved: float | None = None) -> None:
        if 0 < k < len(decisions) and not may_use_every_layer(chosen):
            return   # no completion counts: skipped without changing which one is found
        if k == len(decisions):
            chosen = original(chosen)
            if not program.uses_every_layer(chosen):
                return
            if not several and (len(chosen) > 1 or program.terms) and \
                    combined_bound(space, program, chosen, nudge) >= best[0] - tol:
                return   # (several pieces: each readout was bounded so when it was chosen)
            value = cache.float_value(chosen, nudge) if solved is None else solved
            if value is not None and value < best[0] - tol:
                best[0], best[1] = value, chosen
            return
        costs = [(o, d.layer) for d, o in zip(decisions, chosen, strict=False) if d.layer] \
            if several and not layers[k] else None
        for low, option in ordered[k]:
            bound = max(cheap, low)
            if bound >= best[0] - tol or (first and best[1] is not None):
                break
            value = None
            if costs is not None:
                if _weighted_bound(space, _combination(space, option, costs, program.terms), nudge) >= best[0] - tol:
                    continue
                value = cache.float_value(chosen + (option,), nudge)
                if value is None or value >= best[0] - tol:
                    continue   # infeasible, or no better than the best already
            walk(k + 1, chosen + (option,), bound, value)

    walk(0, (), floor)
    return None if best[1] is None else (best[0], best[1], cache)


def minimise(space: Space, program: Program, tol: float = 1e-9) -> Optimum | None:
    """The pattern's exact optimum over its branches (None: no branch uses every layer,
    or no readout term reaches the target): the best branch (`search`), solved and
    certified exactly."""
    found = search(space, program, tol)
    if found is None:
        return None
    _, choice, cache = found
    mm = cache.minmax(choice)
    sol = lp.exact_optimum(mm)
    if sol is None:  # pragma: no cover - the float solve found it feasible
        raise lp.LPError("a feasible branch became infeasible in exact arithmetic")
    return Optimum(program, choice, sol, mm)
