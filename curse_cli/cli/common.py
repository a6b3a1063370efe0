"""What every command shares: the user-error type, the common options, loading a spec.

Commands that live in their own modules (`sweep`, `ldt`, `simulate`) import these from
here, not from `main`, so that no module imports the group that loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import click
from click.core import ParameterSource

from curse_cli.limits import DEFAULT_MAX_PATTERNS, DEFAULT_TOP, RULES, LimitExceeded, WorkLimit

if TYPE_CHECKING:
    from curse_cli.spec.load import LoadedSpec


class NumberList(click.ParamType):
    """A comma list of numbers (`read`: int or float), each satisfying `ok` (said by
    `rule`), at least `at_least` of them (`why`), returned ascending; a repeated value
    is an error, or dropped with `dedupe`."""

    def __init__(self, name: str, read: Callable[[str], float], example: str, ok: Callable[[float], bool],
                 rule: str, at_least: int = 1, why: str = "", dedupe: bool = False) -> None:
        self.name, self.read, self.example, self.ok, self.rule = name, read, example, ok, rule
        self.at_least, self.why, self.dedupe = at_least, why, dedupe

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple:
        if isinstance(value, tuple):
            return value
        noun = "an integer" if self.read is int else "a number"
        out = []
        for item in str(value).split(","):
            text = item.strip()
            try:
                x = self.read(text)
            except ValueError:
                self.fail(f"{text!r} is not {noun}; give a comma list such as {self.example}", param, ctx)
            if not self.ok(x):
                self.fail(f"{self.rule}, got {text!r}", param, ctx)
            out.append(x)
        if not self.dedupe and len(set(out)) != len(out):
            self.fail("the values must be distinct", param, ctx)
        if len(out) < self.at_least:
            self.fail(f"give at least {self.at_least} values ({self.why}), e.g. {self.example}", param, ctx)
        return tuple(sorted(set(out)))


class UserError(click.ClickException):
    """Bad input that is not a spec: one line, exit 2."""

    exit_code = 2


FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
                      help="Rich table for people, or one JSON document on stdout for pipes.")


def PLOT(drawing: str):
    """`--plot FILE`: also draw `drawing` into FILE."""
    return click.option("--plot", "plot", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                        help=f"Also draw {drawing} (.png or .svg; needs matplotlib: pip install '.[plot]').")


SET = click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE",
                   help="Override a scale, e.g. --set N1=2 or --set 'N1=d^(3/2)'. Repeatable.")
# Each limit's option (the engine's errors say which limit, never which option).
_DEPTH_LIMITS = (WorkLimit.DEPTH, WorkLimit.DEPTH_EXPLAIN, WorkLimit.DEPTH_HOMOGENEOUS, WorkLimit.DEPTH_GROWING_CHI)
FLAGS = {**dict.fromkeys(_DEPTH_LIMITS, "--max-depth"), WorkLimit.DEGREE: "--max-degree",
         WorkLimit.POWER: "--max-power", WorkLimit.PATTERNS: "--max-patterns", WorkLimit.LISTED: "--max-patterns",
         WorkLimit.ORDER: "--max-order"}
# The spec field each limit is about (named in its error like any spec error's).
FIELDS = {**dict.fromkeys((*_DEPTH_LIMITS, WorkLimit.PATTERNS, WorkLimit.LISTED), "architecture.widths"),
          WorkLimit.DEGREE: "target.degree", WorkLimit.POWER: "architecture.activation",
          WorkLimit.TERMS: "architecture.activation", WorkLimit.PIECES: "target"}


def said(problem: object) -> str:
    """An error or warning of the library as the CLI says it: a limit with its option,
    an override's problem at `--set`, an alignment's at `--alignment`, a sweep axis as
    `--x` or `--y`, anything else as the library words it."""
    from curse_cli.spec.load import ALIGNMENT_ORIGIN, SET_ORIGIN
    from curse_cli.sweeps.api import SweepError

    if isinstance(problem, LimitExceeded):
        return limit_text(problem)
    if isinstance(problem, SweepError):
        return problem.worded(("--x", "--y"))
    if getattr(problem, "origin", None) == SET_ORIGIN:
        path = getattr(problem, "path", "")
        return f"--set: {path + ': ' if path else ''}{getattr(problem, 'message', '')}"
    if getattr(problem, "origin", None) == ALIGNMENT_ORIGIN:
        return f"--alignment: {getattr(problem, 'message', '')}"
    return str(problem)


def limit_text(err: LimitExceeded) -> str:
    """A limit's error as the CLI says it: the spec's file and field, what is over which
    limit, and the option that raises it, advised only when the run then finishes."""
    field = FIELDS.get(err.limit)
    where = f"{err.origin}: {field}: " if err.origin is not None and field is not None else ""
    flag = FLAGS.get(err.limit)
    if flag is not None and err.raisable:
        fix = f"raise it with {flag} {err.value}"
    elif flag is not None and err.ceiling is not None and err.ceiling > err.bound:
        fix = f"{flag} goes up to {err.ceiling} here, and larger runs take minutes or more (docs/limits.md)"
    elif err.ceiling is not None:
        fix = "it cannot be raised further here: larger runs take minutes or more (docs/limits.md)"
    else:
        fix = "it is fixed (docs/limits.md)"
    if err.limit in (WorkLimit.PATTERNS, WorkLimit.DEPTH_GROWING_CHI):
        fix += "; or score chosen patterns with 'curse explain' or 'curse compare --pattern ...'"
    return f"{where}{err.message}; {fix}"


def limited(limit: WorkLimit, help: str, low: int = 1) -> dict[str, Any]:
    """The `type` and `help` of an option that sets `limit`: accepted up to its ceiling,
    with the limit's reason quoted from `curse_cli.limits`."""
    rule = RULES[limit]
    top = rule.ceiling if rule.ceiling is not None else rule.default
    return dict(type=click.IntRange(low, top), help=f"{help} At most {top}: {rule.why}.")


MAX_ORDER = click.option("--max-order", default=None, **limited(
    WorkLimit.ORDER, "Expert override: highest Hermite order and activation power tracked, honoured exactly "
                     "(a warning when below the safe truncation) [default: the safe truncation]."))
MAX_PATTERNS = click.option("--max-patterns", default=DEFAULT_MAX_PATTERNS, show_default=True, **limited(
    WorkLimit.PATTERNS, "With --all: refuse to score more candidate patterns than this."))
MAX_LISTED = click.option("--max-patterns", default=RULES[WorkLimit.LISTED].default, show_default=True, **limited(
    WorkLimit.LISTED, "Refuse to list more candidate patterns than this."))
SPEC = click.argument("spec", metavar="SPEC")
WORKERS = click.option("--workers", type=click.IntRange(1, 2), default=None,
                       help="Processes for a large search or --all; 1 makes the counts of work in the output repeat "
                            "exactly from run to run (the answer is the same either way) [default: one per core, "
                            "at most 2].")


def SEARCH(command):
    """`--top K` and `--all`, passed on as `top` (None: not given) and `rank_all`, the
    arguments of `api.predict` and `api.compare`."""
    command = click.option("--all", "rank_all", is_flag=True,
                           help="Score and rank every pattern (up to --max-patterns).")(command)
    return click.option("--top", type=click.IntRange(1), default=None, metavar="K",
                        help=f"Find the K best patterns (and every tie) by a branch-and-bound search, bounding the "
                             f"rest away [default: {DEFAULT_TOP}]; with --all, show only the first K.")(command)


def limits(depth: WorkLimit = WorkLimit.DEPTH, search: bool = True):
    """`--max-depth` (the `depth` limit: its default and ceiling), `--max-degree`,
    `--max-power`, passed on with `--max-order`, `--max-patterns` and `--workers` (where
    the command has them) as one `settings` value (`api.Settings`: the engine refuses a
    problem beyond its limits before any work), with a progress line when stderr is a
    terminal.  An explicit `--max-depth` also lifts the lower defaults: for ReLU-like
    layers, and for a `search` when the readout scale chi grows (mean-field)."""
    import functools

    homogeneous = RULES[WorkLimit.DEPTH_HOMOGENEOUS]
    growing = RULES[WorkLimit.DEPTH_GROWING_CHI]
    lower = f" ReLU-like activations: {homogeneous.default}" + (
        f"; a search with a growing chi, e.g. mean-field: {growing.default}" if search else "") + "; unless given"

    def decorate(command):
        @click.option("--max-depth", default=RULES[depth].default, show_default=True,
                      **limited(depth, f"Refuse networks with more hidden layers than this ({lower.strip()})."))
        @click.option("--max-degree", default=RULES[WorkLimit.DEGREE].default, show_default=True,
                      **limited(WorkLimit.DEGREE, "Refuse targets of a higher degree (an unreachable one is still "
                                                  "answered; deeper networks allow less)."))
        @click.option("--max-power", default=RULES[WorkLimit.POWER].default, show_default=True,
                      **limited(WorkLimit.POWER, "Refuse activations with a higher Hermite order or Taylor power."))
        @functools.wraps(command)
        def wrapper(*args, max_depth: int, max_degree: int, max_power: int, **kwargs):
            from curse_cli.api import Settings

            # An explicit --max-depth also lifts the lower defaults (`Settings.options`).
            given = click.get_current_context().get_parameter_source("max_depth") is not ParameterSource.DEFAULT
            expert = {name: kwargs.pop(name) for name in ("max_order", "max_patterns", "workers") if name in kwargs}
            line = ProgressLine.wanted()
            settings = Settings(**expert, max_depth=max_depth if given else None, max_degree=max_degree,
                                max_power=max_power, progress=line)
            try:
                return command(*args, settings=settings, **kwargs)
            finally:
                if line is not None:
                    line.close()

        return wrapper

    return decorate


LIMITS = limits(WorkLimit.DEPTH_EXPLAIN, search=False)   # explain: one named pattern
SEARCH_LIMITS = limits()   # predict, compare, depth, sweep, validate: a search grows about 5x per layer


class ProgressLine:
    """The engine's progress (`Options.progress`) as one line on stderr, redrawn in place
    at most a few times a second, and only when stderr is a terminal: a long run (a deep
    search, a sweep) says that it is working and how far it is.  `close` erases it."""

    INTERVAL = 0.25   # seconds between redraws

    def __init__(self) -> None:
        self.parts: dict[str, str] = {}
        self.last = 0.0
        self.shown = False

    @staticmethod
    def wanted() -> ProgressLine | None:
        import sys

        stream = sys.stderr
        try:
            return ProgressLine() if stream is not None and stream.isatty() else None
        except (OSError, ValueError):
            return None

    def __call__(self, progress: Any) -> None:
        import sys
        import time

        total = f" of {progress.total:,}" if progress.total is not None else ""
        self.parts[progress.what] = f"{progress.what} {progress.done:,}{total}"
        now = time.monotonic()
        if now - self.last < self.INTERVAL:
            return
        self.last = now
        try:
            sys.stderr.write("\r" + "; ".join(self.parts.values()) + "\x1b[K")
            sys.stderr.flush()
            self.shown = True
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        import sys

        if self.shown:
            try:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass


ALIGNMENT = click.option("--alignment", "alignment", default=None, metavar="A",
                         help="The alignment to reach, in (0, 1] (a number or a fraction such as 1/2): the share of a "
                              "polynomial target's variance to learn [default: the spec's alignment, else 1].")


def load(spec: str, overrides: tuple[str, ...], alignment: str | None = None) -> LoadedSpec:
    """Load and validate a spec (at `alignment`, when given); its warnings (implausible
    values, as read) go to stderr."""
    from curse_cli.spec.load import load_spec

    loaded = load_spec(spec, overrides, alignment=alignment)
    for warning in loaded.warnings:
        click.echo(f"Warning: {said(warning)}", err=True)
    return loaded
