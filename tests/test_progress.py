"""A long run says how far it is (issue 22, group 4): the engine calls one optional
hook on its options, the CLI draws it on stderr only when stderr is a terminal."""

from __future__ import annotations

import io

from click.testing import CliRunner

from curse_cli.cli.common import ProgressLine
from curse_cli.cli.main import cli
from curse_cli.engine.api import Options, predict
from curse_cli.engine.report import Progress
from curse_cli.spec.load import load_spec_text

FOUR = ("architecture: {kind: fcn, activation: erf, widths: [d, d, d, d]}\ntarget: {kind: hermite, degree: 3}\n"
        "scaling: standard\n")


def test_a_search_reports_its_expanded_prefixes_and_the_answer_does_not_change():
    problem = load_spec_text(FOUR, "four.yaml").problem
    seen: list[Progress] = []
    quiet = predict(problem, Options(workers=1), top=5)
    told = predict(problem, Options(workers=1, progress=seen.append), top=5)
    assert seen and all(p.what == "prefixes expanded" for p in seen)
    assert [p.done for p in seen] == list(range(1, len(seen) + 1))   # one call per expanded prefix
    assert seen[-1].done == told.bounded.expanded
    assert told.p_star_exponent == quiet.p_star_exponent and Options() == Options(progress=print)


def test_a_sweep_reports_its_grid_points():
    spec = FOUR.replace("[d, d, d, d]", "[N]") + "scales: {N: 1}\n"
    from curse_cli.sweeps.api import parse_axis, sweep

    problem = load_spec_text(spec, "s.yaml").problem
    seen: list[Progress] = []
    sweep(problem, (parse_axis("N=0:2:5"),), Options(progress=seen.append))
    points = [p for p in seen if p.what == "grid points answered"]
    assert points and all(p.total == 5 and 0 <= p.done < 5 for p in points)


def test_the_line_is_drawn_only_on_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    result = CliRunner().invoke(cli, ["predict", "-", "--workers", "1"], input=FOUR)
    assert result.exit_code == 0 and "prefixes expanded" not in result.output   # not a terminal: nothing
    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    line = ProgressLine.wanted()
    assert line is not None
    line(Progress("grid points answered", 3, 121))
    line.close()
    assert tty.getvalue() == "\rgrid points answered 3 of 121\x1b[K\r\x1b[K"
