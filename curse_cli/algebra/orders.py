"""Which Hermite orders a product of contents needs from which pair of factor orders
(docs/theory.md section 9.1).

`He_a He_b = sum_t C(a,t) C(b,t) t! He_{a+b-2t}`: every coefficient is a positive
integer, so the orders present are exactly `|a-b| <= n <= a+b` of the parity of `a+b`
(`hermite_orders`), and a product of several factors reaches the orders reached one
factor at a time (`reaches`).

Every content the engine multiplies is *downward closed*: each term at order `n >= 2`
lies below a term at order `n - 2` that relies on at least its layers.  So in a product
of such contents a factor's order may be lowered by any even amount without losing a
term's maximum or its provenance, and a product of terms of orders `mu` (a multiset) at
order `n` is dominated, with its provenance, by a product at orders `mu'` below `mu`
(each order lowered by an even amount, not below zero) that still reaches `n`.  The
multisets nothing lies below are the *minimal* ones (`minimal`): those whose orders sum
to `n`, or are all 0 and 1.  Only they are needed.

`closed_orders` applies this to the two factors of one product; `power_pairs` to a power
`base^m` made as `base^(m-1)` times a factor, looking through `base^(m-1)` to the
orders of its `m - 1` factors: erf's cube at order 3 needs only the products of three
order-1 terms, which `base^2` holds at order 2 (its order-0 part adds only products
with an order-3 factor, which lie below them).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations_with_replacement, product
from typing import Callable

Orders = tuple[int, ...]
"""A multiset of Hermite orders, sorted."""

PairOrders = Callable[[int, int, int], tuple[int, ...]]
"""`(a, b, limit)`: the orders `n <= limit` a product needs from its factors' orders `a`, `b`."""


@lru_cache(maxsize=None)
def hermite_orders(a: int, b: int, limit: int) -> tuple[int, ...]:
    """Orders n <= limit present in He_a He_b: |a-b| <= n <= a+b, n = a+b (mod 2).

    He_a He_b = sum_t C(a,t) C(b,t) t! He_{a+b-2t} (docs/theory.md section 4): every such
    coefficient is a positive integer, so no order in the range cancels.
    """
    return tuple(n for n in range(abs(a - b), min(a + b, limit) + 1) if (n - a - b) % 2 == 0)


@lru_cache(maxsize=None)
def closed_orders(a: int, b: int, limit: int) -> tuple[int, ...]:
    """The orders of `hermite_orders(a, b, limit)` that no pair of lower factor orders of
    the same parities, `(a - 2, b)`, `(a, b - 2)` or `(a - 2, b - 2)`, also reaches: the
    only ones a product of downward-closed contents needs from this pair
    (`tropical.hermite_product`)."""
    lower = [(a - 2, b), (a, b - 2), (a - 2, b - 2)]
    reached = {n for i, j in lower if i >= 0 and j >= 0 for n in hermite_orders(i, j, limit)}
    return tuple(n for n in hermite_orders(a, b, limit) if n not in reached)


@lru_cache(maxsize=None)
def reaches(orders: Orders) -> frozenset[int]:
    """The orders present in `He_{o_1} ... He_{o_m}` (no truncation; the empty product is
    `He_0`)."""
    out = {0}
    for o in orders:
        out = {n for k in out for n in hermite_orders(k, o, k + o)}
    return frozenset(out)


@lru_cache(maxsize=None)
def minimal(orders: Orders, n: int) -> bool:
    """Whether the product at `orders` reaches `n` and no product at orders below them
    does (each lowered by an even amount, not below zero, at least one lowered): then
    nothing dominates its terms at `n` for the reason of the module docstring."""
    if n not in reaches(orders):
        return False
    for lowered in product(*(range(o % 2, o + 1, 2) for o in orders)):
        below = tuple(sorted(lowered))
        if below != orders and n in reaches(below):
            return False
    return True


@lru_cache(maxsize=None)
def power_pairs(m: int, base: frozenset[int], factor: frozenset[int], limit: int) -> PairOrders:
    """The orders `base^m = base^(m-1) x factor` needs from each pair of orders: `(i, j)`
    gives order `n` when `closed_orders` keeps it and some minimal multiset `nu` of
    `m - 1` orders of `base` (`base`: those where it has terms) reaching `i` makes,
    with `j`, a minimal multiset reaching `n`.  (Each term of `base^(m-1)` at order `i`
    lies below a product at a minimal `nu`; the products the others make lie below a
    minimal multiset's, which the pair of its sum without one factor, and that factor,
    makes.)  `factor` is `base` or, for a split power (`kernels.power_list`), the part
    `b` of `base = a ⊕ b`; both downward closed."""
    lower = [tuple(sorted(nu)) for nu in combinations_with_replacement(sorted(base), m - 1)]
    kept: dict[tuple[int, int], tuple[int, ...]] = {}
    for i in range(limit + 1):
        below = [nu for nu in lower if minimal(nu, i)]
        for j in sorted(factor):
            kept[(i, j)] = tuple(n for n in closed_orders(i, j, limit)
                                 if any(minimal(tuple(sorted((*nu, j))), n) for nu in below))

    def pairs(a: int, b: int, limit_: int) -> tuple[int, ...]:
        assert limit_ == limit, (limit_, limit)
        return kept.get((a, b), ())

    return pairs
