"""Exponent parsing, monomial printing and the monomial algebra."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curse_cli.algebra.scales import (
    EXPONENT_FORMS,
    ExponentError,
    Monomial,
    format_fraction,
    format_monomial,
    parse_exponent,
)

F = Fraction

# -- parse_exponent --------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (1, F(1)),
        (0, F(0)),
        (-2, F(-2)),
        (0.5, F(1, 2)),
        (0.1, F(1, 10)),  # the decimal as written, not the binary float
        (F(3, 2), F(3, 2)),
        ("1", F(1)),
        ("-1", F(-1)),
        ("1/2", F(1, 2)),
        ("-3/4", F(-3, 4)),
        ("0.25", F(1, 4)),
        ("d", F(1)),
        ("d^2", F(2)),
        ("d^-1", F(-1)),
        ("d^(3/2)", F(3, 2)),
        ("d^(-1/2)", F(-1, 2)),
        ("d ^ ( 3/2 )", F(3, 2)),
        ("  d^2  ", F(2)),
        ("sqrt(d)", F(1, 2)),
        ("sqrt( d )", F(1, 2)),
    ],
)
def test_parse_exponent_accepts(value: object, expected: Fraction) -> None:
    result = parse_exponent(value)
    assert result == expected
    assert isinstance(result, Fraction)


@pytest.mark.parametrize(
    "value",
    ["d^x", "2d", "", "   ", "abc", "d^", "d**2", "sqrt(2)", "1/0", "d^(1/0)", "e", "1e3",
     "__import__('os')", True, False, None, float("nan"), float("inf"), [1], {"d": 1}],
)
def test_parse_exponent_rejects(value: object) -> None:
    with pytest.raises(ExponentError):
        parse_exponent(value)


def test_exponent_error_is_a_value_error_naming_the_forms() -> None:
    with pytest.raises(ValueError, match="accepted forms") as info:
        parse_exponent("d^x")
    assert EXPONENT_FORMS in str(info.value)


# -- printing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "monomial, text",
    [
        (Monomial({"N1": F(1, 3), "N2": F(1, 3), "d": F(1, 3)}), "(N1 N2 d)^(1/3)"),
        (Monomial({"N1": F(1, 3), "N2": F(1, 3), "d": F(-2, 3)}), "(N1 N2/d^2)^(1/3)"),
        (Monomial({"N": F(3, 4), "d": F(3, 4)}), "(N d)^(3/4)"),
        (Monomial({"d": 3}), "d^3"),
        (Monomial(), "1"),
        (Monomial({"d": -1}), "1/d"),
        (Monomial({"N": F(1, 2), "d": F(-1, 2)}), "(N/d)^(1/2)"),
        (Monomial({"kappa": 1, "d": 1}), "kappa d"),
    ],
)
def test_format_monomial(monomial: Monomial, text: str) -> None:
    assert str(monomial) == text
    assert format_monomial(dict(monomial)) == text


def test_linear_reading() -> None:
    assert Monomial({"N1": F(1, 3), "N2": F(1, 3), "d": F(1, 3)}).linear() == "([N1] + [N2] + 1)/3"
    assert Monomial().linear() == "0"


@pytest.mark.parametrize("value, text", [(F(3, 2), "3/2"), (F(-1), "-1"), (F(0), "0"), (F(4, 2), "2")])
def test_format_fraction(value: Fraction, text: str) -> None:
    assert format_fraction(value) == text


# -- the algebra (property tests) ------------------------------------------------------

NAMES = ("N1", "N2", "d", "kappa")
# Built from small integers: much faster to generate than st.fractions.
fractions = st.builds(Fraction, st.integers(-24, 24), st.sampled_from([1, 2, 3, 4, 6]))
monomials = st.dictionaries(st.sampled_from(NAMES), fractions, max_size=len(NAMES)).map(Monomial)
scale_values = st.fixed_dictionaries({name: fractions for name in NAMES if name != "d"})

fast = settings(max_examples=200, deadline=None)


@fast
@given(monomials, monomials, monomials)
def test_product_is_associative(a: Monomial, b: Monomial, c: Monomial) -> None:
    assert (a * b) * c == a * (b * c)


@fast
@given(monomials, monomials)
def test_product_is_commutative(a: Monomial, b: Monomial) -> None:
    assert a * b == b * a


@fast
@given(monomials)
def test_identity_and_inverse(a: Monomial) -> None:
    assert a * Monomial() == a
    assert a / a == Monomial()
    assert a * a ** -1 == Monomial()
    assert a**0 == Monomial()
    assert a**1 == a


@fast
@given(monomials, monomials, fractions)
def test_power_distributes(a: Monomial, b: Monomial, r: Fraction) -> None:
    assert (a * b) ** r == a**r * b**r


@fast
@given(monomials, fractions, fractions)
def test_powers_compose(a: Monomial, r: Fraction, s: Fraction) -> None:
    assert (a**r) ** s == a ** (r * s)
    assert a**r * a**s == a ** (r + s)


@fast
@given(st.dictionaries(st.sampled_from(NAMES), fractions, max_size=len(NAMES)))
def test_equality_and_hash_are_canonical(items: dict[str, Fraction]) -> None:
    with_zero = dict(items)
    with_zero["extra"] = F(0)
    a, b = Monomial(items), Monomial(with_zero)
    assert a == b
    assert hash(a) == hash(b)
    assert "extra" not in b
    assert all(v != 0 for v in b.values())
    assert Monomial(dict(reversed(list(items.items())))) == a


@fast
@given(monomials, monomials, scale_values)
def test_exponent_is_a_homomorphism(a: Monomial, b: Monomial, scales: dict[str, Fraction]) -> None:
    assert (a * b).exponent(scales) == a.exponent(scales) + b.exponent(scales)
    assert (a / b).exponent(scales) == a.exponent(scales) - b.exponent(scales)
    assert Monomial().exponent(scales) == 0
    assert Monomial({"d": 1}).exponent(scales) == 1


@fast
@given(monomials, fractions, scale_values)
def test_exponent_scales_with_powers(a: Monomial, r: Fraction, scales: dict[str, Fraction]) -> None:
    assert (a**r).exponent(scales) == r * a.exponent(scales)


@fast
@given(monomials)
def test_monomials_are_immutable_mappings(a: Monomial) -> None:
    with pytest.raises(TypeError):
        a["N1"] = F(1)  # type: ignore[index]
    assert dict(a) == {k: a.power(k) for k in a}


@fast
@given(fractions)
def test_printed_fractions_parse_back(value: Fraction) -> None:
    text = format_fraction(value)
    assert parse_exponent(text) == value
    assert parse_exponent(f"d^({text})") == value


@fast
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
def test_floats_are_read_as_their_decimal(value: float) -> None:
    result = parse_exponent(value)
    assert result == Fraction(repr(value))
    assert math.isclose(float(result), value)


@fast
@given(monomials)
def test_printing_never_fails(a: Monomial) -> None:
    text = str(a)
    assert text and "\n" not in text
    assert (text == "1") == (a == Monomial())
