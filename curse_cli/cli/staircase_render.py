"""Rendering of a polynomial target's learning staircase (docs/staircase.md): the table
`predict` prints under its prediction (the JSON is `documents.predict.staircase_json`).

Alignments are exact fractions (the shares are exact); each step names its set of
pieces, `[P*]`, `P*`'s formula and the winning pattern(s) of that set.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from curse_cli.algebra.scales import format_fraction
from curse_cli.archs.problem import Problem
from curse_cli.cli import layout
from curse_cli.documents.predict import p_star_text
from curse_cli.engine.api import Staircase, StairStep


def _interval(step: StairStep) -> str:
    return f"({format_fraction(step.alignment_from)}, {format_fraction(step.alignment_to)}]"


def staircase_view(stair: Staircase, problem: Problem) -> Group:
    """The staircase under `predict`'s prediction; the step holding the asked alignment
    is marked, and the pieces no pattern reaches are named with the cap they set."""
    shares = ", ".join(f"He_{k} {format_fraction(w)}" for k, w in problem.pieces)
    parts: list[Any] = [Text(""), Text(f"Learning staircase (shares: {shares})", style="bold")]
    table = Table(show_edge=False, header_style="bold")
    for col in ("alignment", "[P*]", "P* ∝", "pieces", "pattern"):
        table.add_column(col, justify="right" if col == "[P*]" else "left", overflow="fold")
    here = stair.at(problem.alignment)
    blocks: list[tuple[Any, list[tuple[str, Any]]]] = []
    for step in stair.steps:
        pred = step.prediction
        winners = pred.winners
        marker = "  ◀" if step is here else ""
        exponent = format_fraction(pred.p_star_exponent) if pred.p_star_exponent is not None else "—"
        p_star = layout.formula(p_star_text(problem, winners[0].energy) if winners else "—")
        pieces = layout.formula(" + ".join(f"He_{k}" for k in step.pieces))
        patterns = layout.listing([w.name for w in winners] or ["—"])
        style = "bold" if step is here else ""
        interval = layout.Pieces([_interval(step), marker.strip()], "  ")   # the interval is never broken
        table.add_row(interval, exponent, p_star, pieces, patterns, style=style)
        blocks.append((Text(_interval(step) + marker, style="bold cyan" if step is here else ""),
                       [("[P*]", exponent), ("P* ∝", p_star), ("pieces", pieces), ("pattern", patterns)]))
    table = layout.no_cut(table)
    parts.append(table if layout.fits(table) else layout.stacked(blocks))
    if stair.missing:
        names = ", ".join(f"He_{k}" for k, _ in stair.missing)
        parts.append(Text(f"unreachable above {format_fraction(stair.cap)}: no pattern reaches {names}",
                          style="yellow"))
    asked = format_fraction(problem.alignment)
    where = f"◀ the step at alignment {asked}" if here is not None else \
        f"alignment {asked} is above {format_fraction(stair.cap)}: unreachable"
    parts.append(Text(f"{where}; {stair.solved} sets of pieces solved", style="dim"))
    return Group(*parts)
