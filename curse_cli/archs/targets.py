"""The targets an architecture can be asked to learn, as spec models.

`hermite`: the single-index target `He_k(w*.x)` (per patch, for a convolutional
network).  `polynomial`: `sum_k c_k He_k(w*.x)`, given by its coefficients or by the
pieces' variance shares (docs/theory.md section 12); one piece is `hermite`.
`two-token`: softmax attention's `L^-1 sum_{i != j} (u.x_i)^r (v.x_j)^r
(w.x_j)` of odd degree `2r + 1 >= 3` (docs/theory.md section 8.2).
"""

from __future__ import annotations

from fractions import Fraction
from math import factorial
from typing import Annotated, Any, Literal, Optional, get_args

from pydantic import BaseModel, Field, PlainValidator, WithJsonSchema, field_validator, model_validator

from curse_cli.algebra.scales import exact_number
from curse_cli.archs.base import Block
from curse_cli.archs.fields import Coefficient, Order, show


class HermiteTarget(Block):
    kind: Literal["hermite"] = Field(description="single-index He_k(w*.x)")
    degree: Order


def _orders(value: Any) -> Any:
    """Keys of `coefficients`/`shares`: Hermite orders, integers >= 1 (YAML reads `1:` as one)."""
    if not isinstance(value, dict):
        return value
    if not value:
        raise ValueError("expected at least one piece, e.g. {1: 1, 3: 1}")
    out = {}
    for key, item in value.items():
        order = int(key) if isinstance(key, str) and key.strip().lstrip("-").isdigit() else key
        if isinstance(order, bool) or not isinstance(order, int):
            raise ValueError(f"expected Hermite orders (integers >= 1) as keys, got {show(key)}")
        if order < 1:
            raise ValueError(f"a piece's order is at least 1 (a constant is not learned), got {order}")
        if order in out:
            raise ValueError(f"the order {order} is given twice; give each piece once")
        out[order] = item
    return out


class PolynomialTarget(Block):
    """`sum_k c_k He_k(w*.x)`: exactly one of `coefficients` (of the probabilists' `He_k`)
    and `shares` (each piece's share of the target's variance, summing to one)."""

    kind: Literal["polynomial"] = Field(description="single-index sum_k c_k He_k(w*.x)")
    coefficients: Optional[dict[int, Coefficient]] = Field(
        default=None, description="order k -> coefficient c_k of He_k (numbers or fraction strings)")
    shares: Optional[dict[int, Coefficient]] = Field(
        default=None, description="order k -> share of the target's variance (summing to one)")

    @field_validator("coefficients", "shares", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        return _orders(value)

    @field_validator("shares")
    @classmethod
    def _shares(cls, value: Optional[dict[int, Fraction]]) -> Optional[dict[int, Fraction]]:
        if value is None:
            return value
        for k, w in value.items():
            if w < 0:
                raise ValueError(f"a share is at least 0, got {w} for order {k}")
        total = sum(value.values(), Fraction(0))
        if total != 1:
            raise ValueError(f"the shares must sum to 1, got {total}; give shares that sum to one, "
                             f"or coefficients instead")
        return value

    @model_validator(mode="after")
    def _one_of(self) -> PolynomialTarget:
        if (self.coefficients is None) == (self.shares is None):
            raise ValueError("give exactly one of coefficients: {k: c_k} and shares: {k: w_k}")
        if not self.pieces:
            raise ValueError("every coefficient is zero; give at least one non-zero piece")
        return self

    @property
    def pieces(self) -> tuple[tuple[int, Fraction], ...]:
        """(order, share) of every non-zero piece, by order: `w_k = c_k^2 k! / sum_j c_j^2 j!`."""
        if self.shares is not None:
            weights = dict(self.shares)
        else:
            assert self.coefficients is not None
            weights = {k: c * c * factorial(k) for k, c in self.coefficients.items()}
        total = sum(weights.values(), Fraction(0))
        if total == 0:
            return ()
        return tuple((k, w / total) for k, w in sorted(weights.items()) if w != 0)

    @property
    def degree(self) -> int:
        """The highest order: what the limits on a target's degree apply to."""
        return max(k for k, _ in self.pieces)


class TwoTokenTarget(Block):
    kind: Literal["two-token"] = Field(description="L^-1 sum_{i != j} (u.x_i)^r (v.x_j)^r (w.x_j)")
    degree: Order = Field(description="2r + 1: odd, at least 3")

    @field_validator("degree")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value < 3 or value % 2 == 0:
            raise ValueError(f"a two-token target has odd degree 2r + 1 >= 3 (3, 5, 7, ...), got {value}")
        return value

    @property
    def r(self) -> int:
        return (self.degree - 1) // 2


def kind_of(model: type[BaseModel]) -> str:
    """The tag a spec model answers to: the value of its `kind: Literal[...]` field."""
    (tag,) = get_args(model.model_fields["kind"].annotation)
    return tag


def alignment_value(value: Any) -> Fraction:
    """An alignment level: a number or fraction string in (0, 1]."""
    if isinstance(value, str):
        try:
            number = Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"expected a number in (0, 1] such as 1, 0.5 or \"1/3\", got {value!r}") from None
    else:
        try:
            number = exact_number(value)
        except ValueError:
            raise ValueError(f"expected a number in (0, 1] such as 1, 0.5 or \"1/3\", got {show(value)}") from None
    if not 0 < number <= 1:
        raise ValueError(f"an alignment is in (0, 1] (a share of the target's variance), got {show(value)}")
    return number


Alignment = Annotated[Fraction, PlainValidator(alignment_value),
                      WithJsonSchema({"type": ["number", "string"], "description": 'in (0, 1]: 1, 0.5, "1/3"'})]


def pieces_of(target: Any) -> tuple[tuple[int, Fraction], ...]:
    """(order, share) of a single-index target's pieces: `hermite` is its one piece."""
    if isinstance(target, PolynomialTarget):
        return target.pieces
    return ((target.degree, Fraction(1)),)


def several_pieces(target: Any) -> tuple[tuple[int, Fraction], ...]:
    """`Problem.shares` of a single-index target: its pieces when there are several; one
    piece is the Hermite target of that order (no shares), so `{k: 1}` is `He_k`."""
    pieces = pieces_of(target)
    return pieces if len(pieces) > 1 else ()


def target_words(target: Any, argument: str) -> str:
    """`He_1(w*.x) + He_3(w*.x)`: the target in words (shares where there are several)."""
    pieces = pieces_of(target)
    if len(pieces) == 1:
        return f"He_{pieces[0][0]}({argument})"
    return " + ".join(f"He_{k}" for k, _ in pieces) + f" of {argument} (shares " + \
        ", ".join(str(w) for _, w in pieces) + ")"


def target_document(target: Any) -> dict[str, Any]:
    """The target as plain data (exact fractions as strings)."""
    if isinstance(target, PolynomialTarget):
        field = "shares" if target.shares is not None else "coefficients"
        values = target.shares if target.shares is not None else target.coefficients
        assert values is not None
        return {"kind": target.kind, field: {str(k): str(v) for k, v in sorted(values.items())}}
    return {"kind": target.kind, "degree": target.degree}
