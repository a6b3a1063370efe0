"""Rendering of `curse depth`: one row per depth, as a rich table or one JSON document.

JSON (`--format json`), schema `curse.depth/1`; every exponent is an exact string:

    {
      "schema": "curse.depth/1",
      "spec": {"origin": "specs/x.yaml", ...},   # the template spec, as validated
      "layers": [1, 2, 3],
      "rows": [{
        "hidden_layers": 3,
        "widths": ["N", "N", "N"],               # the network at this depth
        "p_star_exponent": "1",                  # null: no prediction (see "unreachable")
        "energy_exponent": "1",
        "example": "GP-GP-Sp(z)",                # the simplest winner
        "p_star": "kappa (N d)^(1/2)",           # its P* formula
        "winners": ["GP-GP-Sp(z)", ...],         # every tied winner
        "unreachable": null,
        "search": {...}}],                       # as in `curse predict`
      "summary": "[P*] = 1 at every depth from 1 to 3 hidden layers"
    }
"""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from curse_cli.algebra.scales import format_fraction
from curse_cli.cli import layout
from curse_cli.cli.render import frac, p_star_text, search_json
from curse_cli.depth.api import DepthRow

DEPTH_SCHEMA = "curse.depth/1"


def winners_text(row: DepthRow) -> str:
    """One winner's name, or how many tie and the simplest of them."""
    winners = row.prediction.winners
    if not winners:
        return "—"
    if len(winners) == 1:
        return winners[0].name
    return f"{len(winners)} tie, e.g. {row.example.name}"  # type: ignore[union-attr]  # winners: an example


def p_star_cell(row: DepthRow) -> str:
    example = row.example
    return p_star_text(row.prediction.problem, example.energy) if example is not None else "—"


def summary(rows: Sequence[DepthRow]) -> str:
    """What the column of `[P*]` shows, in one sentence: the same value at every depth,
    or the runs of depths that share one."""
    runs: list[tuple[int, int, Any]] = []
    for row in rows:
        value = row.prediction.p_star_exponent
        if runs and runs[-1][2] == value:
            runs[-1] = (runs[-1][0], row.depth, value)
        else:
            runs.append((row.depth, row.depth, value))

    def shown(value: Any) -> str:
        return "no prediction" if value is None else f"[P*] = {format_fraction(value)}"

    def span(lo: int, hi: int) -> str:
        return f"{lo} hidden layer{'s' if hi > 1 else ''}" if lo == hi else f"{lo}-{hi} hidden layers"

    if len(runs) == 1 and len(rows) > 1:
        return f"{shown(runs[0][2])} at every depth from {rows[0].depth} to {rows[-1].depth} hidden layers"
    return "; ".join(f"{shown(v)} at {span(lo, hi)}" for lo, hi, v in runs)


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


def depth_json(rows: Sequence[DepthRow], document: dict[str, Any], origin: str) -> dict[str, Any]:
    out = []
    for row in rows:
        pred = row.prediction
        example = row.example
        out.append({
            "hidden_layers": row.depth,
            "widths": row.spec.document["architecture"]["widths"],
            "p_star_exponent": frac(pred.p_star_exponent),
            "energy_exponent": frac(pred.energy_exponent),
            "example": example.name if example is not None else None,
            "p_star": p_star_cell(row) if example is not None else None,
            "winners": [w.name for w in pred.winners],
            "unreachable": pred.unreachable,
            "search": search_json(pred),
        })
    return {"schema": DEPTH_SCHEMA, "spec": {"origin": origin, **document}, "layers": [r.depth for r in rows],
            "rows": out, "summary": summary(rows)}
