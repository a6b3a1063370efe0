"""Rendering of `curse depth`: one row per depth as a rich table (the JSON document is
`documents.depth`'s)."""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from curse_cli.cli import layout
from curse_cli.depths.api import DepthRow
from curse_cli.documents.depth import p_star_cell, summary
from curse_cli.documents.predict import frac

def winners_text(row: DepthRow) -> str:
    """One winner's name, or how many tie and the simplest of them."""
    winners = row.prediction.winners
    if not winners:
        return "—"
    if len(winners) == 1:
        return winners[0].name
    return f"{len(winners)} tie, e.g. {row.example.name}"  # type: ignore[union-attr]  # winners: an example


def depth_table(rows: Sequence[DepthRow]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for col in ("hidden layers", "[P*]", "P* ∝", "winners"):
        table.add_column(col, justify="right" if col in ("hidden layers", "[P*]") else "left", overflow="fold")
    for row in rows:
        pred = row.prediction
        table.add_row(str(row.depth), frac(pred.p_star_exponent) or "—", p_star_cell(row),
                      winners_text(row) if pred.winners else (pred.unreachable or "—"))
    return layout.no_cut(table)


def depth_view(rows: Sequence[DepthRow], document: dict[str, Any], origin: str, run: Sequence[str]) -> Group:
    parts: list[Any] = [layout.header(document, origin, run), Text("")]
    parts.append(depth_table(rows))
    parts.append(Text(summary(rows) + ".", style="bold"))
    parts.append(Text("widths at L hidden layers: the spec's first L, continued by repeating the last; "
                      "P* ∝ is the simplest winner's formula", style="dim"))
    return Group(*parts)
