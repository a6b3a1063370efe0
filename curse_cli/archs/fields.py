"""The vocabulary spec models are written in: exponents, sizes, scale names, activations.

Shared by the top-level spec (`spec/models.py`) and every architecture's block
(`archs/fcn.py`, ...).  Exponents are exact `Fraction`s read by `scales.parse_exponent`;
each validator raises a `ValueError` whose text pydantic reports with the field's path.
"""

from __future__ import annotations

import reprlib
from fractions import Fraction
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from curse_cli.archs import activations
from curse_cli.algebra.scales import BASE, EXPONENT_FORMS, format_fraction, parse_exponent
from curse_cli.archs.base import Block
from curse_cli.archs.problem import Activation

DEFAULT_RIDGE = "kappa"  # the only scale that may be left undeclared (exponent 0)
_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_ACTIVATION_FORMS = (
    f"{', '.join(activations.BUILTIN_NAMES)}, {{polynomial: [a0, a1, ...]}} "
    "or {hermite: [...], taylor: [...], kind: bounded | homogeneous | polynomial}"
)


# -- scalar forms ----------------------------------------------------------------------


def _exponent(value: Any) -> Fraction:
    return parse_exponent(value)  # ExponentError is a ValueError: pydantic reports it


def _size_ref(value: Any) -> str | Fraction:
    if isinstance(value, str) and value != BASE and is_scale_name(value):
        return value
    try:
        return parse_exponent(value)
    except ValueError:
        raise ValueError(
            f"{show(value)} is neither a scale name nor a power of d; "
            f'use a declared scale name or a power of d like "d^2"'
        ) from None


def is_scale_name(text: str) -> bool:
    """Is `text` a valid scale name (an identifier)?"""
    return text.isascii() and text.isidentifier()


def _scale_name(value: Any) -> str:
    if not isinstance(value, str) or not is_scale_name(value):
        raise ValueError(f"expected a scale name such as kappa, got {show(value)}")
    if value == BASE:
        raise ValueError("d is the base scale; name the ridge scale, e.g. kappa")
    return value


def _coefficient(value: Any) -> Fraction:
    return activations.exact(value)


def _builtin_name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an activation: {_ACTIVATION_FORMS}; got {show(value)}")
    if value not in activations.BUILTIN_NAMES:
        hint = suggest(value, activations.BUILTIN_NAMES)
        raise ValueError(f"unknown activation {value!r}{hint}; allowed: {_ACTIVATION_FORMS}")
    return value


def nonempty_widths(value: tuple[Any, ...]) -> tuple[Any, ...]:
    if not value:
        raise ValueError("zero hidden layers; list at least one hidden width, e.g. [N]")
    return value


_BOOLEAN_HINT = " (quote it: YAML reads yes/no/on/off/true/false as booleans)"

_EXPONENT_SCHEMA = {"type": ["number", "string"], "description": f"a power of d: {EXPONENT_FORMS}"}
_SIZE_SCHEMA = {
    "type": ["number", "string"],
    "description": f"a declared scale name, or a power of d: {EXPONENT_FORMS}",
}

Exponent = Annotated[Fraction, PlainValidator(_exponent), WithJsonSchema(_EXPONENT_SCHEMA)]
SizeRef = Annotated[Union[str, Fraction], PlainValidator(_size_ref), WithJsonSchema(_SIZE_SCHEMA)]
ScaleName = Annotated[
    str, PlainValidator(_scale_name), WithJsonSchema({"type": "string", "pattern": _NAME_PATTERN})
]
Coefficient = Annotated[
    Fraction,
    PlainValidator(_coefficient),
    WithJsonSchema({"type": ["number", "string"], "description": 'a number: 1, 0.5, "1/3"'}),
]
Order = Annotated[int, Field(strict=True, ge=1)]


# -- models ----------------------------------------------------------------------------




class PolynomialActivation(Block):
    """`phi(v) = sum_m a_m v^m`."""

    polynomial: tuple[Coefficient, ...] = Field(description="coefficients a0, a1, ... of v^0, v^1, ...")

    @field_validator("polynomial")
    @classmethod
    def _not_constant(cls, value: tuple[Fraction, ...]) -> tuple[Fraction, ...]:
        activations.from_polynomial(value)
        return value


class CustomActivation(Block):
    """An activation given by its Hermite support J, Taylor support T and kind."""

    hermite: tuple[Order, ...] = Field(description="orders j >= 1 with a non-zero Hermite coefficient")
    taylor: Optional[tuple[Order, ...]] = Field(
        default=None, description="powers m >= 1 of the Taylor series (omit only when homogeneous)"
    )
    kind: Literal["bounded", "homogeneous", "polynomial"]

    @model_validator(mode="after")
    def _profile(self) -> CustomActivation:
        activations.custom(self.hermite, self.taylor, self.kind)
        return self


def _activation_tag(value: Any) -> str:
    if isinstance(value, dict):
        if "polynomial" in value:
            return "polynomial"
        if value.keys() & set(CustomActivation.model_fields):
            return "custom"
    return "name"  # a builtin name, or anything else (reported with the list of forms)


ActivationSpec = Annotated[
    Union[
        Annotated[
            str,
            PlainValidator(_builtin_name),
            WithJsonSchema({"enum": list(activations.BUILTIN_NAMES)}),
            Tag("name"),
        ],
        Annotated[PolynomialActivation, Tag("polynomial")],
        Annotated[CustomActivation, Tag("custom")],
    ],
    Discriminator(_activation_tag),
]


_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxlist, _repr.maxdict, _repr.maxstring, _repr.maxother = 2, 4, 4, 40, 40


def show(value: Any) -> str:
    """A short repr of a user's value for messages."""
    return _repr.repr(value)


def suggest(word: Any, options: Any) -> str:
    """` (did you mean 'x'?)` when a close option exists, else ``."""
    import difflib

    if not isinstance(word, str):
        return ""
    lowered = {o.lower(): o for o in options}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.7)
    return f" (did you mean {lowered[match[0]]!r}?)" if match else ""


def activation_profile(value: ActivationSpec) -> tuple[Activation, Any]:
    """A validated activation field as its profile and its document form."""
    if isinstance(value, PolynomialActivation):
        doc: Any = {"polynomial": [format_fraction(a) for a in value.polynomial]}
        return activations.from_polynomial(value.polynomial), doc
    if isinstance(value, CustomActivation):
        doc = {"hermite": sorted(set(value.hermite))}
        if value.taylor is not None:
            doc["taylor"] = sorted(set(value.taylor))
        doc["kind"] = value.kind
        return activations.custom(value.hermite, value.taylor, value.kind), doc
    return activations.builtin(value), value


def ref_doc(ref: SizeRef) -> str:
    """A size reference as the document writes it: the scale name or the exponent."""
    return ref if isinstance(ref, str) else format_fraction(ref)
