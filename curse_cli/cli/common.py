"""What every command shares: the user-error type, the common options, loading a spec.

Commands that live in their own modules (`sweep`, `ldt`, `simulate`) import these from
here, not from `main`, so that no module imports the group that loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from curse_cli.spec.load import LoadedSpec

# engine.api.DEFAULT_MAX_PATTERNS, repeated so that --help need not import the engine
# (tests/test_unix.py checks that the two agree).
DEFAULT_MAX_PATTERNS = 2000


class UserError(click.ClickException):
    """Bad input that is not a spec: one line, exit 2."""

    exit_code = 2


FORMAT = click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
                      help="Rich table for people, or one JSON document on stdout for pipes.")
SET = click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE",
                   help="Override a scale, e.g. --set N1=2 or --set 'N1=d^(3/2)'. Repeatable.")
MAX_ORDER = click.option("--max-order", type=click.IntRange(1, 12), default=None,
                         help="Highest Hermite order (and lazy power) tracked [default: target degree + 1].")
MAX_PATTERNS = click.option("--max-patterns", type=click.IntRange(1), default=DEFAULT_MAX_PATTERNS, show_default=True,
                            help="Refuse to enumerate more candidate patterns than this.")
SPEC = click.argument("spec", metavar="SPEC")


def load(spec: str, overrides: tuple[str, ...]) -> LoadedSpec:
    """Load and validate a spec; its warnings (implausible values, as read) go to stderr."""
    from curse_cli.spec.load import load_spec

    loaded = load_spec(spec, overrides)
    for warning in loaded.warnings:
        click.echo(f"Warning: {warning}", err=True)
    return loaded
