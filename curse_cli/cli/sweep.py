"""`curse sweep`: the outcome of `predict` over a grid of one or two scale exponents.
The command parses and calls `api.sweep`; `sweep_render` renders, `sweep_plot` draws.

JSON (`--format json`) is one compact document on one line (`| jq .` to read it), schema
`curse.sweep/2`; every exponent is an
exact string ("3/2"):

    {
      "schema": "curse.sweep/2",
      "spec": {"origin": "specs/x.yaml", ...},     # the validated spec, as in `curse predict`
      "scales": {"N": "1", "kappa": "0"},         # the spec's exponents (after --set)
      "axes": [{"name": "N", "start": "0", "stop": "8", "count": 17}],
      "points": [{                                # every grid point, row-major (the last axis fastest)
        "coords": {"N": "1/2"}, "region": 1,
        "energy_exponent": "7/8", "p_star_exponent": "7/8"}],      # null without a prediction
      "regions": [{                               # grid points with one outcome
        "index": 1, "symbol": "B",                # the letter of the map (lower case: a tie)
        "winners": ["Sp(z)"], "tied": false,
        "energy": "(N d^3)^(1/4)", "energy_linear": "([N] + 3)/4",
        "p_star_powers": {"N": "1/4", "d": "3/4", "kappa": "1"}, # P* as exact powers of the scales
        "p_star": "kappa (N d^3)^(1/4)",          # P*'s formula (the first winner's at a tie)
        "unreachable": null,                      # why there is no prediction, if there is none
        "points": 1,                              # grid points in the region
        "boundaries": [{"other": 2,               # the neighbouring region
          "relation": {"text": "[N] = 1", "constant": "-1", "coefficients": {"N": "1"}},
          "note": null}]                          # relation null: not exact, the note says why
      }],                                         # constant + sum coefficients[x] [x] = 0
      "segments": [{"start": "1", "stop": "5", "start_closed": true, "stop_closed": false,
                    "region": 2}],                # one axis only: exact intervals of one outcome
      "breakpoints": ["1", "5"],                  # one axis only: where the outcome changes
      "solves": 17                                # engine solves the sweep took
    }

CSV (`--format csv`) is one table with a header; the `kind` column says what a row is:
`point` (one per grid point), `region` (one per region), `segment` (one axis only).
Columns: `kind`, one per axis (its name), `region`, `symbol`, `winners` (`;`-separated),
`tied`, `energy_exponent`, `p_star_exponent` (points), `energy`, `p_star`, `unreachable`,
`points`, `boundaries` (regions: `other:relation` joined by `; `), `start`, `stop`,
`start_closed`, `stop_closed` (segments); a cell that does not apply to the row's kind is
empty.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from curse_cli.cli.common import ALIGNMENT, MAX_ORDER, MAX_PATTERNS, PLOT, SEARCH_LIMITS, SET, SPEC

if TYPE_CHECKING:
    from curse_cli.api import Settings


@click.command("sweep")
@SPEC
@click.option("--x", "x", required=True, metavar="NAME=START:STOP:COUNT",
              help="The horizontal axis: COUNT exponents of scale NAME from START to STOP, exact "
                   "(e.g. N=0:3:61, N1=1/2:5/2:41).")
@click.option("--y", "y", default=None, metavar="NAME=START:STOP:COUNT",
              help="A second, vertical axis: a phase diagram instead of a line.")
@SET
@ALIGNMENT
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="Rich tables and map for people, one JSON document, or one CSV table on stdout.")
@PLOT("the sweep")
@MAX_ORDER
@MAX_PATTERNS
@SEARCH_LIMITS
def sweep_cmd(spec: str, x: str, y: str | None, overrides: tuple[str, ...], alignment: str | None, fmt: str,
              plot: str | None, settings: Settings) -> None:
    """Sweep one or two scale exponents: where each pattern wins, and P*'s formula there.

    One axis: every grid point's winner(s), [E] and [P*], then the exact segments
    between breakpoints.  Two axes: a phase diagram and its regions, bounded by exact
    linear relations between the swept exponents.  Ties are regions of their own.
    """
    # The engine loads only when the command runs (not for --help).
    from curse_cli import api
    from curse_cli.cli.layout import safe
    from curse_cli.cli.plotfile import check_plot
    from curse_cli.cli.sweep_plot import write_plot
    from curse_cli.cli.sweep_render import sweep_csv, sweep_view
    from curse_cli.sweeps.api import parse_axis

    for flag, axis in (("--x", x), ("--y", y)):
        if axis is not None:
            parse_axis(axis, flag)   # before the plot check, as a typo in an axis is the likelier mistake
    if plot is not None:
        check_plot(plot)  # before the work, so a missing matplotlib costs nothing
    result = api.sweep(spec, x, y, set=overrides, alignment=alignment, settings=settings)
    _warn(result)
    loaded = result.spec
    if fmt == "json":
        # Compact: a 201 x 201 grid is 40,401 points, and the indenting encoder is pure
        # Python (several times slower than the C one).  Pipe through `jq .` to read it.
        click.echo(json.dumps(result.document, ensure_ascii=False, separators=(",", ":")))
    elif fmt == "csv":
        click.echo(sweep_csv(result.result), nl=False)
    else:
        from curse_cli.cli.layout import console

        order = settings.options(search=False).truncation(loaded.problem).max_order
        console().print(sweep_view(result.result, loaded.document, loaded.origin, [f"max order {order}"]))
    if plot is not None:
        write_plot(result.result, plot, safe(loaded.problem.name or loaded.origin))
        click.echo(f"wrote {plot}", err=fmt != "table")


def _warn(result) -> None:
    for w in result.warnings:
        click.echo(f"Warning: {w}", err=True)
