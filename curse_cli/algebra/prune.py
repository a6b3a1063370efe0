"""Pruning: which terms of a tropical polynomial no other term dominates, on many
rows at once (numpy), by the strategy that fits their number and the space.

A term `a` dominates `b` when `a - b` is at least zero wherever the free sizes can be
(`Space.nonnegative`) and `a` relies on every layer `b` relies on.  `prune_arrays`
keeps the rows nothing dominates: classes first (rows equal up to a constant), then
few rows in floating point where that is exact (`_prune_few`), many in chunks with a
sieve of box corners (`_View`), on a sweep's box of points (`_BoxView`), or pair by
pair in Python integers when 64 bits could overflow (`_prune_exact`).
"""

from __future__ import annotations

from functools import lru_cache
from math import prod

import numpy as np

from curse_cli.algebra.space import Floats, Space


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


FLOAT_EXACT = 2**53  # float64 holds every integer of smaller magnitude, sums included


def _float_weights(space: Space, vecs: np.ndarray) -> Floats | None:
    """`Floats` for rows of `vecs` if the float tests compute exactly on them, else None.

    Every sum a test forms (`_beaten`, `_float_dominance`; partial sums too) is, per
    part, at most 4 max|entry| x reach in magnitude: the derivatives' bound sets the
    scale, and the folded sums stay below 2^53, where float64 computes exactly in any
    order."""
    w = space.weights
    if w is None:
        return None
    top = 4 * int(np.abs(vecs).max()) + 4
    value, slope = top * (w.reach[0] + 1), top * (w.reach[1] + 1)
    scale = 1 << slope.bit_length()
    if value * scale + slope >= FLOAT_EXACT:
        return None
    return w.fold(scale)


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


def _beaten(free: np.ndarray, provs: np.ndarray, base: np.ndarray, w: Floats) -> np.ndarray:
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
value and derivative folded, `Floats`), provenance masks."""


def _minima(w: Floats, used: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """`out[j, i] = min(top_j, bottom_i) @ (upper - lower)` (folded), for free parts
    given as (sizes, rows) floats: one (sizes, rows, rows) array of minima, laid out
    so that numpy's inner loops run along rows, contracted by one float product.
    Symmetric: swapping `top` and `bottom` transposes it."""
    k, n, m = len(top), top.shape[1], bottom.shape[1]
    return (w.gap[used] @ np.minimum(top[:, :, None], bottom[:, None, :]).reshape(k, n * m)).reshape(n, m)


def _float_dominance(w: Floats, used: np.ndarray, top: Rows, bottom: Rows, minima: np.ndarray) -> np.ndarray:
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
    spans = [int(h) - int(lo) + 1 for h, lo in zip(high[used], low[used], strict=True)]
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
    rows = [(tuple(int(x) for x in v), int(p)) for v, p in zip(vecs, provs)]

    def dominates(a: tuple[tuple[int, ...], int], b: tuple[tuple[int, ...], int]) -> bool:
        return not b[1] & ~a[1] and space.nonnegative(tuple(x - y for x, y in zip(a[0], b[0])))

    keep = []
    for i, t in enumerate(rows):
        beaten = False
        for j, u in enumerate(rows):
            if j == i or not dominates(u, t):
                continue
            if u == t and j < i:
                continue  # an identical earlier copy does not remove the later one
            if not dominates(t, u) or j > i:
                beaten = True
                break
        if not beaten:
            keep.append(i)
    return keep


class _View:
    """Rows restricted to the columns in use, with the matching bounds and each row's
    constant-and-scale part at the point (`base`: value and derivative arrays); after
    `sieve`, the rows' ranks at the probe corners."""

    fast: Floats | None = None   # set by `use_floats`

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

    def use_floats(self, w: Floats) -> None:
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
        """Whether row `top[n]` dominates row `bottom[n]`, provenance aside, for each n:
        `Space.nonnegative` of each difference, vectorised.

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
        """`out[j, i]`: row j dominates row i at every point of the sweep's box
        (`Space.nonnegative` of each difference with `box_minimum`, vectorised)."""
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
