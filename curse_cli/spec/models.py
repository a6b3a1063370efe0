"""Pydantic models of the YAML spec (its shape only), and readable validation errors.

The `architecture` block is a union of the registered architectures' models (tagged by
`kind`), the `target` a union of the targets they take.  Cross-field rules (which
scales exist, signs after `--set`, unused scales, which target goes with which
architecture) live in `spec/load.py`.  Exponents are exact `Fraction`s read by
`scales.parse_exponent`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Annotated, Any, Literal, Mapping, Optional, Union

from pydantic import (
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
)

from curse_cli.archs.base import Block as _Model
from curse_cli.archs.fields import (  # noqa: F401 - re-exported for the loader
    DEFAULT_RIDGE,
    CustomActivation,
    Exponent,
    PolynomialActivation,
    ScaleName,
    SizeRef,
    _BOOLEAN_HINT,
    _NAME_PATTERN,
    is_scale_name,
    show as _show,
    suggest,
)
from curse_cli.archs.registry import ARCHITECTURES, target_models
from curse_cli.archs.targets import Alignment, kind_of


def _scaling_name(value: Any) -> str:
    if value not in ("standard", "mean-field"):
        raise ValueError(
            "expected standard, mean-field or {chi: <scale name or power of d>}, "
            f"got {_show(value)}"
        )
    return value



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


if TYPE_CHECKING:   # unions built from the registry at import, which a type checker cannot see
    ArchitectureSpec = Any
    TargetSpec = Any
else:
    ArchitectureSpec = Annotated[
        Union[tuple(Annotated[a.model, Tag(kind)] for kind, a in ARCHITECTURES.items())],
        Discriminator(lambda value: value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)),
    ]
    TargetSpec = Annotated[
        Union[tuple(Annotated[m, Tag(kind_of(m))] for m in target_models())],
        Discriminator(lambda value: value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)),
    ]


class Data(_Model):
    measure: Literal["gaussian", "hypercube"] = "gaussian"
    target_variance: Exponent = Field(
        default=Fraction(0), description="exponent of the data variance along w* (at most 1)"
    )


class Spec(_Model):
    """A curse spec: a network, a target and the scales, every size a power of d."""

    model_config = ConfigDict(title="curse spec")

    name: Optional[StrictStr] = None
    architecture: ArchitectureSpec
    target: TargetSpec
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
    alignment: Alignment = Field(
        default=Fraction(1), description="the alignment to reach, in (0, 1]: a share of the target's variance")

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
_UNIONS = {("architecture",), ("target",), ("scaling",)} | {
    ("architecture", kind, "activation") for kind, a in ARCHITECTURES.items() if "activation" in a.model.model_fields
}
# Which model sits at each raw loc (for "allowed keys").
_MODELS: dict[tuple[Any, ...], type[BaseModel]] = {
    (): Spec,
    ("scaling", "chi"): ChiScaling,
    ("data",): Data,
    **{("architecture", kind): a.model for kind, a in ARCHITECTURES.items()},
    **{("architecture", kind, "activation", "polynomial"): PolynomialActivation for kind in ARCHITECTURES},
    **{("architecture", kind, "activation", "custom"): CustomActivation for kind in ARCHITECTURES},
    **{("target", kind_of(m)): m for m in target_models()},
}
_TAGS = {
    ("architecture",): ("kind", list(ARCHITECTURES)),
    ("target",): ("kind", [kind_of(m) for m in target_models()]),
}

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


def _message(error: Mapping[str, Any]) -> str:
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
    if kind in ("union_tag_invalid", "union_tag_not_found") and tuple(error["loc"]) in _TAGS:
        key, tags = _TAGS[tuple(error["loc"])]
        if not isinstance(value, dict):
            return f"expected a mapping, got {_a(value)}"
        if key not in value:
            return f"missing; give one of: {', '.join(tags)}"
        return f"unknown {key} {value[key]!r}{suggest(value[key], tags)}; allowed: {', '.join(tags)}"
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
    if loc in _TAGS and isinstance(first.get("input"), dict):
        return format_loc(loc) + "." + _TAGS[loc][0], _message(first)
    return format_loc(loc), _message(first)
