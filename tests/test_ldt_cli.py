"""`curse ldt`: the Chernoff bound beside the heuristic, through click's CliRunner."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from curse_cli.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
ERF = str(SPECS / "two_layer_erf.yaml")
FAST = ("--d", "10000,100000")


def run(*args):
    return CliRunner().invoke(cli, ["ldt", *args])


def ldt_json(*args):
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def spec_file(tmp_path, activation: str, degree: int) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(
        f"architecture: {{kind: fcn, activation: {activation}, widths: [N]}}\n"
        f"target: {{kind: hermite, degree: {degree}}}\nscaling: standard\nscales: {{N: 1}}\n",
        encoding="utf-8",
    )
    return str(path)


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert message.startswith("Error: ") and "\n" not in message and "Traceback" not in message
    return message


# -- acceptance: docs/theory.md section 7, E ∝ (N d)^(1/2) --------------------------------------


def test_erf_energy_slope_agrees_with_specialisation():
    doc = ldt_json(ERF, *FAST)
    assert doc["schema"] == "curse.ldt/2"
    assert set(doc) >= {"spec", "scales", "parameters", "points", "slopes", "heuristic", "verdict"}
    (slope,) = doc["slopes"]["energy"]
    assert slope == pytest.approx(1.0, abs=0.01)  # N = d: (N d)^(1/2) = d
    h = doc["heuristic"]
    assert h["pattern"] == "Sp(z)" and h["energy_exponent"] == "1" and h["corner"] == "M-Sp"
    assert h["m"] == {"label": "M1", "formula": "(N/d)^(1/2)", "exponent": "0", "determined": True}
    assert doc["verdict"]["agree"] is True
    for point in doc["points"]:
        assert set(point) >= {"d", "width", "chi", "energy", "t_star", "specialised", "status"}
        assert point["status"] == "ok" and point["width"] == point["d"] and point["chi"] == 1
        assert point["specialised"] == pytest.approx(1.63, abs=0.05)
    assert doc["parameters"]["alpha"] == "1/2"


def test_wider_network_slope_follows_the_width():
    doc = ldt_json(ERF, *FAST, "--set", "N=2")
    assert doc["scales"]["N"] == "2"
    assert [p["width"] for p in doc["points"]] == pytest.approx([1e8, 1e10])
    assert doc["slopes"]["energy"][0] == pytest.approx(1.5, abs=0.01)
    assert doc["slopes"]["specialised"][0] == pytest.approx(0.5, abs=0.01)  # M ∝ (N/d)^(1/2)
    assert doc["heuristic"]["energy_exponent"] == "3/2" and doc["verdict"]["agree"] is True


def test_mean_field_chi_is_the_width():
    doc = ldt_json(str(SPECS / "two_layer_erf_mean_field.yaml"), *FAST, "--alpha", "1/2")
    assert all(p["chi"] == p["width"] for p in doc["points"])
    assert doc["slopes"]["energy"][0] == pytest.approx(1.5, abs=0.01)
    assert doc["verdict"]["agree"] is True


def test_partial_specialisation_disagrees_and_says_why():
    doc = ldt_json(ERF, *FAST, "--set", "N=1/2")
    assert doc["heuristic"]["corner"] == "partial" and doc["heuristic"]["energy_exponent"] == "7/8"
    assert doc["slopes"]["energy"][0] == pytest.approx(0.75, abs=0.01)
    assert doc["verdict"]["agree"] is False
    assert "M >= 1" in doc["verdict"]["reason"] and "fraction" in doc["verdict"]["reason"]


def test_table_shows_points_slopes_verdict_and_histogram():
    result = run(ERF, "--d", "1000,10000")
    assert result.exit_code == 0, result.output
    out = result.output
    for text in ("E(alpha)", "t*", "specialised", "Sp(z)", "M-Sp", "agree", "Tilted density", "u_c", "█"):
        assert text in out, text


# -- refusals ---------------------------------------------------------------------------


def test_deeper_networks_are_refused():
    message = one_line_error(run(str(SPECS / "three_layer_erf.yaml"), *FAST))
    assert "one hidden layer" in message and "three_layer_erf.yaml" in message


def test_custom_profiles_cannot_be_evaluated(tmp_path):
    spec = spec_file(tmp_path, "{hermite: [1, 3], taylor: [1, 3], kind: bounded}", 3)
    assert "custom" in one_line_error(run(spec, *FAST))


@pytest.mark.parametrize("value", ["1", "100", "100,abc", "100,100", "-5,100", "inf,100", ""])
def test_bad_d_values_exit_2(value):
    result = run(ERF, "--d", value)
    assert result.exit_code == 2 and "--d" in result.output


@pytest.mark.parametrize("option", ["--alpha", "--sigma-w", "--sigma-a"])
def test_bad_parameters_exit_2(option):
    assert run(ERF, *FAST, option, "0").exit_code == 2
    assert run(ERF, *FAST, option, "half").exit_code == 2


# -- activations --------------------------------------------------------------------------


def test_relu_quadratic_target_works():
    doc = ldt_json(str(SPECS / "two_layer_relu_quadratic.yaml"), *FAST)
    assert {p["status"] for p in doc["points"]} <= {"ok", "boundary"}
    assert doc["slopes"]["energy"][0] == pytest.approx(1.0, abs=0.02)
    assert doc["heuristic"]["m"]["determined"] is False  # a face: only M1 q1^2 is fixed
    assert doc["verdict"]["agree"] is True


def test_relu_cubic_target_is_unreachable_for_both():
    spec = str(SPECS / "two_layer_relu_cubic.yaml")
    result = run(spec, *FAST)
    assert result.exit_code == 0, result.output
    assert "unreachable" in result.output and "out of reach" in result.output
    doc = ldt_json(spec, *FAST)
    assert {p["status"] for p in doc["points"]} == {"unreachable"}
    assert all(p["energy"] is None for p in doc["points"])  # infinite -> null, JSON stays valid
    assert doc["heuristic"]["pattern"] is None and doc["heuristic"]["unreachable"]
    assert doc["verdict"]["agree"] is True and doc["density"] is None


def test_polynomial_coefficients_come_from_the_spec(tmp_path):
    doc = ldt_json(spec_file(tmp_path, '{polynomial: [0, 1, "1/2"]}', 1), *FAST)
    assert doc["parameters"]["activation"] == "polynomial [0, 1, 1/2]"
    assert doc["slopes"]["energy"][0] == pytest.approx(1.0, abs=0.02)


def test_superlinear_polynomial_is_vacuous(tmp_path):
    doc = ldt_json(spec_file(tmp_path, "cubic", 3), *FAST)
    assert {p["status"] for p in doc["points"]} == {"vacuous"}
    assert doc["verdict"]["agree"] is False and "vacuous" in doc["verdict"]["reason"]


# -- --plot -----------------------------------------------------------------------------


def test_plot_needs_a_known_suffix(tmp_path):
    message = one_line_error(run(ERF, *FAST, "--plot", str(tmp_path / "out.txt")))
    assert ".png" in message and ".svg" in message


def test_plot_without_matplotlib_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    message = one_line_error(run(ERF, *FAST, "--plot", str(tmp_path / "out.png")))
    assert "pip install 'curse[plot]'" in message and not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG\r\n\x1a\n"), (".svg", b"<svg")])
def test_plot_writes_png_and_svg(tmp_path, suffix, magic):
    pytest.importorskip("matplotlib")
    out = tmp_path / f"ldt{suffix}"
    result = run(ERF, *FAST, "--plot", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # the note about the file goes to stderr
    data = out.read_bytes()
    assert data.startswith(magic) if suffix == ".png" else magic in data


@pytest.mark.parametrize("option, value", [("--d", "100,1e30"), ("--alpha", "1e-300"), ("--sigma-a", "1e300"),
                                           ("--sigma-w", "1e-7"), ("--tolerance", "nan"), ("--tolerance", "inf")])
def test_every_option_range_is_checked_up_front(option, value):
    """Each of these crashed (MemoryError, math domain error) or was accepted (nan)."""
    result = run(ERF, option, value)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output and "Traceback" not in result.output


def test_a_verdict_from_unresolved_points_only_is_inconclusive():
    """At d = 1e8 and 1e9 the erf bound's supremum is at the end of the t grid (status
    boundary, no finite t_max) at both ends of the compared slope: the energies are lower
    estimates, so nothing is decided.  (ReLU's boundary points, whose bracket is narrow,
    still decide: test_relu_quadratic_target_works.)"""
    doc = json.loads(run(ERF, "--d", "1e8,1e9", "--format", "json").output)
    assert [p["status"] for p in doc["points"]] == ["boundary", "boundary"]
    assert doc["verdict"]["outcome"] == "inconclusive" and doc["verdict"]["agree"] is False
    assert doc["verdict"]["reason"].startswith("inconclusive: ")
