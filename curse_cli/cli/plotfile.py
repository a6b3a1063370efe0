"""The plot file of `--plot` (`curse sweep`, `curse ldt`): its checks and saving.

matplotlib is the optional `plot` extra: it is imported only when a plot is asked for,
and its absence is a user error with the install hint, found before any work is done.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curse_cli.errors import CurseError

PLOT_SUFFIXES = (".png", ".svg")
PLOT_HINT = "pip install 'curse[plot]' (or pip install '.[plot]' from a checkout)"


class PlotError(CurseError):
    """A plot that cannot be made (file type, matplotlib missing, unwritable): exit 2."""


def check_plot(path: str) -> None:
    """Refuse an unknown file type or a missing matplotlib before any work is done."""
    suffix = Path(path).suffix.lower()
    if suffix not in PLOT_SUFFIXES:
        raise PlotError(f"--plot {path}: unknown file type {suffix or '(none)'!r}; name a .png or .svg file")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotError(f"--plot needs matplotlib: {PLOT_HINT}") from None


def save(fig: Any, path: str) -> None:
    """Write the figure in the format its suffix names."""
    try:
        fig.savefig(path, format=Path(path).suffix.lower().lstrip("."))
    except OSError as err:
        raise PlotError(f"--plot {path}: cannot write the file: {err.strerror or err}") from None
