"""The JSON document of `curse sweep` (schema `curse.sweep/2`, described in
`cli/sweep.py`): what `--format json` prints and the Python API's `to_dict` returns.

Every region has a symbol: a capital letter for a unique winner (`A`, `B`, ...), a
lower-case letter for a tie (`a`, `b`, ...), shared by the table, the map and the plot.
"""

from __future__ import annotations

import string
from fractions import Fraction
from typing import Any

from curse_cli.algebra.scales import format_fraction, format_monomial
from curse_cli.documents.predict import p_star_text
from curse_cli.sweeps.report import Region, Relation, Sweep

SCHEMA = "curse.sweep/2"
_UNIQUE = string.ascii_uppercase + string.digits + "#$%&@"
_TIED = string.ascii_lowercase + "=~^:;"


def symbols(sweep: Sweep) -> tuple[str, ...]:
    """One character per region: upper case for a unique winner, lower case for a tie
    (`?` once the alphabet runs out; the colour still tells them apart)."""
    out, counts = [], {False: 0, True: 0}
    for region in sweep.regions:
        tied = region.outcome.tied
        pool = _TIED if tied else _UNIQUE
        n = counts[tied]
        out.append(pool[n] if n < len(pool) else "?")
        counts[tied] = n + 1
    return tuple(out)


class Texts:
    """`format_fraction` for the many repeated exponents of a grid, computed once per
    distinct value; one `Texts` is made for one rendering and dropped with it."""

    def __init__(self, empty: str | None) -> None:
        self.empty = empty
        self.cache: dict[Fraction | None, str | None] = {}

    def __call__(self, value: Fraction | None) -> str | None:
        if value not in self.cache:
            self.cache[value] = self.empty if value is None else format_fraction(value)
        return self.cache[value]


def _relation_json(rel: Relation | None, sweep: Sweep) -> dict[str, Any] | None:
    if rel is None:
        return None
    return {"text": rel.text, "constant": format_fraction(rel.constant),
            "coefficients": {a.name: format_fraction(c) for a, c in zip(sweep.axes, rel.coefficients, strict=True)}}


def _region_json(sweep: Sweep, region: Region, symbol: str) -> dict[str, Any]:
    o = region.outcome
    return {
        "index": region.index,
        "symbol": symbol,
        "winners": list(o.winners),
        "tied": o.tied,
        "energy": None if o.energy is None else format_monomial(o.energy),
        "energy_linear": None if o.energy is None else o.energy.linear(),
        "p_star_powers": None if o.p_star is None else {n: format_fraction(v) for n, v in o.p_star.items()},
        "p_star": None if o.energy is None else p_star_text(sweep.problem, o.energy),
        "unreachable": o.unreachable,
        "points": region.points,
        "boundaries": [{"other": b.other, "relation": _relation_json(b.relation, sweep), "note": b.note}
                       for b in region.boundaries],
    }


def sweep_json(sweep: Sweep, document: dict[str, Any], origin: str) -> dict[str, Any]:
    names = [a.name for a in sweep.axes]
    marks = symbols(sweep)
    text = Texts(None)
    return {
        "schema": SCHEMA,
        "spec": {"origin": origin, **document},
        "scales": {name: format_fraction(v) for name, v in sweep.problem.scales},
        "axes": [{"name": a.name, "start": format_fraction(a.start), "stop": format_fraction(a.stop),
                  "count": a.count} for a in sweep.axes],
        "points": [{"coords": {n: text(v) for n, v in zip(names, p.coords, strict=True)}, "region": p.region,
                    "energy_exponent": text(p.energy_exponent), "p_star_exponent": text(p.p_star_exponent)}
                   for p in sweep.points],
        "regions": [_region_json(sweep, r, marks[r.index]) for r in sweep.regions],
        "segments": [{"start": format_fraction(s.start), "stop": format_fraction(s.stop),
                      "start_closed": s.start_closed, "stop_closed": s.stop_closed, "region": s.region}
                     for s in sweep.segments],
        "breakpoints": [format_fraction(b) for b in sweep.breakpoints],
        "solves": sweep.solves,
    }
