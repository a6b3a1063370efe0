"""The JSON document of `curse depth`: what `--format json` prints and the Python
API's `to_dict` returns.

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

from curse_cli.algebra.scales import format_fraction
from curse_cli.depths.api import DepthRow
from curse_cli.documents.predict import frac, p_star_text, search_json

DEPTH_SCHEMA = "curse.depth/1"


def p_star_cell(row: DepthRow) -> str:
    example = row.example
    return p_star_text(row.prediction.problem, example.energy) if example is not None else "—"


def summary(rows: Sequence[DepthRow]) -> str:
    """What the column of `[P*]` shows, in one sentence: the same value at every depth,
    or the runs of rows that share one, each naming only the depths computed ("every
    depth from 1 to 4" only when 1, 2, 3 and 4 all were)."""
    runs: list[tuple[list[int], Any]] = []
    for row in rows:
        value = row.prediction.p_star_exponent
        if runs and runs[-1][1] == value:
            runs[-1][0].append(row.depth)
        else:
            runs.append(([row.depth], value))

    def shown(value: Any) -> str:
        return "no prediction" if value is None else f"[P*] = {format_fraction(value)}"

    def contiguous(depths: list[int]) -> bool:
        return depths == list(range(depths[0], depths[-1] + 1))

    def spans(depths: list[int]) -> str:
        parts: list[list[int]] = []
        for d in depths:
            if parts and d == parts[-1][-1] + 1:
                parts[-1].append(d)
            else:
                parts.append([d])
        texts = [f"{p[0]}" if len(p) == 1 else f"{p[0]}-{p[-1]}" for p in parts]
        listed = texts[0] if len(texts) == 1 else f"{', '.join(texts[:-1])} and {texts[-1]}"
        return f"{listed} hidden layer{'' if depths == [1] else 's'}"

    if len(runs) == 1 and len(rows) > 1 and contiguous(runs[0][0]):
        return f"{shown(runs[0][1])} at every depth from {rows[0].depth} to {rows[-1].depth} hidden layers"
    return "; ".join(f"{shown(v)} at {spans(depths)}" for depths, v in runs)


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
