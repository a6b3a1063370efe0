"""`curse sweep` through click's CliRunner: formats, bad axes, the plot; and the
renderers on hand-made sweeps (segments, the map's orientation), independent of the
engine's numbers."""

from __future__ import annotations

import csv
import io
import json
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction as F
from pathlib import Path

import pytest
from click.testing import CliRunner

from curse_cli.cli.main import cli
from curse_cli.algebra.scales import Monomial
from curse_cli.spec.load import load_spec
from curse_cli.sweeps.api import SweepError, parse_axis
from curse_cli.cli.sweep_render import interval_text, phase_map, sweep_csv, sweep_view
from curse_cli.documents.sweep import sweep_json, symbols
from curse_cli.sweeps.report import Axis, Boundary, GridPoint, Outcome, Region, Relation, Segment, Sweep

ROOT = Path(__file__).resolve().parent.parent
TWO = str(ROOT / "specs" / "two_layer_erf.yaml")
THREE = str(ROOT / "specs" / "three_layer_erf.yaml")
LINE = (TWO, "--x", "N=0:8:17")
PLANE = (THREE, "--x", "N1=0:3:7", "--y", "N2=0:3:7")
SMALL_PLANE = (THREE, "--x", "N1=0:2:3", "--y", "N2=0:2:3")


def run(*args):
    return CliRunner().invoke(cli, ["sweep", *args])


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert message.startswith("Error: ") and "\n" not in message and "Traceback" not in message
    return message


# -- through the command line -------------------------------------------------------------


def test_line_table():
    out = ok(*LINE).output
    assert "[N]" in out and "Sp(z)" in out and "kappa (N d)^(1/2)" in out and "17 grid points" in out


def test_plane_table_draws_a_map_and_its_regions():
    out = ok(*PLANE).output
    assert "[N1]" in out and "[N2]" in out and "Regions" in out and "(tie)" in out
    assert "[N1] = [N2]" in out  # a boundary as an exact relation


def test_line_json_has_every_point_and_region():
    doc = json.loads(ok(*LINE, "--format", "json").stdout)
    assert set(doc) == {"schema", "spec", "scales", "axes", "points", "regions", "segments", "breakpoints", "solves"}
    assert doc["schema"] == "curse.sweep/2" and doc["spec"]["origin"] == TWO
    assert doc["axes"] == [{"name": "N", "start": "0", "stop": "8", "count": 17}]
    assert [p["coords"]["N"] for p in doc["points"]][:3] == ["0", "1/2", "1"]
    assert len(doc["points"]) == 17 and sum(r["points"] for r in doc["regions"]) == 17
    at_one = next(p for p in doc["points"] if p["coords"] == {"N": "1"})
    assert at_one["p_star_exponent"] == "1"
    assert doc["regions"][at_one["region"]]["winners"] == ["Sp(z)"]
    for r in doc["regions"]:
        assert set(r) >= {"index", "winners", "tied", "energy", "p_star_powers", "p_star", "unreachable", "points",
                          "boundaries"}
        for b in r["boundaries"]:
            assert set(b) == {"other", "relation", "note"}
            assert b["relation"] is None or set(b["relation"]) == {"text", "constant", "coefficients"}
    for s in doc["segments"]:
        assert set(s) == {"start", "stop", "start_closed", "stop_closed", "region"}


def test_plane_json_is_row_major():
    doc = json.loads(ok(*SMALL_PLANE, "--format", "json").stdout)
    coords = [(p["coords"]["N1"], p["coords"]["N2"]) for p in doc["points"]]
    assert coords[:4] == [("0", "0"), ("0", "1"), ("0", "2"), ("1", "0")] and len(coords) == 9
    assert doc["segments"] == [] and doc["breakpoints"] == []


@pytest.mark.parametrize("axes, count", [(LINE, 17), (SMALL_PLANE, 9)], ids=["line", "plane"])
def test_csv_has_a_row_per_point_and_per_region(axes, count):
    rows = list(csv.DictReader(io.StringIO(ok(*axes, "--format", "csv").stdout)))
    doc = json.loads(ok(*axes, "--format", "json").stdout)
    points = [r for r in rows if r["kind"] == "point"]
    regions = [r for r in rows if r["kind"] == "region"]
    assert len(points) == count and len(regions) == len(doc["regions"])
    assert [int(r["region"]) for r in points] == [p["region"] for p in doc["points"]]
    assert [r["winners"] for r in regions] == [";".join(r["winners"]) for r in doc["regions"]]
    for name in (a["name"] for a in doc["axes"]):
        assert [r[name] for r in points] == [p["coords"][name] for p in doc["points"]]


@pytest.mark.parametrize("args, says", [
    (("--x", "N"), "NAME=START:STOP:COUNT"),
    (("--x", "N=3:1:5"), "START must be below STOP"),
    (("--x", "N=0:1:0"), "COUNT"),
    (("--x", "N=0:x:3"), "cannot read"),
    (("--x", "Q=0:1:3"), "unknown scale"),
    (("--x", "d=0:1:3"), "base scale"),
    (("--x", "N=-1:1:3"), "width"),
    (("--x", "N=0:1:3", "--y", "N=0:1:3"), "--y sweeps N, as the first axis does; give two different scales"),
    (("--x", "N=0:1:3", "--set", "N=2"), "--x N: the scale is swept, so it cannot also be set"),
], ids=["no-range", "reversed", "no-points", "bad-bound", "unknown", "base", "negative-width", "same", "set"])
def test_bad_axes_exit_2_with_one_line(args, says):
    message = one_line_error(run(TWO, *args))
    assert says in message


def test_debug_shows_the_sweep_error():
    result = CliRunner().invoke(cli, ["--debug", "sweep", TWO, "--x", "N=3:1:5"])
    assert isinstance(result.exception, SweepError)


def test_plot_needs_a_known_suffix(tmp_path):
    message = one_line_error(run(*LINE, "--plot", str(tmp_path / "out.txt")))
    assert ".png" in message and ".svg" in message


def test_plot_without_matplotlib_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    message = one_line_error(run(*LINE, "--plot", str(tmp_path / "out.png")))
    assert "pip install 'curse[plot]'" in message and not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("axes", [LINE, SMALL_PLANE], ids=["line", "plane"])
@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot_writes_png_and_svg(tmp_path, axes, suffix):
    pytest.importorskip("matplotlib")
    out = tmp_path / f"sweep{suffix}"
    result = ok(*axes, "--plot", str(out), "--format", "json")
    json.loads(result.stdout)  # the note about the file goes to stderr
    if suffix == ".png":
        assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    else:
        assert ET.parse(out).getroot().tag.endswith("svg")


# -- the renderers on hand-made sweeps ------------------------------------------------------


@pytest.fixture(scope="module")
def problem():
    return load_spec(TWO).problem


def _outcome(winners, energy):
    e = Monomial(energy)
    return Outcome(tuple(winners), e, e)  # the spec's ridge has exponent 0 and no name in P*


def test_parse_axis_is_exact():
    assert parse_axis("N1=1/2:5/2:41").values[1] == F(1, 2) + F(1, 20)
    with pytest.raises(SweepError):
        parse_axis("N1=1:0:3")


@pytest.fixture()
def line(problem):
    """[N] over 0..8: Sp below 5, a tie at 5, GP above, cut at the exact breakpoint 5."""
    sp, tie, gp = (_outcome(["Sp(z)"], {"N": F(1, 2), "d": F(1, 2)}), _outcome(["GP", "Sp(z)"], {"d": 3}),
                   _outcome(["GP"], {"d": 3}))
    axis = Axis("N", F(0), F(8), 5)
    ids = [0, 0, 0, 2, 2]
    regions = (Region(0, sp, 3, (Boundary(1, Relation(F(-5), (F(1),), "[N] = 5")),)),
               Region(1, tie, 0, (Boundary(0, Relation(F(-5), (F(1),), "[N] = 5")), Boundary(2, None, "same formula"))),
               Region(2, gp, 2, (Boundary(1, None, "same formula"),)))
    points = tuple(GridPoint((v,), r, regions[r].outcome.energy.exponent({"N": v}), None)
                   for v, r in zip(axis.values, ids))
    segments = (Segment(F(0), F(5), True, False, 0), Segment(F(5), F(5), True, True, 1),
                Segment(F(5), F(8), False, True, 2))
    return Sweep(problem, (axis,), points, regions, segments, 3)


def _text(view) -> str:
    from rich.console import Console

    buf = io.StringIO()
    Console(file=buf, width=160, markup=False, highlight=False).print(view)
    return buf.getvalue()


def test_line_view_shows_segments_and_breakpoints(line):
    out = _text(sweep_view(line, {}, "x.yaml"))
    assert "[0, 5)" in out and "{5}" in out and "(5, 8]" in out
    assert "breakpoints of [N]: 5" in out and "([N] + 1)/2" in out


def test_line_view_without_segments_lists_the_regions(line):
    out = _text(sweep_view(line._replace(segments=()), {}, "x.yaml"))
    assert "Regions" in out and "[N] = 5" in out and "breakpoints" not in out


def test_interval_text():
    assert interval_text(Segment(F(1, 2), F(3), False, True, 0)) == "(1/2, 3]"
    assert interval_text(Segment(F(1), F(1), True, True, 0)) == "{1}"


def test_line_json_and_csv_carry_segments(line):
    doc = sweep_json(line, {}, "x.yaml")
    assert doc["breakpoints"] == ["5"] and doc["segments"][1] == {
        "start": "5", "stop": "5", "start_closed": True, "stop_closed": True, "region": 1}
    assert doc["regions"][1]["tied"] and doc["regions"][1]["symbol"] == "a"
    assert doc["regions"][0]["boundaries"][0]["relation"] == {"text": "[N] = 5", "constant": "-5",
                                                              "coefficients": {"N": "1"}}
    rows = list(csv.DictReader(io.StringIO(sweep_csv(line))))
    assert [r["kind"] for r in rows] == ["point"] * 5 + ["region"] * 3 + ["segment"] * 3
    assert rows[-2]["start"] == rows[-2]["stop"] == "5" and rows[-2]["winners"] == "GP;Sp(z)"
    assert rows[5]["boundaries"] == "1:[N] = 5"


def test_symbols_mark_ties_in_lower_case(line):
    assert symbols(line) == ("A", "a", "B")


def test_map_puts_larger_y_on_top(problem):
    low, high = _outcome(["GP"], {"d": 3}), _outcome(["Sp(z)"], {"N": 1})
    ax, ay = Axis("N", F(0), F(1), 2), Axis("kappa", F(0), F(1), 2)
    points = tuple(GridPoint((x, y), int(y), None, None) for x in ax.values for y in ay.values)
    regions = (Region(0, low, 2, ()), Region(1, high, 2, ()))
    rows = phase_map(Sweep(problem, (ax, ay), points, regions, (), 2)).plain.splitlines()
    grid = [r for r in rows if "┤" in r or "│" in r]
    assert grid[0].endswith("BBBB") and grid[-1].endswith("AAAA")
    assert grid[0].lstrip().startswith("1") and grid[-1].lstrip().startswith("0")


@pytest.mark.parametrize("args", [LINE, PLANE])
def test_one_point_per_region_agrees_with_curse_predict_set(args):
    """The issue's check, through the CLI: for a grid point in every region, `curse
    predict --set ...` at that point names the same winner(s), [P*] and P* formula."""
    doc = json.loads(ok(*args, "--format", "json").output)
    names = [a["name"] for a in doc["axes"]]
    seen = set()
    for point in doc["points"]:
        if point["region"] in seen:
            continue
        seen.add(point["region"])
        region = doc["regions"][point["region"]]
        sets = [x for n in names for x in ("--set", f"{n}={point['coords'][n]}")]
        pred = CliRunner().invoke(cli, ["predict", args[0], *sets, "--format", "json"])
        assert pred.exit_code == 0, pred.output
        got = json.loads(pred.output)["prediction"]
        winners = [t["pattern"] for t in got["tied"]] or [got["pattern"]]
        assert winners == region["winners"], point
        assert got["p_star_exponent"] == point["p_star_exponent"]
        assert got["p_star"] == region["p_star"]
    assert seen == {r["index"] for r in doc["regions"] if r["points"]}
