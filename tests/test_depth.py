"""`curse depth`: the template spec at other depths, the rows against hand-derived
winners, the command's output and its errors.

The winners at `N = d` and `N = d^2` (erf, `He_3`, standard scaling, every width `N`)
are derived by hand from docs/theory.md, section 6's chains: a pattern that specialises
on `z` at layer `l` (the layers below it lazy) and then, at each later layer, is lazy or
specialises on the latest spike, with `m` specialised layers in all, has
`P* ∝ kappa (N^m d)^(1/(m+1))`.  At `N = d` that is `d` for every `m`: all `2^L - 1`
such chains tie at `[P*] = 1` (`sum_l 2^(L-l)`).  At `N = d^2` it is
`d^((2m+1)/(m+1))`, smallest for `m = 1`: the `L` patterns with one `Sp(z)` win at
`[P*] = 3/2`.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction as F
from itertools import product
from pathlib import Path

import pytest
from click.testing import CliRunner

from curse_cli.cli.main import cli
from curse_cli.depths.api import DepthError, depth_rows, depth_specs, parse_layers, with_depth
from curse_cli.engine.api import Options, predict
from curse_cli.spec.load import SpecError, load_spec, load_spec_text

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = str(ROOT / "specs" / "two_layer_erf_depth.yaml")
FOUR = str(ROOT / "specs" / "four_layer_erf.yaml")


def run(*args):
    return CliRunner().invoke(cli, ["depth", *args])


def chains(depth: int, single: bool = False) -> set[str]:
    """The hand-derived winners (module docstring): `Sp(z)` at some layer, lazy below;
    above it, each layer lazy or `Sp` of the latest spike (`single`: lazy only)."""
    out = set()
    for start in range(1, depth + 1):
        for above in product(("GP", "Sp"), repeat=depth - start):
            if single and "Sp" in above:
                continue
            steps, latest = ["GP"] * (start - 1) + ["Sp(z)"], start
            for l, kind in enumerate(above, start=start + 1):
                if kind == "GP":
                    steps.append("GP")
                else:
                    steps.append(f"Sp(sigma{latest})")
                    latest = l
            out.add("-".join(steps))
    return out


def test_the_hand_derived_chains_are_counted_as_the_docstring_says():
    assert [len(chains(L)) for L in range(1, 6)] == [2**L - 1 for L in range(1, 6)]
    assert [len(chains(L, single=True)) for L in range(1, 6)] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("width, exponent, single", [("1", F(1), False), ("2", F(3, 2), True)])
def test_rows_are_the_hand_derived_winners_at_every_depth(width, exponent, single):
    loaded = load_spec(TEMPLATE, [f"N={width}"])
    options = Options(workers=1)
    rows = list(depth_rows(depth_specs(loaded, (1, 2, 3, 4), options), options))
    assert [r.depth for r in rows] == [1, 2, 3, 4]
    for row in rows:
        assert row.prediction.p_star_exponent == exponent, row.depth
        assert {w.name for w in row.prediction.winners} == chains(row.depth, single), row.depth
        # The simplest winner: fewest specialised layers, then by name.
        assert row.example.name == "GP-" * (row.depth - 1) + "Sp(z)"


def test_a_depth_is_the_network_written_out_by_hand():
    """The three-layer row of a four-layer template is `predict` on the three-layer spec
    written out in full: the same winners and the same P*."""
    row = next(depth_rows(depth_specs(load_spec(FOUR), (3,), Options(workers=1)), Options(workers=1)))
    by_hand = load_spec_text("architecture: {kind: fcn, activation: erf, widths: [N1, N2, N3]}\n"
                             "target: {kind: hermite, degree: 3}\nscaling: standard\nscales: {N1: 1, N2: 1, N3: 1}\n",
                             "hand.yaml")
    direct = predict(by_hand.problem, Options(workers=1), top=1)
    assert [w.name for w in row.prediction.winners] == [w.name for w in direct.winners]
    assert row.prediction.p_star == direct.p_star


def test_widths_are_cut_or_continued_by_the_last_and_unused_scales_go():
    four = load_spec(FOUR)
    two = with_depth(four, 2)
    assert two.document["architecture"]["widths"] == ["N1", "N2"]
    assert "N3" not in two.document["scales"] and "N4" not in two.document["scales"]
    six = with_depth(four, 6)
    assert six.document["architecture"]["widths"] == ["N1", "N2", "N3", "N4", "N4", "N4"]
    assert six.problem.depth == 6
    assert four.document["architecture"]["widths"] == ["N1", "N2", "N3", "N4"]   # the template is untouched


def test_a_scale_the_rest_of_the_spec_still_uses_stays_an_error_with_its_depth():
    loaded = load_spec_text("architecture: {kind: fcn, activation: erf, widths: [N1, N2]}\n"
                            "target: {kind: hermite, degree: 3}\nscaling: standard\nridge: N2\n"
                            "scales: {N1: 1, N2: 1}\n",
                            "r.yaml")
    with pytest.raises(SpecError, match=r"cut to 1 hidden layer\)"):
        with_depth(loaded, 1)


@pytest.mark.parametrize("text, expected", [("1-6", (1, 2, 3, 4, 5, 6)), ("3", (3,)), ("1,2,4", (1, 2, 4)),
                                            ("1-3,5", (1, 2, 3, 5)), (" 2 - 3 ", (2, 3))])
def test_layers_are_parsed(text, expected):
    assert parse_layers(text) == expected


@pytest.mark.parametrize("text", ["0", "3-1", "x", "1,1", "2,1", "1-", "65", ""])
def test_bad_layers_are_refused(text):
    with pytest.raises(DepthError) as err:
        parse_layers(text)
    assert str(err.value).startswith(f"{text}: ") and "--" not in str(err.value)


def test_the_table_and_json_give_the_rows():
    result = run(TEMPLATE, "--layers", "1-3", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "7 tie, e.g. GP-GP-Sp(z)" in result.output
    assert "[P*] = 1 at every depth from 1 to 3 hidden layers" in result.output
    result = run(TEMPLATE, "--layers", "1,3", "--set", "N=2", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["schema"] == "curse.depth/1" and doc["layers"] == [1, 3]
    assert [r["p_star_exponent"] for r in doc["rows"]] == ["3/2", "3/2"]
    assert doc["rows"][1]["widths"] == ["N", "N", "N"]
    assert set(doc["rows"][1]["winners"]) == chains(3, single=True)
    assert doc["rows"][1]["p_star"] == "kappa (N d)^(1/2)"


def test_a_change_with_depth_is_summarised_by_runs():
    """A quadratic activation (`v^2 = He_2 + 1`) and a `He_4` target: one layer's
    kernel has orders 0 and 2 only (no prediction), two layers' square it and reach
    order 4."""
    spec = ("architecture: {kind: fcn, activation: quadratic, widths: [N]}\n"
            "target: {kind: hermite, degree: 4}\nscaling: standard\nscales: {N: 1}\n")
    from curse_cli.documents.depth import summary

    loaded = load_spec_text(spec, "sq.yaml")
    rows = list(depth_rows(depth_specs(loaded, (1, 2), Options(workers=1)), Options(workers=1)))
    assert rows[0].prediction.p_star_exponent is None      # He_2 alone: no He_4 at one layer
    assert rows[1].prediction.p_star_exponent is not None  # He_2 of He_2 reaches He_4
    text = summary(rows)
    assert text.startswith("no prediction at 1 hidden layer; [P*] = ")
    assert text.endswith("at 2 hidden layers")


@pytest.mark.parametrize("args, message", [
    (("--layers", "0"), "--layers 0"),
    (("--layers", "7"), "--max-depth 7"),
    (("--plot", "x.txt"), "unknown file type"),
])
def test_errors_are_one_line_and_exit_2(args, message):
    result = run(TEMPLATE, *args)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


def test_a_family_with_fixed_layers_is_refused():
    result = run(str(ROOT / "specs" / "cnn_erf.yaml"))
    assert result.exit_code == 2
    assert "kind: fcn" in result.output


def test_every_depth_is_checked_before_any_search(monkeypatch):
    """Depth 6 of ReLU is over the default limit: refused before depths 1-5 run."""
    import curse_cli.depths.api as api

    monkeypatch.setattr(api, "predict", lambda *a, **k: pytest.fail("a search ran"))
    result = run(str(ROOT / "specs" / "two_layer_relu_quadratic.yaml"), "--layers", "1-6")
    assert result.exit_code == 2 and "--max-depth 6" in result.output


def test_plot_without_matplotlib_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run(TEMPLATE, "--layers", "1", "--plot", str(tmp_path / "d.png"))
    assert result.exit_code == 2 and "pip install" in result.output
    assert not (tmp_path / "d.png").exists()


def test_plot_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "d.svg"
    result = run(TEMPLATE, "--layers", "1-2", "--plot", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text().lstrip().startswith("<?xml")


def test_the_summary_names_only_the_depths_computed():
    """`--layers 1,2,4` said "at every depth from 1 to 4" though 3 was not computed."""
    from types import SimpleNamespace

    from curse_cli.cli.depth_render import summary

    def rows(*pairs):
        return [SimpleNamespace(depth=d, prediction=SimpleNamespace(p_star_exponent=v)) for d, v in pairs]

    one = F(1)
    assert summary(rows((1, one), (2, one), (4, one))) == "[P*] = 1 at 1-2 and 4 hidden layers"
    assert summary(rows((1, one), (2, one), (3, one))) == "[P*] = 1 at every depth from 1 to 3 hidden layers"
    assert summary(rows((1, one), (3, F(3, 2)))) == "[P*] = 1 at 1 hidden layer; [P*] = 3/2 at 3 hidden layers"
