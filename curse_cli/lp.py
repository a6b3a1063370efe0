"""Min-max linear programs over exponents, solved by HiGHS and certified exactly.

The one problem shape: minimise `t` subject to rows `g.x + tau t + h(s) <= 0`, where `x`
are the free sizes, `tau` is -1 (a term that `t` must dominate) or 0 (a side
condition, such as a bound), and `h(s)` is affine in the scale exponents `s`.

`scipy.optimize.linprog` (HiGHS) finds the optimum in floating point at the spec's
point nudged along the direction of growing sizes.  The tight rows then give a basis
that is solved exactly with `Fraction`s, as an affine function of `s`, and certified:
the dual multipliers are exactly non-negative and the solution is exactly feasible at
`s` (and just beyond it along the nudge).  A result is never a rounded float.  Scipy is
hidden behind this module; infeasibility is a normal outcome, anything else an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np
from scipy.optimize import linprog

Affine = tuple[Fraction, ...]
"""Coefficients over (constant, scale_1, ..., scale_S)."""

NUDGE = 2.0**-14
SAFETY = 1e4


class LPError(RuntimeError):
    """The solver failed in a way the method does not expect (an internal error)."""


@dataclass(frozen=True)
class Row:
    g: tuple[Fraction, ...]
    tau: int
    h: Affine
    label: str


@dataclass(frozen=True)
class MinMax:
    """The problem as one immutable value: rows, and the scale point with its nudge."""

    n_vars: int
    rows: tuple[Row, ...]
    point: tuple[Fraction, ...]       # (1, s_1, ..., s_S)
    direction: tuple[Fraction, ...]   # (0, v_1, ..., v_S)

    def numeric(self, nudge: float) -> tuple[np.ndarray, np.ndarray]:
        a = np.array([[float(c) for c in r.g] + [float(r.tau)] for r in self.rows], dtype=float)
        at = [float(p) + nudge * float(v) for p, v in zip(self.point, self.direction)]
        b = np.array([-sum(float(c) * x for c, x in zip(r.h, at)) for r in self.rows], dtype=float)
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


def _solve(a: np.ndarray, b: np.ndarray, n_vars: int, objective: np.ndarray):
    bounds = [(-SAFETY, SAFETY)] * n_vars + [(None, None)] * (a.shape[1] - n_vars)
    return linprog(objective, A_ub=a, b_ub=b, bounds=bounds, method="highs")


def float_optimum(problem: MinMax, nudge: float = NUDGE) -> float | None:
    """The optimum in floating point at the nudged point (None: infeasible)."""
    a, b = problem.numeric(nudge)
    c = np.zeros(problem.n_vars + 1)
    c[-1] = 1.0
    res = _solve(a, b, problem.n_vars, c)
    if res.status == 2:
        return None
    if res.status != 0:
        raise LPError(f"HiGHS returned status {res.status}: {res.message}")
    return float(res.fun)


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


def _pick_basis(rows: Sequence[Row], order: Sequence[int], n: int) -> list[int] | None:
    """Greedily choose `n` linearly independent rows (over x and t) in the given order."""
    chosen: list[int] = []
    basis: list[list[Fraction]] = []
    for i in order:
        vec = [*rows[i].g, Fraction(rows[i].tau)]
        candidate = basis + [vec]
        reduced, _ = rref(candidate, n)
        if len(reduced) == len(candidate):
            basis = reduced
            chosen.append(i)
            if len(chosen) == n:
                return chosen
    return None


def _evaluate(aff: Affine, at: Sequence[Fraction]) -> Fraction:
    return sum((c * x for c, x in zip(aff, at)), Fraction(0))


def _certify(problem: MinMax, basis: list[int]) -> Solution | None:
    n = problem.n_vars + 1
    rows = problem.rows
    width = len(problem.point)
    # Primal: G_B z = -h_B(s), solved for every scale column at once.
    aug = [[*rows[i].g, Fraction(rows[i].tau), *(-c for c in rows[i].h)] for i in basis]
    reduced, pivots = rref(aug, n)
    if len(pivots) != n:
        return None
    z = [tuple(reduced[k][n:n + width]) for k in range(n)]  # z[j] = affine in scales
    # Dual: G_B^T y = -e_t, y >= 0.
    dual = [[Fraction(rows[i].g[j]) if j < n - 1 else Fraction(rows[i].tau) for i in basis] + [Fraction(-1 if j == n - 1 else 0)]
            for j in range(n)]
    dred, dpiv = rref(dual, len(basis))
    if len(dpiv) != len(basis):
        return None
    y = {basis[k]: dred[k][-1] for k in range(len(basis))}
    if any(v < 0 for v in y.values()):
        return None
    # Exact feasibility at s, and just beyond it along the nudge (lexicographic).
    for row in rows:
        lhs = [sum((g * zj[c] for g, zj in zip(row.g, z[:-1])), Fraction(0)) + row.tau * z[-1][c] + row.h[c]
               for c in range(width)]
        pair = (_evaluate(lhs, problem.point), _evaluate(lhs, problem.direction))
        if pair > (0, 0):
            return None
    value = _evaluate(z[-1], problem.point)
    return Solution(t=z[-1], x=tuple(z[:-1]), value=value, equalities=(), multipliers=y)


def exact_optimum(problem: MinMax) -> Solution | None:
    """The certified exact optimum (None: infeasible)."""
    n = problem.n_vars + 1
    c = np.zeros(n)
    c[-1] = 1.0
    for nudge in (NUDGE, NUDGE**2, 0.0):
        a, b = problem.numeric(nudge)
        res = _solve(a, b, problem.n_vars, c)
        if res.status == 2:
            return None
        if res.status != 0:
            raise LPError(f"HiGHS returned status {res.status}: {res.message}")
        slack = b - a @ res.x
        marg = np.abs(res.ineqlin.marginals)
        order = sorted(range(len(problem.rows)), key=lambda i: (-marg[i], abs(slack[i])))
        order = [i for i in order if marg[i] > 1e-9 or abs(slack[i]) < 1e-7]
        basis = _pick_basis(problem.rows, order, n)
        if basis is None:
            continue
        sol = _certify(problem, basis)
        if sol is not None:
            return Solution(sol.t, sol.x, sol.value, _face(problem, sol, nudge), sol.multipliers)
    raise LPError("could not certify the optimum of a linear program exactly")


def _face(problem: MinMax, sol: Solution, nudge: float) -> tuple[int, ...]:
    """Rows tight on the whole optimal face (its implicit equalities), at the nudge.

    Rows with positive multipliers are tight on every optimum (complementary
    slackness).  If they leave some freedom, an auxiliary programme maximises a common
    slack of the other rows on that set; rows it cannot loosen are tight as well.
    """
    eq = {i for i, y in sol.multipliers.items() if y > 0}
    n_vars = problem.n_vars
    a, b = problem.numeric(nudge)
    at = [float(p) + nudge * float(v) for p, v in zip(problem.point, problem.direction)]
    t_star = sum(float(c) * x for c, x in zip(sol.t, at))
    while True:
        _, pivots = rref([list(problem.rows[i].g) for i in eq], n_vars)
        if len(pivots) == n_vars:
            return tuple(sorted(eq))
        rest = [i for i in range(len(problem.rows)) if i not in eq]
        if not rest:
            return tuple(sorted(eq))
        # Variables: x, sigma.  maximise sigma: rows in eq tight, others with slack sigma.
        n = n_vars + 1
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
        obj = np.zeros(n)
        obj[-1] = -1.0
        bounds = [(-SAFETY, SAFETY)] * n_vars + [(None, 1.0)]
        res = linprog(obj, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq if len(eq) else None, b_eq=b_eq if len(eq) else None,
                      bounds=bounds, method="highs")
        if res.status != 0:
            raise LPError(f"face analysis failed: {res.message}")
        if -res.fun > 1e-7:
            return tuple(sorted(eq))
        marg = np.abs(res.ineqlin.marginals)
        grown = {rest[k] for k in range(len(rest)) if marg[k] > 1e-9}
        if not grown:
            return tuple(sorted(eq))
        eq |= grown
