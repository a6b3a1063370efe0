"""Domination where every programme is: on the free sizes' box *and* above the floors.

A homogeneous activation's layer divides by its input scale: the `j`-th power of the
lazy rule, or of a spike's content, is shifted by `(1 - j) [s]`, with an auxiliary size
`s` that every programme keeps at or above each term of a set, its *floors* (`[s] >= t`,
`Kernel.floors`; docs/theory.md section 9.3).  On the box alone `s` is unbounded above,
so a term carrying `-3 [s]` and one carrying `-[s]` never compare, and the terms multiply
layer after layer (three ReLU layers leave about 185 terms per order where 10 hold the
maximum).

Every programme that reads a kernel imposes its floors, so a term may go when another is
at least as large wherever the box and the floors hold (and relies on no more layers).
Two tests decide it.  The substitution test (`at_least_zero`) is cheap and sufficient,
not complete: for the difference `delta = a - b`, take the auxiliary size highest in the
floors' order whose coefficient `beta` is not zero.  If `beta < 0`, give up (`s` is
unbounded above).  If `beta > 0`, then `delta >= delta` with `s` replaced by any one of
its floors `t`, since `s >= t`; try each, and go on with the sizes the floor brings in
(floors of `s_l` are terms of the kernel below, which carry the sizes of lower layers).
With no auxiliary size left, the box test decides (`tropical.dominates`).  A pair it
rejects goes to the complete test (`Programme`): the minimum may need a weighted mix of
a size's floors, which a linear programme finds and exact arithmetic checks
(`certified`).

Dropping a term dominated on that region changes no programme: each term kept is at
least the dropped one at every point a programme can reach, and a floor dropped from a
kernel's top terms is implied there by one kept, so the region itself is the same.
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm
from typing import Iterable, NamedTuple, Sequence

import numpy as np

from curse_cli.algebra.memo import Memo
from curse_cli.algebra.prune import best_of_classes, nonnegative_forms
from curse_cli.algebra.space import Space
from curse_cli.algebra.tropical import Content, Term, Trop, dominates, trop_arrays
from curse_cli.solve import highs

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


def reaching(space: Space, named: tuple[tuple[str, Term], ...], content: Content) -> tuple[tuple[str, Term], ...]:
    """The floors of `named` (`Kernel.floors`) that bound a size some term of `content`
    carries, or a size such a floor carries, and so on.  The others change nothing
    where `content`'s terms are compared: a size that no term and no kept floor
    mentions can always be raised above its floors, so leaving them out leaves the
    region's shadow on the sizes that matter the same.  Fewer floors, fewer
    alternatives, and the same floors for every kernel a feature's content is read in."""
    if not named:
        return ()
    carried = {c for order in content for t in order for c, x in enumerate(t.vec) if x}
    by_size: dict[int, list[int]] = {}
    for k, (name, _) in enumerate(named):
        by_size.setdefault(space.index(name), []).append(k)
    keep: set[int] = set()
    left = [c for c in carried if c in by_size]
    while left:
        col = left.pop()
        for k in by_size.pop(col, ()):
            keep.add(k)
            left += [c for c, x in enumerate(named[k][1].vec) if x and c in by_size]
    return tuple(named[k] for k in sorted(keep))


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
        low = high - 10.0 if low is None else low  # type: ignore[operator]  # both None was handled above
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
        """`floor_prune_rows` in this region (for `product.hermite_product`)."""
        return floor_prune_rows(space, vecs, provs, self.floors, self.samples)

    def prune(self, space: Space, content: Content) -> Content:
        """`content` pruned order by order in this region, each order in its order."""
        return tuple(_prune_trop(space, order, self) for order in content)


def floor_region(memo: Memo, space: Space, named: Iterable[tuple[str, Term]]) -> Region | None:
    """The region of the floors `named` (`Kernel.floors`), or None without floors (or
    with floors in a cycle, `floor_table`): then the box alone prunes.  Made once per
    run and floors (`memo`): a kernel's powers, its lazy layer and its
    specialised layers ask for the same floors (five ReLU layers: 476 requests, 238
    distinct floors)."""
    named = tuple(named)
    return memo.remember(("floor region", named), lambda: _region(space, named))


def _region(space: Space, named: tuple[tuple[str, Term], ...]) -> Region | None:
    floors = floor_table(space, named)
    if not floors:
        return None
    samples = region_samples(space, floors)
    samples.flags.writeable = False   # shared by every prune in the region
    return Region(floors, samples)


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


BLOCK = 32
"""Rows `_greedy` takes at a time (its pair tests are made in one call per block).  With
the complete test few rows are kept, so most of a block falls to the kept rows in the
first call; the second tests every near pair inside the block, most of them needlessly
(one dominator is enough), so a small block does less work (docs/theory.md section 9.3)."""


def _greedy(space: Space, vecs: np.ndarray, provs: np.ndarray, floors: Floors,
            samples: np.ndarray) -> list[int]:
    """`floor_prune_rows` after the classes: the rows kept, ascending.

    Rows are taken strongest first, a block at a time: first every row of the block
    against the rows kept so far, then the block's survivors against each other in
    order.  A pair is first tested by substitution (`pairs_at_least_zero`: cheap, one
    call for all the pairs of a step, but only sufficient); a row it does not remove is
    then tested, one pair at a time, against each row kept before it that passes the
    samples, by the complete test (`Programme`, made on first need), until one
    dominates it.  A row goes exactly when a row kept before it dominates it on the
    region, as if taken one by one.  The complete test matters: four ReLU layers' powers
    kept 116 terms with the substitution test where 10 hold the maximum, and the next
    layer multiplies them."""
    values = vecs @ samples
    margin = 1e-9 * (1.0 + np.abs(values).max())
    order = np.argsort(-values.mean(axis=1), kind="stable")
    kept: list[int] = []
    programme: Programme | None = None

    def near(tops: np.ndarray, bottoms: np.ndarray, earlier: bool = False) -> np.ndarray:
        """`out[j, i]`: row `tops[j]` is at least row `bottoms[i]` at every sample point
        (within the margin) and relies on every layer it relies on (with `earlier`, only
        for `j < i`): the pairs worth a test."""
        out = (values[tops][:, None, :] >= values[bottoms][None, :, :] - margin).all(axis=2)
        out &= (provs[bottoms][None, :] & ~provs[tops][:, None]) == 0
        if earlier:
            out &= np.triu(np.ones(out.shape, dtype=bool), 1)
        return out

    def substituted(tops: np.ndarray, bottoms: np.ndarray, pairs: np.ndarray) -> np.ndarray:
        """`pairs` (a `near` matrix) where the substitution test accepts the pair."""
        out = np.zeros(pairs.shape, dtype=bool)
        j, i = np.nonzero(pairs)
        if len(j):
            out[j, i] = pairs_at_least_zero(space, vecs[tops[j]] - vecs[bottoms[i]], floors, samples)
        return out

    def exact(top: int, bottom: int) -> bool:
        nonlocal programme
        if programme is None:
            programme = Programme(space, floors)
        return programme.at_least_zero(vecs[top] - vecs[bottom])

    for start in range(0, len(order), BLOCK):
        block = order[start:start + BLOCK]
        waiting: list[list[int]] = [[] for _ in block]   # kept rows left to the complete test
        for part in range(0, len(kept), 4 * BLOCK):   # the kept rows in parts: bounded memory
            if len(block):
                tops = np.array(kept[part:part + 4 * BLOCK])
                pairs = near(tops, block)
                gone = substituted(tops, block, pairs).any(axis=0)
                waiting = [w + tops[pairs[:, i]].tolist() for i, w in enumerate(waiting) if not gone[i]]  # type: ignore[index]  # an array
                block = block[~gone]
        pairs = near(block, block, earlier=True)
        inner = substituted(block, block, pairs)
        alive = np.zeros(len(block), dtype=bool)
        for b in range(len(block)):   # in order: only rows kept before it can remove it
            if (inner[:b, b] & alive[:b]).any():
                continue
            tops = waiting[b] + block[:b][pairs[:b, b] & alive[:b]].tolist()
            alive[b] = not any(exact(top, block[b]) for top in tops)
        kept += block[alive].tolist()
    return sorted(kept)


def _prune_trop(space: Space, terms: Trop, region: Region) -> Trop:
    """`terms` pruned in `region` (`floor_prune_rows`), in their order."""
    if len(terms) <= 1:
        return terms
    vecs, provs = trop_arrays(terms)
    return tuple(terms[i] for i in region.prune_rows(space, vecs, provs))


def floor_prune(memo: Memo, space: Space, content: Content, named: Iterable[tuple[str, Term]]) -> Content:
    """`content` pruned order by order on the box and the floors `named` (`Kernel.floors`);
    unchanged without floors."""
    region = floor_region(memo, space, named)
    return content if region is None else region.prune(space, content)


# -- the complete test: a linear programme chooses, exact arithmetic checks -------------


def certified(space: Space, delta: Sequence[int], floors: Floors, weights: Sequence[Fraction | int]) -> bool:
    """Whether nonnegative `weights` (one per floor, in `floors`' order: size by size,
    form by form) prove `delta >= 0` wherever the box and the floors hold, in exact
    arithmetic.  Each floor `s >= t` gives `w (t - s) <= 0` there, so
    `delta + sum w (t - s) <= delta`; if that sum is `>= 0` on the box alone
    (`tropical.dominates`), so is `delta` on the region.  This is Farkas' lemma read
    backwards: when `delta >= 0` on the region, some weights do it (the multipliers of
    the floors at a minimum of `delta`), so the test is complete given good weights; and
    whatever the weights, it is sound.  A negative weight proves nothing and is refused.
    The sum is scaled by the weights' common denominator (a positive factor) to stay in
    integers."""
    pairs = [(col, form) for col, forms in floors for form in forms]
    assert len(pairs) == len(weights)
    used = [(pair, Fraction(w)) for pair, w in zip(pairs, weights) if w]   # most are zero
    if any(w < 0 for _, w in used):
        return False
    scale = lcm(*(w.denominator for _, w in used)) if used else 1
    unit = space.unit
    total = [scale * int(x) for x in delta]
    for (col, form), w in used:
        m = int(w * scale)
        for i, y in enumerate(form):
            total[i] += m * y
        total[col] -= m * unit
    zero = (0,) * len(total)
    return dominates(space, Term(tuple(total), 0), Term(zero, 0))


DENOMINATOR = 10**6
"""Largest denominator a floating-point multiplier is read back as (`Programme`): the
exact multipliers at a vertex of the region have small denominators (the floors'
coefficients are small multiples of the unit), and a float within rounding of one is
read back as it."""


class Programme:
    """The region (box at the spec's point, and the floors) as one linear programme over
    the free sizes whose objective is set per question: `at_least_zero(delta)` is the
    complete test, where the substitution test (`pairs_at_least_zero`) is only
    sufficient.  Float answers only choose: a minimum below zero keeps the pair (a term
    kept is never wrong), and a minimum at or above zero is accepted only if its floors'
    multipliers, read back as fractions, pass `certified` in exact arithmetic.

    The box and the scales are taken a little beyond the point along the direction
    (`Space.nudge`), as `tropical.dominates` compares (value, derivative) pairs: there a
    minimum that ties at the point and grows along the direction stays `>= 0`, and its
    multipliers certify the pair (value and derivative alike) in `certified`.

    Only the objective changes from one question to the next, so the model is loaded
    once and each solve starts from the previous basis (scipy's bundled HiGHS, as
    `solve.highs`; without those bindings, each question is a public `linprog`).  One
    programme serves one call of `floor_prune_rows`, so the sequence of solves, hence
    every answer, depends on that call's arguments alone.  Points where a minimum was
    negative are remembered: a later difference negative at one of them is refused
    without a solve."""

    def __init__(self, space: Space, floors: Floors) -> None:
        f, unit, eps = space.first_variable, space.unit, space.nudge
        self.space, self.floors, self.f = space, floors, f
        self.point = (np.array(space.point[:f], dtype=float) + eps * np.array(space.direction[:f], dtype=float)) / unit

        def bound(b: tuple[int, int] | None, missing: float) -> float:
            return missing if b is None else (b[0] + eps * b[1]) / unit**2

        self.lower = np.array([bound(b, -np.inf) for b in space.lower])
        self.upper = np.array([bound(b, np.inf) for b in space.upper])
        pairs = [(col, form) for col, forms in floors for form in forms]
        # floor `s >= t`: unit s - (free part of t) . x >= (constant and scale part of t) at the point
        self.rows = np.zeros((len(pairs), space.size - f))
        for r, (col, form) in enumerate(pairs):
            self.rows[r] = -np.array(form[f:], dtype=float)
            self.rows[r, col - f] += unit
        self.rhs = np.array([float(np.dot(form[:f], self.point)) for _, form in pairs])
        self.seen = np.zeros((space.size, 0))
        self.warm = highs.warm(self.rows, self.rhs, self.lower, self.upper)

    def _minimum(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """A minimiser of `c . x` over the region and the floors' multipliers there
        (None: unbounded, infeasible or failed)."""
        if self.warm is None:
            res = highs.solve_linprog(c, -self.rows, -self.rhs, self.lower, self.upper)
            return None if res.status != 0 else (res.x, -res.marginals)  # type: ignore[return-value, operator]  # arrays when optimal
        return self.warm.minimum(c)

    def at_least_zero(self, delta: np.ndarray) -> bool:
        """Whether `delta >= 0` on the box and the floors, decided completely (up to
        multipliers with denominators above `DENOMINATOR`, then False)."""
        f = self.f
        free = delta[f:]
        # unbounded below: a negative coefficient on a size unbounded above (an auxiliary
        # size), or a positive one on a size without a lower bound that no floor bounds
        unbounded_above = (free < 0) & np.isinf(self.upper)
        unbounded_below = (free > 0) & np.isinf(self.lower) & ~self.rows.any(axis=0)
        if unbounded_above.any() or unbounded_below.any():
            return False
        if self.seen.shape[1]:
            values = delta @ self.seen
            if (values < -1e-7 * (1.0 + np.abs(delta) @ np.abs(self.seen))).any():
                return False
        found = self._minimum(free.astype(float))
        if found is None:
            return False
        x, multipliers = found
        at = np.concatenate([self.point, x])
        if delta @ at < -1e-7 * (1.0 + np.abs(delta) @ np.abs(at)):
            self.seen = np.column_stack([self.seen, at])
            return False
        weights = [0 if m <= 0 else Fraction(float(m)).limit_denominator(DENOMINATOR) for m in multipliers.tolist()]
        return certified(self.space, delta.tolist(), self.floors, weights)

