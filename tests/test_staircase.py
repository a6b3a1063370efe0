"""Polynomial targets and the learning staircase (docs/theory.md section 12).

Every expected value is derived by hand in section 12.5 (two-layer erf, standard
scaling, kappa ∝ 1): alone, `He_1` costs 1 (GP), `He_3` costs 3 (GP) and `He_5` 7/2
(`Sp(z)`) at `N = d^6`; every set with `He_5` costs 7/2, `{1, 3}` costs 3; at `N = d`
every odd set costs 1.  The shares are `c_k^2 k!` normalised.
"""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction as F
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from curse_cli.documents.predict import prediction_json
from curse_cli.cli.main import cli
from curse_cli.engine.api import Options, at_alignment, explain, parse_pattern, predict, staircase
from curse_cli.spec.load import SpecError, load_spec, load_spec_text

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "specs").glob("*.yaml"))


def spec_text(target: str, n: str = "6", activation: str = "erf", extra: str = "") -> str:
    return (f"architecture: {{kind: fcn, activation: {activation}, widths: [N]}}\n"
            f"target: {target}\nscaling: standard\nscales: {{N: {n}}}\n{extra}")


def problem_of(target: str, n: str = "6", **kw):
    return load_spec_text(spec_text(target, n, **kw), "<test>").problem


def steps(problem):
    """(from, to, pieces, [P*]) of every step."""
    stair = staircase(problem, Options(), top=5)
    return [(s.alignment_from, s.alignment_to, s.pieces, s.prediction.p_star_exponent) for s in stair.steps]


ONE_THREE_FIVE = "{kind: polynomial, coefficients: {1: 1, 3: 1, 5: 1}}"


# -- the spec ------------------------------------------------------------------------


def test_shares_from_coefficients_are_c_squared_k_factorial():
    # 1 * 1!, 1 * 3!, 1 * 5! = 1, 6, 120 over 127
    assert problem_of(ONE_THREE_FIVE).shares == ((1, F(1, 127)), (3, F(6, 127)), (5, F(120, 127)))
    # c_3 = 1/2: 6/4 = 3/2 against 1: shares 2/5, 3/5
    assert problem_of('{kind: polynomial, coefficients: {1: 1, 3: "1/2"}}').shares == ((1, F(2, 5)), (3, F(3, 5)))


def test_zero_coefficients_are_dropped_and_one_piece_is_hermite():
    hermite = problem_of("{kind: hermite, degree: 3}")
    assert problem_of("{kind: polynomial, coefficients: {1: 0, 3: 2}}") == hermite
    assert problem_of("{kind: polynomial, shares: {3: 1}}") == hermite


@pytest.mark.parametrize("target, alignment, message", [
    ("{kind: polynomial, shares: {1: 1/3, 3: 1/3}}", "", "the shares must sum to 1, got 2/3"),
    ("{kind: polynomial, coefficients: {-2: 1}}", "", "a piece's order is at least 1"),
    ("{kind: polynomial, coefficients: {0: 1}}", "", "a piece's order is at least 1"),
    ("{kind: polynomial}", "", "give exactly one of coefficients"),
    (ONE_THREE_FIVE, "alignment: 0\n", "an alignment is in (0, 1]"),
    (ONE_THREE_FIVE, "alignment: 1.01\n", "an alignment is in (0, 1]"),
    (ONE_THREE_FIVE, "alignment: -1/2\n", "an alignment is in (0, 1]"),
])
def test_bad_polynomial_specs_are_one_line_errors(target, alignment, message):
    with pytest.raises(SpecError) as err:
        load_spec_text(spec_text(target, extra=alignment), "<test>")
    assert message in str(err.value) and "\n" not in str(err.value)


# -- the staircase, by hand (section 12.5) -----------------------------------------------


def test_unequal_shares_staircase_at_n_d6():
    assert steps(problem_of(ONE_THREE_FIVE)) == [
        (F(0), F(1, 127), (1,), F(1)),
        (F(1, 127), F(7, 127), (1, 3), F(3)),
        (F(7, 127), F(1), (1, 3, 5), F(7, 2)),
    ]


def test_half_the_alignment_needs_he5_by_specialisation():
    problem = replace(problem_of(ONE_THREE_FIVE), alignment=F(1, 2))
    pred = predict(problem, Options(), top=5)
    assert pred.p_star_exponent == F(7, 2)
    assert [w.name for w in pred.winners] == ["Sp(z)"]


def test_equal_shares_staircase_at_n_d6():
    problem = problem_of("{kind: polynomial, shares: {1: 1/3, 3: 1/3, 5: 1/3}}")
    assert steps(problem) == [
        (F(0), F(1, 3), (1,), F(1)),
        (F(1, 3), F(2, 3), (1, 3), F(3)),
        (F(2, 3), F(1), (1, 3, 5), F(7, 2)),
    ]
    for alignment, expected in ((F(1, 3), F(1)), (F(1, 2), F(3)), (F(2, 3), F(3)), (F(7, 10), F(7, 2))):
        assert predict(replace(problem, alignment=alignment), Options(), top=5).p_star_exponent == expected


def test_at_n_d_every_odd_set_costs_one_a_single_step():
    assert steps(problem_of(ONE_THREE_FIVE, n="1")) == [(F(0), F(1), (1, 3, 5), F(1))]


def test_bundled_staircase_spec():
    # He_1 + He_3 at N = d^2: shares 1/7, 6/7; He_1 lazily at 1, then one Sp(z) for both
    # at (N d)^(1/2) = d^(3/2) (He_1 from its lazy part).
    problem = load_spec(str(ROOT / "specs" / "staircase_erf.yaml")).problem
    assert steps(problem) == [(F(0), F(1, 7), (1,), F(1)), (F(1, 7), F(1), (1, 3), F(3, 2))]


def test_unreachable_pieces_cap_the_alignment():
    # He_2 through erf: no pattern.  Shares 1, 2, 6 over 9: the cap is 7/9.
    problem = problem_of("{kind: polynomial, coefficients: {1: 1, 2: 1, 3: 1}}")
    stair = staircase(problem, Options(), top=5)
    assert stair.cap == F(7, 9) and [k for k, _ in stair.missing] == [2]
    assert steps(problem) == [(F(0), F(1, 9), (1,), F(1)), (F(1, 9), F(7, 9), (1, 3), F(3))]
    above = at_alignment(replace(problem, alignment=F(8, 9)), stair)
    assert above.p_star_exponent is None and "He_2" in above.unreachable and "7/9" in above.unreachable


def test_explain_shows_every_piece_readout_and_one_active():
    problem = problem_of(ONE_THREE_FIVE)
    ex = explain(problem, parse_pattern(problem.activation, 1, "Sp(z)"))
    for k in (1, 3, 5):
        assert any(t.order == k and t.formula for t in ex.readout_terms)
    assert sum(t.chosen for t in ex.readout_terms) == 3   # one candidate of each piece at the optimum
    assert sum(t.active for t in ex.readout_terms) == 1
    assert ex.report.exponent == F(7, 2)


# -- one piece is today's answer -----------------------------------------------------------


def _without_spec(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "spec"}


@pytest.mark.parametrize("path", [p for p in BUNDLED if yaml.safe_load(p.read_text())["target"]["kind"] == "hermite"],
                         ids=lambda p: p.name)
def test_one_coefficient_gives_todays_answer_for_every_bundled_spec(path):
    doc = yaml.safe_load(path.read_text())
    k = doc["target"].pop("degree")
    doc["target"] = {"kind": "polynomial", "coefficients": {k: 1}}
    today, piece = load_spec(str(path)), load_spec_text(yaml.safe_dump(doc), str(path))
    assert piece.problem == today.problem
    options = Options(workers=1)   # one process: the search's counts repeat exactly
    a = prediction_json(predict(today.problem, options, top=5), {}, "x")
    b = prediction_json(predict(piece.problem, options, top=5), {}, "x")
    assert _without_spec(a) == _without_spec(b)


@settings(max_examples=25, deadline=None)
@given(activation=st.sampled_from(["erf", "relu", "tanh"]), depth=st.integers(1, 2), k=st.integers(1, 6),
       coefficient=st.sampled_from(["1", "-2", "1/3", "0.5"]), n=st.sampled_from(["0", "1/2", "1", "2", "3"]),
       scaling=st.sampled_from(["standard", "mean-field"]))
def test_one_coefficient_gives_todays_answer_for_random_specs(activation, depth, k, coefficient, n, scaling):
    head = f"architecture: {{kind: fcn, activation: {activation}, widths: [{', '.join(['N'] * depth)}]}}\n"
    tail = f"scaling: {scaling}\nscales: {{N: {n}}}\n"
    today = load_spec_text(head + f"target: {{kind: hermite, degree: {k}}}\n" + tail, "<t>").problem
    piece = load_spec_text(head + f'target: {{kind: polynomial, coefficients: {{{k}: "{coefficient}"}}}}\n' + tail,
                           "<t>").problem
    a, b = predict(today, Options(), top=3), predict(piece, Options(), top=3)
    assert (a.p_star_exponent, [w.name for w in a.winners], a.unreachable) == \
        (b.p_star_exponent, [w.name for w in b.winners], b.unreachable)


# -- hostile input ------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_twenty_pieces_up_to_a_raised_degree_limit_answer_fast(tmp_path):
    # Orders 5..24 (the degree limit raised to 24) with c = 1: the ten even ones are unreachable through
    # erf, and He_24 alone carries more than half of the variance (24! > 23! + 22! + ...).
    coefficients = ", ".join(f"{k}: 1" for k in range(5, 25))
    spec = tmp_path / "twenty.yaml"
    spec.write_text(spec_text(f"{{kind: polynomial, coefficients: {{{coefficients}}}}}"))
    result = run("predict", str(spec), "--alignment", "1/2", "--format", "json", "--max-degree", "24")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["prediction"] is None and "He_24" in doc["unreachable"]


def test_ten_odd_pieces_two_steps_then_the_top(tmp_path):
    coefficients = ", ".join(f"{k}: 1" for k in range(1, 20, 2))
    spec = tmp_path / "ten.yaml"
    spec.write_text(spec_text(f"{{kind: polynomial, coefficients: {{{coefficients}}}}}"))
    doc = json.loads(run("predict", str(spec), "--format", "json", "--max-degree", "19").output)
    stair = doc["prediction"]["staircase"]
    assert [s["p_star_exponent"] for s in stair] == ["1", "3", "7/2"]
    assert stair[-1]["pieces"] == list(range(1, 20, 2)) and stair[-1]["pattern"] == "Sp(z)"


def test_a_piece_above_the_degree_limit_is_refused_in_one_line(tmp_path):
    spec = tmp_path / "high.yaml"
    spec.write_text(spec_text("{kind: polynomial, coefficients: {1: 1, 25: 1}}"))
    result = run("predict", str(spec))
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "--max-degree 25" in result.output


def test_every_piece_is_checked_against_the_degree_limit_before_any_set_is_solved(monkeypatch):
    # Two hidden layers cap the degree at 13 however far --max-degree is raised: He_19 is refused
    # before the pieces below it are solved (climb would solve He_1 .. He_13 first).
    import curse_cli.engine.api as engine_api
    from curse_cli.limits import LimitExceeded

    def no_work(*_args, **_kw):
        raise AssertionError("a set was solved before the limits were checked")

    monkeypatch.setattr(engine_api, "climb", no_work)
    text = ("architecture: {kind: fcn, activation: erf, widths: [N1, N2]}\n"
            "target: {kind: polynomial, coefficients: {1: 1, 3: 1, 13: 1, 19: 1}}\n"
            "scaling: standard\nscales: {N1: 2, N2: 1}\n")
    problem = load_spec_text(text, "<test>").problem
    with pytest.raises(LimitExceeded) as err:
        staircase(problem, Options(max_degree=19))
    assert err.value.value == 19


def test_too_many_reachable_pieces_are_refused_in_one_line(tmp_path):
    # ReLU reaches He_1 and every even order: 1, 2, 4, ..., 24 are 13 reachable pieces.
    spec = tmp_path / "many.yaml"
    coefficients = ", ".join(f"{k}: 1" for k in (1, *range(2, 25, 2)))
    spec.write_text(spec_text(f"{{kind: polynomial, coefficients: {{{coefficients}}}}}", n="1", activation="relu"))
    result = run("predict", str(spec), "--max-degree", "24")
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "target: the number of reachable pieces of the target is 13, above the limit of 12" in result.output
    assert "it is fixed" in result.output


@pytest.mark.parametrize("value", ["0", "1.5", "-1", "x", "1/0"])
def test_bad_alignment_option(value):
    result = run("predict", str(ROOT / "specs" / "staircase_erf.yaml"), "--alignment", value)
    assert result.exit_code == 2 and result.output.startswith("Error: --alignment: ")
    assert result.output.count("\n") == 1


# -- the output -----------------------------------------------------------------------------


def test_predict_json_staircase_and_table():
    path = str(ROOT / "specs" / "staircase_erf.yaml")
    doc = json.loads(run("predict", path, "--format", "json").output)
    assert doc["schema"] == "curse.predict/4"
    assert doc["prediction"]["staircase"] == [
        {"alignment_from": "0", "alignment_to": "1/7", "pieces": [1], "p_star_exponent": "1", "p_star": "kappa d",
         "pattern": "GP", "tied": []},
        {"alignment_from": "1/7", "alignment_to": "1", "pieces": [1, 3], "p_star_exponent": "3/2",
         "p_star": "kappa (N d)^(1/2)", "pattern": "Sp(z)", "tied": []},
    ]
    low = json.loads(run("predict", path, "--alignment", "1/7", "--format", "json").output)
    assert low["prediction"]["p_star_exponent"] == "1"
    table = run("predict", path, "--alignment", "0.5").output
    assert "Learning staircase" in table and "(1/7, 1]" in table


@pytest.mark.parametrize("command", [["compare"], ["explain", "-p", "Sp(z)"], ["sweep", "--x", "N=1:2:3"],
                                     ["depth", "--layers", "1"]])
def test_alignment_option_on_every_command(command):
    result = run(command[0], str(ROOT / "specs" / "staircase_erf.yaml"), *command[1:], "--alignment", "1/7")
    assert result.exit_code == 0, result.output


def test_the_python_api_gives_what_format_json_prints_staircase_included():
    """`curse_cli.predict(...).to_dict()` is `--format json`, `prediction.staircase` with it
    (the staircase of section 12.5: `(0, 1/7]` at 1, `(1/7, 1]` at 3/2)."""
    import curse_cli

    path = str(ROOT / "specs" / "staircase_erf.yaml")

    def cli_json(*args):
        result = run(*args, "--format", "json")
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    low = curse_cli.predict(path, alignment="1/10")
    assert low.to_dict() == cli_json("predict", path, "--alignment", "1/10")
    assert low.p_star_exponent == 1 and [s.alignment_to for s in low.staircase.steps] == [F(1, 7), 1]
    assert curse_cli.predict(path).p_star_exponent == F(3, 2)
    assert curse_cli.compare(path, patterns=["GP", "Sp(z)"], alignment=F(1, 2)).to_dict() == \
        cli_json("compare", path, "-p", "GP", "-p", "Sp(z)", "--alignment", "1/2")
    both = curse_cli.explain(path, "Sp(z)")
    assert both.to_dict() == cli_json("explain", path, "-p", "Sp(z)")
    candidates = both.to_dict()["readout_candidates"]
    assert {c["order"] for c in candidates} == {1, 3} and sum(c["active"] for c in candidates) == 1
    assert [c["order"] for c in candidates if c["chosen"]] == [1, 3]
    assert curse_cli.sweep(path, "N=1:2:3", alignment="1/7").to_dict() == \
        cli_json("sweep", path, "--x", "N=1:2:3", "--alignment", "1/7")
    assert curse_cli.depth(path, layers="1", alignment="1/7").to_dict() == \
        cli_json("depth", path, "--layers", "1", "--alignment", "1/7")


@pytest.mark.parametrize("columns", [40, 60, 80])
def test_the_staircase_table_cuts_no_interval_formula_or_piece(columns):
    """A staircase too wide for the terminal is stacked, one block per step, like the
    patterns' table: an interval, a factor such as `(N d)^(1/2)` or a piece stays whole."""
    out = CliRunner().invoke(cli, ["predict", str(ROOT / "specs" / "staircase_erf.yaml")],
                             env={"COLUMNS": str(columns)}).output
    stair = out[out.index("Learning staircase"):]
    assert max(len(line) for line in stair.splitlines()) <= columns
    for unit in ("(0, 1/7]", "(1/7, 1]", "(N d)^(1/2)", "He_1", "He_3", "Sp(z)"):   # broken only between them
        assert unit in stair, (unit, stair)
