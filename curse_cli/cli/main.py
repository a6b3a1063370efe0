"""The `curse` command line: parse, call the library, render.  The one error boundary.

Bad input (a spec, a pattern name, an option) is one line on stderr and exit code 2;
an internal error is exit code 1.  `--debug` shows the traceback instead.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from curse_cli import __version__
from curse_cli.engine.api import LimitExceeded, Options, PatternSpaceTooLarge, predict
from curse_cli.engine.patterns import PatternError, enumerate_patterns, parse_pattern, pattern_name
from curse_cli.cli.common import FORMAT, LIMITS, MAX_ORDER, MAX_PATTERNS, SET, SPEC, UserError, load as _load
from curse_cli.spec.load import LoadedSpec, SpecError, spec_json_schema

USER_ERRORS = (SpecError, PatternError, PatternSpaceTooLarge, LimitExceeded)


class CurseGroup(click.Group):
    """Turns library exceptions into `Error: ...` lines and exit codes, in one place.

    Commands listed in `LAZY` live in their own modules and are imported only when
    used (or listed by --help), so `curse predict` does not pay for them.
    """

    LAZY = {"ldt": ("curse_cli.cli.ldt", "ldt_cmd"), "sweep": ("curse_cli.cli.sweep", "sweep_cmd")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY and name not in self.commands:
            import importlib

            module, attr = self.LAZY[name]
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except USER_ERRORS as err:
            if ctx.params.get("debug"):
                raise
            click.echo(f"Error: {err}", err=True)
            ctx.exit(2)
        except Exception as err:  # noqa: BLE001 - the boundary for internal errors
            if ctx.params.get("debug"):
                raise
            click.echo(f"curse: internal error: {type(err).__name__}: {err} (rerun with --debug for the traceback)",
                       err=True)
            ctx.exit(1)


def _warn(pred: Any) -> None:
    """The library's structured warnings, one line each on stderr."""
    for w in pred.warnings:
        click.echo(f"Warning: {w.message}", err=True)


def _emit_json(doc: Any) -> None:
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def _print(view: Any) -> None:
    from curse_cli.cli.render import console

    console().print(view)


@click.group(cls=CurseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="curse")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(debug: bool) -> None:
    """Predict how much data a network needs to learn a Hermite target, and how.

    Enumerates the feature-learning patterns of a fully connected network (lazy/GP,
    Gaussian feature learning, specialisation), scores each by its variational energy
    with exact linear programmes, and ranks them: P* ∝ kappa E.  See README.md.
    """


@cli.command("predict")
@SPEC
@click.option("--top", type=click.IntRange(1), default=None, help="Show only the first K patterns.")
@SET
@FORMAT
@MAX_ORDER
@MAX_PATTERNS
@LIMITS
def predict_cmd(spec: str, top: int | None, overrides: tuple[str, ...], fmt: str, max_order: int | None,
                max_patterns: int, limits: dict) -> None:
    """Rank every pattern and give the sample-complexity exponent P*."""
    from curse_cli.cli import render

    loaded = _load(spec, overrides)
    pred = predict(loaded.problem, Options(max_order, max_patterns, **limits))
    _warn(pred)
    if fmt == "json":
        _emit_json(render.prediction_json(pred, loaded.document, loaded.origin, top))
    else:
        _print(render.prediction_view(pred, loaded.origin, top))


def _patterns(loaded: LoadedSpec, names: tuple[str, ...]):
    problem = loaded.problem
    return [parse_pattern(problem.activation, problem.depth, n) for n in names]


@cli.command("compare")
@SPEC
@click.option("--pattern", "-p", "names", multiple=True, metavar="NAME",
              help="A pattern to include, e.g. 'Sp(z)-Sp(sigma1)'. Repeatable; default: all.")
@SET
@FORMAT
@MAX_ORDER
@MAX_PATTERNS
@LIMITS
def compare_cmd(spec: str, names: tuple[str, ...], overrides: tuple[str, ...], fmt: str, max_order: int | None,
                max_patterns: int, limits: dict) -> None:
    """Patterns side by side: per-layer cost, readout term, sizes, energy."""
    from curse_cli.cli import render

    loaded = _load(spec, overrides)
    chosen = _patterns(loaded, names) if names else None
    pred = predict(loaded.problem, Options(max_order, max_patterns, **limits), chosen)
    _warn(pred)
    if fmt == "json":
        _emit_json(render.compare_json(pred, loaded.document, loaded.origin))
    else:
        _print(render.compare_view(pred, loaded.origin))


@cli.command("explain")
@SPEC
@click.option("--pattern", "-p", "name", required=True, metavar="NAME", help="The pattern to derive.")
@SET
@FORMAT
@MAX_ORDER
@LIMITS
def explain_cmd(spec: str, name: str, overrides: tuple[str, ...], fmt: str, max_order: int | None,
                limits: dict) -> None:
    """The derivation of one pattern, step by step."""
    from curse_cli.cli import render
    from curse_cli.engine.explain import explain

    loaded = _load(spec, overrides)
    (pattern,) = _patterns(loaded, (name,))
    ex = explain(loaded.problem, pattern, Options(max_order, **limits))
    if fmt == "json":
        _emit_json(render.explain_json(ex, loaded.document, loaded.origin, loaded.problem))
    else:
        _print(render.explain_view(ex, loaded.problem, loaded.origin))


@cli.command("patterns")
@SPEC
@SET
@FORMAT
@MAX_PATTERNS
def patterns_cmd(spec: str, overrides: tuple[str, ...], fmt: str, max_patterns: int) -> None:
    """List the candidate patterns without scoring them."""
    from curse_cli.cli import render
    from curse_cli.engine.api import check_size

    loaded = _load(spec, overrides)
    problem = loaded.problem
    check_size(problem, Options(max_patterns=max_patterns))
    patterns = list(enumerate_patterns(problem.activation, problem.depth))
    if fmt == "json":
        _emit_json(render.patterns_json(problem, patterns, loaded.origin))
    else:
        for p in patterns:
            click.echo(pattern_name(p))
        click.echo(f"{len(patterns)} patterns", err=True)


@cli.command("validate")
@SPEC
@SET
def validate_cmd(spec: str, overrides: tuple[str, ...]) -> None:
    """Check a spec; print a one-line summary."""
    loaded = _load(spec, overrides)
    p = loaded.problem
    click.echo(f"{loaded.origin}: ok ({p.depth} hidden layer(s), {p.activation.name}, He_{p.degree} target)")


@cli.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of the spec."""
    _emit_json(spec_json_schema())


def main(argv: list[str] | None = None) -> None:
    """Run the CLI as a library call: click's usual `SystemExit` with the exit code."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="curse")


def run() -> None:
    """The console entry point (`curse`): `main`, then flush and leave without the
    interpreter's teardown of numpy, scipy and pydantic (about 0.06 s, a tenth of a
    short run; nothing of ours needs finalising).  Library callers use `main`."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):  # the reader went away (e.g. `| head`)
        pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
