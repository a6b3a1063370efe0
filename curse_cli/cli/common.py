"""What every command shares: the user-error type, the common options, loading a spec.

Commands that live in their own modules (`sweep`, `ldt`, `simulate`) import these from
here, not from `main`, so that no module imports the group that loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import click
from click.core import ParameterSource

from curse_cli.engine.limits import (
    DEFAULT_GROWING_CHI_DEPTH, DEFAULT_HOMOGENEOUS_DEPTH, DEFAULT_MAX_DEGREE, DEFAULT_MAX_DEPTH, DEFAULT_MAX_PATTERNS,
    DEFAULT_MAX_POWER, DEFAULT_SEARCH_DEPTH, DEFAULT_TOP, PATTERN_CEILING,
)

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
MAX_ORDER = click.option("--max-order", type=click.IntRange(1, 12), default=None,
                         help="Expert override: highest Hermite order and activation power tracked, honoured exactly "
                              "(a warning when below the safe truncation) [default: the safe truncation].")
MAX_PATTERNS = click.option("--max-patterns", type=click.IntRange(1, PATTERN_CEILING), default=DEFAULT_MAX_PATTERNS,
                            show_default=True,
                            help="With --all: refuse to score more candidate patterns than this.")
SPEC = click.argument("spec", metavar="SPEC")
WORKERS = click.option("--workers", type=click.IntRange(1, 2), default=None,
                       help="Processes for a large search or --all; 1 makes the counts of work in the output repeat "
                            "exactly from run to run (the answer is the same either way) [default: one per core, "
                            "at most 2].")


def SEARCH(command):
    """`--top K` and `--all`, passed on as `top`: the number of best patterns to find by
    branch-and-bound search (None: rank every pattern), and `show`: how many rows to show."""
    import functools

    @click.option("--top", type=click.IntRange(1), default=None, metavar="K",
                  help=f"Find the K best patterns (and every tie) by a branch-and-bound search, bounding the rest away "
                       f"[default: {DEFAULT_TOP}]; with --all, show only the first K.")
    @click.option("--all", "rank_all", is_flag=True, help="Score and rank every pattern (up to --max-patterns).")
    @functools.wraps(command)
    def wrapper(*args, top: int | None, rank_all: bool, **kwargs):
        if rank_all:
            return command(*args, top=None, show=top, **kwargs)
        return command(*args, top=top or DEFAULT_TOP, show=None, **kwargs)

    return wrapper


def limits(depth: int = DEFAULT_MAX_DEPTH, search: bool = False):
    """`--max-depth` (default `depth`), `--max-degree`, `--max-power`, passed on as one
    `limits` dict of `Options` fields (the engine refuses a problem beyond them before
    any work).  An explicit `--max-depth` also lifts the lower defaults: for ReLU-like
    layers, and for a `search` when the readout scale chi grows (mean-field)."""
    import functools

    growing = f"; a search with a growing chi, e.g. mean-field: {DEFAULT_GROWING_CHI_DEPTH}" if search else ""

    def decorate(command):
        @click.option("--max-depth", type=click.IntRange(1), default=depth, show_default=True,
                      help=f"Refuse networks with more hidden layers than this (ReLU-like activations: "
                           f"{DEFAULT_HOMOGENEOUS_DEPTH}{growing}; unless given).")
        @click.option("--max-degree", type=click.IntRange(1), default=DEFAULT_MAX_DEGREE, show_default=True,
                      help="Refuse targets of a higher degree (an unreachable one is still answered).")
        @click.option("--max-power", type=click.IntRange(1), default=DEFAULT_MAX_POWER, show_default=True,
                      help="Refuse activations with a higher Hermite order or Taylor power.")
        @functools.wraps(command)
        def wrapper(*args, max_depth: int, max_degree: int, max_power: int, **kwargs):
            # An explicit --max-depth also lifts the lower default for ReLU-like layers.
            given = click.get_current_context().get_parameter_source("max_depth") is not ParameterSource.DEFAULT
            homogeneous = max_depth if given else min(max_depth, DEFAULT_HOMOGENEOUS_DEPTH)
            growing_chi = None if given or not search else min(max_depth, DEFAULT_GROWING_CHI_DEPTH)
            return command(*args, limits=dict(max_depth=max_depth, max_degree=max_degree, max_power=max_power,
                                              max_depth_homogeneous=homogeneous, max_depth_growing_chi=growing_chi),
                           **kwargs)

        return wrapper

    return decorate


LIMITS = limits()
SEARCH_LIMITS = limits(DEFAULT_SEARCH_DEPTH, search=True)   # predict, compare, depth: a search grows about 5x per layer


ALIGNMENT = click.option("--alignment", "alignment", default=None, metavar="A",
                         help="The alignment to reach, in (0, 1] (a number or a fraction such as 1/2): the share of a "
                              "polynomial target's variance to learn [default: the spec's alignment, else 1].")


def load(spec: str, overrides: tuple[str, ...], alignment: str | None = None) -> LoadedSpec:
    """Load and validate a spec (at `alignment`, when given); its warnings (implausible
    values, as read) go to stderr."""
    from curse_cli.spec.load import load_spec

    loaded = load_spec(spec, overrides, alignment=alignment)
    for warning in loaded.warnings:
        click.echo(f"Warning: {warning}", err=True)
    return loaded
