"""Reading an exact optimum: formulas, determined sizes, corners, active constraints.

At the optimum the active rows fix the solution as an affine function of the scale
exponents (THEORY.md section 6).  Which sizes are determined comes from the optimal
face: a combination of free sizes is fixed iff it lies in the row space of the rows
tight on the whole face.  A specialised layer whose `M` and `q` are both fixed sits in
a named corner; if only `a[M] + b[q]` is fixed the layer sits on a face and the report
names that combination (`M2 q2^2`) and the corners the face reaches.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from math import gcd, lcm
from typing import Sequence

from . import lp
from .energy import Optimum, display, var
from .patterns import pattern_name
from .report import LayerReport, PatternReport, Quantity
from .scales import BASE, Monomial, format_monomial
from .tropical import Space

Affine = tuple[Fraction, ...]


def affine_monomial(space: Space, aff: Sequence[Fraction]) -> Monomial:
    """(constant, scale coefficients) -> monomial of the scales (`d` for the constant)."""
    names = (BASE, *space.scales)
    return Monomial({n: Fraction(c) for n, c in zip(names, aff) if c})


def _at(aff: Affine, mm: lp.MinMax) -> tuple[Fraction, Fraction]:
    value = sum((c * p for c, p in zip(aff, mm.point)), Fraction(0))
    slope = sum((c * v for c, v in zip(aff, mm.direction)), Fraction(0))
    return value, slope


def _combine(coeffs: Sequence[Fraction], xs: Sequence[Affine]) -> Affine:
    width = len(xs[0]) if xs else 0
    return tuple(sum((c * x[i] for c, x in zip(coeffs, xs)), Fraction(0)) for i in range(width))


def _row_at(row: lp.Row, x: Sequence[Affine], t: Affine) -> Affine:
    """The row's left-hand side at the solution, as an affine function of the scales."""
    g = _combine(row.g, x) if x else tuple(Fraction(0) for _ in row.h)
    return tuple(gi + row.tau * ti + hi for gi, ti, hi in zip(g, t, row.h))


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


def determined(variables: Sequence[str], mm: lp.MinMax, equalities: Sequence[int],
               group: Sequence[str]) -> list[list[Fraction]]:
    """Combinations of the `group` variables fixed on the optimal face.

    Row-reduce the face's equalities with the other variables' columns first: rows
    whose leading entry falls in a `group` column span the intersection of the row
    space with the group's coordinates.
    """
    order = [i for i, v in enumerate(variables) if v not in group] + [variables.index(v) for v in group]
    rows = [[mm.rows[r].g[i] for i in order] for r in equalities]
    reduced, pivots = lp.rref(rows, len(order))
    first_group = len(order) - len(group)
    return [row[first_group:] for row, p in zip(reduced, pivots) if p >= first_group]


def _feasible_with(mm: lp.MinMax, x: list[Affine], t: Affine) -> bool:
    for row in mm.rows:
        if _at(_row_at(row, x, t), mm) > (0, 0):
            return False
    return True


def _corner(m: tuple[Fraction, Fraction], q: tuple[Fraction, Fraction], n: tuple[Fraction, Fraction]) -> str:
    zero = (Fraction(0), Fraction(0))
    if q > zero:
        return "q-Sp"
    if q == zero:
        return "full Sp" if m == n else "M-Sp"
    return "Mag" if m == n else "partial"


def _face_corners(opt: Optimum, l: int, combo: list[Fraction]) -> list[str]:
    """Corners the degenerate face of layer `l` reaches (each checked exactly)."""
    mm, sol = opt.minmax, opt.solution
    variables = list(opt.program.variables)
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
        x = list(sol.x)
        x[im], x[iq] = m_aff, q_aff
        if _feasible_with(mm, x, sol.t):
            name = _corner(_at(m_aff, mm), _at(q_aff, mm), _at(n_aff, mm))
            if name not in found:
                found.append(name)
    return found


def _width_affine(opt: Optimum, l: int) -> Affine:
    """The layer width `[N_l]` as (constant, scale coefficients)."""
    for row in opt.minmax.rows:
        if row.label == f"M{l} <= N{l}":
            return tuple(-c for c in row.h)
    raise AssertionError("no width row")  # pragma: no cover


def quantity(space: Space, label: str, aff: Affine, mm: lp.MinMax) -> Quantity:
    return Quantity(label, affine_monomial(space, aff), _at(aff, mm)[0])


def form_label(space: Space, vec: Sequence[int], ones: frozenset[str] = frozenset()) -> str:
    """How a cost row reads with the free sizes, e.g. `M1 q1^2 d`; sizes that are of
    order one at the optimum (`ones`, e.g. `q1` in M-Sp) are left out, as on paper."""
    mono = space.monomial(vec)
    return format_monomial({display(k): v for k, v in mono.items() if k not in ones})


def read_optimum(space: Space, opt: Optimum) -> PatternReport:
    """The report of a scored pattern."""
    program, sol, mm = opt.program, opt.solution, opt.minmax
    variables = list(program.variables)
    layers: list[LayerReport] = []
    pending: list[tuple[LayerReport, Sequence[int], Affine]] = []
    ones: set[str] = set()
    status, note = "optimal", None
    by_layer = {d.layer: o for d, o in zip(program.decisions, opt.choice)}
    for l, step in enumerate(program.pattern, start=1):
        layers.append(LayerReport(l, step, None, (), None))
        if step.kind == "GP":
            continue
        group = [var("M", l), var("q", l)] if step.kind == "Sp" else [var("D", l, step.feature)]
        combos = determined(variables, mm, sol.equalities, group)
        sizes: list[Quantity] = []
        for combo in combos:
            ints = _integer_combo(combo)
            aff = _combine([Fraction(c) for c in ints], [sol.x[variables.index(v)] for v in group])
            sizes.append(quantity(space, _label(group, ints), aff, mm))
        corner = None
        layer_note = None
        if step.kind == "Sp":
            m_aff, q_aff = sol.x[variables.index(group[0])], sol.x[variables.index(group[1])]
            n_at = _at(_width_affine(opt, l), mm)
            if len(combos) == 2:
                corner = _corner(_at(m_aff, mm), _at(q_aff, mm), n_at)
            elif len(combos) == 1:
                ends = _face_corners(opt, l, combos[0])
                corner = f"face {sizes[0].label}" + (f" ({' to '.join(ends)})" if ends else "")
            else:
                corner = "free"
            cost_vec = by_layer[l].vec
        else:
            d_index = variables.index(group[0])
            x0 = list(sol.x)
            x0[d_index] = tuple(Fraction(0) for _ in mm.point)
            if _feasible_with(mm, x0, sol.t):
                status = "trivial"
                layer_note = f"D{l} ∝ 1 is optimal: no amplification, the layer is lazy at the optimum"
                note = f"layer {l} is lazy at the optimum (D{l} ∝ 1); the pattern reduces to a simpler one"
            cost_vec = next(o.vec for o in program.terms if o.label.startswith(f"layer {l}:"))
        for q in sizes:
            if q.formula == Monomial() and q.label in map(display, group):
                ones.add(next(v for v in group if display(v) == q.label))
        cost_row = next(r for r in mm.rows if r.tau == -1 and r.label.startswith(f"layer {l}:"))
        cost_aff = tuple(c + t for c, t in zip(_row_at(cost_row, sol.x, sol.t), sol.t))
        pending.append((LayerReport(l, step, corner, tuple(sizes), None, layer_note), cost_vec, cost_aff))
    frozen_ones = frozenset(ones)
    for report, cost_vec, cost_aff in pending:
        cost = quantity(space, form_label(space, cost_vec, frozen_ones), cost_aff, mm)
        layers[report.index - 1] = replace(report, cost=cost)
    readout_row = next(r for r in mm.rows if r.label.startswith("readout"))
    readout_aff = tuple(c + t for c, t in zip(_row_at(readout_row, sol.x, sol.t), sol.t))
    readout = quantity(space, form_label(space, by_layer[0].vec, frozen_ones), readout_aff, mm)
    active = tuple(mm.rows[i].label for i, y in sorted(sol.multipliers.items()) if y > 0)
    energy = affine_monomial(space, sol.t)
    value = _at(sol.t, mm)[0]
    return PatternReport(
        name=pattern_name(program.pattern), pattern=program.pattern, energy=energy, exponent=value,
        layers=tuple(layers), readout=readout, active=active, status=status, note=note,
        tie_key=(value,),
        order_key=(value, sum(1 for s in program.pattern if s.kind != "GP")),
    )
