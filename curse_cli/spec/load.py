"""The YAML spec: read it safely, validate it, turn it into a frozen `Problem`.

Validation happens here and only here.  The shape is checked by the pydantic models of
`spec/models.py`; the cross-field rules (declared scales, signs, unused scales) and
`--set` overrides are applied by `_resolve`.  Every failure is one `SpecError` whose text
reads `origin: field.path: what is wrong; what is expected`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, TextIO

import yaml
from pydantic import ValidationError

from curse_cli.archs.fields import ref_doc
from curse_cli.errors import CurseError
from curse_cli.archs.problem import Limit, Problem
from curse_cli.archs.registry import ARCHITECTURES
from curse_cli.archs.targets import alignment_value, kind_of, target_document
from curse_cli.spec import limits
from curse_cli.spec.limits import SpecWarning
from curse_cli.algebra.scales import BASE, ExponentError, Monomial, format_fraction, parse_exponent
from curse_cli.spec.models import (  # noqa: F401 - DEFAULT_RIDGE is re-exported
    DEFAULT_RIDGE,
    ChiScaling,
    Spec,
    SizeRef,
    describe_validation_error,
    is_scale_name,
    suggest,
)

MAX_BYTES = 1 << 20  # a spec must be smaller than 1 MiB
STDIN = "-"
STDIN_ORIGIN = "<stdin>"
SET_ORIGIN = "overrides"   # the origin of an override's error; the CLI calls it --set
ALIGNMENT_ORIGIN = "alignment"   # the origin of an alignment given apart from the spec; the CLI calls it --alignment

Overrides = Mapping[str, Any] | Sequence[str]


class SpecError(CurseError):
    """A spec that cannot be used: where (`origin`, `path`) and what to do (`message`)."""

    def __init__(self, origin: str, path: str, message: str) -> None:
        self.origin = origin
        self.path = path
        self.message = " ".join(message.split())  # always one line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.origin}: {where}{self.message}"


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec: its origin, the `Problem`, and the spec as plain JSON-able data
    (defaults filled in, overrides applied, exponents as exact strings such as "3/2")."""

    origin: str
    problem: Problem
    document: dict[str, Any]
    warnings: tuple[SpecWarning, ...] = ()


# -- public entry points ---------------------------------------------------------------


def load_spec(source: str, overrides: Overrides = (), stdin: TextIO | None = None,
              alignment: Any = None) -> LoadedSpec:
    """Load the spec at path `source` (`-`: read `stdin`, default `sys.stdin`)."""
    source = os.fspath(source)
    if source == STDIN:
        text = _read_stream(stdin if stdin is not None else sys.stdin)
        return load_spec_text(text, STDIN_ORIGIN, overrides, alignment)
    return load_spec_text(_read_file(source), source, overrides, alignment)


def with_alignment(loaded: LoadedSpec, alignment: Any) -> LoadedSpec:
    """The spec asked at another alignment level (`--alignment`: in (0, 1])."""
    try:
        value = alignment_value(alignment)
    except ValueError as err:
        raise SpecError(ALIGNMENT_ORIGIN, "", str(err)) from None
    return replace(loaded, problem=replace(loaded.problem, alignment=value),
                   document={**loaded.document, "alignment": format_fraction(value)})


def load_spec_text(text: str, origin: str, overrides: Overrides = (), alignment: Any = None) -> LoadedSpec:
    """Validate spec `text` (read from `origin`), apply `--set` `overrides` and an
    `alignment` given apart from the spec (None: the spec's)."""
    values = parse_overrides(overrides)
    data = _parse_yaml(text, origin)
    try:
        spec = Spec.model_validate(data)
    except ValidationError as err:
        path, message = describe_validation_error(err)
        raise SpecError(origin, path, message) from None
    problem, document, warnings = _resolve(spec, origin, values)
    loaded = LoadedSpec(origin=origin, problem=problem, document=document, warnings=warnings)
    return loaded if alignment is None else with_alignment(loaded, alignment)


def parse_override(item: str) -> tuple[str, Fraction]:
    """Read one `NAME=VALUE` item of `--set`; VALUE is a power of d (`2`, `"d^(3/2)"`, ...)."""
    name, sep, value = item.partition("=")
    name = name.strip()
    if not sep or not name:
        raise SpecError(
            SET_ORIGIN, "", f"expected NAME=VALUE such as N1=2 or N1=d^(3/2), got {item!r}"
        )
    return name, _override_value(name, value)


def parse_overrides(overrides: Overrides) -> dict[str, Fraction]:
    """All overrides as name -> exponent; a name given twice is an error."""
    if isinstance(overrides, Mapping):
        return {str(name): _override_value(str(name), value) for name, value in overrides.items()}
    if isinstance(overrides, str):
        overrides = [overrides]
    values: dict[str, Fraction] = {}
    for item in overrides:
        name, value = parse_override(item)
        if name in values:
            raise SpecError(SET_ORIGIN, name, f"{name} is set more than once; give it once")
        values[name] = value
    return values


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec (for `curse schema`)."""
    return Spec.model_json_schema()


# -- reading ---------------------------------------------------------------------------

_KEYS = "architecture, target, scaling, scales, ..."


def _too_big(origin: str, size: int | None) -> SpecError:
    what = f"file is {size} bytes" if size is not None else "input is at least 1 MiB"
    return SpecError(origin, "", f"{what}; a spec must be under 1 MiB")


def _read_file(source: str) -> str:
    try:
        if os.path.isdir(source):
            raise SpecError(source, "", "is a directory; expected a YAML spec file")
        with open(source, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size >= MAX_BYTES:
                raise _too_big(source, size)
            data = handle.read(MAX_BYTES)  # never more, even from a pipe or a growing file
    except (FileNotFoundError, NotADirectoryError):
        raise SpecError(source, "", "no such file; check the path") from None
    except IsADirectoryError:
        raise SpecError(source, "", "is a directory; expected a YAML spec file") from None
    except PermissionError:
        raise SpecError(source, "", "permission denied; make the file readable") from None
    except OSError as err:
        raise SpecError(source, "", f"cannot read the file: {err.strerror or err}") from None
    if len(data) >= MAX_BYTES:
        raise _too_big(source, None)
    return _decode(data, source)


def _read_stream(stream: TextIO | None) -> str:
    if stream is None:  # the process was started with fd 0 closed (`<&-`)
        raise SpecError(STDIN_ORIGIN, "", "standard input is closed; pipe a spec in, or give its path instead of -")
    try:
        return _read_open_stream(stream)
    except OSError as err:
        raise SpecError(STDIN_ORIGIN, "", f"cannot read standard input: {err.strerror or err}; "
                                          "pipe a spec in, or give its path instead of -") from None


def _read_open_stream(stream: TextIO) -> str:
    buffer = getattr(stream, "buffer", None)  # read bytes when we can, to check the encoding
    if buffer is not None:
        data = buffer.read(MAX_BYTES)
        if len(data) >= MAX_BYTES:
            raise _too_big(STDIN_ORIGIN, None)
        return _decode(data, STDIN_ORIGIN)
    text = stream.read(MAX_BYTES)
    if len(text.encode("utf-8", "surrogatepass")) >= MAX_BYTES:
        raise _too_big(STDIN_ORIGIN, None)
    return text


def _decode(data: bytes, origin: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        where = f"byte 0x{data[err.start]:02x} at offset {err.start}"
        raise SpecError(origin, "", f"not valid UTF-8 ({where}); save the spec as UTF-8") from None


class _DuplicateKey(yaml.constructor.ConstructorError):
    pass


class _TooLong(yaml.constructor.ConstructorError):
    pass


class _Loader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses duplicate keys instead of keeping the last one, and
    integers too long for Python to read (4300 digits) with their place in the file."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            digits = sum(c.isdigit() for c in str(node.value))
            message = f"an integer of {digits} digits, too long to read"
            raise _TooLong(None, None, message, node.start_mark) from None

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: list[Any] = []
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable: the base class reports it
                continue
            if duplicate:
                raise _DuplicateKey(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.append(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _at(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _parse_yaml(text: str, origin: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as err:
        message = f"{err.problem}{_at(err.problem_mark)}; give each key once"
        raise SpecError(origin, "", message) from None
    except _TooLong as err:
        message = (f"{err.problem}{_at(err.problem_mark)}; no field takes such a number (a size is "
                   f"written as its exponent of d, at most {limits.MAX_EXPONENT}: d^2 is 2)")
        raise SpecError(origin, "", message) from None
    except yaml.MarkedYAMLError as err:
        message = f"YAML syntax error{_at(err.problem_mark)}: {err.problem}; fix the YAML syntax"
        raise SpecError(origin, "", message) from None
    except yaml.YAMLError as err:
        raise SpecError(origin, "", f"YAML error: {err}; fix the YAML") from None
    except RecursionError:
        message = "the YAML is nested too deeply; a spec is a shallow mapping"
        raise SpecError(origin, "", message) from None
    if data is None:
        raise SpecError(origin, "", f"the spec is empty; expected a mapping with keys {_KEYS}")
    if not isinstance(data, dict):
        kind = type(data).__name__
        message = f"expected a mapping with keys {_KEYS} at the top level, got a {kind}"
        raise SpecError(origin, "", message)
    return data


# -- from the validated model to the Problem -------------------------------------------

_BASE_IS_FIXED = "d is the base scale (exponent 1 by definition)"


def _override_value(name: str, value: Any) -> Fraction:
    try:
        return parse_exponent(value.strip() if isinstance(value, str) else value)
    except ExponentError as err:
        raise SpecError(SET_ORIGIN, name, str(err)) from None


class _Resolver:
    """The cross-field rules of one validated spec: declared scales, overrides, signs."""

    def __init__(self, spec: Spec, origin: str, overrides: dict[str, Fraction]) -> None:
        self.origin = origin
        self.scales: dict[str, Fraction] = {}
        for name, value in spec.scales.items():
            if name == BASE:
                raise self.error(f"scales.{name}", f"{_BASE_IS_FIXED}; remove it")
            if not is_scale_name(name):
                message = "a scale name is letters, digits and _, not starting with a digit"
                raise self.error(f"scales.{name}", message)
            self.scales[name] = value
        self.ridge = spec.ridge
        if self.ridge not in self.scales:
            if "ridge" in spec.model_fields_set:  # only the default kappa is implicit
                fix = f"declare it under scales, e.g. {self.ridge}: 0"
                raise self.unknown("ridge", self.ridge, fix)
            self.scales[self.ridge] = Fraction(0)
        self.overrides = overrides
        self.used: set[str] = {self.ridge}

    def error(self, path: str, message: str) -> SpecError:
        return SpecError(self.origin, path, message)

    def _unknown_text(self, name: str) -> str:
        names = list(self.scales)
        listing = f"declared: {', '.join(names)}" if names else "no scales declared"
        return f"unknown scale {name!r}{suggest(name, names)} ({listing})"

    def unknown(self, path: str, name: str, fix: str) -> SpecError:
        return self.error(path, f"{self._unknown_text(name)}; {fix}")

    def size(self, ref: SizeRef, path: str) -> Monomial:
        """A width or chi: a declared scale name, or a literal power of d."""
        if isinstance(ref, str):
            if ref not in self.scales:
                fix = 'use a declared scale name or a power of d like "d^2"'
                raise self.unknown(path, ref, fix)
            self.used.add(ref)
            return Monomial({ref: 1})
        return Monomial({BASE: ref})

    def apply_overrides(self) -> None:
        for name, value in self.overrides.items():
            if name == BASE:
                raise SpecError(SET_ORIGIN, name, f"{_BASE_IS_FIXED}; it cannot be set")
            if name not in self.scales:
                message = f"{self._unknown_text(name)}; an override changes a declared scale"
                raise SpecError(SET_ORIGIN, name, message)
            self.scales[name] = value

    def check_limit(self, limit: Limit) -> None:
        """An architecture's bound on one of its sizes (after overrides).  A size that is
        one scale is reported at that scale (or at `--set`), a literal at its field."""
        scales = self.scales
        value = limit.size.exponent(scales)
        if (limit.low is None or value >= limit.low) and (limit.high is None or value <= limit.high):
            return
        if limit.low is not None and limit.high is not None:
            bounds = f"between {format_fraction(limit.low)} and {format_fraction(limit.high)}"
        else:
            bounds = (f">= {format_fraction(limit.low)}" if limit.low is not None
                      else f"<= {format_fraction(limit.high)}")  # type: ignore[arg-type]  # a limit has a low or a high end
        names = [n for n in limit.size if n != BASE]
        if len(names) == 1 and limit.size == Monomial({names[0]: 1}):
            name = names[0]
            message = (f"{name} is {limit.what}, so its exponent must be {bounds} ({limit.note}), "
                       f"got {format_fraction(value)}")
            if name in self.overrides:
                raise SpecError(SET_ORIGIN, name, message)
            raise self.error(f"scales.{name}", message)
        message = (f"{limit.what} must be {limit.plain}: expected a power of d {bounds}, "
                   f"got d^({format_fraction(value)})")
        raise self.error(limit.path, message)

    def where(self, name: str) -> tuple[str, str]:
        """(origin, path) of a scale's value: `--set NAME` when it was overridden."""
        return (SET_ORIGIN, name) if name in self.overrides else (self.origin, f"scales.{name}")

    def check_range(self, literals: list[tuple[str, Fraction]]) -> tuple[SpecWarning, ...]:
        """Every exponent (the scales', and literal sizes at their paths) inside the range
        the engine resolves exactly (`limits`), else a SpecError; the warnings for
        implausible ones."""
        fields = [(*self.where(name), value) for name, value in self.scales.items()]
        fields += [(self.origin, path, value) for path, value in literals]
        warnings = []
        den = 1
        for origin, path, value in fields:
            den = limits.common_denominator([Fraction(1, den), value])
            refusal = limits.check_exponent(value) or limits.check_common(den)
            if refusal is not None:
                raise SpecError(origin, path, refusal.message)
            note = limits.implausible(value) if path != "data.target_variance" else None
            if note is not None:
                warnings.append(SpecWarning(origin, path, note))
        return tuple(warnings)


def _resolve(
    spec: Spec, origin: str, overrides: dict[str, Fraction]
) -> tuple[Problem, dict[str, Any], tuple[SpecWarning, ...]]:
    r = _Resolver(spec, origin, overrides)
    arch = ARCHITECTURES[spec.architecture.kind]
    if not isinstance(spec.target, arch.targets):
        takes = "; ".join(f"{a.kind} takes {', '.join(repr(kind_of(m)) for m in a.targets)}"
                          for a in ARCHITECTURES.values())
        raise r.error("target.kind", f"{arch.kind} does not take a {spec.target.kind!r} target ({takes})")
    net = arch.resolve(spec.architecture, spec.target, spec.data, r)
    scaling = spec.scaling
    if isinstance(scaling, ChiScaling):
        chi = r.size(scaling.chi, "scaling.chi")
        scaling_doc: Any = {"chi": ref_doc(scaling.chi)}
    else:
        chi = net.widths[-1] if scaling == "mean-field" else Monomial()
        scaling_doc = scaling
    r.apply_overrides()
    for limit in net.limits:
        r.check_limit(limit)
    variance = spec.data.target_variance
    excess = net.lambda0.exponent(r.scales)
    if excess > 0:
        raise r.error(
            "data.target_variance",
            f"expected an exponent <= {format_fraction(variance - excess)} (kernel eigenvalues cannot exceed "
            f"order one), got {format_fraction(variance)}",
        )
    for name in spec.scales:
        if name not in r.used:
            message = "declared but not used by the architecture, scaling or ridge; remove it"
            raise r.error(f"scales.{name}", message)
    literals = [(limit.path, limit.size.power(BASE)) for limit in net.limits if set(limit.size) <= {BASE}]
    if isinstance(scaling, ChiScaling) and not isinstance(scaling.chi, str):
        literals.append(("scaling.chi", scaling.chi))
    warnings = r.check_range([*literals, ("data.target_variance", variance)])
    problem = Problem(
        activation=net.activation,
        widths=net.widths,
        degree=net.degree,
        chi=chi,
        lambda0=net.lambda0,
        ridge=Monomial({r.ridge: 1}),
        scales=tuple(r.scales.items()),
        measure=spec.data.measure,
        name=spec.name,
        kind=arch.kind,
        feature=net.feature,
        readout_factor=net.readout_factor,
        dimension=net.dimension,
        limits=net.limits,
        words=net.words,
        shares=net.shares,
        alignment=spec.alignment,
    )
    document = {
        "name": spec.name,
        "architecture": net.document,
        "target": target_document(spec.target),
        "scaling": scaling_doc,
        "data": {"measure": spec.data.measure, "target_variance": format_fraction(variance)},
        "ridge": r.ridge,
        "scales": {name: format_fraction(value) for name, value in r.scales.items()},
    }
    if net.shares or spec.alignment != 1:
        document["alignment"] = format_fraction(spec.alignment)
    return problem, document, warnings
