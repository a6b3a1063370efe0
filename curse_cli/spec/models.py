"""Pydantic models of the YAML spec (its shape only), and readable validation errors.

Cross-field rules (which scales exist, signs after `--set`, unused scales) live in
`spec.py`; these models check types and per-field forms.  Exponents are exact
`Fraction`s read by `scales.parse_exponent`.
"""

from __future__ import annotations

import difflib
import reprlib
from fractions import Fraction
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StrictStr,
    Tag,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from curse_cli.archs import activations
from curse_cli.algebra.scales import BASE, EXPONENT_FORMS, parse_exponent

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
            f"{_show(value)} is neither a scale name nor a power of d; "
            f'use a declared scale name or a power of d like "d^2"'
        ) from None


def is_scale_name(text: str) -> bool:
    """Is `text` a valid scale name (an identifier)?"""
    return text.isascii() and text.isidentifier()


def _scale_name(value: Any) -> str:
    if not isinstance(value, str) or not is_scale_name(value):
        raise ValueError(f"expected a scale name such as kappa, got {_show(value)}")
    if value == BASE:
        raise ValueError("d is the base scale; name the ridge scale, e.g. kappa")
    return value


def _coefficient(value: Any) -> Fraction:
    return activations.exact(value)


def _builtin_name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an activation: {_ACTIVATION_FORMS}; got {_show(value)}")
    if value not in activations.BUILTIN_NAMES:
        hint = suggest(value, activations.BUILTIN_NAMES)
        raise ValueError(f"unknown activation {value!r}{hint}; allowed: {_ACTIVATION_FORMS}")
    return value


def _scaling_name(value: Any) -> str:
    if value not in ("standard", "mean-field"):
        raise ValueError(
            "expected standard, mean-field or {chi: <scale name or power of d>}, "
            f"got {_show(value)}"
        )
    return value


def _nonempty_widths(value: tuple[Any, ...]) -> tuple[Any, ...]:
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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PolynomialActivation(_Model):
    """`phi(v) = sum_m a_m v^m`."""

    polynomial: tuple[Coefficient, ...] = Field(description="coefficients a0, a1, ... of v^0, v^1, ...")

    @field_validator("polynomial")
    @classmethod
    def _not_constant(cls, value: tuple[Fraction, ...]) -> tuple[Fraction, ...]:
        activations.from_polynomial(value)
        return value


class CustomActivation(_Model):
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


class ChiScaling(_Model):
    """An explicit readout scale `chi` (readout variance `1/(chi N_L)`)."""

    chi: SizeRef


ScalingSpec = Annotated[
    Union[
        Annotated[
            str,
            PlainValidator(_scaling_name),
            WithJsonSchema({"enum": ["standard", "mean-field"]}),
            Tag("name"),
        ],
        Annotated[ChiScaling, Tag("chi")],
    ],
    Discriminator(lambda value: "chi" if isinstance(value, dict) else "name"),
]


class Architecture(_Model):
    kind: Literal["fcn"] = Field(description="fully connected network (the only kind so far)")
    activation: ActivationSpec
    widths: Annotated[tuple[SizeRef, ...], AfterValidator(_nonempty_widths)] = Field(
        description="hidden widths, bottom to top", json_schema_extra={"minItems": 1}
    )


class Target(_Model):
    kind: Literal["hermite"] = Field(description="single-index He_k(w*.x)")
    degree: Order


class Data(_Model):
    measure: Literal["gaussian", "hypercube"] = "gaussian"
    target_variance: Exponent = Field(
        default=Fraction(0), description="exponent of the data variance along w* (at most 1)"
    )


class Spec(_Model):
    """A curse spec: a network, a target and the scales, every size a power of d."""

    model_config = ConfigDict(title="curse spec")

    name: Optional[StrictStr] = None
    architecture: Architecture
    target: Target
    scaling: ScalingSpec = Field(description="standard, mean-field, or {chi: <size>}")
    data: Data = Field(default_factory=Data, description="the data measure and the target direction's variance")
    ridge: ScaleName = Field(
        default=DEFAULT_RIDGE, description="name of the ridge/temperature scale"
    )
    scales: dict[StrictStr, Exponent] = Field(
        default_factory=dict,
        description="each scale's exponent of d (d itself is implicit)",
        json_schema_extra={"propertyNames": {"pattern": _NAME_PATTERN}},
    )

    @field_validator("scales", mode="before")
    @classmethod
    def _string_keys(cls, value: Any) -> Any:
        for key in value if isinstance(value, dict) else ():
            if not isinstance(key, str):
                hint = _BOOLEAN_HINT if isinstance(key, bool) else ""
                raise ValueError(f"expected scale names as keys, got {_show(key)}{hint}")
        return value


# -- validation errors -----------------------------------------------------------------

# Where a loc element is a union tag (dropped from the printed path).
_UNIONS = {("architecture", "activation"), ("scaling",)}
# Which model sits at each raw loc (for "allowed keys").
_MODELS: dict[tuple[Any, ...], type[BaseModel]] = {
    (): Spec,
    ("architecture",): Architecture,
    ("architecture", "activation", "polynomial"): PolynomialActivation,
    ("architecture", "activation", "custom"): CustomActivation,
    ("target",): Target,
    ("scaling", "chi"): ChiScaling,
    ("data",): Data,
}

_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxlist, _repr.maxdict, _repr.maxstring, _repr.maxother = 2, 4, 4, 40, 40


def _show(value: Any) -> str:
    return _repr.repr(value)


def suggest(word: Any, options: Any) -> str:
    """` (did you mean 'x'?)` when a close option exists, else ``."""
    if not isinstance(word, str):
        return ""
    lowered = {o.lower(): o for o in options}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.7)
    return f" (did you mean {lowered[match[0]]!r}?)" if match else ""


def format_loc(loc: tuple[Any, ...]) -> str:
    """`('architecture', 'widths', 1)` -> `architecture.widths[1]` (tags and `[key]` dropped)."""
    items = [item for i, item in enumerate(loc) if tuple(loc[:i]) not in _UNIONS]
    out = ""
    for i, item in enumerate(items):
        if item == "[key]":
            continue
        is_key = i + 1 < len(items) and items[i + 1] == "[key]"
        if isinstance(item, int) and not isinstance(item, bool) and not is_key:
            out += f"[{item}]"
        else:
            out += f".{item}" if out else str(item)
    return out


def _a(value: Any) -> str:
    """`a list`, `an integer`, `null`: the YAML type of `value`, with its article."""
    names = {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        int: "an integer",
        float: "a number",
        bool: "a boolean",
    }
    return "null" if value is None else names.get(type(value), f"a {type(value).__name__}")


def _message(error: dict[str, Any]) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if error["loc"] and error["loc"][-1] == "[key]":
        return f"expected a string key, got {_show(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping, got {_a(value)}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {_a(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected an integer, got {_show(value)}"
    if kind == "greater_than_equal":
        return f"expected an integer >= {ctx.get('ge')}, got {_show(value)}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected')}, got {_show(value)}"
    if kind == "string_type":
        return f"expected a string, got {_a(value)}"
    text = str(error["msg"]).replace("Input should be", "expected")
    return f"{text}, got {_show(value)}"


def describe_validation_error(err: ValidationError) -> tuple[str, str]:
    """The field path and a one-line message for the error to show.

    An unknown key is shown first (a misspelt key also makes its right spelling missing);
    otherwise the first error.
    """
    errors = err.errors(include_url=False)
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(first["loc"])
    if first["type"] == "extra_forbidden":
        model = _MODELS.get(loc[:-1])
        allowed = list(model.model_fields) if model is not None else []
        key = loc[-1]
        return format_loc(loc[:-1]), (
            f"unknown key {key!r}{suggest(key, allowed)}; allowed keys: {', '.join(allowed)}"
        )
    if first["type"] == "missing":
        return format_loc(loc[:-1]), f"missing required key {loc[-1]!r}"
    return format_loc(loc), _message(first)
