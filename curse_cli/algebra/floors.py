"""Domination where every programme is: on the free sizes' box *and* above the floors.

A homogeneous activation's layer divides by its input scale: the `j`-th power of the
lazy rule, or of a spike's content, is shifted by `(1 - j) [s]`, with an auxiliary size
`s` that every programme keeps at or above each term of a set, its *floors* (`[s] >= t`,
`Kernel.floors`; docs/theory.md section 9.3).  On the box alone `s` is unbounded above,
so a term carrying `-3 [s]` and one carrying `-[s]` never compare, and the terms multiply
layer after layer: three ReLU layers leave about 185 terms per order where 10 hold the
maximum, and a four-layer network did not finish in ten minutes (now a few seconds).

Every programme that reads a kernel imposes its floors, so a term may go when another is
at least as large wherever the box and the floors hold (and relies on no more layers).
The test here (`at_least_zero`) is sufficient, not complete: for the difference
`delta = a - b`, take the auxiliary size highest in the floors' order whose coefficient
`beta` is not zero.  If `beta < 0`, give up (`s` is unbounded above).  If `beta > 0`,
then `delta >= delta` with `s` replaced by any one of its floors `t`, since `s >= t`; try
each, and go on with the sizes the floor brings in (floors of `s_l` are terms of the
kernel below, which carry the sizes of lower layers).  With no auxiliary size left, the
box test decides (`tropical.dominates`).

Dropping a term dominated on that region changes no programme: each term kept is at
least the dropped one at every point a programme can reach, and a floor dropped from a
kernel's top terms is implied there by one kept, so the region itself is the same.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple

import numpy as np

from curse_cli.algebra.tropical import Content, Space, Term, Trop, best_of_classes, dominates, nonnegative_forms

Floors = tuple[tuple[int, tuple[tuple[int, ...], ...]], ...]
"""`(column of an auxiliary size s, its floor forms)`, each size before every size its
floors mention (the order `at_least_zero` substitutes in)."""


def floor_table(space: Space, named: Iterable[tuple[str, Term]]) -> Floors | None:
    """The floors `[name] >= term` (`Kernel.floors`) as columns and distinct forms, in
    substitution order; None when their sizes mention one another in a cycle (then no
    order exists and only the box prunes).  Floors of `s_l` mention only lower layers'
    sizes, so for the kernels the rules build there is always an order."""
    forms: dict[int, list[tuple[int, ...]]] = {}
    for name, term in named:
        held = forms.setdefault(space.index(name), [])
        if term.vec not in held:
            held.append(term.vec)
    order: list[int] = []
    left = set(forms)
    while left:
        # a size that no floor of the sizes left mentions can be substituted next
        free = sorted(c for c in left if not any(forms[o][i][c] for o in left for i in range(len(forms[o]))))
        if not free:
            return None
        order.append(free[-1])
        left.discard(free[-1])
    return tuple((c, tuple(forms[c])) for c in order)


def at_least_zero(space: Space, delta: tuple[int, ...], floors: Floors) -> bool:
    """Whether the form `delta >= 0` wherever the box and the floors hold (sufficient
    test: module docstring), one alternative at a time in Python integers: the
    reference for `pairs_at_least_zero`.  Each substitution multiplies the form by the
    unit, so that it stays in integers; a positive factor changes no sign."""
    for k, (col, forms) in enumerate(floors):
        beta = delta[col]
        if beta == 0:
            continue
        if beta < 0:
            return False
        rest = floors[k + 1:]
        for form in forms:
            sub = [space.unit * x + beta * y for x, y in zip(delta, form)]
            sub[col] = 0
            if at_least_zero(space, tuple(sub), rest):
                return True
        return False
    zero = (0,) * len(delta)
    return dominates(space, Term(delta, 0), Term(zero, 0))


FAST_MAX = 2**40
"""Largest entry `pairs_at_least_zero` lets a form reach in 64-bit integers (box minima
multiply entries by bounds of a few thousand units); beyond, `at_least_zero` decides."""


def pairs_at_least_zero(space: Space, deltas: np.ndarray, floors: Floors, samples: np.ndarray) -> np.ndarray:
    """`at_least_zero` of every row of `deltas` (a bool per row): all rows' alternatives,
    level by level, at once (numpy).

    An alternative is dropped as soon as it is negative at a sample point of the region:
    it could only pass if it were `>= 0` on the whole region (so `at_least_zero` would
    reject it after trying each of its further floors).  Its values there are known
    before it is made (substituting floor `t` for `s` adds `beta (t - s)` to each), so
    only the alternatives that survive them are built."""
    unit = space.unit
    rows, owner = deltas, np.arange(len(deltas))
    values = rows @ samples
    out = np.zeros(len(deltas), dtype=bool)
    for col, forms in floors:
        keep = rows[:, col] >= 0
        rows, owner, values = rows[keep], owner[keep], values[keep]
        positive = rows[:, col] > 0
        if positive.any():
            grow, beta = rows[positive], rows[positive, col]
            form_array = np.asarray(forms, dtype=np.int64)
            # each alternative's values: unit * v + beta (t - unit s) at every sample
            drop = form_array @ samples - unit * samples[col]
            new_values = unit * values[positive][:, None, :] + beta[:, None, None] * drop[None]
            margin = 1e-9 * (1.0 + np.abs(new_values).max())
            pick, form = np.nonzero((new_values >= -margin).all(axis=2))
            sub = unit * grow[pick] + beta[pick, None] * form_array[form]
            sub[:, col] = 0
            rows = np.concatenate([rows[~positive], sub])
            owner = np.concatenate([owner[~positive], owner[positive][pick]])
            values = np.concatenate([values[~positive], new_values[pick, form]])
        if not len(rows):
            return out
        if np.abs(rows).max() > FAST_MAX:
            return np.array([at_least_zero(space, tuple(int(x) for x in d), floors) for d in deltas], dtype=bool)
    out[owner[nonnegative_forms(space, rows)]] = True
    return out


def floor_dominates(space: Space, a: Term, b: Term, floors: Floors) -> bool:
    """`a >= b` wherever the box and the floors hold (`at_least_zero`), and `a` relies
    on every layer `b` relies on: the relation pruning on the floors applies."""
    if b.prov & ~a.prov:
        return False
    return at_least_zero(space, tuple(x - y for x, y in zip(a.vec, b.vec)), floors)


SAMPLES = 64
"""Points of the region at which every pair is first compared (`floor_prune_rows`)."""


def region_samples(space: Space, floors: Floors, count: int = SAMPLES, seed: int = 0) -> np.ndarray:
    """`count` points (columns: the constant, the scales at the spec's point, the free
    sizes) where the box and the floors hold: each free size uniform within its bounds
    at the point (a missing bound: ten units beyond the other), each auxiliary size at
    the largest of its floors and its lower bound, plus nothing, a little or much."""
    rng = np.random.default_rng(seed)
    f, unit = space.first_variable, space.unit
    x = np.zeros((space.size, count))
    x[:f] = np.array(space.point[:f], dtype=float)[:, None] / unit
    for i, (lo, hi) in enumerate(zip(space.lower, space.upper)):
        low = None if lo is None else lo[0] / unit**2
        high = None if hi is None else hi[0] / unit**2
        if low is None and high is None:
            low, high = -10.0, 10.0
        low = high - 10.0 if low is None else low
        high = low + 10.0 if high is None else high
        x[f + i] = rng.uniform(low, high, count)
    extra = np.where(np.arange(count) % 4 == 0, 0.0, rng.exponential(1.0, count) * (np.arange(count) % 4))
    for col, forms in reversed(floors):   # lower sizes first: their values enter the higher ones' floors
        highest = (np.array(forms, dtype=float) @ x).max(axis=0) / unit
        lo = space.lower[col - f]
        if lo is not None:
            highest = np.maximum(highest, lo[0] / unit**2)
        x[col] = highest + extra
    return x


class Region(NamedTuple):
    """Where every programme reading a kernel is: the box and the floors (`floor_table`),
    with the sample points its pruning filters by (`region_samples`), made once."""

    floors: Floors
    samples: np.ndarray

    def prune_rows(self, space: Space, vecs: np.ndarray, provs: np.ndarray) -> list[int]:
        """`floor_prune_rows` in this region (for `tropical.hermite_product`)."""
        return floor_prune_rows(space, vecs, provs, self.floors, self.samples)

    def prune(self, space: Space, content: Content) -> Content:
        """`content` pruned order by order in this region, each order in its order."""
        return tuple(_prune_trop(space, order, self) for order in content)


def floor_region(space: Space, named: Iterable[tuple[str, Term]]) -> Region | None:
    """The region of the floors `named` (`Kernel.floors`), or None without floors (or
    with floors in a cycle, `floor_table`): then the box alone prunes."""
    floors = floor_table(space, named)
    return Region(floors, region_samples(space, floors)) if floors else None


def floor_prune_rows(space: Space, vecs: np.ndarray, provs: np.ndarray, floors: Floors,
                     samples: np.ndarray) -> list[int]:
    """The indices (ascending) of the rows kept when each row, strongest first, goes if
    a row already kept dominates it on the floors (`pairs_at_least_zero`, with the
    provenance rule).  Every row dropped is dominated by one kept, so the maximum is the
    same wherever a programme can be.

    Strength is the mean over sample points of the region (`region_samples`): a row
    that dominates another is at least as large at every sample, so it comes first (or
    ties), and each row is compared with the few rows kept so far only, never all
    pairs.  A kept row is tested only if it is at least the other at every sample point
    (within a margin far above rounding): a pair the test accepts passes that
    everywhere, so the samples change nothing but the work."""
    if len(vecs) <= 1:
        return list(range(len(vecs)))
    # Rows equal up to a constant: only the largest can stay (first, as `prune_arrays`
    # does; in a sweep's box the constant varies with the scales, so not there).
    rows = best_of_classes(space, vecs, provs) if space.box is None else np.arange(len(vecs))
    return rows[_greedy(space, vecs[rows], provs[rows], floors, samples)].tolist()


BLOCK = 128
"""Rows `_greedy` takes at a time (its pair tests are made in one call per block)."""


def _greedy(space: Space, vecs: np.ndarray, provs: np.ndarray, floors: Floors,
            samples: np.ndarray) -> list[int]:
    """`floor_prune_rows` after the classes: the rows kept, ascending.

    Rows are taken strongest first, a block at a time: first every row of the block
    against the rows kept so far, then the block's survivors against each other in
    order, each pair test of a step in one call (`pairs_at_least_zero`).  A row goes
    exactly when a row kept before it dominates it, as if taken one by one."""
    values = vecs @ samples
    margin = 1e-9 * (1.0 + np.abs(values).max())
    order = np.argsort(-values.mean(axis=1), kind="stable")
    kept: list[int] = []

    def dominated(tops: np.ndarray, bottoms: np.ndarray, earlier: bool = False) -> np.ndarray:
        """`out[j, i]`: row `tops[j]` dominates row `bottoms[i]` (the test, on the pairs
        the samples and the provenance leave; with `earlier`, only for `j < i`)."""
        near = (values[tops][:, None, :] >= values[bottoms][None, :, :] - margin).all(axis=2)
        near &= (provs[bottoms][None, :] & ~provs[tops][:, None]) == 0
        if earlier:
            near &= np.triu(np.ones(near.shape, dtype=bool), 1)
        j, i = np.nonzero(near)
        if len(j):
            near[j, i] = pairs_at_least_zero(space, vecs[tops[j]] - vecs[bottoms[i]], floors, samples)
        return near

    for start in range(0, len(order), BLOCK):
        block = order[start:start + BLOCK]
        for part in range(0, len(kept), 4 * BLOCK):   # the kept rows in parts: bounded memory
            if len(block):
                block = block[~dominated(np.array(kept[part:part + 4 * BLOCK]), block).any(axis=0)]
        inner = dominated(block, block, earlier=True)
        alive = np.zeros(len(block), dtype=bool)
        for b in range(len(block)):   # in order: only rows kept before it can remove it
            alive[b] = not (inner[:b, b] & alive[:b]).any()
        kept += block[alive].tolist()
    return sorted(kept)


def _prune_trop(space: Space, terms: Trop, region: Region) -> Trop:
    """`terms` pruned in `region` (`floor_prune_rows`), in their order."""
    if len(terms) <= 1:
        return terms
    vecs = np.array([t.vec for t in terms], dtype=np.int64)
    provs = np.array([t.prov for t in terms], dtype=np.int64)
    return tuple(terms[i] for i in region.prune_rows(space, vecs, provs))


def floor_prune(space: Space, content: Content, named: Iterable[tuple[str, Term]]) -> Content:
    """`content` pruned order by order on the box and the floors `named` (`Kernel.floors`);
    unchanged without floors."""
    region = floor_region(space, named)
    return content if region is None else region.prune(space, content)
