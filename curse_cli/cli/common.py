"""What every command shares: the user-error type, the common options, loading a spec.

Commands that live in their own modules (`sweep`, `ldt`, `simulate`) import these from
here, not from `main`, so that no module imports the group that loads it.
"""

from __future__ import annotations

import click

from curse_cli.engine.api import DEFAULT_MAX_PATTERNS
from curse_cli.spec.load import LoadedSpec, load_spec


class UserError(click.ClickException):
    """Bad input that is not a spec: one line, exit 2."""

    exit_code = 2


FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
                      help="Rich table for people, or one JSON document on stdout for pipes.")
SET = click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE",
                   help="Override a scale, e.g. --set N1=2 or --set 'N1=d^(3/2)'. Repeatable.")
MAX_ORDER = click.option("--max-order", type=click.IntRange(1, 12), default=None,
                         help="Expert override: highest Hermite order and activation power tracked, honoured exactly "
                              "(a warning when below the safe truncation) [default: the safe truncation].")
MAX_PATTERNS = click.option("--max-patterns", type=click.IntRange(1), default=DEFAULT_MAX_PATTERNS, show_default=True,
                            help="Refuse to enumerate more candidate patterns than this.")
SPEC = click.argument("spec", metavar="SPEC")


def load(spec: str, overrides: tuple[str, ...]) -> LoadedSpec:
    return load_spec(spec, overrides)
