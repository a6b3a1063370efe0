"""Exponent arithmetic: affine forms, tropical polynomials, and the Hermite product rule.

Every exponent the engine handles is affine in the free sizes of a pattern (`[M_l]`,
`[q_l]`, `[D_l]`) and in the scale exponents (`[N1]`, `[kappa]`, ...).  Maxima of such
forms ("tropical polynomials") describe eigenvalues and Hermite contents (THEORY.md
section 6).  For speed an affine form is a tuple of integers over a fixed symbol list
(`Space`), in units of `1/Space.unit`; a `Term` pairs it with the set of layers whose
feature learning it relies on (a bit mask), which the scorer uses to tell a pattern that
really uses each of its layers from one that merely contains them.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from math import lcm
from typing import Iterable, Mapping, NamedTuple

import numpy as np

from .scales import BASE, Monomial


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

    @property
    def size(self) -> int:
        return 1 + len(self.scales) + len(self.variables)

    @property
    def first_variable(self) -> int:
        return 1 + len(self.scales)

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


def make_space(
    scales: Mapping[str, Fraction],
    variables: Mapping[str, tuple[Mapping[str, Fraction] | None, Mapping[str, Fraction] | None]],
    denominators: Iterable[int] = (),
) -> Space:
    """A space with the problem's scale values and the free sizes' bounds (as monomials
    of scales, e.g. `0 <= [M1] <= [N1]`)."""
    dens = [2, *denominators, *(Fraction(v).denominator for v in scales.values())]
    for bounds in variables.values():
        for b in bounds:
            if b is not None:
                dens += [Fraction(x).denominator for x in b.values()]
    unit = 2 * lcm(*dens)  # even, so that an eigenvalue exponent halves exactly
    names = tuple(scales)
    n_var = len(variables)
    point = (unit, *(int(Fraction(scales[n]) * unit) for n in names), *([0] * n_var))
    n_scales = len(names)
    direction = (0, *(4 * (n_scales + 1) + i + 1 for i in range(n_scales)), *([0] * n_var))
    space = Space(names, tuple(variables), unit, point, direction, (), ())

    def pair(b: Mapping[str, Fraction] | None) -> tuple[int, int] | None:
        return None if b is None else space.base_value(space.form(b))

    lower = tuple(pair(lo) for lo, _ in variables.values())
    upper = tuple(pair(hi) for _, hi in variables.values())
    f = 1 + n_scales

    def bound_arrays(bounds):
        missing = np.array([b is None for b in bounds], dtype=bool)
        v0 = np.array([0 if b is None else b[0] for b in bounds], dtype=np.int64)
        v1 = np.array([0 if b is None else b[1] for b in bounds], dtype=np.int64)
        return missing, v0, v1

    arrays = {
        "p0": np.array(point[:f], dtype=np.int64) * unit,
        "p1": np.array(direction[:f], dtype=np.int64) * unit,
        "lower": bound_arrays(lower),
        "upper": bound_arrays(upper),
    }
    return Space(names, tuple(variables), unit, point, direction, lower, upper, arrays)


# -- operations on terms and tropical polynomials -------------------------------------


def add(a: Term, b: Term) -> Term:
    return Term(tuple(map(operator.add, a.vec, b.vec)), a.prov | b.prov)


def shift(trop: Trop, by: tuple[int, ...], prov: int = 0) -> Trop:
    """Every term plus the form `by` (a tropical product with a monomial)."""
    return tuple(Term(tuple(x + y for x, y in zip(t.vec, by)), t.prov | prov) for t in trop)


def scale(trop: Trop, factor: int) -> Trop:
    return tuple(Term(tuple(factor * x for x in t.vec), t.prov) for t in trop)


def dominates(space: Space, a: Term, b: Term) -> bool:
    """True when `a >= b` for every value of the free sizes at the spec's scales, and
    `a` relies on every layer `b` relies on (so dropping `b` loses nothing)."""
    if b.prov & ~a.prov:
        return False
    diff = tuple(x - y for x, y in zip(a.vec, b.vec))
    low = space.box_min(diff)
    if low is None:
        return False
    a, b = space.base_value(diff)
    u = space.unit  # base values are in units 1/unit**2, box minima in 1/unit**3
    return (a * u + low[0], b * u + low[1]) >= (0, 0)


def prune(space: Space, terms: Iterable[Term]) -> Trop:
    """The maximum of `terms` with duplicates and dominated terms removed.

    Of terms that dominate each other (equal everywhere), the last is kept.  All pairs
    are compared at once with numpy (`dominance_matrix`); `dominates` is the reference.
    """
    # Terms with the same free-size part and provenance differ by a constant: keep the
    # largest of each group (the last on a tie) before comparing all pairs.
    f = space.first_variable
    groups: dict[tuple, tuple[tuple[int, int], Term]] = {}
    for t in terms:
        key = (t.vec[f:], t.prov)
        value = space.base_value(t.vec)
        held = groups.get(key)
        if held is None or value >= held[0]:
            groups[key] = (value, t)
    unique = [t for _, t in groups.values()]
    m = len(unique)
    if m <= 1:
        return tuple(unique)
    dom = dominance_matrix(space, unique)
    later = np.triu(np.ones((m, m), dtype=bool), 1).T  # later[j, i]: j > i
    removed = ((dom & ~dom.T) | (dom & dom.T & later)).any(axis=0)
    return tuple(t for t, r in zip(unique, removed) if not r)


def dominance_matrix(space: Space, terms: list[Term]) -> np.ndarray:
    """`out[j, i]`: term j dominates term i (`dominates(space, terms[j], terms[i])`), i != j."""
    ar = space.arrays
    vecs = np.array([t.vec for t in terms], dtype=np.int64)
    prov = np.array([t.prov for t in terms], dtype=np.int64)
    f = space.first_variable
    diff = vecs[:, None, :] - vecs[None, :, :]
    a = diff[:, :, :f] @ ar["p0"]
    b = diff[:, :, :f] @ ar["p1"]
    coef = diff[:, :, f:]
    pos, neg = coef > 0, coef < 0
    lo_missing, lo0, lo1 = ar["lower"]
    up_missing, up0, up1 = ar["upper"]
    unbounded = ((pos & lo_missing) | (neg & up_missing)).any(axis=2)
    a = a + np.where(pos, coef * lo0, 0).sum(axis=2) + np.where(neg, coef * up0, 0).sum(axis=2)
    b = b + np.where(pos, coef * lo1, 0).sum(axis=2) + np.where(neg, coef * up1, 0).sum(axis=2)
    ge = (a > 0) | ((a == 0) & (b >= 0))
    covers = (prov[None, :] & ~prov[:, None]) == 0
    out = ge & ~unbounded & covers
    np.fill_diagonal(out, False)
    return out


def tmax(space: Space, *trops: Trop) -> Trop:
    return prune(space, (t for trop in trops for t in trop))


def tprod(space: Space, a: Trop, b: Trop) -> Trop:
    """Tropical product: every sum of a term of `a` and a term of `b`."""
    if not a or not b:
        return ()
    return prune(space, (add(x, y) for x in a for y in b))


# -- the Hermite product rule -----------------------------------------------------------


@lru_cache(maxsize=None)
def hermite_orders(a: int, b: int, limit: int) -> tuple[int, ...]:
    """Orders n <= limit present in He_a He_b: |a-b| <= n <= a+b, n = a+b (mod 2).

    He_a He_b = sum_t C(a,t) C(b,t) t! He_{a+b-2t} (THEORY.md section 4): every such
    coefficient is a positive integer, so no order in the range cancels.
    """
    return tuple(n for n in range(abs(a - b), min(a + b, limit) + 1) if (n - a - b) % 2 == 0)


def hermite_product(space: Space, x: Content, y: Content) -> Content:
    """Content of the product of two functions of z, order by order (exponents add)."""
    limit = len(x) - 1
    buckets: list[list[Term]] = [[] for _ in range(limit + 1)]
    for a, xa in enumerate(x):
        if not xa:
            continue
        for b, yb in enumerate(y):
            if not yb:
                continue
            sums = [add(s, t) for s in xa for t in yb]
            for n in hermite_orders(a, b, limit):
                buckets[n].extend(sums)
    return tuple(prune(space, bucket) for bucket in buckets)


def content_max(space: Space, *contents: Content) -> Content:
    return tuple(tmax(space, *orders) for orders in zip(*contents))


def content_shift(content: Content, by: tuple[int, ...], prov: int = 0) -> Content:
    return tuple(shift(order, by, prov) for order in content)


def powers(space: Space, x: Content, up_to: int) -> list[Content]:
    """`[x^1, x^2, ..., x^up_to]` under the Hermite product."""
    out = [x]
    for _ in range(up_to - 1):
        out.append(hermite_product(space, out[-1], x))
    return out
