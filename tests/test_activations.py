"""Activation profiles: builtins, exact Hermite conversion of polynomials, custom supports."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curse_cli.archs.activations import (
    BUILTIN_NAMES,
    builtin,
    custom,
    exact,
    from_polynomial,
    hermite_coefficients,
)
from curse_cli.archs.problem import Support

F = Fraction


def test_builtin_profiles() -> None:
    erf = builtin("erf")
    assert erf.kind == "bounded" and erf.bounded
    assert erf.hermite.upto(7) == (1, 3, 5, 7) and erf.taylor is not None and erf.taylor.upto(5) == (1, 3, 5)
    assert builtin("tanh").hermite == erf.hermite
    relu = builtin("relu")
    assert relu.kind == "homogeneous" and relu.taylor is None
    assert relu.hermite.upto(6) == (1, 2, 4, 6) and 3 not in relu.hermite
    assert builtin("linear").hermite == Support(frozenset({1})) == builtin("linear").taylor
    assert builtin("quadratic").hermite == Support(frozenset({2}))
    assert builtin("cubic").hermite == Support(frozenset({1, 3}))
    assert builtin("cubic").taylor == Support(frozenset({3}))
    assert set(BUILTIN_NAMES) == {"erf", "tanh", "relu", "linear", "quadratic", "cubic"}


def test_unknown_builtin() -> None:
    with pytest.raises(ValueError, match="allowed: erf, tanh"):
        builtin("sigmoid")


def test_builtin_polynomials_match_their_expansion() -> None:
    assert from_polynomial([0, 0, 1]).hermite == builtin("quadratic").hermite
    assert from_polynomial([0, 0, 0, 1]).hermite == builtin("cubic").hermite
    assert from_polynomial([0, 0, 0, 1]).taylor == builtin("cubic").taylor


@pytest.mark.parametrize(
    "coeffs, hermite",
    [
        ([0, 1], [0, 1]),
        ([0, 0, 1], [1, 0, 1]),  # v^2 = He_2 + 1
        ([0, 0, 0, 1], [0, 3, 0, 1]),  # v^3 = He_3 + 3 He_1
        ([0, 0, 0, 0, 1], [3, 0, 6, 0, 1]),  # v^4 = He_4 + 6 He_2 + 3
        ([0, 3, 0, -1], [0, 0, 0, -1]),  # 3v - v^3 = -He_3
        ([1.5, 0.1], [F(3, 2), F(1, 10)]),
        (["1/3", 0, "0.5"], [F(5, 6), 0, F(1, 2)]),
    ],
)
def test_hermite_coefficients(coeffs: list, hermite: list) -> None:
    assert hermite_coefficients(coeffs) == [F(h) for h in hermite]


def test_cancelling_polynomial_keeps_only_surviving_orders() -> None:
    act = from_polynomial([0, 3, 0, -1])
    assert act.hermite == Support(frozenset({3}))
    assert act.taylor == Support(frozenset({1, 3}))
    assert act.kind == "polynomial" and act.name == "polynomial"


@pytest.mark.parametrize("coeffs", [[], [2], [1.5, 0, 0], [0, 0.0]])
def test_constant_polynomial_is_rejected(coeffs: list) -> None:
    with pytest.raises(ValueError, match="constant"):
        from_polynomial(coeffs)


@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), "abc", None, "1/0"])
def test_exact_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        exact(value)  # type: ignore[arg-type]


def _probabilists_hermite(n: int, x: float) -> float:
    a, b = 1.0, x
    if n == 0:
        return a
    for k in range(1, n):
        a, b = b, x * b - k * a
    return b


coefficients = st.lists(st.builds(Fraction, st.integers(-6, 6), st.sampled_from([1, 2, 3])), min_size=1, max_size=7)


@settings(max_examples=200, deadline=None)
@given(coefficients, st.floats(min_value=-2, max_value=2))
def test_hermite_expansion_is_the_same_function(coeffs: list[Fraction], x: float) -> None:
    power = sum(float(a) * x**m for m, a in enumerate(coeffs))
    herm = sum(float(h) * _probabilists_hermite(n, x) for n, h in enumerate(hermite_coefficients(coeffs)))
    assert math.isclose(power, herm, rel_tol=1e-9, abs_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(coefficients)
def test_leading_power_survives(coeffs: list[Fraction]) -> None:
    top = max((m for m, a in enumerate(coeffs) if a != 0), default=0)
    if top == 0:
        with pytest.raises(ValueError):
            from_polynomial(coeffs)
        return
    act = from_polynomial(coeffs)
    assert top in act.hermite and top in act.taylor  # type: ignore[operator]
    assert hermite_coefficients(coeffs)[top] == coeffs[top]


def test_custom() -> None:
    act = custom([1, 3], [3], "polynomial")
    assert act.name == "custom" and act.hermite == Support(frozenset({1, 3}))
    assert custom([1, 2], None, "homogeneous").taylor is None
    with pytest.raises(ValueError, match="needs `taylor`"):
        custom([1], None, "bounded")
    with pytest.raises(ValueError, match="at least one order"):
        custom([], [1], "bounded")
    with pytest.raises(ValueError, match="at least one power"):
        custom([1], [], "bounded")
    with pytest.raises(ValueError, match=">= 1"):
        custom([0], [1], "bounded")
