"""Bounded work, decided up front (issue 9, section 3)."""

from __future__ import annotations

import pytest

from curse_cli.archs.activations import builtin
from curse_cli.engine.api import PATTERN_CEILING, LimitExceeded, Options, PatternSpaceTooLarge, predict
from curse_cli.engine.reach import reachable, unreachable_from_supports
from curse_cli.spec.load import load_spec_text


def problem(act: str, depth: int, k: int):
    widths = ", ".join(["d"] * depth)
    return load_spec_text(f"architecture: {{kind: fcn, activation: {act}, widths: [{widths}]}}\n"
                          f"target: {{kind: hermite, degree: {k}}}\nscaling: standard\n", "t.yaml").problem


def test_parity_answers_a_huge_even_target_of_an_odd_activation_at_once():
    """erf is odd (J = T = odd orders): every kernel is an odd function of z, so He_1000
    is unreachable whatever the depth; no pattern is enumerated (without the shortcut,
    the 11 patterns would be listed, or degree 1000 refused by the limits)."""
    pred = predict(problem("erf", 2, 1000))
    assert pred.patterns == () and not pred.winners
    assert "He_1000" in pred.unreachable and "no even order" in pred.unreachable


@pytest.mark.parametrize("act, depth, k, reached", [
    ("relu", 1, 3, False),       # J = {1, even}: one layer gives orders 1 and even only
    ("relu", 2, 3, True),        # He_1 He_2 contains He_3
    ("quadratic", 2, 4, True),   # (z^2)^2 reaches order 4
    ("quadratic", 2, 6, False),  # two squarings: degree 4 at most
    ("quadratic", 3, 3, False),  # even functions only
    ("cubic", 1, 5, False),      # z^3: orders 1, 3
    ("cubic", 2, 9, True),       # (z^3)^3
    ("linear", 3, 2, False),
])
def test_reachable_orders_from_the_supports(act, depth, k, reached):
    assert (k in reachable(builtin(act), depth, k)) is reached
    assert (unreachable_from_supports(builtin(act), depth, k) is None) is reached


def test_limits_are_checked_before_any_work_and_name_their_option():
    with pytest.raises(LimitExceeded, match="--max-depth 13"):
        predict(problem("erf", 13, 3))
    with pytest.raises(LimitExceeded, match="--max-degree 25"):
        predict(problem("erf", 1, 25))
    with pytest.raises(LimitExceeded, match="--max-power 17"):
        predict(problem("{polynomial: [0, 1, " + "0, " * 15 + "1]}", 1, 1))
    assert predict(problem("erf", 1, 25), Options(max_degree=25)).p_star_exponent is not None


def test_advised_max_patterns_is_one_that_finishes():
    """Eight erf layers have 2,183,339 patterns: no --max-patterns value is advised
    beyond the ceiling; four layers (299) advise exactly their count."""
    with pytest.raises(PatternSpaceTooLarge) as big:
        predict(problem("erf", 8, 3))
    assert "--max-patterns 2183339" not in str(big.value) and str(PATTERN_CEILING) in str(big.value)
    with pytest.raises(PatternSpaceTooLarge, match="--max-patterns 299"):
        predict(problem("erf", 4, 3), Options(max_patterns=10))


def test_one_named_pattern_works_in_its_own_sizes():
    """compare/explain of one pattern of a deep network: the symbol space holds that
    pattern's free sizes (M_l, q_l of its specialised layers), not the M, q, D of every
    layer and spike of the pattern space (12 layers: 102 of them)."""
    from curse_cli.engine.api import Context
    from curse_cli.engine.patterns import parse_pattern

    prob = problem("erf", 12, 3)
    name = "-".join(["Sp(z)", *(["GP"] * 10), "Sp(sigma1)"])
    ctx = Context(prob, Options(workers=1), patterns=[parse_pattern(prob.activation, 12, name)])
    assert set(ctx.space.variables) == {"#M1", "#q1", "#M12", "#q12"}
    report = ctx.score(parse_pattern(prob.activation, 12, name))
    assert report.exponent is not None


def test_deep_relu_is_refused_up_front_unless_the_depth_is_given():
    """Six hidden ReLU layers: the search takes about half a minute (five about 3 s; before
    the floors' complete test, four layers took minutes and a single chain of four spikes
    3.4 GB).  Refused in one line by predict, explain and sweep; an explicit --max-depth
    lifts it (a lazy pattern of six layers then explains at once); five layers are not
    refused."""
    from click.testing import CliRunner

    from curse_cli.cli.main import cli
    from curse_cli.engine.api import check_limits

    widths = ", ".join('"d"' for _ in range(6))
    text = (f"architecture: {{kind: fcn, activation: relu, widths: [{widths}]}}\ntarget: {{kind: hermite, degree: 3}}\n"
            "scaling: standard\n")
    lazy = "GP-GP-GP-GP-GP-Sp(z)"
    for args in (["predict", "-"], ["explain", "-", "-p", lazy]):
        result = CliRunner().invoke(cli, args, input=text)
        assert result.exit_code == 2 and "--max-depth 6" in result.output and "relu" in result.output, result.output
    result = CliRunner().invoke(cli, ["explain", "-", "-p", lazy, "--max-depth", "6"], input=text)
    assert result.exit_code == 0, result.output
    problem = load_spec_text(text, "t.yaml").problem
    with pytest.raises(LimitExceeded):
        check_limits(problem, Options())
    check_limits(problem, Options(max_depth_homogeneous=6))
    named = text.replace('"d", ', "N1, ", 1) + "scales: {N1: 1}\n"
    result = CliRunner().invoke(cli, ["sweep", "-", "--x", "N1=0:1:2"], input=named)
    assert result.exit_code == 2 and "--max-depth 6" in result.output, result.output
    five = load_spec_text(text.replace('"d", ', "", 1), "t.yaml").problem
    assert five.depth == 5
    check_limits(five, Options())


def test_a_deep_mean_field_search_is_refused_up_front_unless_the_depth_is_given():
    """A search over six hidden layers with a growing readout scale (mean-field, `chi =
    N6`) ran more than five minutes (five layers about 5 s).  predict, compare and depth
    refuse it in one line naming --max-depth; explain scores one pattern of it at once,
    and so does compare of one named pattern once --max-depth is given; standard scaling
    at six layers and mean-field at five are not refused by the limit itself."""
    from click.testing import CliRunner

    from curse_cli.cli.main import cli
    from curse_cli.engine.api import check_limits

    widths = ", ".join('"d"' for _ in range(6))
    text = (f"architecture: {{kind: fcn, activation: erf, widths: [{widths}]}}\ntarget: {{kind: hermite, degree: 3}}\n"
            "scaling: mean-field\n")
    for args in (["predict", "-"], ["compare", "-", "-p", "GP-GP-GP-GP-GP-Sp(z)"], ["depth", "-"]):
        result = CliRunner().invoke(cli, args, input=text)
        assert result.exit_code == 2 and "--max-depth 6" in result.output and "mean-field" in result.output, \
            (args, result.output)
        assert len(result.output.strip().splitlines()) == 1, result.output
    for args in (["explain", "-", "-p", "GP-GP-GP-GP-GP-Sp(z)"],
                 ["compare", "-", "-p", "GP-GP-GP-GP-GP-Sp(z)", "--max-depth", "6"]):
        result = CliRunner().invoke(cli, args, input=text)
        assert result.exit_code == 0, (args, result.output)
    problem = load_spec_text(text, "t.yaml").problem
    with pytest.raises(LimitExceeded):
        check_limits(problem, Options(max_depth_growing_chi=5))
    check_limits(problem, Options())   # the library's default: no separate limit
    check_limits(load_spec_text(text.replace("mean-field", "standard"), "t.yaml").problem,
                 Options(max_depth_growing_chi=5))
    check_limits(load_spec_text(text.replace('"d", ', "", 1), "t.yaml").problem, Options(max_depth_growing_chi=5))
