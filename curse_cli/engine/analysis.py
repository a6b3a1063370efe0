"""Reading an exact optimum: formulas, determined sizes, corners, active constraints.

At the optimum the active rows fix the solution as an affine function of the scale
exponents (docs/theory.md section 6).  Which sizes are determined comes from the optimal
face: a combination of free sizes is fixed iff it lies in the row space of the rows
tight on the whole face.  A specialised layer whose `M` and `q` are both fixed sits in
a named corner; if only `a[M] + b[q]` is fixed the layer sits on a face and the report
names that combination (`M2 q2^2`) and the corners the face reaches.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd, lcm
from typing import Sequence

from curse_cli.solve import lp
from curse_cli.engine.energy import Optimum, Option, Role, search, without_amplification
from curse_cli.engine.symbols import display, var
from curse_cli.engine.patterns import Mechanism, pattern_name
from curse_cli.engine.report import LayerReport, PatternReport, Quantity, Status
from curse_cli.algebra.scales import BASE, Monomial, format_monomial
from curse_cli.algebra.space import Space

Affine = tuple[Fraction, ...]


def affine_monomial(space: Space, aff: Sequence[Fraction]) -> Monomial:
    """(constant, scale coefficients) -> monomial of the scales (`d` for the constant)."""
    names = (BASE, *space.scales)
    return Monomial({n: Fraction(c) for n, c in zip(names, aff) if c})


def _combine(coeffs: Sequence[Fraction], xs: Sequence[Affine]) -> Affine:
    width = len(xs[0]) if xs else 0
    out = [Fraction(0)] * width
    for c, x in zip(coeffs, xs):
        if c:
            for i, v in enumerate(x):
                if v:
                    out[i] += c * v
    return tuple(out)


def form_at(row: lp.Row, x: Sequence[Affine]) -> Affine:
    """A row's form `g.x + h` at the solution, as an affine function of the scales (for
    a term row, the value `t` must dominate)."""
    g = _combine(row.g, x) if x else tuple(Fraction(0) for _ in row.h)
    return tuple(gi + hi for gi, hi in zip(g, row.h))


def _integer_combo(coeffs: Sequence[Fraction]) -> list[int]:
    den = lcm(*(c.denominator for c in coeffs))
    ints = [int(c * den) for c in coeffs]
    g = 0
    for v in ints:
        g = gcd(g, v)
    ints = [v // g for v in ints]
    if next(v for v in ints if v) < 0:
        ints = [-v for v in ints]
    return ints


def _label(names: Sequence[str], ints: Sequence[int]) -> str:
    return format_monomial({display(n): Fraction(c) for n, c in zip(names, ints) if c})


def _null_space(rows: Sequence[Sequence[Fraction]], n: int) -> list[list[Fraction]]:
    """A basis of the vectors orthogonal to every row (exact, one per free column)."""
    reduced, pivots = lp.rref(rows, n)
    basis = []
    for c in range(n):
        if c in pivots:
            continue
        v = [Fraction(0)] * n
        v[c] = Fraction(1)
        for row, p in zip(reduced, pivots):
            v[p] = -row[c]
        basis.append(v)
    return basis


class _Reader:
    """Exact questions about one optimum, with what they share computed once: the point
    in integers, the optimal face's freedoms, the vertex, rows' values there."""

    def __init__(self, opt: Optimum) -> None:
        self.mm, self.sol = opt.minmax, opt.solution
        self.variables = list(opt.program.variables)
        self._point = [_common(v) for v in (self.mm.point, self.mm.direction)]
        # The face's directions of freedom: the null space of its equality rows.
        self.freedoms = _null_space([list(self.mm.rows[r].g) for r in self.sol.equalities], len(self.variables))
        self._x = [self.at(a) for a in self.sol.x]
        self._t = self.at(self.sol.t)
        self._rows: dict[int, tuple[Fraction, Fraction]] = {}

    def at(self, aff: Affine) -> tuple[Fraction, Fraction]:
        """An affine function of the scales at the point, and its slope along the nudge
        (integer sums over common denominators: one Fraction each at the end)."""
        (pv, pd), (dv, dd) = self._point
        ints, den = _common(aff)
        value = sum(n * p for n, p in zip(ints, pv) if n)
        slope = sum(n * v for n, v in zip(ints, dv) if n)
        return Fraction(value, den * pd), Fraction(slope, den * dd)

    def determined(self, group: Sequence[str]) -> list[list[Fraction]]:
        """Combinations of the `group` variables fixed on the optimal face: `w` is fixed
        iff it is orthogonal to every freedom's projection on the group."""
        cols = [self.variables.index(v) for v in group]
        return _null_space([[f[c] for c in cols] for f in self.freedoms], len(cols))

    def _row_at_vertex(self, i: int) -> tuple[Fraction, Fraction]:
        if i not in self._rows:
            row = self.mm.rows[i]
            v, sl = self.at(row.h)
            v, sl = v + row.tau * self._t[0], sl + row.tau * self._t[1]
            for g, (xv, xs) in zip(row.g, self._x):
                if g:
                    v += g * xv
                    sl += g * xs
            self._rows[i] = (v, sl)
        return self._rows[i]

    def feasible_change(self, changes: dict[int, Affine]) -> bool:
        """Whether the optimum stays feasible, at the point and just beyond it along the
        nudge, when the free sizes in `changes` take other values.  Rows that do not
        involve a changed size keep their (feasible) value at the vertex."""
        deltas = []
        for j, aff in changes.items():
            v, sl = self.at(aff)
            deltas.append((j, v - self._x[j][0], sl - self._x[j][1]))
        for i, row in enumerate(self.mm.rows):
            if not any(row.g[j] for j in changes):
                continue
            v, sl = self._row_at_vertex(i)
            for j, dv, dsl in deltas:
                g = row.g[j]
                if g:
                    v += g * dv
                    sl += g * dsl
            if (v, sl) > (0, 0):  # type: ignore[operator]  # Fractions against int zeros
                return False
        return True


def _common(values: Sequence[Fraction]) -> tuple[list[int], int]:
    """Rationals as integers over their least common denominator."""
    den = 1
    for v in values:
        if v:
            den = den * v.denominator // gcd(den, v.denominator)
    return [v.numerator * (den // v.denominator) if v else 0 for v in values], den


def _corner(m: tuple[Fraction, Fraction], q: tuple[Fraction, Fraction], n: tuple[Fraction, Fraction]) -> str:
    zero = (Fraction(0), Fraction(0))
    if q > zero:
        return "q-Sp"
    if q == zero:
        return "full Sp" if m == n else "M-Sp"
    return "Mag" if m == n else "partial"


def _face_corners(opt: Optimum, reader: _Reader, l: int, combo: list[Fraction]) -> list[str]:
    """Corners the degenerate face of layer `l` reaches (each checked exactly)."""
    mm, sol = opt.minmax, opt.solution
    variables = reader.variables
    im, iq = variables.index(var("M", l)), variables.index(var("q", l))
    width = len(mm.point)
    n_aff = _width_affine(opt, l)
    fixed = _combine(combo, [sol.x[im], sol.x[iq]])
    zero = tuple(Fraction(0) for _ in range(width))
    found = []
    cm, cq = combo
    candidates = []
    if cm:
        candidates.append(("q=1", tuple(f / cm for f in fixed), zero))          # q = 1: M-Sp end
    if cq:
        candidates.append(("M=N", n_aff, tuple((f - cm * nv) / cq for f, nv in zip(fixed, n_aff))))  # Mag end
        candidates.append(("M=1", zero, tuple(f / cq for f in fixed)))           # one neuron
    for _, m_aff, q_aff in candidates:
        if reader.feasible_change({im: m_aff, iq: q_aff}):
            name = _corner(reader.at(m_aff), reader.at(q_aff), reader.at(n_aff))
            if name not in found:
                found.append(name)
    return found


def _width_affine(opt: Optimum, l: int) -> Affine:
    """The layer width `[N_l]` as (constant, scale coefficients)."""
    for row in opt.minmax.rows:
        if row.tag == (Role.WIDTH, l):
            return tuple(-c for c in row.h)
    raise AssertionError("no width row")  # pragma: no cover


def _lazy_ties(space: Space, opt: Optimum, l: int, feature: str, reader: _Reader) -> bool:
    """Whether the pattern with `D_l` held at one (no amplification) reaches the same
    energy at the point: some optimum is lazy in layer `l`, whichever vertex the solver
    returned.  (A layer is trivial exactly when this holds; the vertex test before it
    is a cheap sufficient check.)  Holding D at one never lowers the energy, so the
    search looks at the point itself and prunes every branch above the optimum's value;
    a branch that reaches it is confirmed exactly."""
    value = reader.at(opt.solution.t)[0]
    lazy = without_amplification(space, opt.program, l, feature)
    found = search(space, lazy, cutoff=float(value) + 1e-7, nudge=0.0)
    if found is None:
        return False
    sol = lp.exact_optimum(found[2].minmax(found[1]), face=False)
    return sol is not None and sol.value == value


def quantity(space: Space, label: str, aff: Affine, reader: _Reader) -> Quantity:
    return Quantity(label, affine_monomial(space, aff), reader.at(aff)[0])


def form_label(space: Space, vec: Sequence[int], ones: frozenset[str] = frozenset()) -> str:
    """How a cost row reads with the free sizes, e.g. `M1 q1^2 d`; sizes that are of
    order one at the optimum (`ones`, e.g. `q1` in M-Sp) are left out, as on paper."""
    mono = space.monomial(vec)
    return format_monomial({display(k): v for k, v in mono.items() if k not in ones})


def active_readout(opt: Optimum, reader: _Reader) -> tuple[int, Option, Affine]:
    """The active piece: its readout row binds the optimum (a positive multiplier), else
    its term is the largest there (the first on a tie); its chosen option and the
    term's value.  The one readout of a single-piece target."""
    base = len(opt.minmax.rows) - len(opt.choice)
    readouts = [(i, o) for i, (d, o) in enumerate(zip(opt.program.decisions, opt.choice, strict=True)) if not d.layer]
    best = None
    for piece, (i, option) in enumerate(readouts):
        aff = form_at(opt.minmax.rows[base + i], opt.solution.x)
        binds = opt.solution.multipliers.get(base + i, 0) > 0
        key = (binds, reader.at(aff))
        if best is None or key > best[3]:
            best = (piece, option, aff, key)
    assert best is not None
    return best[:3]


def active_piece(opt: Optimum) -> int:
    """Which readout family (by position: the pieces' orders ascending) has the largest
    term at the optimum: the piece that sets the readout's cost."""
    return active_readout(opt, _Reader(opt))[0]


def read_optimum(space: Space, opt: Optimum) -> PatternReport:
    """The report of a scored pattern."""
    program, sol, mm = opt.program, opt.solution, opt.minmax
    reader = _Reader(opt)
    variables = reader.variables
    layers: list[LayerReport] = []
    pending: list[tuple[LayerReport, Sequence[int], Affine]] = []
    ones: set[str] = set()
    status, note = Status.OPTIMAL, None
    by_layer = {d.layer: o for d, o in zip(program.decisions, opt.choice) if d.layer}
    for l, step in enumerate(program.pattern, start=1):
        layers.append(LayerReport(l, step, None, (), None))
        if step.kind is Mechanism.GP:
            continue
        group = [var("M", l), var("q", l)] if step.kind is Mechanism.SP else [var("D", l, step.feature)]
        combos = reader.determined(group)
        sizes: list[Quantity] = []
        for combo in combos:
            ints = _integer_combo(combo)
            aff = _combine([Fraction(c) for c in ints], [sol.x[variables.index(v)] for v in group])
            sizes.append(quantity(space, _label(group, ints), aff, reader))
        corner = None
        layer_note = None
        if step.kind is Mechanism.SP:
            m_aff, q_aff = sol.x[variables.index(group[0])], sol.x[variables.index(group[1])]
            n_at = reader.at(_width_affine(opt, l))
            if len(combos) == 2:
                corner = _corner(reader.at(m_aff), reader.at(q_aff), n_at)
            elif len(combos) == 1:
                ends = _face_corners(opt, reader, l, combos[0])
                corner = f"face {sizes[0].label}" + (f" ({' to '.join(ends)})" if ends else "")
            else:
                corner = "free"
            cost_vec = by_layer[l].vec
        else:
            d_index = variables.index(group[0])
            if (reader.feasible_change({d_index: tuple(Fraction(0) for _ in mm.point)})
                    or _lazy_ties(space, opt, l, step.feature, reader)):  # type: ignore[arg-type]  # a GFL step names its feature
                status = Status.TRIVIAL
                layer_note = f"D{l} ∝ 1 is optimal: no amplification, the layer is lazy at the optimum"
                note = f"layer {l} is lazy at the optimum (D{l} ∝ 1); the pattern reduces to a simpler one"
            cost_vec = next(o.vec for o in program.terms if o.layer == l)
        for q in sizes:
            if q.formula == Monomial() and q.label in map(display, group):
                ones.add(next(v for v in group if display(v) == q.label))
        cost_row = next(r for r in mm.rows if r.tag == (Role.COST, l))
        cost_aff = form_at(cost_row, sol.x)
        pending.append((LayerReport(l, step, corner, tuple(sizes), None, layer_note), cost_vec, cost_aff))
    frozen_ones = frozenset(ones)
    for report, cost_vec, cost_aff in pending:  # type: ignore[assignment]  # the same vectors, as a sequence
        cost = quantity(space, form_label(space, cost_vec, frozen_ones), cost_aff, reader)
        layers[report.index - 1] = report._replace(cost=cost)
    piece, readout_option, readout_aff = active_readout(opt, reader)
    readout = quantity(space, form_label(space, readout_option.vec, frozen_ones), readout_aff, reader)
    active = tuple(mm.rows[i].label for i, y in sorted(sol.multipliers.items()) if y > 0)
    if note is None and any(mm.rows[i].tag[0] is Role.SEARCH for i, y in sol.multipliers.items() if y > 0):  # type: ignore[index]  # a row's tag is (role, layer)
        note = ("a magnitude q sits at the search bound |[q]| = Q: the true optimum lies beyond it, "
                "so this energy is an upper bound")
    energy = affine_monomial(space, sol.t)
    value = reader.at(sol.t)[0]
    return PatternReport(
        name=pattern_name(program.pattern), pattern=program.pattern, energy=energy, exponent=value,
        layers=tuple(layers), readout=readout, active=active, status=status, note=note,
        tie_key=(value,),
        order_key=(value, sum(1 for s in program.pattern if s.kind is not Mechanism.GP)),
    )
