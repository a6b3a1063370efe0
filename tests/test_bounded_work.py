"""Bounded work, decided up front (issue 9, section 3)."""

from __future__ import annotations

import pytest

from curse_cli.archs.activations import builtin
from curse_cli.engine.api import PATTERN_CEILING, LimitExceeded, Options, PatternSpaceTooLarge, predict
from curse_cli.limits import WorkLimit
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


def test_limits_are_checked_before_any_work_and_say_which_limit():
    """The library's error says which limit, the value and the bound, and names no option."""
    cases = [(problem("erf", 13, 3), WorkLimit.DEPTH, 13, 6),
             (problem("erf", 1, 25), WorkLimit.DEGREE, 25, 12),
             (problem("{polynomial: [0, 1, " + "0, " * 15 + "1]}", 1, 1), WorkLimit.POWER, 17, 16)]
    for prob, limit, value, bound in cases:
        with pytest.raises(LimitExceeded) as err:
            predict(prob)
        assert (err.value.limit, err.value.value, err.value.bound) == (limit, value, bound)
        assert "--" not in str(err.value)
    assert predict(problem("erf", 1, 25), Options(max_degree=25)).p_star_exponent is not None


@pytest.mark.parametrize("args, text", [
    (["predict", "-"], "the number of hidden layers is 7, above the limit of 6"),
    (["predict", "-", "--max-depth", "9"], "Invalid value for '--max-depth': 9 is not in the range 1<=x<=8; see"),
    (["explain", "-", "-p", "GP-GP-GP-GP-GP-GP-Sp(z)"], "raise it with --max-depth 7"),
    (["validate", "-"], "<stdin>: architecture.widths: the number of hidden layers is 7"),
])
def test_the_cli_names_the_option_and_the_field_of_a_limit(args, text):
    """A limit's error names the spec's field, and the option that raises it only when the
    raised run finishes (up to the option's ceiling)."""
    from click.testing import CliRunner

    from curse_cli.cli.main import cli

    widths = ", ".join(["d"] * 7)
    spec = f"architecture: {{kind: fcn, activation: erf, widths: [{widths}]}}\ntarget: {{kind: hermite, degree: 3}}\n" \
           "scaling: standard\n"
    result = CliRunner().invoke(cli, args, input=spec)
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and text in result.output, result.output


def test_a_degree_beyond_what_finishes_is_refused_with_an_estimate_and_no_advice():
    """Two hidden layers: degree 15 would take about a minute and 1.4 GB (measured), beyond
    the ceiling of 13: even --max-degree 15 refuses it, with the estimate."""
    from click.testing import CliRunner

    from curse_cli.cli.main import cli

    spec = ("architecture: {kind: fcn, activation: erf, widths: [d, d]}\ntarget: {kind: hermite, degree: 15}\n"
            "scaling: standard\n")
    for extra in ([], ["--max-degree", "15"]):
        result = CliRunner().invoke(cli, ["predict", "-", *extra], input=spec)
        assert result.exit_code == 2 and "GB" in result.output and "raise it" not in result.output, result.output


def test_validate_runs_the_checks_of_the_commands():
    from click.testing import CliRunner

    from curse_cli.cli.main import cli

    spec = ("architecture: {kind: fcn, activation: erf, widths: [d]}\ntarget: {kind: hermite, degree: 25}\n"
            "scaling: standard\n")
    refused = CliRunner().invoke(cli, ["validate", "-"], input=spec)
    assert refused.exit_code == 2 and "target.degree" in refused.output and "--max-degree 25" in refused.output
    assert CliRunner().invoke(cli, ["validate", "-", "--max-degree", "25"], input=spec).exit_code == 0


def test_advised_max_patterns_is_one_that_finishes():
    """Eight erf layers have 2,183,339 patterns: raising --max-patterns that far is not
    advised (beyond the ceiling); four layers (299) are, to exactly their count."""
    from click.testing import CliRunner

    from curse_cli.cli.main import cli

    with pytest.raises(PatternSpaceTooLarge) as big:
        predict(problem("erf", 8, 3), Options(max_depth=8), top=None)
    assert big.value.value == 2183339 and big.value.ceiling == PATTERN_CEILING and not big.value.raisable
    spec = "architecture: {kind: fcn, activation: erf, widths: [d, d, d, d]}\ntarget: {kind: hermite, degree: 3}\n" \
           "scaling: standard\n"
    result = CliRunner().invoke(cli, ["predict", "-", "--all", "--max-patterns", "10"], input=spec)
    assert result.exit_code == 2 and "raise it with --max-patterns 299" in result.output, result.output
    eight = spec.replace("d]", "d, d, d, d, d]")
    result = CliRunner().invoke(cli, ["predict", "-", "--all", "--max-depth", "8"], input=eight)
    assert result.exit_code == 2 and "--max-patterns" in result.output and "raise it" not in result.output


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
        assert result.exit_code == 2 and "curse explain" in result.output and "mean-field" in result.output, \
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
    standard = load_spec_text(text.replace("mean-field", "standard"), "t.yaml").problem
    check_limits(standard, Options(max_depth_growing_chi=5))
    check_limits(load_spec_text(text.replace('"d", ', "", 1), "t.yaml").problem, Options(max_depth_growing_chi=5))


def test_the_limits_page_quotes_the_one_module():
    """docs/limits.md says what each limit is and why, from `curse_cli.limits` (the help
    texts quote it too): every reason appears there word for word, every ceiling too."""
    from pathlib import Path

    from curse_cli.cli.common import limited
    from curse_cli.limits import CEILING_BY_DEPTH, RULES

    page = " ".join((Path(__file__).resolve().parent.parent / "docs" / "limits.md").read_text().split())
    for limit, rule in RULES.items():
        assert rule.why in page, limit
        assert f"{rule.default:,}" in page and (rule.ceiling is None or f"{rule.ceiling:,}" in page), limit
        assert rule.why in limited(limit, "")["help"]
    for table in CEILING_BY_DEPTH.values():
        assert all(str(top) in page for top in table.values())


@pytest.mark.parametrize("args", [
    ["--max-power", "1000"], ["--max-degree", "999"], ["--max-degree", "99999999999999999999999999"],
    ["--max-depth", "100"], ["--max-patterns", "10000000"],
])
def test_a_limit_beyond_its_ceiling_is_one_line(args):
    """`--max-power 1000` (which an error once suggested) gave RecursionError, `--max-degree
    99999999999999999999999999` 6.9 GB: each option accepts its limit's ceiling at most."""
    from click.testing import CliRunner

    from curse_cli.cli.main import cli

    spec = "architecture: {kind: fcn, activation: erf, widths: [d]}\ntarget: {kind: hermite, degree: 999}\n" \
           "scaling: standard\n"
    result = CliRunner().invoke(cli, ["predict", "-", *args], input=spec)
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "is not in the range" in result.output


def test_a_polynomial_of_5001_coefficients_is_refused_before_its_conversion():
    """Its Hermite coefficients took more than 15 minutes: the degree is checked first,
    in one pass, against the highest order any run tracks."""
    from curse_cli.spec.load import SpecError

    coefficients = ", ".join(["1"] * 5001)
    with pytest.raises(SpecError, match="architecture.activation.polynomial: the polynomial has degree 5000"):
        load_spec_text(f"architecture: {{kind: fcn, activation: {{polynomial: [{coefficients}]}}, widths: [d]}}\n"
                       "target: {kind: hermite, degree: 3}\nscaling: standard\n", "p.yaml")


def test_hermite_coefficients_by_horner_match_the_closed_form():
    """v^m = sum_t m! / (t! (m-2t)! 2^t) He_(m-2t): the loop against the closed form, exactly."""
    import math
    from fractions import Fraction

    from curse_cli.archs.activations import hermite_coefficients

    for m in range(12):
        expected = [Fraction(0)] * (m + 1)
        for t in range(m // 2 + 1):
            expected[m - 2 * t] = Fraction(math.factorial(m), math.factorial(t) * math.factorial(m - 2 * t) * 2**t)
        assert hermite_coefficients([0] * m + [1]) == expected
    assert hermite_coefficients(["1/2", 0, -1, 3]) == [Fraction(-1, 2), 9, -1, 3]   # 1/2 - v^2 + 3 v^3


def test_he_999_is_answered_or_refused_in_one_line_never_recursion():
    """`--max-degree 999` on He_999 raised RecursionError (a recursive power chain)."""
    from curse_cli.engine.powers import power_chain

    chain = power_chain(range(1, 1000))
    assert set(chain) == set(range(1, 1000)) and all(chain[m] == 0 for m in range(2, 1000))
    assert power_chain([1, 2, 4]) == {1: 0, 2: 0, 4: 2}   # ReLU's lazy rule: 4 = 2 squared, no cube
    assert power_chain([4]) == {1: 0, 2: 1, 4: 2} and power_chain([3]) == {1: 0, 2: 1, 3: 0}


# (activation, its Taylor powers of degree >= 1 worked out by hand)
TAYLOR = {"cubic": {3}, "{polynomial: [1, 0, 0, 1]}": {3}, "{polynomial: [1, 1, 1]}": {1, 2},
          "{polynomial: [0, 1, 0, 1]}": {1, 3}, "{polynomial: [1, 1, 0, 1]}": {1, 3},
          "{polynomial: [0, 0, 1, 1]}": {2, 3}, "{polynomial: [1, 1, 1, 1]}": {1, 2, 3}}


@pytest.mark.parametrize("act, depth, refused", [
    ("cubic", 4, False), ("{polynomial: [1, 0, 0, 1]}", 4, False), ("{polynomial: [1, 1, 1]}", 4, False),
    ("{polynomial: [0, 1, 0, 1]}", 4, True), ("{polynomial: [1, 1, 0, 1]}", 4, True),
    ("{polynomial: [0, 0, 1, 1]}", 4, True), ("{polynomial: [1, 1, 1, 1]}", 4, True),
    ("{polynomial: [1, 1, 1, 1]}", 3, False), ("cubic", 5, True), ("{polynomial: [1, 1, 1]}", 5, True),
])
def test_a_polynomial_is_bounded_by_its_taylor_powers_not_its_highest_order(act, depth, refused):
    """v^3, 1 + v^3, v + v^3 and 1 + v + v^3 share Hermite orders {1, 3} and the highest
    order 3, yet at four layers the first two answer in under a second and the last two
    take 20-30 s (docs/limits.md): the count of Taylor powers times the highest decides,
    at most 4 at four hidden layers and 2 at five.  Checked before any work: no slow run."""
    from curse_cli.engine.api import check_limits

    powers = TAYLOR[act]
    product = len(powers) * max(powers)
    if not refused:
        check_limits(problem(act, depth, 3), Options())
        return
    with pytest.raises(LimitExceeded) as err:
        check_limits(problem(act, depth, 3), Options(max_depth=8))
    assert (err.value.limit, err.value.value, err.value.bound) == (WorkLimit.TERMS, product, {4: 4, 5: 2}[depth])
    assert not err.value.raisable and "--" not in str(err.value)
    assert "hidden layers" in err.value.estimate and " took " in err.value.estimate


def test_the_cli_refuses_a_dense_cubic_at_four_layers_without_advising_a_raise():
    """`{polynomial: [1, 1, 1, 1]}` at four hidden layers ran for more than five minutes
    although its highest order (3) was within the limit."""
    from click.testing import CliRunner

    from curse_cli.cli.main import cli

    spec = "architecture: {kind: fcn, activation: {polynomial: [1, 1, 1, 1]}, widths: [d, d, d, d]}\n" \
           "target: {kind: hermite, degree: 3}\nscaling: standard\n"
    result = CliRunner().invoke(cli, ["predict", "-", "--max-power", "64"], input=spec)
    assert result.exit_code == 2, result.output
    line, = result.output.strip().splitlines()
    assert line.startswith("Error: <stdin>: architecture.activation: ") and "is 9, above the limit of 4" in line
    assert "more than five minutes" in line and "raise it with" not in line and "cannot be raised" in line
