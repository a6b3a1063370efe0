"""The output says what was computed (issue 9, section 6): the header echoes the run,
tables fit the terminal without cutting a name or a factor, ties are never hidden, notes
flag results outside the heuristic's range, one JSON naming convention."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from curse_cli.cli import layout
from curse_cli.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
THREE = str(ROOT / "specs" / "three_layer_erf.yaml")
TWO = str(ROOT / "specs" / "two_layer_erf.yaml")
FOUR = str(ROOT / "specs" / "four_layer_erf.yaml")
# The tie of the paper's Table 1 at N1 = N2 = d (README, "A real session").
TABLE_1_TIE = {"GP-Sp(z)", "Sp(z)-GP", "Sp(z)-Sp(sigma1)"}


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env)


def head(result) -> str:
    """The header: everything before the `P*` headline."""
    return result.output.split("P* ∝")[0]


def test_the_header_echoes_what_changes_the_answer():
    """The safe truncation tracks Hermite orders up to the target's degree (3 here), and
    the header says so."""
    base = run("predict", THREE, env={"COLUMNS": "400"})
    variants = [("--set", "N1=2"), ("--set", "kappa=1/2"), ("--max-order", "5")]
    headers = {head(base)} | {head(run("predict", THREE, *v, env={"COLUMNS": "400"})) for v in variants}
    assert len(headers) == 1 + len(variants)
    text = head(base)
    for part in ("activation erf", "widths [N1, N2]", "degree 3", "scaling: standard", "target_variance 0",
                 "ridge: kappa", "N1 = d", "max order 3"):
        assert part in text, part


def test_the_header_is_built_from_any_spec_fields():
    """A future architecture kind's fields appear with no edit to the header code."""
    doc = {"name": "attention", "architecture": {"kind": "attention", "heads": 4, "length": "d^(1/2)"},
           "scales": {"L": "1/2", "kappa": "0"}}
    text = layout.header(doc, "a.yaml", ["max order 3"]).plain
    assert text.splitlines()[0] == "attention"
    assert "architecture: kind attention, heads N = d^4, length d^(1/2)" in text   # a literal size: an exponent
    assert "scales: L = d^(1/2), kappa = 1" in text and text.endswith("max order 3")


def test_a_name_with_control_characters_is_escaped(tmp_path):
    spec = tmp_path / "n.yaml"
    body = Path(TWO).read_text().replace("name: two-layer erf network, cubic target", 'name: "bad\\x07\\x1b[31mred"')
    spec.write_text(body)
    out = run("predict", str(spec)).output
    assert "\x1b" not in out and "\x07" not in out
    assert out.splitlines()[0] == "bad\\x07\\x1b[31mred"


def test_top_never_hides_a_tied_winner():
    doc = json.loads(run("predict", THREE, "--top", "1", "--format", "json").output)
    assert {p["name"] for p in doc["patterns"]} == TABLE_1_TIE
    table = run("predict", THREE, "--all", "--top", "1", env={"COLUMNS": "200"}).output
    assert "3 of 11 patterns shown" in table  # the README table has 11 rows


def test_compare_scores_a_pattern_named_twice_once():
    doc = json.loads(run("compare", THREE, "-p", "GP-GP", "-p", "GP-GP", "-p", "GP-Sp(z)", "--format", "json").output)
    assert [p["name"] for p in doc["patterns"]] == ["GP-Sp(z)", "GP-GP"]


@pytest.mark.parametrize("spec", [THREE, FOUR])
def test_at_80_columns_nothing_is_cut(spec):
    out = run("predict", spec, "--top", "3", env={"COLUMNS": "80"}).output
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    tie = out.split("\n\n")[0]  # the headline lists every winner whole, aligned
    rows = [line for line in tie.splitlines() if line.startswith("  ") and "P* ∝" in line]
    starts = {line.index("P* ∝") for line in rows}
    assert len(rows) >= 3 and len(starts) == 1


def test_formulas_break_between_factors_only():
    cell = layout.formula("kappa (N1 N2 d)^(1/3) (N1 d^3)^(1/4)")
    assert list(cell.lines(16)) == ["kappa", "(N1 N2 d)^(1/3)", "(N1 d^3)^(1/4)"]
    assert list(layout.name("Sp(z)-Sp(sigma1)-GP").lines(13)) == ["Sp(z)-", "Sp(sigma1)-GP"]
    console = Console(width=30, file=open("/dev/null", "w"))
    assert layout.Pieces(["a"]).__rich_measure__(console, console.options).minimum == 1
    assert list(layout.Pieces(["abcdefgh"]).lines(3)) == ["abc", "def", "gh"]  # folded, not cut


def test_piped_output_follows_columns():
    assert len(max(run("predict", THREE, env={"COLUMNS": "100"}).output.splitlines(), key=len)) <= 100


def test_notes_for_results_outside_the_range():
    """At [N] = 0 the two-layer erf network's best energy is (N d^3)^(1/4) = d^(3/4) (README's
    sweep table, row a); with [kappa] = -1/2, [P*] = 3/4 - 1/2 = 1/4 < 1 (w* has d entries), and the ridge is
    negative.  At [kappa] = -1, [P*] = -1/4 <= 0: vacuous.  Standard scaling (chi = 1) never
    gets the mean-field note."""
    doc = json.loads(run("predict", TWO, "--set", "N=0", "--set", "kappa=-1/2", "--format", "json").output)
    assert doc["prediction"]["p_star_exponent"] == "1/4"
    assert [n["code"] for n in doc["notes"]] == ["p_star_below_dimension", "negative_ridge"]
    doc = json.loads(run("predict", TWO, "--set", "N=0", "--set", "kappa=-1", "--format", "json").output)
    assert [n["code"] for n in doc["notes"]] == ["p_star_vacuous", "negative_ridge"]
    assert json.loads(run("predict", THREE, "--format", "json").output)["notes"] == []
    # Mean-field (chi = N = d) with a vanishing ridge: README's case where P* can be vacuous.
    mean_field = str(ROOT / "specs" / "two_layer_erf_mean_field.yaml")
    doc = json.loads(run("predict", mean_field, "--set", "kappa=-1/2", "--format", "json").output)
    assert [n["code"] for n in doc["notes"]][-2:] == ["negative_ridge", "vacuous_readout"]
    assert "note: outside the heuristic's range" in run("predict", TWO, "--set", "N=0", "--set", "kappa=-1/2").output


def test_one_naming_convention_and_new_schema_versions():
    predict = json.loads(run("predict", THREE, "--format", "json").output)
    assert predict["schema"] == "curse.predict/4"
    assert {"p_star", "p_star_exponent"} <= set(predict["prediction"]) and "P_star" not in predict["prediction"]
    patterns = json.loads(run("patterns", THREE, "--format", "json").output)
    assert patterns["schema"] == "curse.patterns/2"
    assert patterns["spec"]["origin"] == THREE and patterns["spec"]["architecture"]["widths"] == ["N1", "N2"]
    sweep = json.loads(run("sweep", TWO, "--x", "N=0:2:3", "--format", "json").output)
    assert sweep["schema"] == "curse.sweep/2"
    for region in sweep["regions"]:
        assert "P_star" not in region and {"p_star", "p_star_powers"} <= set(region)


SEVEN = str(ROOT / "specs" / "seven_layer_erf.yaml")


def _unbreakable(doc) -> list[str]:
    """What no layout may cut: each layer of every pattern name (its `-` ends a piece), and
    each top-level factor of every energy formula."""
    units = []
    for p in doc["patterns"]:
        units += [piece.rstrip() for piece in layout.name(p["name"]).pieces]
        if p.get("energy"):
            units += layout.formula(p["energy"]).pieces
    return [u for u in units if u]


@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize("command, spec", [("predict", FOUR), ("compare", FOUR), ("compare", THREE)])
def test_no_layout_cuts_a_word_a_number_or_a_factor(command, spec, columns):
    """At 80 columns predict squeezed the corner column to `corn`/`er` and compare split
    `(N2 d)^(1/` / `2)`: a table whose columns cannot hold their widest piece is stacked,
    one block per pattern, instead."""
    doc = json.loads(run(command, spec, "--format", "json").output)
    out = run(command, spec, env={"COLUMNS": str(columns)}).output
    assert max(len(line) for line in out.splitlines()) <= columns
    flat = " ".join(out.split())
    for unit in _unbreakable(doc):
        assert unit in flat, (unit, out)
    for word in ("[E]", "corner" if command == "predict" else "a_y"):
        assert word in out.split(), out


def test_seven_layers_at_80_columns_are_stacked_whole():
    out = run("predict", SEVEN, env={"COLUMNS": "80"}).output
    assert "┃" not in out and max(len(line) for line in out.splitlines()) <= 80
    assert "corner  " in out and "Sp(z)-Sp(sigma1)-Sp(sigma2)-Sp(sigma3)-Sp(sigma4)-Sp(sigma5)" in out


@pytest.mark.parametrize("architecture, scaling, shown", [
    ("{kind: cnn, activation: erf, channels: 0, patch: 1}", "standard", ["channels N = 1", "patch S = d"]),
    ("{kind: fcn, activation: erf, widths: [2]}", "{chi: 1}", ["widths [N = d^2]", "scaling: chi = d"]),
    ("{kind: fcn, activation: erf, widths: [1, N]}", "standard", ["widths [N1 = d, N]"]),
    ("{kind: attention, heads: 0, length: 1}", "standard", ["heads N = 1", "length L = d"]),
])
def test_the_header_echoes_literal_sizes_as_powers_of_d(architecture, scaling, shown):
    """`patch: 1`, `heads: 0`, `widths: [2]` are exponents of d, not counts."""
    target = "two-token" if "attention" in architecture else "hermite"
    scales = "scales: {N: 1}\n" if "N]" in architecture else ""
    spec = f"architecture: {architecture}\ntarget: {{kind: {target}, degree: 3}}\nscaling: {scaling}\n{scales}"
    result = CliRunner().invoke(cli, ["predict", "-"], input=spec, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    for text in shown:
        assert text in head(result), head(result)
