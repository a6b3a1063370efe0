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
from itertools import chain
from typing import Callable, Iterable, NamedTuple, Sequence

import numpy as np

from curse_cli.algebra.prune import MERGE_ROWS, _float_dominance, _float_weights, _minima, prune_arrays
from curse_cli.algebra.space import Space


class Term(NamedTuple):
    """An affine form (`vec`, integers in units of 1/unit) and its provenance mask."""

    vec: tuple[int, ...]
    prov: int


Trop = tuple[Term, ...]
"""A tropical polynomial: the maximum of its terms (empty = exactly absent)."""

Content = tuple[Trop, ...]
"""A Hermite content or amplitude vector: one tropical polynomial per order 0..n_max."""


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
    return space.nonnegative(tuple(x - y for x, y in zip(a.vec, b.vec)))


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


def _terms(vecs: np.ndarray, provs: np.ndarray, pruned_in: Space | None = None) -> Trop:
    """Rows back to terms, each array converted to Python integers in one call (the
    arrays are remembered for the result, `trop_arrays`; `pruned_in`: the space the
    rows are the survivors of a prune in)."""
    trop = tuple(Term(tuple(v), p) for v, p in zip(vecs.tolist(), provs.tolist()))
    return _remember_arrays(trop, vecs, provs, pruned_in)


class Held(tuple):
    """A tropical polynomial that carries its terms' rows as read-only arrays (`vecs`,
    `provs`: a product's or a merge's result is often the next product's factor) and
    the space whose prune made it (`pruned_in`, None: not known), in which no two of
    its terms dominate each other.  Equal to, and hashed as, the plain tuple."""

    vecs: np.ndarray
    provs: np.ndarray
    pruned_in: Space | None


def _is_pruned(trop: Trop, space: Space) -> bool:
    """Whether `trop` was made by a prune in `space` (then no two of its terms dominate
    each other there)."""
    return isinstance(trop, Held) and trop.pruned_in is space


def trop_arrays(trop: Trop) -> tuple[np.ndarray, np.ndarray]:
    """`_arrays(trop)` (non-empty): the rows a `Held` polynomial carries, or made."""
    if isinstance(trop, Held):
        return trop.vecs, trop.provs
    return _arrays(trop)


def _remember_arrays(trop: Trop, vecs: np.ndarray, provs: np.ndarray, pruned_in: Space | None = None) -> Trop:
    """`trop` as a `Held` polynomial with its arrays (made read only) and the space it
    was pruned in."""
    if not trop:
        return trop
    vecs.flags.writeable = False
    provs.flags.writeable = False
    held = Held(trop)
    held.vecs, held.provs, held.pruned_in = vecs, provs, pruned_in
    return held


def _arrays(terms: Sequence[Term]) -> tuple[np.ndarray, np.ndarray]:
    """Terms (at least one) as (rows, provenance) int64 arrays.  The rows are packed by
    `struct` and read in place, faster than `np.array` on a list of tuples; a number
    beyond 64 bits raises `OverflowError`, as `np.array` does."""
    size = len(terms[0].vec)
    flat = chain.from_iterable(t.vec for t in terms)
    try:
        vecs = np.frombuffer(struct.pack(f"{len(terms) * size}q", *flat), dtype=np.int64).reshape(len(terms), size)
    except struct.error:
        vecs = np.array([t.vec for t in terms], dtype=np.int64)
    return vecs, np.array([t.prov for t in terms], dtype=np.int64)


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
