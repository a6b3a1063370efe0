"""`curse depth`: `[P*]` and the winners against the number of hidden layers.  The
command parses and calls `depth.api`; `depth_render` renders, `depth_plot` draws."""

from __future__ import annotations

import json
import sys

import click

from curse_cli.cli.common import ALIGNMENT, FORMAT, MAX_ORDER, PLOT, SEARCH_LIMITS, SET, SPEC, WORKERS, load as _load
from curse_cli.engine.limits import DEFAULT_SEARCH_DEPTH


@click.command("depth")
@SPEC
@click.option("--layers", default=f"1-{DEFAULT_SEARCH_DEPTH}", show_default=True, metavar="A-B|A,B,..",
              help="The numbers of hidden layers: a range 1-6, a list 1,2,4, or both (1-3,5); beyond "
                   f"{DEFAULT_SEARCH_DEPTH}, give --max-depth too.")
@click.option("--top", type=click.IntRange(1), default=1, show_default=True, metavar="K",
              help="Patterns each search finds (and every tie); the table shows the winners.")
@SET
@ALIGNMENT
@FORMAT
@PLOT("[P*] against depth")
@MAX_ORDER
@WORKERS
@SEARCH_LIMITS
def depth_cmd(spec: str, layers: str, top: int, overrides: tuple[str, ...], alignment: str | None, fmt: str,
              plot: str | None, max_order: int | None, workers: int | None, limits: dict) -> None:
    """[P*] and the winning patterns against the number of hidden layers.

    The spec is the template (a fully connected network): at L hidden layers its widths
    are the first L of the spec's, continued by repeating the last one, and everything
    else is as written.  Each depth is one best-first search for the best pattern and
    every tie, exactly what `curse predict` finds there.  Six hidden layers of erf take
    seconds, seven about 10 s (give --max-depth 7), eight 70 - 100 s.
    """
    from curse_cli.cli.layout import safe
    from curse_cli.cli.plotfile import check_plot
    from curse_cli.depth.api import depth_rows, depth_specs, parse_layers
    from curse_cli.engine.api import Options

    depths = parse_layers(layers)
    if plot is not None:
        check_plot(plot)  # before the work, so a missing matplotlib costs nothing
    loaded = _load(spec, overrides, alignment)
    options = Options(max_order, workers=workers, **limits)
    specs = depth_specs(loaded, depths, options)
    rows = []
    for row in depth_rows(specs, options, top):
        rows.append(row)
        if sys.stderr is not None and sys.stderr.isatty():   # deep rows take minutes: say where it is
            click.echo(f"{row.depth} hidden layers done", err=True)
    for row in rows:
        for w in row.prediction.warnings:
            click.echo(f"Warning: {row.depth} hidden layers: {w.message}", err=True)
    from curse_cli.cli.depth_render import depth_json, depth_view

    if fmt == "json":
        click.echo(json.dumps(depth_json(rows, loaded.document, loaded.origin), indent=2, ensure_ascii=False))
    else:
        from curse_cli.cli.layout import console

        console().print(depth_view(rows, loaded.document, loaded.origin, [f"layers {layers}", f"top {top}"]))
    if plot is not None:
        from curse_cli.cli.depth_plot import write_plot

        write_plot(rows, plot, safe(loaded.document.get("name") or loaded.origin))
        click.echo(f"wrote {plot}", err=fmt != "table")
