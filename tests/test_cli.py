"""The command line through click's CliRunner: exit codes, JSON, bad input."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from curse_cli.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
INVALID = sorted((Path(__file__).parent / "specs" / "invalid").glob("*.yaml"))
THREE = str(ROOT / "specs" / "three_layer_erf.yaml")


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def expected_error(path: Path) -> str:
    first = path.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    assert first.startswith("# error: ")
    return first[len("# error: "):]


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_every_bundled_spec_predicts(spec):
    result = run("predict", str(spec))
    assert result.exit_code == 0, result.output
    doc = json.loads(run("predict", str(spec), "--format", "json").output)
    assert doc["schema"] == "curse.predict/4"


def test_predict_json_follows_the_schema():
    result = run("predict", THREE, "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert set(doc) >= {"schema", "spec", "scales", "prediction", "patterns"}
    assert doc["scales"] == {"N1": "1", "N2": "1", "kappa": "0"}
    pred = doc["prediction"]
    assert set(pred) >= {"pattern", "energy_exponent", "energy", "p_star_exponent", "p_star", "tied"}
    assert pred["p_star_exponent"] == "1"
    assert {t["pattern"] for t in pred["tied"]} >= {"GP-Sp(z)", "Sp(z)-Sp(sigma1)"}
    ranks = [p["rank"] for p in doc["patterns"] if p["rank"] is not None]
    assert ranks == sorted(ranks) and ranks[0] == 1
    for p in doc["patterns"]:
        assert set(p) >= {"rank", "name", "energy_exponent", "energy", "layers"}
        for layer in p["layers"]:
            assert set(layer) >= {"type", "feature", "corner", "sizes"}
    sp_mag = next(p for p in doc["patterns"] if p["name"] == "Sp(z)-Sp(sigma1)")
    assert sp_mag["energy"] == "(N1 N2 d)^(1/3)" and sp_mag["energy_exponent"] == "1"


def test_set_overrides_and_exact_exponent_strings():
    doc = json.loads(run("predict", THREE, "--set", "N1=d^(3/2)", "--set", "N2=0.5", "--format", "json").output)
    assert doc["scales"]["N1"] == "3/2" and doc["scales"]["N2"] == "1/2"
    # GP-Sp at [N2] = 1/2 < 1: one neuron with small q (partial Sp), max(2[q] + 1, [N2] - 6[q])
    # -> [q] = ([N2] - 1)/8, [E] = ([N2] + 3)/4 = 7/8.  Sp-GP: ([N1] + 1)/2 = 5/4.
    # Sp-Mag: ([N1] + [N2] + 1)/3 = 1.  GP-Sp wins with 7/8.
    assert doc["prediction"]["pattern"] == "GP-Sp(z)"
    assert doc["prediction"]["energy_exponent"] == "7/8"


def test_top_finds_the_best_and_all_ranks_every_pattern():
    # With N1 = d^2 the tie of the proportional point breaks: GP-Sp(z), which does not
    # grow with N1, wins alone (README).  --top 2 finds the proper optima at or below the
    # second-best energy, every tie included: the same ones --all ranks first.
    every = json.loads(run("predict", THREE, "--set", "N1=2", "--all", "--format", "json").output)
    assert len(every["patterns"]) == 11 and every["search"] is None
    proper = [p for p in every["patterns"] if p["rank"] is not None]
    second = sorted(Fraction(p["energy_exponent"]) for p in proper)[1]
    doc = json.loads(run("predict", THREE, "--set", "N1=2", "--top", "2", "--format", "json").output)
    assert doc["patterns"][0]["name"] == "GP-Sp(z)"
    assert {p["name"] for p in doc["patterns"]} == {p["name"] for p in proper
                                                     if Fraction(p["energy_exponent"]) <= second}
    assert doc["search"]["bounded"] == 11 - len(doc["patterns"])
    assert doc["search"]["bounded_energy_above"] == str(second)
    # With --all, --top only limits the rows shown.
    shown = json.loads(run("predict", THREE, "--set", "N1=2", "--all", "--top", "2", "--format", "json").output)
    assert [p["name"] for p in shown["patterns"]] == [p["name"] for p in every["patterns"][:2]]


def test_unreachable_target_is_a_plain_answer():
    result = run("predict", str(ROOT / "specs" / "two_layer_relu_cubic.yaml"), "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["prediction"] is None
    assert "He_3" in doc["unreachable"] and "no odd Hermite order above 1" in doc["unreachable"]
    table = run("predict", str(ROOT / "specs" / "two_layer_relu_cubic.yaml"))
    assert "No prediction" in table.output


def test_stdin_spec():
    text = Path(THREE).read_text()
    result = run("predict", "-", "--format", "json", input=text)
    assert result.exit_code == 0
    assert json.loads(result.output)["spec"]["origin"] == "<stdin>"


def test_compare_and_explain():
    result = run("compare", THREE, "-p", "GP-Sp(z)", "-p", "Sp(z)-Sp(sigma1)", "--format", "json")
    doc = json.loads(result.output)
    assert doc["schema"] == "curse.compare/3"
    assert [p["name"] for p in doc["patterns"]] == ["GP-Sp(z)", "Sp(z)-Sp(sigma1)"]
    table = run("compare", THREE)
    assert table.exit_code == 0 and "layer-2 cost" in table.output
    ex = run("explain", THREE, "--pattern", "Sp(z)-Sp(sigma1)")
    assert ex.exit_code == 0
    assert "([N1] + [N2] + 1)/3" in ex.output and "Claim i" in ex.output
    exj = json.loads(run("explain", THREE, "-p", "GP-Sp(z)", "--format", "json").output)
    assert exj["schema"] == "curse.explain/3" and exj["pattern"]["energy"] == "(N2 d)^(1/2)"


def test_patterns_validate_schema_version():
    result = run("patterns", THREE, "--format", "json")
    assert json.loads(result.output)["count"] == 11
    assert run("validate", THREE).output.startswith(THREE + ": ok")
    schema = json.loads(run("schema").output)
    assert "architecture" in schema["properties"]
    assert run("--version").output.startswith("curse, version")


@pytest.mark.parametrize("spec", INVALID, ids=lambda p: p.name)
def test_bad_specs_exit_2_with_one_line(spec):
    result = run("predict", str(spec))
    assert result.exit_code == 2
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith("Error: " + str(spec))
    assert expected_error(spec) in message


def test_directory_missing_file_and_bad_pattern(tmp_path):
    for args in (("predict", str(tmp_path)), ("predict", str(tmp_path / "nope.yaml")),
                 ("explain", THREE, "-p", "GP"), ("compare", THREE, "-p", "Sp(sigma1)-GP"),
                 ("predict", THREE, "--set", "N9=1"), ("predict", THREE, "--set", "N1")):
        result = run(*args)
        assert result.exit_code == 2, args
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output


def test_too_many_patterns_is_refused_with_a_flag_to_raise_it():
    result = run("predict", str(ROOT / "specs" / "four_layer_erf.yaml"), "--all", "--max-patterns", "10")
    assert result.exit_code == 2
    assert "--max-patterns 299" in result.output


def test_usage_errors_exit_2():
    assert run("predict").exit_code == 2
    assert run("predict", THREE, "--format", "xml").exit_code == 2


def test_debug_shows_the_traceback():
    """Without --debug a bad spec is a clean exit 2; with it the SpecError propagates
    (CliRunner keeps it as the exception, with its traceback)."""
    from curse_cli.spec.load import SpecError

    bad = str(INVALID[0])
    quiet = run("predict", bad)
    assert quiet.exit_code == 2 and isinstance(quiet.exception, SystemExit)
    loud = run("--debug", "predict", bad)
    assert isinstance(loud.exception, SpecError) and loud.exc_info[2] is not None


def test_internal_errors_exit_1(monkeypatch):
    import curse_cli.engine.api as engine_api

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(engine_api, "predict", boom)  # the command imports it when it runs
    result = run("predict", THREE)
    assert result.exit_code == 1
    assert "internal error" in result.output and "kaboom" in result.output


def test_console_entry_point_keeps_output_and_exit_codes():
    """The console entry point `run()` leaves with os._exit after flushing: the real
    process must still print everything and exit 0 on success, 2 on bad input."""
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "curse_cli.cli", "predict", THREE, "--format", "json"],
                        capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["prediction"]["p_star_exponent"] == "1"
    bad = subprocess.run([sys.executable, "-m", "curse_cli.cli", "predict", str(INVALID[0])],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2
    assert bad.stderr.startswith("Error: ") and bad.stdout == ""


def test_main_is_an_ordinary_library_call():
    """`main(argv)` raises SystemExit like any click program (it must not end the caller's
    interpreter, which only the console entry point `run` does)."""
    from curse_cli.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["validate", THREE])
    assert exc.value.code == 0


def test_explain_json_gives_fields_not_display_strings():
    """`"a_y ∝ d^3   (lazy only)"` was one string: the formula and the layers it relies on
    are fields, and so are a cost's formula, component and eigenvalue.  Hand values for
    Sp(z)-Sp(sigma1) of the three-layer erf spec: the lazy readout term of a cubic target
    is d^3, layer 1's cost divides by lambda_z = 1/d."""
    doc = json.loads(run("explain", THREE, "-p", "Sp(z)-Sp(sigma1)", "--format", "json").output)
    assert doc["schema"] == "curse.explain/3"
    assert {"formula": "d^3", "layers": []} in doc["readout_candidates"]
    assert all(set(t) == {"formula", "layers"} and "∝" not in t["formula"] for t in doc["readout_candidates"])
    assert any(t["layers"] == [1, 2] for t in doc["readout_candidates"])
    cost = doc["steps"][0]["costs"][0]
    assert (cost["formula"], cost["component"], cost["eigenvalue"]) == ("M1 q1^2 / lambda_z", "z", "1/d")
