"""Exponent arithmetic: affine forms, tropical polynomials, and the Hermite product rule.

Every exponent the engine handles is affine in the free sizes of a pattern (`[M_l]`,
`[q_l]`, `[D_l]`) and in the scale exponents (`[N1]`, `[kappa]`, ...).  Maxima of such
forms ("tropical polynomials") describe eigenvalues and Hermite contents (docs/theory.md
section 6).  For speed an affine form is a tuple of integers over a fixed symbol list
(`Space`), in units of `1/Space.unit`; a `Term` pairs it with the set of layers whose
feature learning it relies on (a bit mask), which the scorer uses to tell a pattern that
really uses each of its layers from one that merely contains them.
"""

from __future__ import annotations

import operator
import struct
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from itertools import chain
from math import lcm, prod
from typing import Callable, Iterable, Mapping, NamedTuple, Sequence, TypeVar

import numpy as np

from curse_cli.algebra.orders import PairOrders, closed_orders, hermite_orders
from curse_cli.algebra.scales import BASE, Monomial


_T = TypeVar("_T")
_MISSING = object()


class Term(NamedTuple):
    """An affine form (`vec`, integers in units of 1/unit) and its provenance mask."""

    vec: tuple[int, ...]
    prov: int


Trop = tuple[Term, ...]
"""A tropical polynomial: the maximum of its terms (empty = exactly absent)."""

Content = tuple[Trop, ...]
"""A Hermite content or amplitude vector: one tropical polynomial per order 0..n_max."""


@dataclass(frozen=True)
class Space:
    """The symbols of one problem: constant, scales, then the free sizes.

    Numbers are compared at the spec's scale point `s` *and* infinitesimally beyond it
    along `v`: a pair `(value at s, derivative along v)`, compared lexicographically.
    At a point where two formulas meet (the proportional point `N = d` is often such a
    point) this picks the formula of the phase on the side of growing sizes, which is
    the one a theorist writes down; both agree at `s`.  Every named scale grows along
    `v`, later-declared ones slightly faster, so that exact ties between scales (`N1 =
    N2`) are broken the same way everywhere.

    `point` and `direction` hold each symbol's value and derivative (free sizes: 0),
    in units of 1/unit; `lower`/`upper` are the free sizes' bounds as (value,
    derivative) pairs in units of 1/unit**2 (None: unbounded).
    """

    scales: tuple[str, ...]
    variables: tuple[str, ...]
    unit: int
    point: tuple[int, ...]
    direction: tuple[int, ...]
    lower: tuple[tuple[int, int] | None, ...]
    upper: tuple[tuple[int, int] | None, ...]
    arrays: dict = field(default_factory=dict, compare=False, repr=False)
    box: tuple[tuple[int, int], ...] | None = None
    bound_forms: tuple[tuple[tuple[int, ...] | None, tuple[int, ...] | None], ...] = ()
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    # `box` (sweeps): each scale's range (lo, hi) in units of 1/unit.  Then pruning keeps
    # a term unless another dominates it at *every* scale point of the box, so kernels
    # and programmes built in this space hold on the whole box; the point still drives
    # the linear programmes.  `bound_forms` are the free sizes' bounds as affine forms
    # of the scales (the first `first_variable` entries of a vector), None: unbounded.
    # `memo` holds results computed once per space (`remember`): like `arrays`, derived
    # data that takes no part in comparisons.

    @property
    def size(self) -> int:
        return 1 + len(self.scales) + len(self.variables)

    @property
    def fits_int64(self) -> bool:
        """Whether dominance tests can run in 64-bit integers: their products reach about
        (coefficient) x (bound) ~ 10^6 unit^3; beyond, Python integers are used."""
        return self.unit <= 20000

    @property
    def nudge(self) -> float:
        """How far along the direction float computations look beyond the point, as a
        multiple of `direction / unit`: the step must stay well above HiGHS's tolerances
        (about 1e-7) to separate formulas by their slopes, and below the distance to the
        next kink, about 1/unit for a point of that resolution.  For the usual small
        denominators (unit <= 4) it is 2^-14."""
        return min(2.0**-14 * max(1.0, self.unit / 4), 0.1 / max(self.direction))

    @property
    def first_variable(self) -> int:
        return 1 + len(self.scales)

    def remember(self, key: tuple, make: Callable[[], _T]) -> _T:
        """`make()`, computed once per space and `key`: for pure functions of the space
        and of the (hashable) arguments that `key` names, so the result is the one a
        fresh computation would give."""
        held = self.memo.get(key, _MISSING)
        if held is _MISSING:
            held = self.memo[key] = make()
        return held

    def index(self, name: str) -> int:
        if name == BASE:
            return 0
        if name in self.scales:
            return 1 + self.scales.index(name)
        return self.first_variable + self.variables.index(name)

    def form(self, monomial: Mapping[str, Fraction]) -> tuple[int, ...]:
        """The integer vector of a monomial read as an affine form."""
        vec = [0] * self.size
        for name, power in monomial.items():
            scaled = Fraction(power) * self.unit
            if scaled.denominator != 1:
                raise ValueError(f"exponent {power} of {name} is finer than the unit 1/{self.unit}")
            vec[self.index(name)] += int(scaled)
        return tuple(vec)

    def monomial(self, vec: Iterable[int | Fraction]) -> Monomial:
        """Back from a vector (possibly of Fractions) to a monomial of named symbols."""
        names = (BASE, *self.scales, *self.variables)
        return Monomial({n: Fraction(v) / self.unit for n, v in zip(names, vec) if v})

    def base_value(self, vec: tuple[int, ...]) -> tuple[int, int]:
        """The constant-and-scale part of a form at the point: (value, derivative)."""
        p, v = self.point, self.direction
        a = b = 0
        for i in range(self.first_variable):
            c = vec[i]
            if c:
                a += c * p[i]
                b += c * v[i]
        return a, b

    def with_point(self, scales: Mapping[str, Fraction]) -> Space:
        """The same symbols, unit, box and bounds at another scale point (its exponents'
        denominators must divide the unit)."""
        point = (self.unit, *(int(_in_unit(Fraction(scales[n]), self.unit)) for n in self.scales),
                 *([0] * len(self.variables)))
        return _assemble(self.scales, self.variables, self.unit, point, self.direction, self.bound_forms, self.box)

    def bound_affine(self, vec: Sequence[int]) -> tuple[list[int], bool]:
        """The minimum of the free-size part of `vec` over the sizes' bounds, as an affine
        form of the scales (over the first `first_variable` symbols, in 1/unit**2), and
        whether it exists (False: a needed bound is missing)."""
        f = self.first_variable
        out = [0] * f
        for i in range(f, self.size):
            c = vec[i]
            if c == 0:
                continue
            lo, hi = self.bound_forms[i - f]
            bound = lo if c > 0 else hi
            if bound is None:
                return out, False
            for j in range(f):
                out[j] += c * bound[j]
        return out, True

    def box_min(self, vec: tuple[int, ...]) -> tuple[int, int] | None:
        """Minimum of the free-size part over the variables' box (None: unbounded)."""
        a = b = 0
        f = self.first_variable
        for i in range(f, self.size):
            c = vec[i]
            if c == 0:
                continue
            bound = self.lower[i - f] if c > 0 else self.upper[i - f]
            if bound is None:
                return None
            a += c * bound[0]
            b += c * bound[1]
        return a, b


def _in_unit(value: Fraction, unit: int) -> int:
    scaled = value * unit
    if scaled.denominator != 1:
        raise ValueError(f"exponent {value} is finer than the unit 1/{unit}")
    return int(scaled)


def make_space(
    scales: Mapping[str, Fraction],
    variables: Mapping[str, tuple[Mapping[str, Fraction] | None, Mapping[str, Fraction] | None]],
    denominators: Iterable[int] = (),
    box: Mapping[str, tuple[Fraction, Fraction]] | None = None,
) -> Space:
    """A space with the problem's scale values and the free sizes' bounds (as monomials
    of scales, e.g. `0 <= [M1] <= [N1]`).  With `box` (scale -> (lo, hi); unlisted
    scales stay at their value), pruning holds on the whole box (see `Space`)."""
    dens = [2, *denominators, *(Fraction(v).denominator for v in scales.values())]
    for bounds in variables.values():
        for b in bounds:
            if b is not None:
                dens += [Fraction(x).denominator for x in b.values()]
    for lo, hi in (box or {}).values():
        dens += [Fraction(lo).denominator, Fraction(hi).denominator]
    unit = 2 * lcm(*dens)  # even, so that an eigenvalue exponent halves exactly
    names = tuple(scales)
    n_var = len(variables)
    point = (unit, *(_in_unit(Fraction(scales[n]), unit) for n in names), *([0] * n_var))
    n_scales = len(names)
    direction = (0, *(4 * (n_scales + 1) + i + 1 for i in range(n_scales)), *([0] * n_var))
    f = 1 + n_scales
    probe = Space(names, tuple(variables), unit, point, direction, (), ())

    def form(b: Mapping[str, Fraction] | None) -> tuple[int, ...] | None:
        return None if b is None else probe.form(b)[:f]

    forms = tuple((form(lo), form(hi)) for lo, hi in variables.values())
    ranges = None
    if box is not None:
        ranges = tuple((_in_unit(Fraction(box[n][0]), unit), _in_unit(Fraction(box[n][1]), unit)) if n in box
                       else (point[1 + i], point[1 + i]) for i, n in enumerate(names))
    return _assemble(names, tuple(variables), unit, point, direction, forms, ranges)


_INT64 = 2**63 - 1


def _ints(values: Sequence[int]) -> np.ndarray:
    """`values` as int64 when each fits, else as Python integers (an object array): the
    exact path (`fits_int64` false) then reads them without overflow."""
    if all(-_INT64 <= v <= _INT64 for v in values):
        return np.array(values, dtype=np.int64)
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _assemble(names, variables, unit, point, direction, forms, ranges) -> Space:
    f = 1 + len(names)
    probe = Space(names, variables, unit, point, direction, (), ())

    def pair(b: tuple[int, ...] | None) -> tuple[int, int] | None:
        return None if b is None else probe.base_value(b)

    lower = tuple(pair(lo) for lo, _ in forms)
    upper = tuple(pair(hi) for _, hi in forms)

    def bound_arrays(bounds):
        missing = np.array([b is None for b in bounds], dtype=bool)
        v0 = _ints([0 if b is None else b[0] for b in bounds])
        v1 = _ints([0 if b is None else b[1] for b in bounds])
        return missing, v0, v1

    arrays = {
        "p0": _ints([x * unit for x in point[:f]]),
        "p1": _ints([x * unit for x in direction[:f]]),
        "lower": bound_arrays(lower),
        "upper": bound_arrays(upper),
        "probes": _probe_corners(lower, upper),
    }
    if ranges is not None:
        def form_matrix(which: int) -> tuple[np.ndarray, np.ndarray]:
            missing = np.array([b[which] is None for b in forms], dtype=np.int64)
            rows = [b[which] if b[which] is not None else (0,) * f for b in forms]
            mat = _ints([x for row in rows for x in row]).reshape(len(forms), f)
            return missing, mat

        arrays["box"] = {
            "lower": form_matrix(0), "upper": form_matrix(1),
            "lo": _ints([unit, *(lo for lo, _ in ranges)]),
            "hi": _ints([unit, *(hi for _, hi in ranges)]),
        }
    return Space(names, variables, unit, point, direction, lower, upper, arrays, ranges, forms)


def _probe_corners(lower, upper) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corners of the free sizes' box at which `_View` ranks every row, to rule out pairs
    that cannot dominate: all sizes at their lower bounds, all at their upper bounds,
    and the two alternating mixes.  Returns their (value, derivative) parts as (corner,
    size) arrays, and per size whether its bounds are ordered (lower <= upper), without
    which its corners are not in the box.

    If `a` dominates `b`, `a - b` is >= 0 on the box, so at each corner.  A size with
    only one bound stands at it: `a - b` can only be bounded below if its coefficient has
    the sign for which that bound is the minimum.  A size without bounds stands at 0:
    `a` and `b` must have the same coefficient there.
    """
    picks = (lambda k: True, lambda k: False, lambda k: k % 2 == 0, lambda k: k % 2 == 1)

    def corner(lo: tuple[int, int] | None, hi: tuple[int, int] | None, at_lower: bool) -> tuple[int, int]:
        first, second = (lo, hi) if at_lower else (hi, lo)
        return first if first is not None else second if second is not None else (0, 0)

    corners = [corner(lo, hi, pick(k)) for pick in picks for k, (lo, hi) in enumerate(zip(lower, upper))]
    x0, x1 = (_ints([c[part] for c in corners]).reshape(len(picks), len(lower)) for part in (0, 1))
    ordered = np.array([lo is None or hi is None or lo <= hi for lo, hi in zip(lower, upper)], dtype=bool)
    return x0, x1, ordered


def box_minimum(space: Space, vec: Sequence[int]) -> int | None:
    """The minimum of a form over the free sizes' bounds and the scales' box, in units
    of 1/unit**3 (None: unbounded below).  Two stages, each a sign split: the sizes meet
    their bounds (affine in the scales), then the scales meet the box's ends."""
    aff, bounded = space.bound_affine(vec)
    if not bounded:
        return None
    u = space.unit
    total = 0
    assert space.box is not None
    for j in range(space.first_variable):
        w = vec[j] * u + aff[j]
        if j == 0:
            total += w * u
        elif w:
            lo, hi = space.box[j - 1]
            total += w * (lo if w > 0 else hi)
    return total


# -- operations on terms and tropical polynomials -------------------------------------


def add(a: Term, b: Term) -> Term:
    return Term(tuple(map(operator.add, a.vec, b.vec)), a.prov | b.prov)


def shift(trop: Trop, by: tuple[int, ...], prov: int = 0) -> Trop:
    """Every term plus the form `by` (a tropical product with a monomial)."""
    return tuple(Term(tuple(x + y for x, y in zip(t.vec, by)), t.prov | prov) for t in trop)


def dominates(space: Space, a: Term, b: Term) -> bool:
    """True when `a >= b` for every value of the free sizes at the spec's scales, and
    `a` relies on every layer `b` relies on (so dropping `b` loses nothing)."""
    if b.prov & ~a.prov:
        return False
    diff = tuple(x - y for x, y in zip(a.vec, b.vec))
    if space.box is not None:
        low_box = box_minimum(space, diff)
        return low_box is not None and low_box >= 0
    low = space.box_min(diff)
    if low is None:
        return False
    va, vb = space.base_value(diff)
    u = space.unit  # base values are in units 1/unit**2, box minima in 1/unit**3
    return (va * u + low[0], vb * u + low[1]) >= (0, 0)


def prune(space: Space, terms: Iterable[Term]) -> Trop:
    """The maximum of `terms` with duplicates and dominated terms removed.

    `dominates` is the reference; `prune_arrays` applies it to all pairs with numpy.
    """
    terms = list(terms)
    if len(terms) <= 1:
        return tuple(terms)
    vecs, provs = _arrays(terms)
    return _pruned(space, terms, vecs, provs)


def _pruned(space: Space, terms: Sequence[Term], vecs: np.ndarray, provs: np.ndarray) -> Trop:
    """`prune` of terms given with their arrays; the result's arrays are remembered."""
    keep = prune_arrays(space, vecs, provs)
    return _remember_arrays(tuple(terms[i] for i in keep), vecs[keep], provs[keep], space)


CHUNK = 96
PACK_MIN = 256  # from this many rows on, classes are found by one packed key (`_best_of_classes`)
MERGE_ROWS = 512  # `merge` tests the pairs across two pruned sets of at most this many rows in all at once


def prune_arrays(space: Space, vecs: np.ndarray, provs: np.ndarray) -> list[int]:
    """Indices of the rows that survive pruning, in their original order.

    First, rows with the same free-size part and provenance differ by a constant: keep
    the largest of each group (the last one on a tie).  Then compare all pairs; of rows
    that dominate each other, the last is kept.  Many rows are taken strongest first in
    chunks, each compared with the rows kept so far, so no huge matrix is ever built;
    there, ranks at a few corners of the box rule out most pairs before the exact test
    (`_View.sieve`).
    """
    if space.box is not None:
        return _prune_box(space, vecs, provs)
    if not space.fits_int64:
        return _prune_exact(space, vecs, provs)
    if len(vecs) <= 1:
        return list(range(len(vecs)))
    if len(vecs) <= CHUNK:
        few = _prune_few(space, vecs, provs)
        if few is not None:
            return few
    return _prune_general(space, vecs, provs)


def _prune_general(space: Space, vecs: np.ndarray, provs: np.ndarray) -> list[int]:
    """`prune_arrays` without a box, in 64-bit integers, for any number of rows (at least
    two): the classes by sorting, then the survivors' pairs in chunks (`_View`)."""
    ar = space.arrays
    f = space.first_variable
    a0, a1 = _base(vecs, ar)
    rows = _best_of_classes(vecs[:, f:], provs, a0, a1)
    if len(rows) <= 1:
        return rows.tolist()
    # From here on, the surviving rows only (`rows` is sorted, so their positions keep
    # the order the tie-break needs), and only the free sizes some of them use.
    vecs, a0, a1 = vecs[rows], a0[rows], a1[rows]
    used = np.flatnonzero((vecs[:, f:] != 0).any(axis=0))
    view = _View(vecs[:, np.concatenate([np.arange(f), f + used])], provs[rows], ar, used, (a0, a1))
    fast = _float_weights(space, vecs)
    if fast is not None:
        view.use_floats(fast)
    if len(rows) <= CHUNK:
        return rows[view.prune(np.arange(len(rows)))].tolist()
    if fast is None:
        view.sieve()
    return rows[_in_chunks(view, np.lexsort((-a1, -a0)))].tolist()


def best_of_classes(space: Space, vecs: np.ndarray, provs: np.ndarray) -> np.ndarray:
    """The sorted indices of the largest row of each class of rows with the same
    free-size part and provenance (`_best_of_classes`): the others differ from it by a
    constant and are dominated wherever the free sizes are."""
    a0, a1 = _base(vecs, space.arrays)
    return _best_of_classes(vecs[:, space.first_variable:], provs, a0, a1)


class _Weights(NamedTuple):
    """Per-space constants of the float tests (`_float_weights`), as integers: the
    point's (value, derivative) weights of the constant-and-scale part (f x 2); per
    free size the lower and upper bounds (sizes x 2; 0 where missing) and which bound
    is missing; `reach`: per part (value, derivative) the sum of the absolute values
    of all these weights, which bounds |any sum| / max |entry| of that part."""

    point: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    lo_missing: np.ndarray
    up_missing: np.ndarray
    reach: tuple[int, int]


class _Floats(NamedTuple):
    """`_Weights` for one prune, with each (value, derivative) pair folded into the
    single number `value * scale + derivative`: `scale` is a power of two above any
    derivative sum the tests form, so that number compares with zero as the pair does
    lexicographically, and one comparison decides dominance.  Bounds as floats
    (sizes,): lower, upper, and upper - lower."""

    point: np.ndarray
    scale: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    gap: np.ndarray
    lo_missing: np.ndarray
    up_missing: np.ndarray


def _few_weights(space: Space) -> _Weights | None:
    """`_Weights` of the space, made once (`Space.remember`); None when its arrays hold
    Python integers (then only the general path is exact)."""
    def make() -> _Weights | None:
        ar = space.arrays
        lo_missing, lo0, lo1 = ar["lower"]
        up_missing, up0, up1 = ar["upper"]
        parts = (ar["p0"], ar["p1"], lo0, lo1, up0, up1)
        if any(a.dtype != np.int64 for a in parts):
            return None
        reach = (sum(int(np.abs(a).sum()) for a in parts[0::2]), sum(int(np.abs(a).sum()) for a in parts[1::2]))
        return _Weights(np.stack([ar["p0"], ar["p1"]], axis=1), np.stack([lo0, lo1], axis=1),
                        np.stack([up0, up1], axis=1), lo_missing, up_missing, reach)
    return space.remember(("few weights",), make)


FLOAT_EXACT = 2**53  # float64 holds every integer of smaller magnitude, sums included


def _float_weights(space: Space, vecs: np.ndarray) -> _Floats | None:
    """`_Floats` for rows of `vecs` if the float tests compute exactly on them, else None.

    Every sum a test forms (`_beaten`, `_float_dominance`; partial sums too) is, per
    part, at most 4 max|entry| x reach in magnitude: the derivatives' bound sets the
    scale, and the folded sums stay below 2^53, where float64 computes exactly in any
    order."""
    w = _few_weights(space)
    if w is None:
        return None
    top = 4 * int(np.abs(vecs).max()) + 4
    value, slope = top * (w.reach[0] + 1), top * (w.reach[1] + 1)
    scale = 1 << slope.bit_length()
    if value * scale + slope >= FLOAT_EXACT:
        return None
    return space.remember(("floats", scale), lambda: _fold(w, scale))


def _fold(w: _Weights, scale: int) -> _Floats:
    pair = np.array([scale, 1], dtype=np.int64)
    lower, upper = w.lower @ pair, w.upper @ pair
    return _Floats(w.point, pair, lower.astype(np.float64), upper.astype(np.float64),
                   (upper - lower).astype(np.float64), w.lo_missing, w.up_missing)


def _prune_few(space: Space, vecs: np.ndarray, provs: np.ndarray) -> list[int] | None:
    """`prune_arrays` of at most CHUNK rows (no box, 64-bit space), with a handful of
    numpy calls instead of dozens: most prunes of a deep network's kernels are of a few
    dozen rows, where numpy's cost per call, not the arithmetic, is what counts.  None
    when a sum might reach 2^53 (then the general path decides).

    The same selection: classes of equal free part and provenance keep their largest
    row (value, then derivative; the last on a tie), found with a dict; then every pair
    of the survivors is tested at once (`_beaten`)."""
    w = _float_weights(space, vecs)
    if w is None:
        return None
    f = space.first_variable
    base = vecs[:, :f] @ w.point
    rows = _best_of_few_classes(vecs[:, f:], provs, base.tolist())
    if len(rows) <= 1:
        return rows
    keep = np.array(rows, dtype=np.int64)
    beaten = _beaten(vecs[keep, f:], provs[keep], base[keep], w)
    return keep[~beaten].tolist()


def _best_of_few_classes(free: np.ndarray, provs: np.ndarray, base: list[list[int]]) -> list[int]:
    """`_best_of_classes` for few rows, in plain Python: each class (equal free part, as
    bytes, and provenance) keeps its row of largest [value, derivative], the last on a
    tie (rows are visited in order and a tie replaces); sorted indices."""
    raw = free.tobytes()
    width = len(raw) // len(free)
    best: dict[tuple[bytes, int], int] = {}
    for i, prov in enumerate(provs.tolist()):
        key = (raw[i * width:(i + 1) * width], prov)
        j = best.get(key)
        if j is None or base[i] >= base[j]:
            best[key] = i
    return sorted(best.values())


def _beaten(free: np.ndarray, provs: np.ndarray, base: np.ndarray, w: _Floats) -> np.ndarray:
    """For each row, whether another beats it: dominates it and either is not dominated
    back or comes later (`_View.prune`'s rule, on the numbers of `_View._dominates`,
    see `_float_dominance`); the rows in increasing order."""
    used = np.flatnonzero(free.any(axis=0))
    x = np.ascontiguousarray(free[:, used].T, dtype=np.float64)
    base = (base @ w.scale).astype(np.float64)
    dom = _float_dominance(w, used, (x, base, provs), (x, base, provs), _minima(w, used, x, x))
    np.fill_diagonal(dom, False)
    return (dom & (~dom.T | _later(len(dom)))).any(axis=0)


Rows = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Rows for `_float_dominance`: free part (sizes x rows, floats), base (rows, floats:
value and derivative folded, `_Floats`), provenance masks."""


def _minima(w: _Floats, used: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """`out[j, i] = min(top_j, bottom_i) @ (upper - lower)` (folded), for free parts
    given as (sizes, rows) floats: one (sizes, rows, rows) array of minima, laid out
    so that numpy's inner loops run along rows, contracted by one float product.
    Symmetric: swapping `top` and `bottom` transposes it."""
    k, n, m = len(top), top.shape[1], bottom.shape[1]
    return (w.gap[used] @ np.minimum(top[:, :, None], bottom[:, None, :]).reshape(k, n * m)).reshape(n, m)


def _float_dominance(w: _Floats, used: np.ndarray, top: Rows, bottom: Rows, minima: np.ndarray) -> np.ndarray:
    """`dom[j, i]`: row j of `top` dominates row i of `bottom` (`_View._dominates` and
    the provenance cover), in floats, exact when every sum stays below 2^53
    (`_float_weights`).  `used`: the free sizes of the rows' columns; `minima`:
    `_minima(w, used, top free, bottom free)`.

    The minimum of row j minus row i over the sizes' bounds, `cp @ lower + cn @ upper`
    with `c = x_j - x_i` split by sign, is also `(x_j @ lower) - (x_i @ upper) +
    min(x_j, x_i) @ (upper - lower)`: two per-row parts and the minima."""
    (xt, bt, pt), (xb, bb, pb) = top, bottom
    high = bt + xt.T @ w.lower[used]       # row j's part
    low = bb + xb.T @ w.upper[used]        # row i's part
    dom = minima + (high[:, None] - low[None, :]) >= 0
    dom &= (pb[None, :] & ~pt[:, None]) == 0
    lo_missing, up_missing = w.lo_missing[used], w.up_missing[used]
    if lo_missing.any():   # a size with no lower bound: j - i must not grow with it
        dom &= ~(xt[lo_missing, :, None] > xb[lo_missing, None, :]).any(axis=0)
    if up_missing.any():
        dom &= ~(xt[up_missing, :, None] < xb[up_missing, None, :]).any(axis=0)
    return dom


@lru_cache(maxsize=None)
def _later(n: int) -> np.ndarray:
    """`later[j, i]`: row j comes after row i (of n), made once per n (read only)."""
    out = np.tri(n, k=-1, dtype=bool)
    out.flags.writeable = False
    return out


def _best_of_classes(free: np.ndarray, provs: np.ndarray, a0: np.ndarray, a1: np.ndarray) -> np.ndarray:
    """The sorted indices of the largest row (value, then derivative at the point; the
    last on a tie) of each class of rows with the same free-size part and provenance:
    the others differ from it by a constant, so it dominates them.

    Few rows are sorted by every column, then value, derivative and index; many by one
    packed class code (`_class_codes`), the class maxima then taken without sorting.
    """
    m = len(free)
    keys = np.concatenate([free, provs[:, None]], axis=1)
    code = _class_codes(keys) if m >= PACK_MIN else None
    if code is not None:
        return _best_by_code(code, a0, a1)
    order = np.lexsort((np.arange(m), a1, a0, *keys.T[::-1]))
    ordered = keys[order]
    last = np.ones(m, dtype=bool)
    last[:-1] = (ordered[1:] != ordered[:-1]).any(axis=1)
    return np.sort(order[last])


def _class_codes(keys: np.ndarray) -> np.ndarray | None:
    """One integer per row, equal exactly for equal rows: the columns' offsets from
    their minima in mixed radix (None if the product of the ranges exceeds 2^62)."""
    low, high = keys.min(axis=0), keys.max(axis=0)
    used = np.flatnonzero(high > low)
    spans = [int(h) - int(l) + 1 for h, l in zip(high[used], low[used])]
    if prod(spans) >= 2**62:
        return None
    return (keys[:, used] - low[used]) @ np.cumprod([1, *spans], dtype=np.int64)[:-1]


def _best_by_code(code: np.ndarray, a0: np.ndarray, a1: np.ndarray) -> np.ndarray:
    """`_best_of_classes` given class codes: one stable sort by code, then per class
    the rows of largest value, of those the ones of largest derivative, of those the
    last (a stable sort keeps each class in index order)."""
    order = np.argsort(code, kind="stable")
    first = np.ones(len(code), dtype=bool)
    first[1:] = code[order[1:]] != code[order[:-1]]
    starts = np.flatnonzero(first)
    cls = np.cumsum(first) - 1  # each sorted row's class
    value = a0[order]
    best = value == np.maximum.reduceat(value, starts)[cls]
    slope = np.where(best, a1[order], np.iinfo(np.int64).min)  # rows already out get the minimum
    best &= slope == np.maximum.reduceat(slope, starts)[cls]
    return np.sort(np.maximum.reduceat(np.where(best, order, -1), starts))


def _base(vecs: np.ndarray, ar: dict) -> tuple[np.ndarray, np.ndarray]:
    """Each row's constant-and-scale part at the point: value and derivative."""
    f = len(ar["p0"])
    return vecs[:, :f] @ ar["p0"], vecs[:, :f] @ ar["p1"]


def _in_chunks(view: _View, rows: np.ndarray) -> list[int]:
    """Prune many rows, taken strongest first in chunks, each chunk compared with the
    rows kept so far (so no huge matrix is built); the survivors in order.

    A chunk's rows dominated by a kept row are dropped; then the kept rows and the rest
    of the chunk are pruned together.  That needs no comparison of kept rows with each
    other (they survived together) and no tie-break between a kept and a chunk row (no
    kept row dominates a remaining chunk row, so a chunk row dominating a kept row
    beats it): only the chunk is pruned within itself, a quadratic cost in the chunk
    instead of in all the rows kept.
    """
    kept = np.empty(0, dtype=np.int64)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        if len(kept):
            chunk = chunk[~view.matrix(kept, chunk).any(axis=0)]
            if len(chunk):
                kept = kept[~view.matrix(chunk, kept).any(axis=0)]
        kept = np.concatenate([kept, np.array(view.prune(chunk), dtype=np.int64)])
    return sorted(kept.tolist())


BOX_INT64_UNIT = 2000  # box minima reach ~ coefficient x bound x range ~ 10^6 unit^3


def _prune_box(space: Space, vecs: np.ndarray, provs: np.ndarray) -> list[int]:
    """`prune_arrays` for a space with a box: domination must hold on the whole box, so
    rows that differ only in their scale part are compared like any others."""
    if space.unit > BOX_INT64_UNIT:
        return _prune_exact(space, vecs, provs)
    f = space.first_variable
    used = np.flatnonzero((vecs[:, f:] != 0).any(axis=0))
    cols = np.concatenate([np.arange(f), f + used])
    view = _BoxView(vecs[:, cols], provs, space, used)
    rows = np.arange(len(vecs))
    if len(rows) <= CHUNK:
        return sorted(view.prune(rows))
    return _in_chunks(view, rows[np.argsort(-(vecs[:, :f] @ space.arrays["p0"]), kind="stable")])


def _prune_exact(space: Space, vecs: np.ndarray, provs: np.ndarray) -> list[int]:
    """The same selection as `prune_arrays`, pair by pair in Python integers: for scale
    exponents with large denominators, whose products would overflow 64-bit integers."""
    terms = [Term(tuple(int(x) for x in v), int(p)) for v, p in zip(vecs, provs)]
    keep = []
    for i, t in enumerate(terms):
        beaten = False
        for j, u in enumerate(terms):
            if j == i or not dominates(space, u, t):
                continue
            if u.vec == t.vec and u.prov == t.prov and j < i:
                continue  # an identical earlier copy does not remove the later one
            if not dominates(space, t, u) or j > i:
                beaten = True
                break
        if not beaten:
            keep.append(i)
    return keep


class _View:
    """Rows restricted to the columns in use, with the matching bounds and each row's
    constant-and-scale part at the point (`base`: value and derivative arrays); after
    `sieve`, the rows' ranks at the probe corners."""

    fast: _Floats | None = None   # set by `use_floats`

    def __init__(self, vecs: np.ndarray, provs: np.ndarray, ar: dict, used: np.ndarray,
                 base: tuple[np.ndarray, np.ndarray]) -> None:
        self.vecs, self.provs = vecs, provs
        self.f = len(ar["p0"])
        self.base0, self.base1 = base
        self.lo_missing, self.lo0, self.lo1 = (x[used] for x in ar["lower"])
        self.up_missing, self.up0, self.up1 = (x[used] for x in ar["upper"])
        self.lo_missing = self.lo_missing.astype(np.int64)  # for matrix products
        self.up_missing = self.up_missing.astype(np.int64)
        self.used, self.corners = used, ar["probes"]
        self.ranks: np.ndarray | None = None

    def use_floats(self, w: _Floats) -> None:
        """Test pairs in floats (`_float_dominance`, all pairs at once, exact when
        `_float_weights` gave `w` for these rows): cheaper than ranks and exact tests
        for the few hundred rows of a deep network's products, so `sieve` is then
        not needed."""
        self.fast = w
        self.float_free = np.ascontiguousarray(self.vecs[:, self.f:].T, dtype=np.float64)
        self.float_base = (np.stack([self.base0, self.base1], axis=1) @ w.scale).astype(np.float64)

    def sieve(self) -> None:
        """Rank the rows at the probe corners, so that `matrix` tests exactly only the
        pairs the ranks leave: worth it for many rows (the ranks cost about what a small
        dense matrix does).  Not when a size in use has crossed bounds or sums could
        overflow."""
        x0, x1, ordered = self.corners
        if ordered[self.used].all() and self._fits_int64():
            self.ranks = self._probe_ranks(x0[:, self.used], x1[:, self.used])

    def _fits_int64(self) -> bool:
        """Whether no sum in `_dominates` or `_probe_ranks` can overflow 64-bit integers
        (otherwise ranks could rule out a pair the exact test accepts).  Each is bounded
        by twice the largest base plus twice the largest coefficient times the sum of
        the bounds' sizes (and of the missing flags)."""
        parts = ((self.base0, self.lo0, self.up0), (self.base1, self.lo1, self.up1))
        if any(a.dtype != np.int64 for part in parts for a in part):
            return False
        coef = np.abs(self.vecs[:, self.f:].astype(np.float64)).max(initial=0.0)
        for base, lo, up in parts:
            reach = np.abs(lo.astype(np.float64)).sum() + np.abs(up.astype(np.float64)).sum() + len(lo)
            if 2 * np.abs(base.astype(np.float64)).max(initial=0.0) + 2 * coef * reach >= 2.0**62:
                return False
        return True

    def _probe_ranks(self, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
        """`ranks[p, r]`: the rank of row r at probe corner p, comparing (value,
        derivative) lexicographically; equal pairs share a rank.  A row can only
        dominate another if its rank is at least as high at every corner
        (`_probe_corners`)."""
        sub = self.vecs[:, self.f:]
        v0 = self.base0[:, None] + sub @ x0.T
        v1 = self.base1[:, None] + sub @ x1.T
        ranks = np.empty((len(x0), len(sub)), dtype=np.int64)
        for p in range(len(x0)):
            order = np.lexsort((v1[:, p], v0[:, p]))
            a, b = v0[order, p], v1[order, p]
            step = np.ones(len(order), dtype=np.int64)
            step[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
            ranks[p, order] = np.cumsum(step)
        return ranks

    def matrix(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """`out[j, i]`: row j dominates column-term i.  The provenance cover and the
        probe ranks, one comparison each, rule out most pairs; the others are tested
        exactly (`_dominates`).  After `use_floats`, every pair in floats."""
        if self.fast is not None:
            top = (self.float_free[:, rows], self.float_base[rows], self.provs[rows])
            bottom = (self.float_free[:, cols], self.float_base[cols], self.provs[cols])
            return _float_dominance(self.fast, self.used, top, bottom,
                                    _minima(self.fast, self.used, top[0], bottom[0]))
        out = (self.provs[cols][None, :] & ~self.provs[rows][:, None]) == 0
        if self.ranks is not None:
            for rank in self.ranks:
                out &= rank[rows][:, None] >= rank[cols][None, :]
        j, i = np.nonzero(out)
        out[j, i] = self._dominates(rows[j], cols[i])
        return out

    def _dominates(self, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
        """Whether row `top[n]` dominates row `bottom[n]`, provenance aside, for each n.

        The constant-and-scale part is linear, so it is evaluated per row and then
        differenced; the free-size part splits by sign: positive coefficients meet the
        lower bounds, negative ones the upper bounds (a missing bound: unbounded)."""
        f = self.f
        coef = self.vecs[top, f:] - self.vecs[bottom, f:]
        cp = np.maximum(coef, 0)
        cn = np.minimum(coef, 0)
        unbounded = (cp @ self.lo_missing > 0) | (cn @ self.up_missing < 0)
        a = self.base0[top] - self.base0[bottom] + cp @ self.lo0 + cn @ self.up0
        b = self.base1[top] - self.base1[bottom] + cp @ self.lo1 + cn @ self.up1
        return ((a > 0) | ((a == 0) & (b >= 0))) & ~unbounded

    def prune(self, rows: np.ndarray) -> list[int]:
        m = len(rows)
        if m <= 1:
            return rows.tolist()
        dom = self.matrix(rows, rows)
        np.fill_diagonal(dom, False)
        later = rows[:, None] > rows[None, :]  # later[j, i]: row j comes after row i
        removed = ((dom & ~dom.T) | (dom & dom.T & later)).any(axis=0)
        return rows[~removed].tolist()


class _BoxView(_View):
    """Rows restricted to the columns in use; domination over the sizes' bounds and the
    scales' box (`box_minimum`, vectorised)."""

    def __init__(self, vecs: np.ndarray, provs: np.ndarray, space: Space, used: np.ndarray) -> None:
        self.vecs, self.provs = vecs, provs
        self.f = space.first_variable
        self.unit = space.unit
        box = space.arrays["box"]
        self.lo_missing, self.lower = box["lower"][0][used], box["lower"][1][used]
        self.up_missing, self.upper = box["upper"][0][used], box["upper"][1][used]
        self.lo, self.hi = box["lo"], box["hi"]

    def matrix(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        f, u = self.f, self.unit
        top, bottom = self.vecs[rows], self.vecs[cols]
        coef = top[:, None, f:] - bottom[None, :, f:]
        cp = np.maximum(coef, 0)
        cn = np.minimum(coef, 0)
        unbounded = (cp @ self.lo_missing > 0) | (cn @ self.up_missing < 0)
        w = (top[:, None, :f] - bottom[None, :, :f]) * u + cp @ self.lower + cn @ self.upper
        low = np.maximum(w, 0) @ self.lo + np.minimum(w, 0) @ self.hi
        pr, pc = self.provs[rows], self.provs[cols]
        covers = (pc[None, :] & ~pr[:, None]) == 0
        return (low >= 0) & ~unbounded & covers


def nonnegative_forms(space: Space, vecs: np.ndarray) -> np.ndarray:
    """`out[i]`: the form `vecs[i] >= 0` wherever the free sizes can be (`dominates` of
    it over the zero form, provenance aside), for many forms at once in 64-bit
    integers (the caller keeps them small enough: `fits_int64`'s range)."""
    every = np.concatenate([vecs, np.zeros((1, vecs.shape[1]), dtype=np.int64)])
    view = _whole_view(space, every, np.zeros(len(every), dtype=np.int64))
    zero = np.array([len(vecs)])
    if space.box is not None:
        return view.matrix(np.arange(len(vecs)), zero)[:, 0]
    return view._dominates(np.arange(len(vecs)), np.repeat(zero, len(vecs)))


def _whole_view(space: Space, vecs: np.ndarray, provs: np.ndarray) -> _View:
    """A view of rows over all their columns: on the box (`_BoxView`) in a sweep's
    space, else at the point (`_View`)."""
    every_column = np.arange(vecs.shape[1] - space.first_variable)
    if space.box is not None:
        return _BoxView(vecs, provs, space, every_column)
    return _View(vecs, provs, space.arrays, every_column, _base(vecs, space.arrays))


def tmax(space: Space, *trops: Trop) -> Trop:
    """The maximum of tropical polynomials: `prune` of all their terms, in order.  Of
    one or two polynomials known to be pruned in `space` (the latest made by pruning,
    `_is_pruned`), the one itself, or the two's `merge`."""
    trops = tuple(t for t in trops if t)
    if len(trops) == 2 and _is_pruned(trops[0], space) and _is_pruned(trops[1], space):
        return merge(space, *trops)
    if len(trops) == 1 and (len(trops[0]) == 1 or _is_pruned(trops[0], space)):
        return trops[0]
    return _prune_all(space, trops)


def _prune_all(space: Space, trops: tuple[Trop, ...]) -> Trop:
    """`prune` of the terms of non-empty `trops`, from their (remembered) arrays."""
    if not trops:
        return ()
    vecs, provs = (np.concatenate(part) for part in zip(*map(trop_arrays, trops)))
    return _pruned(space, [t for trop in trops for t in trop], vecs, provs)


# -- the Hermite product rule -----------------------------------------------------------


def _terms(vecs: np.ndarray, provs: np.ndarray, pruned_in: Space | None = None) -> Trop:
    """Rows back to terms, each array converted to Python integers in one call (the
    arrays are remembered for the result, `trop_arrays`; `pruned_in`: the space the
    rows are the survivors of a prune in)."""
    trop = tuple(Term(tuple(v), p) for v, p in zip(vecs.tolist(), provs.tolist()))
    return _remember_arrays(trop, vecs, provs, pruned_in)


class _Held(NamedTuple):
    trop: Trop
    vecs: np.ndarray
    provs: np.ndarray
    pruned_in: Space | None   # the space whose prune made `trop` (None: not known)


ARRAY_MEMORY = 512   # tropical polynomials whose arrays are remembered (the latest made)
_ARRAY_MEMORY: dict[int, _Held] = {}


def _is_pruned(trop: Trop, space: Space) -> bool:
    """Whether `trop` is remembered as the result of a prune in `space` (then no two of
    its terms dominate each other there)."""
    held = _ARRAY_MEMORY.get(id(trop))
    return held is not None and held.trop is trop and held.pruned_in is space


def trop_arrays(trop: Trop) -> tuple[np.ndarray, np.ndarray]:
    """`_arrays(trop)` (non-empty), remembered for the latest polynomials (by identity):
    a product's or a merge's result is often the next product's factor, and a
    spike's amplitude the factor of every power in a split."""
    held = _ARRAY_MEMORY.get(id(trop))
    if held is not None and held.trop is trop:
        return held.vecs, held.provs
    vecs, provs = _arrays(trop)
    _remember_arrays(trop, vecs, provs)
    return vecs, provs


def _remember_arrays(trop: Trop, vecs: np.ndarray, provs: np.ndarray, pruned_in: Space | None = None) -> Trop:
    """Remember `trop`'s arrays (made read only) and the space it was pruned in,
    forgetting the oldest beyond ARRAY_MEMORY; holding `trop` keeps its identity from
    being reused meanwhile."""
    if not trop:
        return trop
    if len(_ARRAY_MEMORY) >= ARRAY_MEMORY:
        del _ARRAY_MEMORY[next(iter(_ARRAY_MEMORY))]
    vecs.flags.writeable = False
    provs.flags.writeable = False
    _ARRAY_MEMORY[id(trop)] = _Held(trop, vecs, provs, pruned_in)
    return trop


def _arrays(terms: Sequence[Term]) -> tuple[np.ndarray, np.ndarray]:
    """Terms (at least one) as (rows, provenance) int64 arrays, read only.  The rows are
    packed by `struct` and read in place: about half the time of `np.array` on a list
    of tuples, a large part of pruning few terms.  A number beyond 64 bits makes
    `np.array` raise, as it always did."""
    size = len(terms[0].vec)
    flat = chain.from_iterable(t.vec for t in terms)
    try:
        vecs = np.frombuffer(struct.pack(f"{len(terms) * size}q", *flat), dtype=np.int64).reshape(len(terms), size)
    except struct.error:
        vecs = np.array([t.vec for t in terms], dtype=np.int64)
    return vecs, np.array([t.prov for t in terms], dtype=np.int64)


def remembered_product(space: Space, x: Content, y: Content, only: int | None = None,
                       pairs: PairOrders | None = None, need: int = 0,
                       prune_rows: Callable[[Space, np.ndarray, np.ndarray], list[int]] | None = None,
                       where: tuple = ()) -> Content:
    """`hermite_product`, computed once per space and arguments (`Space.remember`): for
    the powers of a feature's content, raised again at every layer that specialises on
    it.  A square (`y is x`) is told apart from a product of equal contents, whose terms
    may come out in another order.  `where`: what `prune_rows` prunes on, for the key (a
    homogeneous activation's floors: the same factors give fewer terms on more floors)."""
    return space.remember(("hermite_product", x, y, only, y is x, pairs, need, where),
                          lambda: hermite_product(space, x, y, only, prune_rows=prune_rows, pairs=pairs, need=need))


PRODUCT_ROWS = 1 << 17   # candidate terms a product holds per order before pruning them (memory: rows x symbols)


def hermite_product(space: Space, x: Content, y: Content, only: int | None = None,
                    prune_rows: Callable[[Space, np.ndarray, np.ndarray], list[int]] | None = None,
                    closed: bool = True, pairs: PairOrders | None = None, need: int = 0) -> Content:
    """Content of the product of two functions of z, order by order (exponents add).

    With `only`, just that order is computed (the others are left empty).

    The candidate terms (every pair) are made a block of rows of `x` at a time and
    pruned whenever more than `PRODUCT_ROWS` wait for an order, so memory stays bounded
    however large the factors (a product of two 3,000-term contents would otherwise
    hold 4.5 million rows at once).  The result is the same, in the same order: pruning
    a part drops only terms pruning the whole drops, and the survivors keep their order.

    `prune_rows`: how candidates are pruned (default `prune_arrays`, on the box; a
    homogeneous activation's kernels are pruned on their floors, `floors.Region.prune_rows`).

    Which orders each pair of factor orders gives (module `orders`): `pairs` when given
    (`orders.power_pairs`, for a power); else, with `closed` (the default: every content
    the engine builds is downward closed, docs/theory.md section 9.1), `closed_orders`:
    a pair `(a, b)` adds nothing at an order that `(a - 2, b)`, `(a, b - 2)` or
    `(a - 2, b - 2)` also reaches (each of its candidates is dominated, with its
    provenance, by one of theirs, and pruning would drop it).  At order 3 that leaves
    out the pairs `(2, 3)` and `(3, 2)`, at order 1 all but `(0, 1)` and `(1, 0)`.

    Orders whose candidates come from the same factor contents, pair for pair, are
    pruned once and share the result (the same object): erf's square has equal parts at
    orders 0 and 2, whose products with the base at orders 1 and 3 are then equal too.

    `need` (a provenance mask): only the terms that rely on every layer of it, for a
    caller that reads no other (a lean readout, `energy.Folder.readout_kernel`).  The
    candidates without it are left out before pruning, which drops the same terms as
    pruning first: a term that dominates one with `need` relies on its layers, so has
    `need` too.
    """
    prune_rows = prune_rows or prune_arrays
    pairs = pairs or (closed_orders if closed else hermite_orders)
    limit = len(x) - 1
    xs = [trop_arrays(t) if t else None for t in x]
    ys = xs if y is x else [trop_arrays(t) if t else None for t in y]
    square = y is x  # x * x: (a, b) and (b, a) give the same sums, so take a <= b
    same_x, same_y = _first_equal(x), (_first_equal(y) if not square else None)
    sources: list[list[tuple[int, int]]] = [[] for _ in range(limit + 1)]   # per order, its pairs
    for a, xa in enumerate(xs):
        if xa is None:
            continue
        for b, yb in enumerate(ys):
            if yb is None or (square and b < a):
                continue
            for n in pairs(a, b, limit):
                if only is None or n == only:
                    sources[n].append((a, b))
    made: dict[tuple, Trop] = {}   # the pairs of factor contents an order's candidates come from
    out: list[Trop] = []
    for pairs_n in sources:
        if not pairs_n:
            out.append(())
            continue
        if square:
            key = tuple(tuple(sorted((same_x[a], same_x[b]))) for a, b in pairs_n)
        else:
            key = tuple((same_x[a], same_y[b]) for a, b in pairs_n)  # type: ignore[index]  # same_y is None only for a square
        if key not in made:
            made[key] = _product_order(space, [(xs[a], ys[b], square and a == b) for a, b in pairs_n], prune_rows,  # type: ignore[misc]  # every factor order listed has arrays
                                       need)
        out.append(made[key])
    return tuple(out)


def _first_equal(content: Content) -> list[int]:
    """Per order, the first order with an equal polynomial (itself if none)."""
    out: list[int] = []
    for n, trop in enumerate(content):
        out.append(next((k for k in range(n) if content[k] is trop or (trop and content[k] == trop)), n))
    return out


def _product_order(space: Space,
                   factors: list[tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], bool]],
                   prune_rows: Callable[[Space, np.ndarray, np.ndarray], list[int]], need: int = 0) -> Trop:
    """One order of `hermite_product`: every sum of a row of `xa` and a row of `yb` for
    each `(xa, yb, half)` of `factors` (`half`: a square's diagonal block, `xa` is `yb`,
    each unordered pair once) that relies on every layer of `need`, pruned whenever
    more than `PRODUCT_ROWS` wait, and at the end."""
    vec_parts: list[np.ndarray] = []
    prov_parts: list[np.ndarray] = []
    held = 0
    for xa, yb, half in factors:
        if need and (int(np.bitwise_or.reduce(xa[1])) | int(np.bitwise_or.reduce(yb[1]))) & need != need:
            continue   # no sum of these relies on every layer of `need`
        rows, cols = len(xa[0]), len(yb[0])
        block = max(1, PRODUCT_ROWS // cols)
        for start in range(0, rows, block):
            stop = min(rows, start + block)
            if half:
                i, j = np.nonzero(np.arange(start, stop)[:, None] <= np.arange(cols)[None, :])
                i += start
                sums, provs = xa[0][i] + xa[0][j], xa[1][i] | xa[1][j]
            else:
                sums = (xa[0][start:stop, None, :] + yb[0][None, :, :]).reshape(-1, xa[0].shape[1])
                provs = (xa[1][start:stop, None] | yb[1][None, :]).reshape(-1)
            if need:
                wanted = (provs & need) == need
                sums, provs = sums[wanted], provs[wanted]
            vec_parts.append(sums)
            prov_parts.append(provs)
            held += len(sums)
            if held > PRODUCT_ROWS and len(vec_parts) > 1:
                vecs, ps = np.concatenate(vec_parts), np.concatenate(prov_parts)
                keep = prune_rows(space, vecs, ps)
                vec_parts, prov_parts, held = [vecs[keep]], [ps[keep]], len(keep)
    if not vec_parts:
        return ()
    vecs, provs = np.concatenate(vec_parts), np.concatenate(prov_parts)
    if not len(vecs):
        return ()
    keep = prune_rows(space, vecs, provs) if len(vecs) > 1 else [0]
    # remembered as pruned in `space` only when pruned on the box (`merge` relies on it)
    return _terms(vecs[keep], provs[keep], space if prune_rows is prune_arrays else None)


def content_max(space: Space, *contents: Content) -> Content:
    """The maximum of contents, order by order (`tmax`); orders whose polynomials are
    the same objects share one result (`hermite_product` shares equal orders)."""
    return _by_order(lambda *orders: tmax(space, *orders), contents)


def content_merge(space: Space, a: Content, b: Content) -> Content:
    """`content_max(space, a, b)` for contents already pruned in `space` (each order an
    output of `prune`, `tmax`, `content_max`, `content_merge` or `hermite_product`):
    order by order, `merge`."""
    return _by_order(lambda x, y: merge(space, x, y), (a, b))


def _by_order(combine: Callable[..., Trop], contents: Sequence[Content]) -> Content:
    """`combine` of the contents' polynomials order by order, once per distinct tuple of
    polynomial objects."""
    made: dict[tuple[int, ...], Trop] = {}
    out = []
    for orders in zip(*contents):
        key = tuple(map(id, orders))
        if key not in made:
            made[key] = combine(*orders)
        out.append(made[key])
    return tuple(out)


def merge(space: Space, x: Trop, y: Trop) -> Trop:
    """`tmax(space, x, y)` for `x` and `y` each pruned in `space`: the same terms in the
    same order, testing only the pairs across the two (when all of them go to
    `_prune_few`; otherwise `tmax` itself).

    Pruned terms never dominate each other (of two that did, one would have been
    dropped), so within `x` or `y` no term beats another; and a term of one that has
    a class mate (same free part and provenance) in the other is beaten by it exactly
    when the class step drops it.  So a term of `x` survives unless some term of `y`
    dominates it (`y` comes later and wins ties), a term of `y` unless some term of
    `x` dominates it and is not dominated back."""
    if not x or not y:
        return x + y
    if space.box is not None or not space.fits_int64 or len(x) + len(y) > MERGE_ROWS:
        return _prune_all(space, (x, y))
    terms = x + y
    vecs, provs = (np.concatenate(part) for part in zip(trop_arrays(x), trop_arrays(y)))
    w = _float_weights(space, vecs)
    if w is None:
        return _prune_all(space, (x, y))
    f, n = space.first_variable, len(x)
    base = (vecs[:, :f] @ w.point @ w.scale).astype(np.float64)
    used = np.flatnonzero(vecs[:, f:].any(axis=0))
    free = np.ascontiguousarray(vecs[:, f + used].T, dtype=np.float64)
    first = (free[:, :n], base[:n], provs[:n])
    second = (free[:, n:], base[n:], provs[n:])
    minima = _minima(w, used, second[0], first[0])
    y_over_x = _float_dominance(w, used, second, first, minima)                      # [j, i]: y_j dominates x_i
    x_over_y = _float_dominance(w, used, first, second, minima.T)   # [i, j]: x_i dominates y_j
    keep_x = ~y_over_x.any(axis=0)
    keep_y = ~(x_over_y & ~y_over_x.T).any(axis=0)
    keep = np.concatenate([keep_x, keep_y])
    return _remember_arrays(tuple(t for t, kept in zip(terms, keep.tolist()) if kept), vecs[keep], provs[keep], space)


def content_shift(content: Content, by: tuple[int, ...], prov: int = 0) -> Content:
    return tuple(shift(order, by, prov) for order in content)

