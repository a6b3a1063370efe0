"""The symbol space of one problem, and the one statement every dominance test decides.

An affine form is a tuple of integers over a fixed symbol list (`Space`): the constant,
the scale exponents (`[N1]`, `[kappa]`, ...), then the free sizes of a pattern (`[M_l]`,
`[q_l]`, `[D_l]`), in units of `1/Space.unit`.  `Space.nonnegative` says whether a form
is at least zero wherever the free sizes can be (on their box, at the spec's point or
on a sweep's box of points): pruning (`prune`), the cheap bounds of a search
(`engine.energy`) and the truncation's certificates (`engine.kernels`) all decide it,
the vectorised ones checked against this one by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from fractions import Fraction
from math import lcm
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import numpy as np

from curse_cli.algebra.scales import BASE, Monomial

class Floats(NamedTuple):
    """`Weights` for one prune, with each (value, derivative) pair folded into the
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


class Weights:
    """Per-space constants of the float dominance tests (`prune`), as integers: the
    point's (value, derivative) weights of the constant-and-scale part (f x 2); per
    free size the lower and upper bounds (sizes x 2; 0 where missing) and which bound
    is missing; `reach`: per part (value, derivative) the sum of the absolute values
    of all these weights, which bounds |any sum| / max |entry| of that part.  Derived
    from the space alone; `fold(scale)` is made once per scale."""

    def __init__(self, point: np.ndarray, lower: np.ndarray, upper: np.ndarray, lo_missing: np.ndarray,
                 up_missing: np.ndarray, reach: tuple[int, int]) -> None:
        self.point, self.lower, self.upper = point, lower, upper
        self.lo_missing, self.up_missing, self.reach = lo_missing, up_missing, reach
        self._folds: dict[int, Floats] = {}

    def fold(self, scale: int) -> Floats:
        """The weights with each pair folded at `scale` (`Floats`)."""
        held = self._folds.get(scale)
        if held is None:
            pair = np.array([scale, 1], dtype=np.int64)
            lower, upper = self.lower @ pair, self.upper @ pair
            held = self._folds[scale] = Floats(self.point, pair, lower.astype(np.float64), upper.astype(np.float64),
                                               (upper - lower).astype(np.float64), self.lo_missing, self.up_missing)
        return held


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

    # `box` (sweeps): each scale's range (lo, hi) in units of 1/unit.  Then pruning keeps
    # a term unless another dominates it at *every* scale point of the box, so kernels
    # and programmes built in this space hold on the whole box; the point still drives
    # the linear programmes.  `bound_forms` are the free sizes' bounds as affine forms
    # of the scales (the first `first_variable` entries of a vector), None: unbounded.

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

    @cached_property
    def weights(self) -> Weights | None:
        """The float tests' constants (`Weights`), derived from `arrays` once; None when
        the arrays hold Python integers (then only the exact paths are exact)."""
        ar = self.arrays
        lo_missing, lo0, lo1 = ar["lower"]
        up_missing, up0, up1 = ar["upper"]
        parts = (ar["p0"], ar["p1"], lo0, lo1, up0, up1)
        if any(a.dtype != np.int64 for a in parts):
            return None
        reach = (sum(int(np.abs(a).sum()) for a in parts[0::2]), sum(int(np.abs(a).sum()) for a in parts[1::2]))
        return Weights(np.stack([ar["p0"], ar["p1"]], axis=1), np.stack([lo0, lo1], axis=1),
                       np.stack([up0, up1], axis=1), lo_missing, up_missing, reach)

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

    def base_value(self, vec: Sequence[Any]) -> tuple[Any, Any]:
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

    def minimum(self, vec: Sequence[Any]) -> tuple[Any, Any] | None:
        """The minimum of the form `vec` over the free sizes' box at the point: (value,
        derivative along the direction) in units of 1/unit**3 (None: unbounded below).
        Works on float coefficients too (a combination of rows)."""
        low = self.box_min(vec)
        if low is None:
            return None
        a, b = self.base_value(vec)
        u = self.unit   # base values are in units 1/unit**2, box minima in 1/unit**3
        return a * u + low[0], b * u + low[1]

    def nonnegative(self, vec: Sequence[int]) -> bool:
        """Whether the form `vec` is at least zero wherever the free sizes can be: its
        minimum over their box at the point, compared as a (value, derivative) pair,
        or, in a sweep's space, at every point of the box of scales (`box_minimum`).
        Every dominance test decides this (the vectorised ones in `prune`)."""
        if self.box is not None:
            low = box_minimum(self, vec)
            return low is not None and low >= 0
        m = self.minimum(vec)
        return m is not None and m >= (0, 0)

    def box_min(self, vec: Sequence[Any]) -> tuple[Any, Any] | None:
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
