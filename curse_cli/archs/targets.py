"""The targets an architecture can be asked to learn, as spec models.

`hermite`: the single-index target `He_k(w*.x)` (per patch, for a convolutional
network).  `two-token`: softmax attention's `L^-1 sum_{i != j} (u.x_i)^r (v.x_j)^r
(w.x_j)` of odd degree `2r + 1 >= 3` (docs/theory.md section 8.2).
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field, field_validator

from curse_cli.archs.base import Block
from curse_cli.archs.fields import Order


class HermiteTarget(Block):
    kind: Literal["hermite"] = Field(description="single-index He_k(w*.x)")
    degree: Order


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
