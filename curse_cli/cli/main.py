"""The `curse` command line: parse, call the library, render.  The one error boundary.

Bad input (a spec, a pattern name, an option) is one line on stderr and exit code 2;
an internal error is exit code 1; output that cannot be written (a closed stdout, a full
disk) is one line and exit code 74.  `--debug` (before or after the subcommand) shows
the traceback instead.  A closed pipe (`| head`) ends the run quietly, as in any Unix
tool; SIGINT and SIGTERM end it and its worker processes at once (exit 130 and 143).

The engine, pydantic and numpy are imported inside the commands that use them, so that
`curse --version` and `--help` answer at once.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import click

from curse_cli import __version__
from curse_cli.cli.common import (
    ALIGNMENT, FORMAT, LIMITS, MAX_LISTED, MAX_ORDER, MAX_PATTERNS, SEARCH, SEARCH_LIMITS, SET, SPEC, WORKERS,
    UserError, load as _load, said,
)
from curse_cli.errors import CurseError

if TYPE_CHECKING:
    from curse_cli.api import Settings

EXIT_IO = 74  # sysexits.h EX_IOERR: the output could not be written
DEBUG = "--debug"


def _stdout_gone() -> None:
    """Point fd 1 at /dev/null so that no later flush fails again (the reader is gone).
    Only when stdout is fd 1 (not when a caller such as click's CliRunner replaced it)."""
    try:
        if sys.stdout is None or sys.stdout.fileno() != 1:
            return
    except (OSError, ValueError, AttributeError):
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


class CurseGroup(click.Group):
    """Turns library exceptions into `Error: ...` lines and exit codes, in one place.

    Commands listed in `LAZY` live in their own modules and are imported only when
    used (or listed by --help), so `curse predict` does not pay for them.
    """

    LAZY = {"ldt": ("curse_cli.cli.ldt", "ldt_cmd"), "sweep": ("curse_cli.cli.sweep", "sweep_cmd"),
            "simulate": ("curse_cli.cli.simulate", "simulate_cmd"), "depth": ("curse_cli.cli.depth", "depth_cmd")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY and name not in self.commands:
            import importlib

            module, attr = self.LAZY[name]
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """`--debug` is the group's, wherever it is given (before `--`)."""
        end = args.index("--") if "--" in args else len(args)
        if DEBUG in args[:end]:
            args = [DEBUG, *(a for i, a in enumerate(args) if i >= end or a != DEBUG)]
        return super().parse_args(ctx, args)

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        """The group's own options (`--help`, `--version`, a bad option) under the same rules
        as a subcommand's: output that cannot be written is one line and exit 74, a usage
        error one line and exit 2."""
        closed = sys.stdout is None   # started with fd 1 closed (`>&-`): click would print nothing
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except click.exceptions.Exit as done:
            if closed and done.exit_code == 0:
                _output_failed(OSError(errno.EBADF, "standard output is closed"))
            if sys.stdout is not None:
                try:
                    sys.stdout.flush()
                except OSError as err:
                    _output_failed(err)
            raise
        except click.UsageError as err:
            raise one_line(err) from None
        except BrokenPipeError:
            _stdout_gone()
            raise click.exceptions.Exit(128 + signal.SIGPIPE) from None
        except OSError as err:
            if err.errno not in _OUTPUT_ERRNOS:
                raise
            _output_failed(err)
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        try:
            if sys.stdout is None:  # started with fd 1 closed (`>&-`)
                raise OSError(errno.EBADF, "standard output is closed")
            result = super().invoke(ctx)
            if ctx.invoked_subcommand is not None and sys.stdout is not None:
                sys.stdout.flush()  # a full disk shows here, inside the boundary
            return result
        except click.UsageError as err:   # a subcommand's bad option: one line, as every other error
            raise one_line(err) from None
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            _stdout_gone()  # the reader went away (`| head -1`): stop quietly, as Unix tools do
            ctx.exit(128 + signal.SIGPIPE)
        except Exception as err:  # noqa: BLE001 - the boundary for user and internal errors
            if ctx.params.get("debug"):
                raise
            if isinstance(err, CurseError):
                click.echo(f"Error: {said(err)}", err=True)
                ctx.exit(2)
            if isinstance(err, OSError) and err.errno in _OUTPUT_ERRNOS:
                _output_failed(err)
            click.echo(f"curse: internal error: {type(err).__name__}: {err} (rerun with --debug for the traceback)",
                       err=True)
            ctx.exit(1)


_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EBADF, errno.EIO, errno.EDQUOT, errno.EFBIG}


def _output_failed(err: OSError) -> NoReturn:
    """Output that cannot be written (a full disk, a closed stdout): one line, exit 74."""
    click.echo(f"curse: I/O error: cannot write the output: {err.strerror}", err=True)
    _stdout_gone()
    raise click.exceptions.Exit(EXIT_IO)


def one_line(err: click.UsageError) -> UserError:
    """A usage error click raises for an option (`--top 0`, `--format yaml`) as one line,
    exit 2, like every other error: what is wrong and where to read the usage."""
    where = f"; see '{err.ctx.command_path} --help'" if err.ctx is not None else ""
    return UserError(" ".join(err.format_message().split()).rstrip(".") + where)


def _warn(result: Any) -> None:
    """A result's warnings (the spec's, then the engine's), one line each on stderr."""
    for w in result.warnings:
        click.echo(f"Warning: {said(w)}", err=True)


def _emit_json(doc: Any) -> None:
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def _print(view: Any) -> None:
    from curse_cli.cli.layout import console

    console().print(view)


@click.group(cls=CurseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="curse")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors (also after the subcommand).")
def cli(debug: bool) -> None:
    """Predict how much data a network needs to learn a target, and how.

    Enumerates the feature-learning patterns of a fully connected, convolutional or
    softmax-attention network (lazy/GP, Gaussian feature learning, specialisation),
    scores each by its variational energy with exact linear programmes, and ranks them:
    P* ∝ kappa E.  See README.md and docs/theory.md.
    """


@cli.command("predict")
@SPEC
@SEARCH
@SET
@ALIGNMENT
@FORMAT
@MAX_ORDER
@MAX_PATTERNS
@WORKERS
@SEARCH_LIMITS
def predict_cmd(spec: str, top: int | None, rank_all: bool, overrides: tuple[str, ...], alignment: str | None,
                fmt: str, settings: Settings) -> None:
    """Find the best patterns and give the sample-complexity exponent P*.

    By default the five best patterns (and every tie) are found by a branch-and-bound search,
    which bounds the others away without scoring them; --all ranks every pattern."""
    from curse_cli import api
    from curse_cli.cli import render

    result = api.predict(spec, set=overrides, top=top, all=rank_all, alignment=alignment, settings=settings)
    _warn(result)
    if fmt == "json":
        _emit_json(result.document)
    else:
        _print(render.prediction_view(result.prediction, result.spec.document, result.spec.origin,
                                      top if rank_all else None))
        if result.staircase is not None and len(result.spec.problem.pieces) > 1:
            from curse_cli.cli.staircase_render import staircase_view

            _print(staircase_view(result.staircase, result.spec.problem))


@cli.command("compare")
@SPEC
@click.option("--pattern", "-p", "names", multiple=True, metavar="NAME",
              help="A pattern to include, e.g. 'Sp(z)-Sp(sigma1)'. Repeatable; default: the best ones (--top, --all).")
@SEARCH
@SET
@ALIGNMENT
@FORMAT
@MAX_ORDER
@MAX_PATTERNS
@WORKERS
@SEARCH_LIMITS
def compare_cmd(spec: str, names: tuple[str, ...], top: int | None, rank_all: bool, overrides: tuple[str, ...],
                alignment: str | None, fmt: str, settings: Settings) -> None:
    """Patterns side by side: per-layer cost, readout term, sizes, energy."""
    from curse_cli import api
    from curse_cli.cli import render

    result = api.compare(spec, patterns=names, set=overrides, top=top, all=rank_all, alignment=alignment,
                         settings=settings)
    _warn(result)
    if fmt == "json":
        _emit_json(result.document)
    else:
        _print(render.compare_view(result.prediction, result.spec.document, result.spec.origin))


@cli.command("explain")
@SPEC
@click.option("--pattern", "-p", "name", required=True, metavar="NAME", help="The pattern to derive.")
@SET
@ALIGNMENT
@FORMAT
@MAX_ORDER
@LIMITS
def explain_cmd(spec: str, name: str, overrides: tuple[str, ...], alignment: str | None, fmt: str,
                settings: Settings) -> None:
    """The derivation of one pattern, step by step."""
    from curse_cli import api
    from curse_cli.cli import render

    result = api.explain(spec, name, set=overrides, alignment=alignment, settings=settings)
    _warn(result)
    if fmt == "json":
        _emit_json(result.document)
    else:
        loaded = result.spec
        _print(render.explain_view(result.explanation, loaded.problem, loaded.document, loaded.origin,
                                   result.document["max_order"]))


@cli.command("patterns")
@SPEC
@SET
@FORMAT
@MAX_LISTED
def patterns_cmd(spec: str, overrides: tuple[str, ...], fmt: str, max_patterns: int) -> None:
    """List the candidate patterns without scoring them."""
    from curse_cli.documents.predict import patterns_json
    from curse_cli.engine.api import Options, check_size, enumerate_patterns, pattern_name
    from curse_cli.limits import WorkLimit, naming

    loaded = _load(spec, overrides)
    problem = loaded.problem
    with naming(loaded.origin):
        check_size(problem, Options(max_patterns=max_patterns), WorkLimit.LISTED)
    patterns = enumerate_patterns(problem.activation, problem.depth, problem.feature)
    if fmt == "json":
        _emit_json(patterns_json(problem, list(patterns), loaded.document, loaded.origin))
    else:
        count = 0
        for p in patterns:
            click.echo(pattern_name(p))
            count += 1
        click.echo(f"{count} patterns", err=True)


@cli.command("validate")
@SPEC
@SET
@SEARCH_LIMITS
def validate_cmd(spec: str, overrides: tuple[str, ...], settings: Settings) -> None:
    """Check a spec, and that it is within the limits `curse predict` has (the same
    options); print a one-line summary."""
    from curse_cli.cli.layout import safe
    from curse_cli.engine.api import check_limits
    from curse_cli.limits import naming

    loaded = _load(spec, overrides)
    p = loaded.problem
    with naming(loaded.origin):
        check_limits(p, settings.options(search=True))
    click.echo(f"{safe(loaded.origin)}: ok ({p.words.network}, {p.activation.name}, target {p.words.target})")


@cli.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of the spec."""
    from curse_cli.spec.load import spec_json_schema

    _emit_json(spec_json_schema())


def main(argv: list[str] | None = None) -> None:
    """Run the CLI as a library call: click's usual `SystemExit` with the exit code."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="curse")


def _on_signal(signum: int, frame: Any) -> None:
    """SIGINT/SIGTERM: kill the worker processes and leave at once, without flushing
    buffered output (so no partial JSON is written), with the shell's code 128 + signal."""
    mp = sys.modules.get("multiprocessing")
    if mp is not None:
        for child in mp.active_children():
            try:
                child.kill()
            except OSError:  # already gone
                pass
    os._exit(128 + signum)


def run() -> None:
    """The console entry point (`curse`): `main`, then flush and leave without the
    interpreter's teardown of numpy, scipy and pydantic (about 0.06 s, a tenth of a
    short run; nothing of ours needs finalising).  Library callers use `main`.

    Here (not in `main`, a library call) the process is set up as a Unix tool: SIGPIPE
    ends it quietly, SIGINT and SIGTERM end it and its workers (`_on_signal`)."""
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        main()
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except OSError:  # reported inside the boundary already, or the reader went away
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
