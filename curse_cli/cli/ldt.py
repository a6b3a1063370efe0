"""`curse ldt`: the exact Chernoff bound of a two-layer network along a scan in d, beside
the heuristic's exponents.  The command parses and calls `ldt_report`; `ldt_render`
(`ldt_view`, `ldt_json`, `write_plot`) renders.

JSON (`--format json`) is one document, schema `curse.ldt/2`; exponents are exact strings
("3/2"), measured values are floats, and null stands for an infinite or undefined value:

    {
      "schema": "curse.ldt/2",
      "spec": {"origin": "specs/x.yaml", ...},     # the validated spec, as in `curse predict`
      "scales": {"N": "1", "kappa": "0"},         # each scale's exponent of d (after --set)
      "parameters": {
        "alpha": "1/2", "sigma_w": "1", "sigma_a": "1",   # as given, exact
        "tolerance": 0.05,                        # of the verdict, on slopes
        "d": [100.0, 1000.0],                     # the scan, ascending
        "degree": 3, "activation": "erf"
      },
      "points": [{                                # one per d
        "d": 100.0, "width": 100.0, "chi": 1.0,   # width N = d^[N], chi = d^[chi] (1 standard, N mean-field)
        "energy": 478.7,                          # E(alpha) = sup_t [t alpha - N log Z(t)]; null if infinite
        "t_star": 961.0, "t_max": null,           # the maximiser; where Z stops being finite (null: never)
        "specialised": 1.94,                      # N P_tilt(|u| > u_c), expected specialised neurons
        "u_c": 0.316,                             # sigma_w d^(-1/4)
        "status": "ok"                            # ok | boundary | vacuous | unreachable
      }],
      "slopes": {                                 # local log-log slopes against d, consecutive points
        "d": [[100.0, 1000.0]],
        "energy": [1.008], "specialised": [-0.073]          # null where a value is not positive
      },
      "heuristic": {                              # `curse predict` on the same spec
        "pattern": "Sp(z)", "tied": [],           # the winner (an Sp winner first among ties)
        "energy": "(N d)^(1/2)", "energy_exponent": "1",    # [E]: the predicted energy slope
        "p_star": "kappa (N d)^(1/2)", "p_star_exponent": "1",
        "m": {"label": "M1", "formula": "(N/d)^(1/2)", "exponent": "0",
              "determined": true},                # false: a combination such as M1 q1^2; null: no Sp layer
        "corner": "M-Sp",                         # M-Sp, full Sp, Mag, q-Sp, partial, face ...; null
        "unreachable": null                       # why no pattern reaches the target, if none does
      },
      "verdict": {"outcome": "agree",             # agree | disagree | inconclusive (unresolved points)
                  "agree": true, "reason": "agree: energy slope ...", "tolerance": 0.05},
      "density": {                                # tilted density of u = w.w* at the largest d with one
        "d": 100000.0, "width": 100000.0, "u_c": 0.0178,
        "bins": [{"lo": 0.0, "hi": 0.0003, "mass": 0.2}]   # P_tilt(lo <= |u| < hi), log-spaced bins
      },                                          # null when no point has a tilted measure
      "notes": ["..."]                            # caveats on the counts and the inputs
    }

The verdict compares, at the largest-d pair, the energy slope with the heuristic's `[E]`
and, where the heuristic fixes `M` at an M-Sp or full-Sp corner, the count's slope with
`[M]`; both must lie within the tolerance.  The reason says why they differ.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from typing import Any

import click

from curse_cli.cli.common import NumberList, load as load_spec

DEFAULT_TOLERANCE = 0.05  # ldt.verdict.DEFAULT_TOLERANCE, repeated so that --help need not load scipy

DEFAULT_DS = "100,1000,10000,100000"
MAX_D = 1e12  # measured: 1e16 still runs in 5 s; 1e30 asks for 29 TiB
SCALE_RANGE = (Fraction(1, 10**6), Fraction(10**6))


D_VALUES = NumberList(
    "D,D,...", float, "100,1000,10000",
    lambda d: math.isfinite(d) and 2 <= d <= MAX_D,
    f"every d must be a number from 2 to {MAX_D:.0e} (the bound's grids grow with d)",
    at_least=2, why="a slope needs two points")


class Positive(click.ParamType):
    """A positive number, exactly: 1, 0.5, 1/2, 1e-3; within [1e-6, 1e6], where the bound's
    exponentials and logarithms stay finite in floating point."""

    name = "X"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Fraction:
        if isinstance(value, Fraction):
            return value
        try:
            x = Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            self.fail(f"{value!r} is not a number; write 1, 0.5 or 1/2", param, ctx)
        if x <= 0:
            self.fail(f"must be positive, got {value!r}", param, ctx)
        if not SCALE_RANGE[0] <= x <= SCALE_RANGE[1]:
            self.fail(f"must lie in [1e-6, 1e6] (beyond, the bound overflows floating point), got {value!r}",
                      param, ctx)
        return x


class Tolerance(click.ParamType):
    """A finite number >= 0 (slopes are compared with it; nan or inf would decide nothing)."""

    name = "FLOAT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float) and math.isfinite(value) and value >= 0:
            return value
        try:
            x = float(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a number; e.g. 0.05", param, ctx)
        if not (math.isfinite(x) and 0 <= x <= 10):
            self.fail(f"must be a finite number from 0 to 10 (a slope difference), got {value!r}", param, ctx)
        return x


@click.command("ldt")
@click.argument("spec", metavar="SPEC")
@click.option("--d", "ds", type=D_VALUES, default=DEFAULT_DS, show_default=True,
              help="Input dimensions to scan (comma list, each >= 2); widths are the spec's scales at each d.")
@click.option("--alpha", type=Positive(), default="1/2", show_default=True, help="Target alignment alpha.")
@click.option("--sigma-w", type=Positive(), default="1", show_default=True, help="First-layer weight scale.")
@click.option("--sigma-a", type=Positive(), default="1", show_default=True, help="Readout weight scale.")
@click.option("--tolerance", type=Tolerance(), default=DEFAULT_TOLERANCE, show_default=True,
              help="Largest |slope - heuristic exponent| that still agrees.")
@click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a scale, e.g. --set N=2 or --set 'N=d^(3/2)'. Repeatable.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Rich table for people, or one JSON document on stdout for pipes.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False, writable=True), default=None, metavar="FILE",
              help="Also draw E against d and the tilted density (.png or .svg; needs matplotlib).")
def ldt_cmd(spec: str, overrides: tuple[str, ...], fmt: str, plot: str | None, **scan: Any) -> None:
    """Check the heuristic against the exact Chernoff bound of a two-layer network.

    Evaluates E(alpha) = sup_t [t alpha - N log Z(t)] at each d (widths and chi from the
    spec's scales), the expected number of specialised neurons, their log-log slopes in d,
    and compares them with the exponents of 'curse predict'.
    """
    # `scan` holds the options that make one frozen `LdtOptions` (--d, --alpha, --sigma-w,
    # --sigma-a, --tolerance, under its field names): click passes each option by name.
    # The numerics and their rendering load only when this command runs.
    from curse_cli.cli.ldt_render import ldt_json, ldt_view, write_plot
    from curse_cli.cli.plotfile import check_plot
    from curse_cli.cli.layout import console
    from curse_cli.ldt.report import LdtOptions, ldt_report

    if plot is not None:
        check_plot(plot)
    loaded = load_spec(spec, overrides)
    report = ldt_report(loaded, LdtOptions(**scan))
    if fmt == "json":
        click.echo(json.dumps(ldt_json(report), indent=2, ensure_ascii=False))
    else:
        console().print(ldt_view(report))
    if plot is not None:
        write_plot(report, plot)
        click.echo(f"wrote {plot}", err=True)
