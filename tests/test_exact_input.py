"""Every number is read exactly or refused with one line (issue 9, section 2).

Each case below crashed with an internal error (an int64 overflow in the packed forms,
an uncertifiable linear programme, Python's 4300-digit limit) while `validate` said ok.
The limits are those of `spec.limits`: |exponent| <= 1000, common denominator <= 1000.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from click.testing import CliRunner

from curse_cli.algebra.space import make_space
from curse_cli.algebra.tropical import Term, prune
from curse_cli.cli.main import cli

SPEC = """\
architecture: {kind: fcn, activation: erf, widths: [N, N]}
target: {kind: hermite, degree: DEGREE}
scaling: standard
scales: {N: VALUE}
"""


def spec_file(tmp_path, value="1", degree="3"):
    path = tmp_path / "s.yaml"
    path.write_text(SPEC.replace("VALUE", value).replace("DEGREE", degree), encoding="utf-8")
    return str(path)


def run(*args):
    return CliRunner().invoke(cli, list(args))


def one_line_error(result, *needles):
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("command", ["predict", "validate"])
def test_a_decimal_finer_than_the_limit_is_refused_with_its_field(tmp_path, command):
    path = spec_file(tmp_path, "0.333333333")
    line = one_line_error(run(command, path), "s.yaml: scales.N:", "333333333/1000000000", "limit 1000")
    assert "1/3" in line  # the fix


def test_a_fine_set_value_is_refused_naming_set(tmp_path):
    one_line_error(run("predict", spec_file(tmp_path), "--set", "kappa=1/3333333333"),
                   "--set: kappa:", "denominator 3333333333", "limit 1000")


def test_a_huge_exponent_is_refused_in_the_spec_and_in_set(tmp_path):
    one_line_error(run("predict", spec_file(tmp_path, "1" + "0" * 100)), "scales.N:", "|exponent| <= 1000")
    one_line_error(run("predict", spec_file(tmp_path), "--set", "N=100000"), "--set: N:", "|exponent| <= 1000")


def test_denominators_that_combine_past_the_limit_are_refused(tmp_path):
    # 999 = 27 * 37 and 998 = 2 * 499 share no factor: lcm 997002 > 1000.
    one_line_error(run("validate", spec_file(tmp_path, "1/999"), "--set", "kappa=1/998"), "997002")


def test_an_integer_beyond_pythons_digit_limit_is_refused_with_its_place(tmp_path):
    line = one_line_error(run("predict", spec_file(tmp_path, degree="1" + "0" * 5000)), "5001 digits")
    assert "line 2" in line  # the target line of SPEC


def test_a_sweep_step_finer_than_the_limit_is_refused(tmp_path):
    one_line_error(run("sweep", spec_file(tmp_path), "--x", "N=0:0.000000001:3"), "--x N=", "limit 1000")
    one_line_error(run("sweep", spec_file(tmp_path), "--x", "N=0:1:100001"), "100000", "limit 1000")


def test_values_at_the_limits_answer(tmp_path):
    """At the edges of the range the engine answers, and reads the value as written."""
    result = run("predict", spec_file(tmp_path, "0.001"), "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"N": "1/1000"' in result.output
    big = run("predict", spec_file(tmp_path), "--set", "N=1000")
    assert big.exit_code == 0, big.output


def test_an_implausible_width_warns_how_it_was_read(tmp_path):
    result = CliRunner().invoke(cli, ["validate", spec_file(tmp_path, "1000")])
    assert result.exit_code == 0
    assert "Warning:" in result.stderr and "scales.N" in result.stderr and "d^1000" in result.stderr
    plain = CliRunner().invoke(cli, ["validate", spec_file(tmp_path, "20")])
    assert "Warning" not in plain.stderr


def test_packed_forms_fall_back_to_python_integers():
    """A space whose point overflows int64 (unit 2 * 10^9, point values ~ 10^18 * unit)
    still prunes exactly: of [N] + 0 and 0 + 1/unit, the larger at [N] = 333333333/10^9
    is the first (1/3 - 1/3*10^-9 > 10^-9)."""
    n = Fraction(333333333, 10**9)
    space = make_space({"N": n}, {})
    assert not space.fits_int64
    unit = space.unit
    first = Term((0, unit), 0)     # [N]
    second = Term((1, 0), 0)       # 1/unit
    assert prune(space, [first, second]) == (first,)
