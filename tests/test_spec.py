"""Loading specs: valid specs, overrides, stdin, the schema, and every invalid input."""

from __future__ import annotations

import re

import io
import json
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from curse_cli.archs.activations import builtin
from curse_cli.archs.problem import Problem, Support
from curse_cli.algebra.scales import Monomial
from curse_cli.spec.load import (
    MAX_BYTES,
    LoadedSpec,
    SpecError,
    load_spec,
    load_spec_text,
    parse_override,
    spec_json_schema,
)

F = Fraction
ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "specs").glob("*.yaml"))
INVALID = sorted((Path(__file__).parent / "specs" / "invalid").glob("*.yaml"))

TWO_LAYER = """
architecture: {kind: fcn, activation: erf, widths: [N]}
target: {kind: hermite, degree: 3}
scaling: standard
scales: {N: 1}
"""


def load(text: str, overrides=()) -> LoadedSpec:
    return load_spec_text(text, "test.yaml", overrides)


def error_of(text: str, overrides=()) -> SpecError:
    with pytest.raises(SpecError) as info:
        load(text, overrides)
    return info.value


# -- valid specs -----------------------------------------------------------------------


def test_three_layer_example_loads_into_the_expected_problem() -> None:
    loaded = load_spec(str(ROOT / "specs" / "three_layer_erf.yaml"))
    p = loaded.problem
    assert p == Problem(
        activation=builtin("erf"),
        widths=(Monomial({"N1": 1}), Monomial({"N2": 1})),
        degree=3,
        chi=Monomial(),
        lambda0=Monomial({"d": -1}),
        ridge=Monomial({"kappa": 1}),
        scales=(("N1", F(1)), ("N2", F(1)), ("kappa", F(0))),
        measure="gaussian",
        name="three-layer erf network, cubic target",
    )
    assert p.activation.hermite == Support(parity=1, start=1)
    assert loaded.origin == str(ROOT / "specs" / "three_layer_erf.yaml")
    assert loaded.document == {
        "name": "three-layer erf network, cubic target",
        "architecture": {"kind": "fcn", "activation": "erf", "widths": ["N1", "N2"]},
        "target": {"kind": "hermite", "degree": 3},
        "scaling": "standard",
        "data": {"measure": "gaussian", "target_variance": "0"},
        "ridge": "kappa",
        "scales": {"N1": "1", "N2": "1", "kappa": "0"},
    }


def test_defaults_and_implicit_kappa() -> None:
    loaded = load(TWO_LAYER)
    p = loaded.problem
    assert p.scales == (("N", F(1)), ("kappa", F(0)))
    assert p.ridge == Monomial({"kappa": 1})
    assert p.lambda0 == Monomial({"d": -1})
    assert p.measure == "gaussian" and p.name is None
    assert loaded.document["scales"] == {"N": "1", "kappa": "0"}
    assert loaded.document["ridge"] == "kappa"


def test_every_field_is_carried_over() -> None:
    text = """
name: everything
architecture:
  kind: fcn
  activation: {polynomial: [0, 1, 0.5, "1/3"]}
  widths: [N, "d^(3/2)", 2]
target: {kind: hermite, degree: 2}
scaling: {chi: sqrt(d)}
data: {measure: hypercube, target_variance: 0.5}
ridge: lam
scales: {N: "d^2", lam: -1}
"""
    loaded = load(text)
    p = loaded.problem
    assert p.widths == (Monomial({"N": 1}), Monomial({"d": F(3, 2)}), Monomial({"d": 2}))
    assert p.depth == 3
    assert p.degree == 2
    assert p.chi == Monomial({"d": F(1, 2)})
    assert p.lambda0 == Monomial({"d": F(-1, 2)})
    assert p.ridge == Monomial({"lam": 1})
    assert p.scales == (("N", F(2)), ("lam", F(-1)))
    assert p.measure == "hypercube" and p.name == "everything"
    # 0.5 v^2 + v^3/3 + v = He_1 (1 + 1) + He_2/2 + He_3/3 + constant
    assert p.activation.hermite == Support(frozenset({1, 2, 3}))
    assert p.activation.taylor == Support(frozenset({1, 2, 3}))
    assert loaded.document["architecture"]["activation"] == {"polynomial": ["0", "1", "1/2", "1/3"]}
    assert loaded.document["architecture"]["widths"] == ["N", "3/2", "2"]
    assert loaded.document["scaling"] == {"chi": "1/2"}


def test_mean_field_chi_is_the_last_width() -> None:
    p = load(TWO_LAYER.replace("scaling: standard", "scaling: mean-field")).problem
    assert p.chi == Monomial({"N": 1})
    p = load(
        TWO_LAYER.replace("[N]", "[N, d^2]").replace("scaling: standard", "scaling: mean-field")
    ).problem
    assert p.chi == Monomial({"d": 2})


def test_chi_can_name_a_scale() -> None:
    p = load(TWO_LAYER.replace("scaling: standard", "scaling: {chi: M}").replace("{N: 1}", "{N: 1, M: 2}")).problem
    assert p.chi == Monomial({"M": 1})
    assert p.scale_values()["M"] == 2


def test_custom_activation() -> None:
    text = TWO_LAYER.replace("activation: erf", "activation: {hermite: [1, 3, 5], taylor: [1, 3, 5], kind: bounded}")
    act = load(text).problem.activation
    assert act.name == "custom" and act.kind == "bounded"
    assert act.hermite == Support(frozenset({1, 3, 5}))
    assert act.taylor == Support(frozenset({1, 3, 5}))
    homogeneous = TWO_LAYER.replace("activation: erf", "activation: {hermite: [1, 2], kind: homogeneous}")
    assert load(homogeneous).problem.activation.taylor is None


def test_negative_exponents_are_fine_outside_widths() -> None:
    p = load(TWO_LAYER.replace("{N: 1}", "{N: 1, kappa: -2}")).problem
    assert p.scale_values()["kappa"] == -2


def test_document_round_trips() -> None:
    for path in BUNDLED:
        loaded = load_spec(str(path), ["kappa=-1/2"])
        again = load_spec_text(yaml.safe_dump(loaded.document), "again")
        assert again.problem == loaded.problem
        assert again.document == loaded.document
        json.dumps(loaded.document)  # plain JSON-able data


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_specs_load(path: Path) -> None:
    loaded = load_spec(str(path))
    assert loaded.problem.name
    assert path.read_text().startswith("#")  # each explains what it shows


_COUNTS = {"two": 2, "three": 3, "four": 4, "seven": 7}


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_specs_are_what_their_names_say(path: Path) -> None:
    """`<n>_layer_<activation>[_<target>][_mean_field].yaml`: n layers (n - 1 hidden and
    the readout), the activation, a cubic or quadratic target when named, and mean-field
    chi = the last width when named, read from the file name alone.  One exception, as its
    comment says: four_layer_erf.yaml counts its four hidden layers, not the readout.
    `cnn_<activation>` and `attention_<target>` name the kind (and the cnn's activation)."""
    words = path.stem.split("_")
    problem = load_spec(str(path)).problem
    if words[0] in ("cnn", "attention"):
        assert problem.kind == words[0] and problem.depth == 1
        assert words[0] == "attention" or problem.activation.name == words[1]
        assert words[0] == "cnn" or problem.words.target.endswith(f"degree {3 if words[1] == 'cubic' else 0} (r = 1)")
        return
    if words[0] == "staircase":   # `staircase_<activation>`: a two-layer network, a target of several pieces
        assert problem.depth == 1 and problem.activation.name == words[1] and len(problem.shares) > 1
        return
    readout = 0 if path.name == "four_layer_erf.yaml" else 1
    assert problem.depth == _COUNTS[words[0]] - readout and words[1] == "layer"
    assert problem.activation.name == ("cubic" if words[2:4] == ["cubic", "activation"] else words[2])
    degrees = {"cubic": 3, "quadratic": 2}
    if words[2] == "relu":
        assert problem.degree == degrees[words[3]]
    assert (problem.chi == problem.widths[-1]) == path.stem.endswith("mean_field")


# -- overrides -------------------------------------------------------------------------


def test_overrides_change_declared_scales() -> None:
    loaded = load(TWO_LAYER, ["N=d^2", "kappa=-1/2"])
    assert loaded.problem.scales == (("N", F(2)), ("kappa", F(-1, 2)))
    assert loaded.document["scales"] == {"N": "2", "kappa": "-1/2"}
    assert load(TWO_LAYER, {"N": "sqrt(d)"}).problem.scale_values()["N"] == F(1, 2)


@pytest.mark.parametrize(
    "item, expected",
    [("N1=2", ("N1", F(2))), ("N1 = d^(3/2)", ("N1", F(3, 2))), ("kappa=-1", ("kappa", F(-1))),
     ("L=0.5", ("L", F(1, 2)))],
)
def test_parse_override(item: str, expected: tuple[str, Fraction]) -> None:
    assert parse_override(item) == expected


@pytest.mark.parametrize(
    "overrides, path, fragment",
    [
        (["N1"], "", "expected NAME=VALUE"),
        (["=2"], "", "expected NAME=VALUE"),
        (["N=abc"], "N", "cannot read 'abc' as a power of d"),
        (["M=1"], "M", "unknown scale 'M' (declared: N, kappa)"),
        (["d=2"], "d", "d is the base scale"),
        (["N=1", "N=2"], "N", "set more than once"),
        (["N=-1"], "N", "exponent must be >= 0"),
    ],
)
def test_bad_overrides(overrides: list[str], path: str, fragment: str) -> None:
    err = error_of(TWO_LAYER, overrides)
    assert err.origin == "overrides"
    assert err.path == path
    assert fragment in err.message
    assert str(err).startswith("overrides: ")


def test_an_undeclared_explicit_ridge_cannot_be_set() -> None:
    err = error_of(TWO_LAYER + "ridge: lam\n", ["lam=1"])
    assert err.path == "ridge"


# -- stdin -----------------------------------------------------------------------------


def test_stdin() -> None:
    loaded = load_spec("-", ["N=2"], stdin=io.StringIO(TWO_LAYER))
    assert loaded.origin == "<stdin>"
    assert loaded.problem.scale_values()["N"] == 2


def test_stdin_bytes_buffer() -> None:
    stream = io.TextIOWrapper(io.BytesIO(TWO_LAYER.encode()), encoding="utf-8")
    assert load_spec("-", stdin=stream).problem.widths == (Monomial({"N": 1}),)


def test_stdin_errors_name_stdin() -> None:
    with pytest.raises(SpecError) as info:
        load_spec("-", stdin=io.StringIO("architecture: [\n"))
    assert str(info.value).startswith("<stdin>: YAML syntax error")
    with pytest.raises(SpecError, match="under 1 MiB"):
        load_spec("-", stdin=io.StringIO("#" * MAX_BYTES))


# -- schema ----------------------------------------------------------------------------


def test_json_schema() -> None:
    schema = spec_json_schema()
    assert isinstance(schema, dict)
    assert set(schema["properties"]) == {"name", "architecture", "target", "scaling", "data", "ridge", "scales",
                                         "alignment"}
    assert {"architecture", "target", "scaling"} <= set(schema["required"])
    assert schema["additionalProperties"] is False
    json.dumps(schema)


# -- invalid specs ---------------------------------------------------------------------


def _expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# error: "), f"{path.name}: first line must be '# error: ...'"
    return first.removeprefix("# error: ").strip()


def _lookup(data, path: str) -> bool:
    """Does `architecture.widths[1]` (etc.) name a place in the raw YAML data?"""
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            if not isinstance(data, list) or int(part[1:-1]) >= len(data):
                return False
            data = data[int(part[1:-1])]
        elif isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return False
    return True


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_spec_errors_point_into_the_file(path: Path) -> None:
    """The field path of each error names a place that exists in the file as written
    (read with plain yaml, not the loader), or is empty for errors of the whole file."""
    with pytest.raises(SpecError) as info:
        load_spec(str(path))
    if info.value.path:
        assert _lookup(yaml.safe_load(path.read_text()), info.value.path), info.value.path


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_spec(path: Path) -> None:
    expected = _expected(path)
    with pytest.raises(SpecError) as info:
        load_spec(str(path))
    text = str(info.value)
    assert expected in text
    assert "\n" not in text
    assert text.startswith(f"{path}: ")
    err = info.value
    assert err.origin == str(path)
    assert text == (f"{err.origin}: {err.path}: {err.message}" if err.path else f"{err.origin}: {err.message}")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="is a directory; expected a YAML spec file") as info:
        load_spec(str(tmp_path))
    assert info.value.origin == str(tmp_path) and info.value.path == ""


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load_spec(str(tmp_path / "absent.yaml"))


def test_file_too_big(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))
    with pytest.raises(SpecError, match=rf"file is {big.stat().st_size} bytes; a spec must be under 1 MiB"):
        load_spec(str(big))


def test_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(TWO_LAYER.replace("standard", "st\xe4ndard").encode("latin-1"))
    with pytest.raises(SpecError, match="not valid UTF-8"):
        load_spec(str(bad))


def test_utf8_with_bom_is_fine(tmp_path: Path) -> None:
    spec = tmp_path / "bom.yaml"
    spec.write_bytes(b"\xef\xbb\xbf" + TWO_LAYER.encode())
    assert load_spec(str(spec)).problem.degree == 3


def test_unsafe_yaml_tags_are_refused() -> None:
    err = error_of("!!python/object/apply:os.system ['true']\n")
    assert "YAML" in err.message


def test_bool_degree_is_rejected() -> None:
    err = error_of(TWO_LAYER.replace("degree: 3", "degree: true"))
    assert err.path == "target.degree"


def test_error_str_without_path() -> None:
    assert str(SpecError("x.yaml", "", "bad")) == "x.yaml: bad"
    assert str(SpecError("x.yaml", "a.b[1]", "bad\nthing")) == "x.yaml: a.b[1]: bad thing"
