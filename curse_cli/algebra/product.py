"""The Hermite product rule: the content of a product of two functions of `z`, order
by order (exponents add, docs/theory.md section 6), with a remembered variant for the
powers a kernel raises again and again."""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from curse_cli.algebra.memo import Memo
from curse_cli.algebra.orders import PairOrders, closed_orders, hermite_orders
from curse_cli.algebra.prune import prune_arrays
from curse_cli.algebra.space import Space
from curse_cli.algebra.tropical import Content, Trop, _terms, trop_arrays


class Pruning(NamedTuple):
    """How a product's candidates are pruned (`prune_rows`, in place of `prune_arrays`)
    and what that depends on, for a remembered product's key (`where`: a homogeneous
    activation's floors: the same factors give fewer terms on more floors)."""

    prune_rows: Callable[[Space, np.ndarray, np.ndarray], list[int]]
    where: tuple


def remembered_product(memo: Memo, space: Space, x: Content, y: Content, only: int | None = None,
                       pairs: PairOrders | None = None, need: int = 0, pruning: Pruning | None = None) -> Content:
    """`hermite_product`, computed once per run and arguments (`memo`): for the powers of
    a feature's content, raised again at every layer that specialises on it.  A square
    (`y is x`) is told apart from a product of equal contents, whose terms may come out
    in another order."""
    where = pruning.where if pruning is not None else ()
    prune_rows = pruning.prune_rows if pruning is not None else None
    return memo.remember(("hermite_product", x, y, only, y is x, pairs, need, where),
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
    caller that reads no other (a lean readout, `folder.Folder.readout_kernel`).  The
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
