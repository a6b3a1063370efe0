"""Which Hermite orders a product needs (`curse_cli.algebra.orders`), against numpy's
Hermite products and against brute force."""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations_with_replacement, product
from typing import Any

from numpy.polynomial import hermite_e as H

from curse_cli.algebra.orders import hermite_orders, minimal, power_pairs, reaches


@lru_cache(maxsize=None)
def _numpy_reaches(orders: tuple[int, ...]) -> frozenset[int]:
    """The orders present in `He_{o_1} ... He_{o_m}`, multiplied out by numpy (the
    coefficients are integers, exact in floats at these sizes)."""
    series: Any = [1.0]   # a list, then numpy's array of coefficients
    for o in orders:
        series = H.hermemul(series, [0.0] * o + [1.0])
    return frozenset(n for n, c in enumerate(series) if abs(c) > 0.5)


def test_reaches_is_the_numpy_product():
    for m in range(0, 5):
        for orders in combinations_with_replacement(range(5), m):
            assert reaches(orders) == _numpy_reaches(orders), orders


def _below(orders):
    """Every multiset below `orders`: each lowered by an even amount, not below zero,
    at least one lowered (brute force, independent of `minimal`)."""
    for lowered in product(*(range(o % 2, o + 1, 2) for o in orders)):
        if tuple(sorted(lowered)) != tuple(orders):
            yield tuple(sorted(lowered))


def test_the_minimal_multisets_are_those_that_sum_to_the_order_or_are_zeros_and_ones():
    """docs/theory.md section 9.1: a product of terms at orders `mu` reaching `n` is
    dominated by one at orders below `mu` unless `sum(mu) = n` or every order is 0 or 1.
    Checked for every multiset of up to four orders up to 6 and every order it reaches,
    against numpy's products (`_numpy_reaches`) and brute-force lowering."""
    checked = 0
    for m in range(1, 5):
        for orders in combinations_with_replacement(range(7), m):
            for n in _numpy_reaches(orders):
                unlowerable = not any(n in _numpy_reaches(b) for b in _below(orders))
                assert minimal(orders, n) == unlowerable, (orders, n)
                assert unlowerable == (sum(orders) == n or max(orders) <= 1), (orders, n)
                checked += 1
            assert not any(minimal(orders, n) for n in range(20) if n not in _numpy_reaches(orders))
    assert checked > 1000


def test_power_pairs_keep_what_every_minimal_multiset_needs():
    """The argument of `power_pairs` (module docstring) in full: for `base^m = base^(m-1)
    x factor`, every minimal multiset of `m` orders reaching `n <= limit` (`m - 1` from
    `base`, one from `factor`) is made by a kept pair `(i, j)`: `j` one of its orders from
    `factor`, `i <= limit` an order the other `m - 1` reach minimally.  And a kept pair
    reaches its order (`hermite_orders`).  For every support of orders up to 4 closed
    downward (each order >= 2 present with the one two below), m up to 4."""
    limit = 4
    supports = [frozenset(s) for s in ({0, 1, 2, 3, 4}, {1, 3}, {0, 2, 4}, {1}, {0, 1}, {0, 2}, {1, 2, 3}, {0, 1, 2})]
    checked = 0
    for m in range(2, 5):
        for base, factor in product(supports, repeat=2):
            pairs = power_pairs(m, base, factor, limit)
            for i, j in product(range(limit + 1), sorted(factor)):
                assert set(pairs(i, j, limit)) <= set(hermite_orders(i, j, limit))
            for nu in combinations_with_replacement(sorted(base), m - 1):
                for j in sorted(factor):
                    mu = tuple(sorted((*nu, j)))
                    for n in range(limit + 1):
                        if not minimal(mu, n):
                            continue
                        assert any(n in pairs(i, j, limit) and minimal(nu, i) for i in range(limit + 1)), \
                            (m, base, factor, mu, n)
                        checked += 1
    assert checked > 500


def test_erfs_cube_at_order_three_needs_only_products_of_order_one_terms():
    """For a content at odd orders up to 3 (erf's amplitudes): the square takes only
    `(1, 1)` (at orders 0 and 2), and the cube `base^2 x base` only `(0, 1)` for order 1
    and `(2, 1)` for order 3: three order-1 terms; `(0, 3)` would add products with an
    order-3 factor, which lie below them."""
    odd = frozenset({1, 3})
    square, cube = power_pairs(2, odd, odd, 3), power_pairs(3, odd, odd, 3)
    assert {(a, b): square(a, b, 3) for a in (1, 3) for b in (1, 3) if square(a, b, 3)} == {(1, 1): (0, 2)}
    assert {(a, b): cube(a, b, 3) for a in range(4) for b in (1, 3) if cube(a, b, 3)} == {(0, 1): (1,), (2, 1): (3,)}
