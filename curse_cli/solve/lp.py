"""Min-max linear programs over exponents, solved by HiGHS and certified exactly.

The one problem shape: minimise `t` subject to rows `g.x + tau t + h(s) <= 0`, where `x`
are the free sizes, `tau` is -1 (a term that `t` must dominate) or 0 (a side
condition, such as a bound), and `h(s)` is affine in the scale exponents `s`.

HiGHS finds the optimum in floating point at the spec's point nudged along the
direction of growing sizes.  The tight rows then give a basis that is solved exactly,
as an affine function of `s`, and certified: the dual multipliers are exactly
non-negative and the solution is exactly feasible at `s` (and just beyond it along the
nudge).  A result is never a rounded float.  Scipy is hidden behind this module;
infeasibility is a normal outcome, anything else an error.

Speed.  `scipy.optimize.linprog` spends most of a small solve validating its inputs,
so HiGHS is driven directly through scipy's bundled bindings when they are present
and pass a self-test at import (`highs.solve_highs`), with `linprog` as the reference and
fallback (`highs.solve_linprog`): the same model and options, so the same floats (bit for
bit on every problem we compared).  The exact algebra runs on rows scaled to integers
(fraction-free elimination); only results become `Fraction`s, the same values a
`Fraction` row reduction gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from fractions import Fraction
from math import gcd, lcm
from typing import Hashable, Sequence

import numpy as np

from curse_cli.solve import highs
from curse_cli.solve.highs import SAFETY

Affine = tuple[Fraction, ...]
"""Coefficients over (constant, scale_1, ..., scale_S)."""

NUDGE = 2.0**-14


class LPError(RuntimeError):
    """The solver failed in a way the method does not expect (an internal error)."""


@dataclass(frozen=True)
class Row:
    g: tuple[Fraction, ...]
    tau: int
    h: Affine
    label: str
    tag: Hashable = None   # the caller's structured name for the row (its role and layer)

    @cached_property
    def floats(self) -> tuple[list[float], list[float]]:
        """`g` (with `tau` appended) and `h` as floats, converted once per row.
        `c.numerator / c.denominator` is exactly `float(c)`."""
        return ([c.numerator / c.denominator for c in self.g] + [float(self.tau)],
                [c.numerator / c.denominator for c in self.h])


@dataclass(frozen=True)
class MinMax:
    """The problem as one immutable value: rows, and the scale point with its nudge."""

    n_vars: int
    rows: tuple[Row, ...]
    point: tuple[Fraction, ...]       # (1, s_1, ..., s_S)
    direction: tuple[Fraction, ...]   # (0, v_1, ..., v_S)
    nudge: float = NUDGE              # how far along the direction the float solves look

    def numeric(self, nudge: float) -> tuple[np.ndarray, np.ndarray]:
        # `c.numerator / c.denominator` is exactly `float(c)` (numbers.Rational.__float__),
        # and `b` adds the products left to right, as `sum` would.
        floats = [r.floats for r in self.rows]
        a = np.array([g for g, _ in floats], dtype=float)
        at = [p.numerator / p.denominator + nudge * (v.numerator / v.denominator)
              for p, v in zip(self.point, self.direction)]
        b = np.array([-sum([c * x for c, x in zip(h, at)]) for _, h in floats], dtype=float)
        return a, b


@dataclass(frozen=True)
class Solution:
    """An exact optimum: `t` and `x` as affine functions of the scales, the rows that
    are tight on the whole optimal face, and the certificate's multipliers."""

    t: Affine
    x: tuple[Affine, ...]
    value: Fraction
    equalities: tuple[int, ...]
    multipliers: dict[int, Fraction]


def _bounds(n_vars: int, n: int, last: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    lower = np.full(n, -np.inf)
    upper = np.full(n, np.inf)
    lower[:n_vars] = -SAFETY
    upper[:n_vars] = SAFETY
    upper[n_vars:] = last
    return lower, upper


def _objective(n: int, sign: float = 1.0) -> np.ndarray:
    c = np.zeros(n)
    c[-1] = sign
    return c


def float_solve(n_vars: int, a: np.ndarray, b: np.ndarray) -> float | None:
    """Minimise `t` subject to `a [x, t] <= b` in floating point (None: infeasible)."""
    res = highs.solve(_objective(n_vars + 1), a, b, *_bounds(n_vars, n_vars + 1))
    if res.status == 2:
        return None
    if res.status != 0:
        raise LPError(f"HiGHS returned status {res.status}: {res.message}")
    return res.fun


# -- exact linear algebra ---------------------------------------------------------------


def rref(rows: Sequence[Sequence[Fraction]], n_cols: int) -> tuple[list[list[Fraction]], list[int]]:
    """Reduced row echelon form of the first `n_cols` columns (extra columns ride along)."""
    m = [list(r) for r in rows]
    pivots: list[int] = []
    r = 0
    for c in range(n_cols):
        piv = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
        if piv is None:
            continue
        m[r], m[piv] = m[piv], m[r]
        inv = 1 / m[r][c]
        m[r] = [v * inv for v in m[r]]
        for i in range(len(m)):
            if i != r and m[i][c] != 0:
                f = m[i][c]
                m[i] = [v - f * w for v, w in zip(m[i], m[r])]
        pivots.append(c)
        r += 1
        if r == len(m):
            break
    return m[:r], pivots


def _integers(values: Sequence[Fraction]) -> tuple[list[int], int]:
    """`values` times the least positive integer that makes them all integers."""
    pairs = [(v.numerator, v.denominator) for v in values]
    scale = lcm(*(d for _, d in pairs))
    return [p * (scale // d) for p, d in pairs], scale


class _Echelon:
    """Integer vectors in echelon form, grown one at a time: `add` tells whether a
    vector is independent of those before it (its rank test is exact)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.basis: list[tuple[int, list[int]]] = []   # (pivot column, vector)

    def add(self, vec: Sequence[int]) -> bool:
        v = list(vec[:self.width])
        for p, w in self.basis:
            if v[p]:
                f, k = w[p], v[p]
                v = [f * x - k * y for x, y in zip(v, w)]
        pivot = next((c for c, x in enumerate(v) if x), None)
        if pivot is None:
            return False
        d = gcd(*v)
        self.basis.append((pivot, [x // d for x in v]))
        return True


def _pick_basis(rows: Sequence[Sequence[int]], order: Sequence[int], n: int) -> list[int] | None:
    """Greedily choose `n` linearly independent rows (over x and t) in the given order."""
    echelon = _Echelon(n)
    chosen = [i for i in order if len(echelon.basis) < n and echelon.add(rows[i])]
    return chosen if len(chosen) == n else None


def _gauss_jordan(m: list[list[int]], n: int) -> int | None:
    """Fraction-free Gauss-Jordan elimination of the leading `n x n` block, in place:
    afterwards `m = [d I | d B^-1 R]` for `m = [B | R]`, with `d = +-det B` returned
    (None: singular).  Each division by the previous pivot is exact (Bareiss)."""
    prev = 1
    for k in range(n):
        p = next((i for i in range(k, n) if m[i][k]), None)
        if p is None:
            return None
        m[k], m[p] = m[p], m[k]
        pivot_row = m[k]
        d = pivot_row[k]
        for i in range(n):
            if i != k:
                row = m[i]
                f = row[k]
                m[i] = [(d * x - f * y) // prev for x, y in zip(row, pivot_row)]
        prev = d
    return prev


class _Exact:
    """A problem's rows scaled to integers: row `i` is `(g, tau, h)` times `scale[i] > 0`,
    and the point and direction times positive integers."""

    def __init__(self, problem: MinMax) -> None:
        self.rows: list[list[int]] = []
        self.scale: list[int] = []
        for r in problem.rows:
            ints, s = _integers((*r.g, r.tau, *r.h))  # type: ignore[arg-type]  # tau is an int, exact as a Fraction
            self.rows.append(ints)
            self.scale.append(s)
        self.point = _integers(problem.point)[0]
        self.direction = _integers(problem.direction)[0]


def _certify(problem: MinMax, exact: _Exact, basis: list[int]) -> Solution | None:
    n = problem.n_vars + 1
    width = len(problem.point)
    # [G_B | -h_B | I] -> [d I | d z | d G_B^-1] (rows of G_B scaled: still the same z).
    m = [[*exact.rows[i][:n], *(-c for c in exact.rows[i][n:]), *(int(j == k) for j in range(n))]
         for k, i in enumerate(basis)]
    d = _gauss_jordan(m, n)
    if d is None:
        return None
    sign = 1 if d > 0 else -1
    den = sign * d
    z = [[sign * c for c in m[j][n:n + width]] for j in range(n)]   # z[j] = affine in scales, times den
    # Dual: G_B^T y = -e_t, i.e. y_k = -(G_B^-1)[t][k] = -scale_k (G'^-1)[t][k] for scaled G'.
    inverse_t = m[n - 1][n + width:]
    if any(sign * v > 0 for v in inverse_t):
        return None
    # Exact feasibility at s, and just beyond it along the nudge (lexicographic); every
    # factor dropped (row scale, den, the point's and direction's scales) is positive.
    zp = [_dot(zj, exact.point) for zj in z]
    zd = [_dot(zj, exact.direction) for zj in z]
    for row in exact.rows:   # `_dot(row, zp)` stops after (g, tau), zp's length
        h = row[n:]
        at_point = _dot(row, zp) + den * _dot(h, exact.point)
        if at_point > 0 or (at_point == 0 and _dot(row, zd) + den * _dot(h, exact.direction) > 0):
            return None
    affine = [tuple(Fraction(c, den) for c in zj) for zj in z]
    value = _evaluate(affine[-1], problem.point)
    y = {i: Fraction(-sign * exact.scale[i] * inverse_t[k], den) for k, i in enumerate(basis)}
    return Solution(t=affine[-1], x=tuple(affine[:-1]), value=value, equalities=(), multipliers=y)


def _dot(u: Sequence[int], v: Sequence[int]) -> int:
    return sum(a * b for a, b in zip(u, v))


def _evaluate(aff: Affine, at: Sequence[Fraction]) -> Fraction:
    return sum((c * x for c, x in zip(aff, at)), Fraction(0))


def exact_optimum(problem: MinMax, face: bool = True) -> Solution | None:
    """The certified exact optimum (None: infeasible).  `face=False` skips the optimal
    face's implicit equalities (callers that only need the value and the multipliers)."""
    n = problem.n_vars + 1
    c = _objective(n)
    lower, upper = _bounds(problem.n_vars, n)
    exact = _Exact(problem)
    for nudge in (problem.nudge, problem.nudge**2, 0.0):
        a, b = problem.numeric(nudge)
        res = highs.solve(c, a, b, lower, upper)
        if res.status == 2:
            return None
        if res.status != 0:
            raise LPError(f"HiGHS returned status {res.status}: {res.message}")
        assert res.x is not None and res.marginals is not None   # status 0: optimal
        slack = b - a @ res.x
        marg = np.abs(res.marginals)
        order = sorted(range(len(problem.rows)), key=lambda i: (-marg[i], abs(slack[i])))
        # Rows the nudge loosens have slacks of order `nudge`: tightness is judged well below it.
        tight = min(1e-7, max(1e-10, 1e-3 * nudge))
        order = [i for i in order if marg[i] > 1e-9 or abs(slack[i]) < tight]
        basis = _pick_basis(exact.rows, order, n)
        if basis is None:
            continue
        sol = _certify(problem, exact, basis)
        if sol is not None:
            if not face:
                return sol
            face_rows = _face(problem, exact, sol, nudge, a, b)
            return Solution(sol.t, sol.x, sol.value, face_rows, sol.multipliers)
    raise LPError("could not certify the optimum of a linear program exactly")


def _face(problem: MinMax, exact: _Exact, sol: Solution, nudge: float, a: np.ndarray, b: np.ndarray) -> tuple[int, ...]:
    """Rows tight on the whole optimal face (its implicit equalities), at the nudge.

    Rows with positive multipliers are tight on every optimum (complementary
    slackness).  If they leave some freedom, an auxiliary programme maximises a common
    slack of the other rows on that set; rows it cannot loosen are tight as well.
    """
    eq = {i for i, y in sol.multipliers.items() if y > 0}
    n_vars = problem.n_vars
    at = [float(p) + nudge * float(v) for p, v in zip(problem.point, problem.direction)]
    t_star = sum(float(c) * x for c, x in zip(sol.t, at))
    n = n_vars + 1
    c = _objective(n, -1.0)
    lower, upper = _bounds(n_vars, n, 1.0)
    while True:
        echelon = _Echelon(n_vars)
        if sum(echelon.add(exact.rows[i]) for i in eq) == n_vars:
            return tuple(sorted(eq))
        rest = [i for i in range(len(problem.rows)) if i not in eq]
        if not rest:
            return tuple(sorted(eq))
        # Variables: x, sigma.  maximise sigma: rows in eq tight, others with slack sigma.
        a_eq = np.zeros((len(eq), n))
        b_eq = np.zeros(len(eq))
        for k, i in enumerate(sorted(eq)):
            a_eq[k, :n_vars] = a[i, :n_vars]
            b_eq[k] = b[i] - a[i, n_vars] * t_star
        a_ub = np.zeros((len(rest), n))
        b_ub = np.zeros(len(rest))
        for k, i in enumerate(rest):
            a_ub[k, :n_vars] = a[i, :n_vars]
            a_ub[k, n_vars] = 1.0
            b_ub[k] = b[i] - a[i, n_vars] * t_star
        res = highs.solve(c, a_ub, b_ub, lower, upper, a_eq if len(eq) else None, b_eq if len(eq) else None)
        if res.status != 0:
            raise LPError(f"face analysis failed: {res.message}")
        assert res.fun is not None and res.marginals is not None   # status 0: optimal
        if -res.fun > 1e-7:
            return tuple(sorted(eq))
        marg = np.abs(res.marginals)
        grown = {rest[k] for k in range(len(rest)) if marg[k] > 1e-9}
        if not grown:
            return tuple(sorted(eq))
        eq |= grown
