"""HiGHS in floating point: the public `linprog` path and a direct, faster path.

`solve_linprog` is the reference: scipy's public `linprog(method="highs")`.
`solve_highs` builds the same model, options and final check through scipy's bundled
HiGHS bindings without linprog's per-call validation (about 5x faster on our tiny
programmes).  The bindings are private, so they are checked at import on problems with
known answers; on any surprise `solve` is the public path.  `tests/test_lp.py` checks
that both paths agree.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np

SAFETY = 1e4


class HighsError(RuntimeError):
    """HiGHS refused an option (an internal error)."""


class Result(NamedTuple):
    """What the method reads of a solve, with `linprog`'s status codes (0 optimal,
    2 infeasible, anything else a failure); the arrays are None unless optimal."""

    status: int
    fun: float | None
    x: np.ndarray | None
    marginals: np.ndarray | None   # of the inequality rows
    message: str


def solve_linprog(c: np.ndarray, a_ub: np.ndarray, b_ub: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                   a_eq: np.ndarray | None = None, b_eq: np.ndarray | None = None) -> Result:
    """The reference: scipy's public `linprog` (HiGHS, default options)."""
    from scipy.optimize import linprog

    res = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=np.column_stack([lower, upper]),
                  method="highs")
    if res.status != 0:
        return Result(res.status, None, None, None, res.message)
    return Result(0, float(res.fun), res.x, res.ineqlin.marginals, res.message)


def _bindings():
    """scipy's bundled HiGHS bindings (`scipy.optimize._highspy._core`), loaded from their
    file without running `scipy.optimize`'s package import, which loads all of scipy's
    optimisers and dominates a short run's start-up.  The module is registered under
    its own name, so a later `import scipy.optimize` (the linprog path, `curse ldt`)
    finds and reuses it instead of loading the extension twice."""
    name = "scipy.optimize._highspy._core"
    if name in sys.modules:
        return sys.modules[name]
    import scipy

    folder = Path(scipy.__file__).parent / "optimize" / "_highspy"
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"_core{suffix}"
        spec = importlib.util.spec_from_file_location(name, path) if path.is_file() else None
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module
    from scipy.optimize._highspy import _core  # an unusual layout: the ordinary import

    return _core


try:  # scipy's private bindings: any surprise and the public path is used instead
    _h = _bindings()

    _OPTIMAL = _h.HighsModelStatus.kOptimal
    _SCIPY_STATUS = {_OPTIMAL: 0, _h.HighsModelStatus.kInfeasible: 2,
                     _h.HighsModelStatus.kModelError: 2,   # as linprog maps it
                     _h.HighsModelStatus.kUnbounded: 3, _h.HighsModelStatus.kTimeLimit: 1,
                     _h.HighsModelStatus.kIterationLimit: 1}
    _ERROR = _h.HighsStatus.kError
    _COLWISE = _h.MatrixFormat.kColwise
    _HighsLp, _Highs = _h.HighsLp, _h._Highs
except (ImportError, AttributeError, OSError):  # pragma: no cover - depends on the scipy build
    _h = None

# The options `linprog(method="highs")` passes; all else is HiGHS's default.
_OPTIONS = (("output_flag", False), ("log_to_console", False), ("presolve", "on"),
            ("highs_debug_level", 0), ("simplex_strategy", 1))
_FEASIBILITY_TOL = np.sqrt(1e-9) * 10   # linprog's final check of an optimum
_local = threading.local()


def _highs():
    """This thread's HiGHS instance with linprog's options (each solve passes a new
    model, which clears the previous model, basis and solution)."""
    highs = getattr(_local, "highs", None)
    if highs is None:
        highs = _Highs()
        for key, value in _OPTIONS:
            if highs.setOptionValue(key, value) != _h.HighsStatus.kOk:
                raise HighsError(f"HiGHS rejected option {key}={value!r}")
        _local.highs = highs
    return highs


def _model(cost: list[float], columns: list[list[float]], lhs: list[float], rhs: list[float],
           lower: list[float], upper: list[float]):
    """A HiGHS model `lhs <= A x <= rhs`, `lower <= x <= upper`, minimising `cost . x`,
    from `A`'s columns (stored column-wise, explicit zeros dropped)."""
    start, index, value = [0], [], []
    for column in columns:
        for i, v in enumerate(column):
            if v != 0:
                index.append(i)
                value.append(v)
        start.append(len(index))
    model = _HighsLp()
    model.num_col_ = model.a_matrix_.num_col_ = len(columns)
    model.num_row_ = model.a_matrix_.num_row_ = len(rhs)
    model.a_matrix_.format_ = _COLWISE
    model.col_cost_ = cost
    model.col_lower_ = lower
    model.col_upper_ = upper
    model.row_lower_ = lhs
    model.row_upper_ = rhs
    model.a_matrix_.start_ = start
    model.a_matrix_.index_ = index
    model.a_matrix_.value_ = value
    return model


class Warm:
    """One model `rows . x >= rhs`, `lower <= x <= upper` kept loaded, minimised for one
    objective after another, each solve starting from the previous basis (presolve is
    off: it would discard that basis).  Made by `warm`."""

    def __init__(self, highs) -> None:
        self._highs = highs

    def minimum(self, c: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """A minimiser of `c . x` and the rows' duals there (None: not optimal)."""
        h = self._highs
        h.changeColsCost(len(c), np.arange(len(c), dtype=np.int32), c)
        h.run()
        if h.getModelStatus() != _OPTIMAL:
            return None
        solution = h.getSolution()
        return np.array(solution.col_value), np.array(solution.row_dual)


def warm(rows: np.ndarray, rhs: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> Warm | None:
    """A `Warm` model, or None without the direct bindings (`FAST`): the caller then
    solves each objective with `solve_linprog`."""
    if not FAST:
        return None
    h = _Highs()
    for key, value in _OPTIONS:
        h.setOptionValue(key, value)
    h.setOptionValue("presolve", "off")
    model = _model([0.0] * rows.shape[1], rows.T.tolist(), rhs.tolist(), [np.inf] * len(rhs),
                   lower.tolist(), upper.tolist())
    return Warm(h) if h.passModel(model) != _ERROR else None


def solve_highs(c: np.ndarray, a_ub: np.ndarray, b_ub: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 a_eq: np.ndarray | None = None, b_eq: np.ndarray | None = None) -> Result:
    """What `solve_linprog` computes, without linprog's validation: the same model
    (column-wise, explicit zeros dropped, rows `-inf <= A_ub x <= b_ub` then
    `b_eq <= A_eq x <= b_eq`), options and final feasibility check.  Small models
    travel as lists, which the bindings copy faster than arrays."""
    m_ub = len(b_ub)
    lhs = [-np.inf] * m_ub
    rhs = b_ub.tolist()
    columns = a_ub.T.tolist()
    if a_eq is not None:
        assert b_eq is not None, "a_eq comes with b_eq"
        lhs += b_eq.tolist()
        rhs += b_eq.tolist()
        columns = [u + e for u, e in zip(columns, a_eq.T.tolist())]
    lows, ups = lower.tolist(), upper.tolist()
    model = _model(c.tolist(), columns, lhs, rhs, lows, ups)
    highs = _highs()
    if highs.passModel(model) == _ERROR:
        return Result(2, None, None, None, "HiGHS could not load the model")
    highs.run()
    status = highs.getModelStatus()
    if status != _OPTIMAL:
        return Result(_SCIPY_STATUS.get(status, 4), None, None, None, highs.modelStatusToString(status))
    solution = highs.getSolution()
    x, row, fun = solution.col_value, solution.row_value, highs.getObjectiveValue()
    tol = _FEASIBILITY_TOL
    feasible = (fun == fun and all(lo - tol <= v <= up + tol for v, lo, up in zip(x, lows, ups))
                and all(r - v >= -tol for r, v in zip(rhs[:m_ub], row))
                and all(abs(r - v) <= tol for r, v in zip(rhs[m_ub:], row[m_ub:])))
    if not feasible:
        return Result(4, None, None, None, "the optimum does not satisfy the constraints within tolerance")
    return Result(0, fun, np.array(x), np.array(solution.row_dual[:m_ub]), "optimal")


def _self_test() -> bool:
    """Whether the direct bindings still work as this module drives them: min
    max(x + 1, 3 - 3x) over x >= 0 is 3/2 at x = 1/2 (multipliers 3/4, 1/4), 2 with
    x = 1 imposed, and x <= -1 <= -x is infeasible."""
    c = np.array([0.0, 1.0])
    a = np.array([[1.0, -1.0], [-3.0, -1.0], [-1.0, 0.0]])
    b = np.array([-1.0, -3.0, 0.0])
    lower, upper = np.array([-SAFETY, -np.inf]), np.array([SAFETY, np.inf])
    try:
        free = solve_highs(c, a, b, lower, upper)
        fixed = solve_highs(c, a, b, lower, upper, a[2:], np.array([-1.0]))
        empty = solve_highs(c, np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([-1.0, -1.0]), lower, upper)
    except (AttributeError, TypeError, ValueError, RuntimeError):  # pragma: no cover
        return False
    # x and marginals are arrays whenever the status (tested first) is 0
    return (free.status == 0 and np.allclose([free.fun, *free.x, *free.marginals], [1.5, 0.5, 1.5, -0.75, -0.25, 0])  # type: ignore[misc]
            and fixed.status == 0 and np.allclose([fixed.fun, *fixed.x], [2.0, 1.0, 2.0]) and empty.status == 2)  # type: ignore[misc]


FAST = _h is not None and _self_test()
solve = solve_highs if FAST else solve_linprog
