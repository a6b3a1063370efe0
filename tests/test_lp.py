"""The min-max LPs: hand-derived optima, and random problems checked independently.

Expected values are derived by hand in the docstrings.  Random problems are checked
against scipy's public `linprog` (float values) and against the optimality conditions
verified here with `Fraction`s (primal feasibility, dual feasibility, complementary
slackness, equal primal and dual values), never against the module's own output.
Both solver paths are exercised: HiGHS driven directly and the public `linprog`.
"""

from __future__ import annotations

import random
from fractions import Fraction as F

import numpy as np
import pytest
from scipy.optimize import linprog

from curse_cli.solve import highs
from curse_cli.solve import lp

PATHS = ["highs", "linprog"]


@pytest.fixture(params=PATHS)
def path(request, monkeypatch):
    """Run the test with the direct HiGHS path, then with the public `linprog` one."""
    if request.param == "highs":
        if not highs.FAST:  # pragma: no cover - depends on the scipy build
            pytest.skip("scipy's HiGHS bindings are not usable here")
        monkeypatch.setattr(highs, "solve", highs.solve_highs)
    else:
        monkeypatch.setattr(highs, "solve", highs.solve_linprog)
    return request.param


def row(g, tau, h, label=""):
    return lp.Row(tuple(F(v) for v in g), tau, tuple(F(v) for v in h), label)


def problem(n_vars, rows, point=(1,), direction=(0,)):
    return lp.MinMax(n_vars, tuple(rows), tuple(F(v) for v in point), tuple(F(v) for v in direction))


# -- checks, independent of the module ------------------------------------------------------


def affine_row(r: lp.Row, sol: lp.Solution) -> list[F]:
    """Row `g.x + tau t + h` as an affine function of the scales, at the solution."""
    return [sum((g * x[c] for g, x in zip(r.g, sol.x)), F(0)) + r.tau * sol.t[c] + r.h[c] for c in range(len(r.h))]


def at(aff, point) -> F:
    return sum((a * p for a, p in zip(aff, point)), F(0))


def check_certificate(mm: lp.MinMax, sol: lp.Solution) -> None:
    """KKT with Fractions: feasible at the point (and just beyond along the direction),
    multipliers >= 0 on tight rows, stationarity in x and t, and dual value = t."""
    for i, r in enumerate(mm.rows):
        aff = affine_row(r, sol)
        assert (at(aff, mm.point), at(aff, mm.direction)) <= (0, 0), f"row {i} violated"  # type: ignore[operator]  # Fractions against int zeros
    y = sol.multipliers
    assert all(v >= 0 for v in y.values())
    for i, v in y.items():
        if v:
            assert all(c == 0 for c in affine_row(mm.rows[i], sol)), f"row {i} has a multiplier but is not tight"
    for j in range(mm.n_vars):
        assert sum((v * mm.rows[i].g[j] for i, v in y.items()), F(0)) == 0
    assert sum((v * mm.rows[i].tau for i, v in y.items()), F(0)) == -1
    # Weak duality made tight: t >= sum y_i h_i(s) for every feasible point, with equality here.
    assert sum((v * at(mm.rows[i].h, mm.point) for i, v in y.items()), F(0)) == sol.value
    assert sol.value == at(sol.t, mm.point)
    for i in sol.equalities:
        assert at(affine_row(mm.rows[i], sol), mm.point) == 0
    assert {i for i, v in y.items() if v > 0} <= set(sol.equalities)


def float_optimum(problem: lp.MinMax) -> float | None:
    """The optimum in floating point at the nudged point (None: infeasible)."""
    return lp.float_solve(problem.n_vars, *problem.numeric(problem.nudge))


def reference_float(mm: lp.MinMax, nudge: float) -> float | None:
    """The optimum straight from scipy's public linprog, built here from the rows."""
    s = [float(p) + nudge * float(v) for p, v in zip(mm.point, mm.direction)]
    a = [[float(g) for g in r.g] + [float(r.tau)] for r in mm.rows]
    b = [-sum(float(h) * x for h, x in zip(r.h, s)) for r in mm.rows]
    res = linprog([0.0] * mm.n_vars + [1.0], A_ub=a, b_ub=b,
                  bounds=[(-lp.SAFETY, lp.SAFETY)] * mm.n_vars + [(None, None)], method="highs")
    assert res.status in (0, 2)
    return None if res.status == 2 else res.fun


# -- hand-derived problems -----------------------------------------------------------------


def test_min_of_max_of_two_lines(path):
    """min over x >= 0 of max(x + 1, 3 - 3x): the lines cross at x + 1 = 3 - 3x, i.e.
    x = 1/2, t = 3/2.  Multipliers: y1 + y2 = 1 (t) and y1 - 3 y2 = 0 (x), so y = (3/4, 1/4);
    both lines are tight on the (single-point) face, the bound x >= 0 is not."""
    mm = problem(1, [row([1], -1, [1]), row([-3], -1, [3]), row([-1], 0, [0])])
    sol = lp.exact_optimum(mm)
    assert sol.t == (F(3, 2),) and sol.x == ((F(1, 2),),) and sol.value == F(3, 2)
    assert sol.multipliers == {0: F(3, 4), 1: F(1, 4)}
    assert sol.equalities == (0, 1)
    assert float_optimum(mm) == pytest.approx(1.5, abs=1e-12)
    check_certificate(mm, sol)


def test_symbolic_scale(path):
    """min over x of max(x + 1, N - x) with scale exponent N (point N = 1, direction +1):
    x + 1 = N - x gives x = (N - 1)/2 and t = (N + 1)/2, i.e. coefficients (1/2, 1/2) over
    (constant, N); at the point t = 1, and at the nudged point 1 + NUDGE/2."""
    mm = problem(1, [row([1], -1, [1, 0]), row([-1], -1, [0, 1])], point=(1, 1), direction=(0, 1))
    sol = lp.exact_optimum(mm)
    assert sol.t == (F(1, 2), F(1, 2))
    assert sol.x == ((F(-1, 2), F(1, 2)),)
    assert sol.value == 1
    assert sol.equalities == (0, 1)
    assert float_optimum(mm) == pytest.approx(1 + lp.NUDGE / 2, abs=1e-12)
    check_certificate(mm, sol)


def test_degenerate_face_fixes_only_the_combination(path):
    """t = max(M + 2q, 2 - M - 2q) with 0 <= M <= 2, -1 <= q <= 0: with u = M + 2q the
    optimum is u = 1, t = 1, on the segment M in [1, 2], q = (1 - M)/2.  No bound is tight
    on the whole segment, so the face's equalities are the two terms, whose rows span
    only the direction (1, 2): M + 2q is determined, M and q are not."""
    rows = [row([1, 2], -1, [0]), row([-1, -2], -1, [2]),
            row([-1, 0], 0, [0]), row([1, 0], 0, [-2]), row([0, -1], 0, [-1]), row([0, 1], 0, [0])]
    mm = problem(2, rows)
    sol = lp.exact_optimum(mm)
    assert sol.t == (1,) and sol.value == 1
    m, q = sol.x[0][0], sol.x[1][0]
    assert m + 2 * q == 1 and 1 <= m <= 2
    assert sol.equalities == (0, 1)
    reduced, pivots = lp.rref([list(mm.rows[i].g) for i in sol.equalities], 2)
    assert reduced == [[1, 2]] and pivots == [0]
    assert sol.multipliers[0] == sol.multipliers[1] == F(1, 2)
    assert all(v == 0 for i, v in sol.multipliers.items() if i > 1)
    check_certificate(mm, sol)


def test_infeasible_is_none(path):
    """x <= -1 and x >= 1 cannot both hold."""
    mm = problem(1, [row([1], -1, [0]), row([1], 0, [1]), row([-1], 0, [1])])
    assert lp.exact_optimum(mm) is None
    assert float_optimum(mm) is None


def test_no_free_variable(path):
    """With no x, t = max(1, N/2) at N = 2 (direction +1): the term N/2 wins beyond the
    point (tie at the point, broken by the nudge), so t = N/2 = (0, 1/2)."""
    mm = problem(0, [row([], -1, [1, 0]), row([], -1, [0, F(1, 2)])], point=(1, 2), direction=(0, 1))
    sol = lp.exact_optimum(mm)
    assert sol.t == (0, F(1, 2)) and sol.value == 1 and sol.x == ()
    check_certificate(mm, sol)


def test_rref():
    """[[2, 4, 2], [1, 3, 0]] over two columns: subtract, scale: [[1, 0, 3], [0, 1, -1]]."""
    reduced, pivots = lp.rref([[F(2), F(4), F(2)], [F(1), F(3), F(0)]], 2)
    assert reduced == [[1, 0, 3], [0, 1, -1]] and pivots == [0, 1]


# -- random problems -------------------------------------------------------------------------


def random_problem(rng: random.Random) -> lp.MinMax:
    """A small min-max problem like the engine's: box bounds on the sizes, terms that t
    dominates, random side conditions (some make it infeasible), one or two scales."""
    n_vars = rng.randint(1, 5)
    width = rng.randint(2, 3)
    den = rng.choice([1, 2, 3, 4])

    def frac(lo, hi):
        return F(rng.randint(lo, hi), den)

    def h():
        return [frac(-6, 6)] + [frac(-2, 2) for _ in range(width - 1)]

    rows = []
    for j in range(n_vars):
        e = [0] * n_vars
        e[j] = 1
        rows.append(row([-v for v in e], 0, [frac(-4, 0)] + [0] * (width - 1), f"x{j} >= lo"))
        rows.append(row(e, 0, [frac(-6, -1)] + [frac(-1, 0) for _ in range(width - 1)], f"x{j} <= hi"))
    for k in range(rng.randint(1, 6)):
        rows.append(row([frac(-3, 3) for _ in range(n_vars)], -1, h(), f"term {k}"))
    for k in range(rng.randint(0, 3)):
        rows.append(row([frac(-2, 2) for _ in range(n_vars)], 0, h(), f"side {k}"))
    rng.shuffle(rows)
    point = (F(1),) + tuple(F(rng.randint(0, 4), rng.choice([1, 2])) for _ in range(width - 1))
    direction = (F(0),) + tuple(F(rng.randint(-2, 3), 2) for _ in range(width - 1))
    return lp.MinMax(n_vars, tuple(rows), point, direction)


def test_random_float_optimum_matches_linprog(path):
    rng = random.Random(20240601)
    statuses = set()
    for _ in range(40):
        mm = random_problem(rng)
        for nudge in (lp.NUDGE, 0.0):
            want = reference_float(mm, nudge)
            got = float_optimum(lp.MinMax(mm.n_vars, mm.rows, mm.point, mm.direction, nudge))
            statuses.add(want is None)
            assert (got is None) == (want is None)
            if want is not None:
                assert abs(got - want) <= 1e-9
    assert statuses == {True, False}, "the sample should hold feasible and infeasible problems"


def test_random_exact_optimum_is_certified():
    rng = random.Random(7)
    solved = 0
    for _ in range(90):
        mm = random_problem(rng)
        sol = lp.exact_optimum(mm)
        assert (sol is None) == (reference_float(mm, lp.NUDGE) is None)   # solved at the nudged point
        if sol is None:
            continue
        solved += 1
        assert abs(float(sol.value) - reference_float(mm, 0.0)) <= 1e-9
        check_certificate(mm, sol)
    assert solved > 25


def test_random_paths_agree(monkeypatch):
    """Direct HiGHS and public linprog: same statuses, float values within 1e-9, and the
    same exact optimum and face (x may differ only where the optimum is not unique)."""
    if not highs.FAST:  # pragma: no cover - depends on the scipy build
        pytest.skip("scipy's HiGHS bindings are not usable here")
    rng = random.Random(99)
    for _ in range(40):
        mm = random_problem(rng)
        results = {}
        for name, solve in (("highs", highs.solve_highs), ("linprog", highs.solve_linprog)):
            monkeypatch.setattr(highs, "solve", solve)
            results[name] = (float_optimum(mm), lp.exact_optimum(mm))
        (f1, s1), (f2, s2) = results["highs"], results["linprog"]
        assert (f1 is None) == (f2 is None) and (s1 is None) == (s2 is None)
        if f1 is not None:
            assert abs(f1 - f2) <= 1e-9
        if s1 is not None:
            assert (s1.t, s1.value, s1.equalities) == (s2.t, s2.value, s2.equalities)


def test_solvers_agree_with_equalities_and_infeasibility():
    """The two solver functions on raw random LPs with equality rows, as `_face` poses them."""
    if not highs.FAST:  # pragma: no cover - depends on the scipy build
        pytest.skip("scipy's HiGHS bindings are not usable here")
    rng = np.random.default_rng(5)
    kinds = set()
    for _ in range(80):
        n, m_ub, m_eq = rng.integers(1, 6), rng.integers(1, 12), rng.integers(0, 3)
        a_ub = rng.integers(-3, 4, (m_ub, n)).astype(float)
        b_ub = rng.integers(-4, 6, m_ub).astype(float)
        a_eq = rng.integers(-2, 3, (m_eq, n)).astype(float) if m_eq else None
        b_eq = rng.integers(-2, 3, m_eq).astype(float) if m_eq else None
        c = rng.integers(-2, 3, n).astype(float)
        lower, upper = np.full(n, -5.0), np.full(n, 5.0)
        got = highs.solve_highs(c, a_ub, b_ub, lower, upper, a_eq, b_eq)
        want = highs.solve_linprog(c, a_ub, b_ub, lower, upper, a_eq, b_eq)
        kinds.add(want.status)
        assert got.status == want.status
        if want.status == 0:
            assert abs(got.fun - want.fun) <= 1e-9
            assert np.allclose(got.marginals, want.marginals, atol=1e-9)
    assert {0, 2} <= kinds


# -- the exact algebra -----------------------------------------------------------------------


def test_fraction_free_elimination_solves_exactly():
    """`_gauss_jordan` on random integer systems: B (z / d) = R holds in Fractions."""
    rng = random.Random(3)
    for _ in range(200):
        n, w = rng.randint(1, 7), rng.randint(1, 4)
        b = [[rng.randint(-9, 9) if rng.random() < 0.6 else 0 for _ in range(n)] for _ in range(n)]
        r = [[rng.randint(-9, 9) for _ in range(w)] for _ in range(n)]
        m = [bi + ri for bi, ri in zip(b, r)]
        d = lp._gauss_jordan(m, n)
        rank = len(lp.rref([[F(v) for v in bi] for bi in b], n)[1])
        assert (d is None) == (rank < n)
        if d is None:
            continue
        z = [[F(m[i][n + c], d) for c in range(w)] for i in range(n)]
        for i in range(n):
            assert m[i][i] == d
            for c in range(w):
                assert sum((b[i][j] * z[j][c] for j in range(n)), F(0)) == r[i][c]


def test_echelon_rank_matches_rref():
    rng = random.Random(4)
    for _ in range(300):
        n = rng.randint(1, 6)
        vecs = [[rng.randint(-3, 3) if rng.random() < 0.5 else 0 for _ in range(n)] for _ in range(rng.randint(0, 8))]
        echelon = lp._Echelon(n)
        assert sum(echelon.add(v) for v in vecs) == len(lp.rref([[F(x) for x in v] for v in vecs], n)[1])


def test_numeric_matches_float_conversion():
    """`MinMax.numeric` is exactly the float arithmetic written out plainly."""
    rng = random.Random(11)
    for _ in range(50):
        mm = random_problem(rng)
        a, b = mm.numeric(lp.NUDGE)
        s = [float(p) + lp.NUDGE * float(v) for p, v in zip(mm.point, mm.direction)]
        assert a.tolist() == [[float(g) for g in r.g] + [float(r.tau)] for r in mm.rows]
        assert b.tolist() == [-sum(float(h) * x for h, x in zip(r.h, s)) for r in mm.rows]


def test_bindings_load_without_scipy_optimize_and_are_shared_with_it():
    """Start-up: the HiGHS bindings are loaded from their file, not through
    `scipy.optimize`'s package import (about 0.4 s); a later ordinary import of
    scipy.optimize (the linprog path, `curse ldt`) reuses the same module."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from curse_cli.solve import highs\n"
        "assert highs.FAST, 'the direct bindings failed their self-test'\n"
        "assert 'scipy.optimize' not in sys.modules, 'scipy.optimize was imported at start-up'\n"
        "from scipy.optimize import linprog\n"
        "from scipy.optimize._highspy import _core\n"
        "assert _core is highs._h\n"
        "assert linprog([1.0], bounds=[(0, 1)], method='highs').status == 0\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
