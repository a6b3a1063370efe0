"""`curse depth`: `[P*]` and the winners against the number of hidden layers.  The
command parses and calls `api.depth`; `depth_render` renders, `depth_plot` draws."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from curse_cli.cli.common import (ALIGNMENT, FORMAT, MAX_ORDER, PLOT, SEARCH_LIMITS, SET, SPEC, WORKERS, ProgressLine,
                                  UserError)
from curse_cli.limits import DEFAULT_MAX_DEPTH as DEFAULT_SEARCH_DEPTH

if TYPE_CHECKING:
    from curse_cli.api import Settings


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
              plot: str | None, settings: Settings) -> None:
    """[P*] and the winning patterns against the number of hidden layers.

    The spec is the template (a fully connected network): at L hidden layers its widths
    are the first L of the spec's, continued by repeating the last one, and everything
    else is as written.  Each depth is one best-first search for the best pattern and
    every tie, exactly what `curse predict` finds there (the limits on depth are those of
    `curse predict`; docs/limits.md).
    """
    from curse_cli import api
    from curse_cli.cli.layout import safe
    from curse_cli.cli.plotfile import check_plot
    from curse_cli.depths.api import DepthError, parse_layers

    try:
        parse_layers(layers)   # before the plot check and the spec
    except DepthError as err:
        raise UserError(f"--layers {err}") from None
    if plot is not None:
        check_plot(plot)  # before the work, so a missing matplotlib costs nothing

    def progress(depth: int) -> None:
        if sys.stderr is not None and sys.stderr.isatty():   # deep rows take minutes: say where it is
            if isinstance(settings.progress, ProgressLine):
                settings.progress.close()   # the line of the search's progress, erased first
            click.echo(f"{depth} hidden layers done", err=True)

    result = api.depth(spec, layers=layers, top=top, set=overrides, alignment=alignment, settings=settings,
                       progress=progress)
    for w in result.warnings:
        click.echo(f"Warning: {w}", err=True)
    from curse_cli.cli.depth_render import depth_view

    loaded, rows = result.spec, result.rows
    if fmt == "json":
        click.echo(json.dumps(result.document, indent=2, ensure_ascii=False))
    else:
        from curse_cli.cli.layout import console

        console().print(depth_view(rows, loaded.document, loaded.origin, [f"layers {layers}", f"top {top}"]))
    if plot is not None:
        from curse_cli.cli.depth_plot import write_plot

        write_plot(rows, plot, safe(loaded.document.get("name") or loaded.origin))
        click.echo(f"wrote {plot}", err=fmt != "table")
