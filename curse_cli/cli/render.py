"""Rendering: rich tables for people, JSON documents for pipes.  The only module that
formats output (the CLI decides where it goes)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from curse_cli.cli import layout
from curse_cli.cli.layout import formula, listing, safe
from curse_cli.cli.notes import Note, range_notes

from curse_cli.engine.patterns import Mechanism, Pattern, pattern_name
from curse_cli.archs.problem import Problem
from curse_cli.engine.report import Explanation, LayerReport, PatternReport, Prediction, Quantity
from curse_cli.algebra.scales import Monomial, format_fraction, format_monomial

PREDICT_SCHEMA = "curse.predict/4"
COMPARE_SCHEMA = "curse.compare/3"
EXPLAIN_SCHEMA = "curse.explain/2"
PATTERNS_SCHEMA = "curse.patterns/2"


def frac(value: Fraction | None) -> str | None:
    return None if value is None else format_fraction(value)


def p_star_text(problem: Problem, energy: Monomial | None) -> str:
    """`kappa (N1 N2 d)^(1/3)`: the ridge times the energy, kept apart as on paper."""
    assert energy is not None, "only a scored pattern has a P*"
    ridge = format_monomial(problem.ridge)
    body = format_monomial(energy)
    if body == "1":
        return ridge
    return f"{ridge} {body}" if ridge != "1" else body


def notes_of(pred: Prediction) -> list[Note]:
    """The notes for a prediction outside the heuristic's range (`notes.range_notes`)."""
    problem = pred.problem
    values = problem.scale_values()
    ridge = problem.ridge.exponent(values)
    ridge_name = next(iter(problem.ridge), "kappa")
    return range_notes(pred.p_star_exponent, ridge, problem.chi.exponent(values), ridge_name,
                       problem.dimension.exponent(values))


def shown_patterns(pred: Prediction, top: int | None) -> list[PatternReport]:
    """The first `top` patterns, and every winner the headline names (a tie is never cut)."""
    rows = list(pred.patterns)
    if top is None:
        return rows
    first = rows[:top]
    return first + [r for r in rows[top:] if r in pred.winners]


# -- JSON -------------------------------------------------------------------------------


def quantity_json(q: Quantity | None) -> dict[str, Any] | None:
    if q is None:
        return None
    return {"label": q.label, "formula": str(q.formula), "exponent": frac(q.exponent)}


def layer_json(layer: LayerReport) -> dict[str, Any]:
    return {
        "layer": layer.index,
        "type": layer.step.kind,
        "feature": layer.step.feature,
        "corner": layer.corner,
        "sizes": {q.label: {"formula": str(q.formula), "exponent": frac(q.exponent)} for q in layer.sizes},
        "cost": quantity_json(layer.cost),
        "note": layer.note,
    }


def pattern_json(report: PatternReport, rank: int | None) -> dict[str, Any]:
    return {
        "rank": rank,
        "name": report.name,
        "status": report.status,
        "energy_exponent": frac(report.exponent),
        "energy": None if report.energy is None else str(report.energy),
        "energy_linear": None if report.energy is None else report.energy.linear(),
        "readout": quantity_json(report.readout),
        "layers": [layer_json(l) for l in report.layers],
        "active_constraints": list(report.active),
        "note": report.note,
    }


def search_json(pred: Prediction) -> dict[str, Any] | None:
    """How the patterns were found: None when every pattern was ranked (`--all`, or the
    patterns named), else the search's account of the rest."""
    b = pred.bounded
    if b is None:
        return None
    return {"top": b.top, "ranked": len(pred.patterns), "bounded": b.patterns,
            "bounded_energy_above": frac(b.above), "scored": b.scored, "expanded": b.expanded}


def prediction_json(pred: Prediction, spec_doc: dict[str, Any], origin: str, show: int | None = None) -> dict[str, Any]:
    problem = pred.problem
    patterns = shown_patterns(pred, show)
    prediction: dict[str, Any] | None = None
    if pred.winners:
        w = pred.winners[0]
        prediction = {
            "pattern": w.name,
            "energy_exponent": frac(w.exponent),
            "energy": str(w.energy),
            "p_star_exponent": frac(pred.p_star_exponent),
            "p_star": p_star_text(problem, w.energy),
            "tied": [
                {"pattern": t.name, "energy": str(t.energy), "p_star": p_star_text(problem, t.energy)}
                for t in pred.winners
            ] if pred.tied else [],
        }
    ranks = pred.ranks()
    return {
        "schema": PREDICT_SCHEMA,
        "spec": {"origin": origin, **spec_doc},
        "scales": {name: frac(v) for name, v in problem.scales},
        "max_order": pred.max_order,
        "prediction": prediction,
        "unreachable": pred.unreachable,
        "notes": [{"code": n.code, "text": n.text} for n in notes_of(pred)],
        "total_patterns": pred.total_patterns,
        "search": search_json(pred),
        "patterns": [pattern_json(p, ranks.get(p.name)) for p in patterns],
    }


def compare_json(pred: Prediction, spec_doc: dict[str, Any], origin: str) -> dict[str, Any]:
    doc = prediction_json(pred, spec_doc, origin)
    doc["schema"] = COMPARE_SCHEMA
    return doc


def explain_json(ex: Explanation, spec_doc: dict[str, Any], origin: str, problem: Problem,
                 max_order: int | None = None) -> dict[str, Any]:
    return {
        "schema": EXPLAIN_SCHEMA,
        "spec": {"origin": origin, **spec_doc},
        "scales": {name: frac(v) for name, v in problem.scales},
        "max_order": max_order,
        "pattern": pattern_json(ex.report, None),
        "steps": [
            {
                "layer": s.layer,
                "rule": str(s.step),
                "text": s.text,
                "input_kernel": [{"component": k.name, "eigenvalue": list(k.eigenvalue), "content": k.detail}
                                 for k in s.kernel_in],
                "costs": list(s.cost_terms),
            }
            for s in ex.steps
        ],
        "readout_candidates": list(ex.readout_terms),
        "active_constraints": [{"row": l, "multiplier": m, "form": f} for l, m, f in ex.constraints],
        "summary": ex.summary,
    }


def patterns_json(problem: Problem, patterns: list[Pattern], spec_doc: dict[str, Any], origin: str) -> dict[str, Any]:
    return {"schema": PATTERNS_SCHEMA, "spec": {"origin": origin, **spec_doc},
            "scales": {name: frac(v) for name, v in problem.scales}, "count": len(patterns),
            "patterns": [pattern_name(p) for p in patterns]}


# -- tables -----------------------------------------------------------------------------


def _sizes(report: PatternReport) -> list[str]:
    parts = []
    for layer in report.layers:
        for q in layer.sizes:
            if q.formula != Monomial() or q.label.startswith("D"):
                parts.append(f"{q.label} ∝ {q.formula}")
    return parts or ["—"]


def _corner_text(report: PatternReport) -> str:
    corners = [f"{l.index}: {l.corner}" for l in report.layers if l.corner]
    return "; ".join(corners) or ("lazy" if all(l.step.kind is Mechanism.GP for l in report.layers) else "—")


def _status_text(report: PatternReport) -> str:
    return {"trivial": "reduces", "inconsistent": "inconsistent", "unreachable": "unreachable"}.get(report.status, "")


def headline(pred: Prediction, document: dict[str, Any], origin: str, scope: str = "") -> Text:
    problem = pred.problem
    text = layout.header(document, origin, [f"max order {pred.max_order}"])
    text.append("\n")
    if not pred.winners:
        text.append("No prediction: ", style="bold red")
        text.append(pred.unreachable or "no pattern has an optimum")
        return text
    assert pred.p_star_exponent is not None and pred.energy_exponent is not None   # there are winners
    p_exp = format_fraction(pred.p_star_exponent)
    here = p_star_text(problem, Monomial({"d": pred.energy_exponent}))
    if not pred.tied:
        w = pred.winners[0]
        text.append("P* ∝ ", style="bold")
        text.append(p_star_text(problem, w.energy), style="bold green")
        text.append(f"   (= {here} here, [P*] = {p_exp})   via ")
        text.append(w.name, style="bold cyan")
        text.append(scope)
        return text
    text.append(f"P* ∝ {here}", style="bold green")
    text.append(f" at these scales ([P*] = {p_exp}): {len(pred.winners)} patterns{scope} tie\n")
    pad = max(len(w.name) for w in pred.winners)
    for w in pred.winners:
        text.append("  ")
        text.append(f"{w.name:<{pad}}", style="bold cyan")
        text.append(f"  P* ∝ {p_star_text(problem, w.energy)}\n")
    text.rstrip()
    return text


WIDE = 120  # below this many columns, `predict`'s table puts the sizes under E


def prediction_table(pred: Prediction, top: int | None = None) -> Table:
    table = Table(show_edge=False, header_style="bold")
    # Narrow terminals: E and the sizes share a column (the sizes below E), and the name
    # and formula columns get fixed widths of at least their widest piece, so that the
    # table squeezes the corner and note columns rather than cut a name or a factor.
    narrow = layout.width() < WIDE
    rows = shown_patterns(pred, top)
    names = [layout.name(r.name) for r in rows]
    energies = [formula(str(r.energy) if r.energy is not None else "—") for r in rows]
    sizes = [listing(_sizes(r)) if r.scored else None for r in rows]
    if narrow:
        formulas = energies + [x for x in sizes if x is not None]
        fixed = {"pattern": _fit(names, 18, "pattern"), "E ∝, sizes": _fit(formulas, 24, "E ∝, sizes")}
        columns = ["#", "pattern", "corner", "[E]", "E ∝, sizes", "note"]
    else:
        fixed = {}
        columns = ["#", "pattern", "corner", "[E]", "E ∝", "minimising sizes", "note"]
    for col in columns:
        table.add_column(col, justify="right" if col in ("#", "[E]") else "left", width=fixed.get(col),
                         style="dim" if col == "note" else None, overflow="fold")
    ranks = pred.ranks()
    for report, name, energy, size in zip(rows, names, energies, sizes):
        rank = ranks.get(report.name)
        style = "bold" if report in pred.winners else ("dim" if not report.counts else "")
        cells = [Group(energy, size) if size is not None else energy] if narrow else [energy, size or ""]
        table.add_row("" if rank is None else str(rank), name, _corner_text(report) if report.scored else "",
                      frac(report.exponent) or "—", *cells, _status_text(report), style=style)
    return layout.no_cut(table)


def _fit(cells: list[layout.Pieces], share: int, header: str) -> int:
    """A column width: the widest piece or the header (never cut), or up to `share`
    when the cells are longer (fewer lines)."""
    widest = max((max(len(p.rstrip()) for p in c.pieces) for c in cells), default=1)
    longest = max((len(str(c).rstrip()) for c in cells), default=1)
    return max(widest, len(header), min(longest, share))


def _notes_text(pred: Prediction) -> list[Text]:
    return [Text(f"note: {n.text}", style="yellow") for n in notes_of(pred)]


def prediction_view(pred: Prediction, document: dict[str, Any], origin: str, top: int | None = None) -> Group:
    parts: list[Any] = [headline(pred, document, origin), *_notes_text(pred), Text("")]
    if pred.patterns:
        parts.append(prediction_table(pred, top))
    shown_rows = shown_patterns(pred, top)
    notes = sorted({r.status for r in shown_rows if not r.counts})
    legend = {
        "trivial": "reduces: a GFL layer's optimal amplification is D ∝ 1, so the pattern is a simpler one in disguise",
        "inconsistent": "inconsistent: no readout path uses every layer the pattern names",
        "unreachable": f"unreachable: the last kernel has no He_{pred.problem.degree} component in this pattern",
    }
    for n in notes:
        parts.append(Text(legend[n], style="dim"))
    shown = len(shown_rows)
    if shown < len(pred.patterns):
        parts.append(Text(f"{shown} of {len(pred.patterns)} patterns shown (--top)", style="dim"))
    parts += bounded_text(pred)
    return Group(*parts)


def bounded_text(pred: Prediction) -> list[Text]:
    """What the search left unranked, with its bound (nothing after --all)."""
    b = pred.bounded
    if b is None or not b.patterns:
        return []
    if b.above is None:
        what = "none has a proper optimum"
    else:
        what = f"none is a proper optimum with [E] ≤ {frac(b.above)}"
    return [Text(f"{b.patterns:,} more patterns bounded away: {what} (the search scored {b.scored:,} "
                 f"exactly; --all ranks every pattern)", style="dim")]


def _cost_cell(layer: LayerReport) -> str:
    if layer.cost is None:
        return "0"
    return f"{layer.cost.label} ∝ {layer.cost.formula}"


def compare_view(pred: Prediction, document: dict[str, Any], origin: str) -> Group:
    """docs/theory.md's three-layer table: per-layer cost, readout, minimising sizes, energy."""
    depth = pred.problem.depth
    table = Table(show_edge=False, header_style="bold")
    table.add_column("pattern")
    for l in range(1, depth + 1):
        table.add_column(f"layer-{l} cost")
    table.add_column("a_y")
    table.add_column("minimising sizes")
    table.add_column("E ∝")
    table.add_column("[E]", justify="right")
    for report in pred.patterns:
        if not report.scored:
            table.add_row(layout.name(report.name), *([""] * depth), "", report.note or report.status, "—", "—",
                          style="dim")
            continue
        readout = f"{report.readout.label} ∝ {report.readout.formula}" if report.readout else ""
        table.add_row(layout.name(report.name), *(formula(_cost_cell(l)) for l in report.layers), formula(readout),
                      listing(_sizes(report)), formula(str(report.energy)), frac(report.exponent),
                      style="" if report.counts else "dim")
    scope = "" if len(pred.patterns) == pred.total_patterns or pred.bounded else " (of the compared ones)"
    return Group(headline(pred, document, origin, scope), *_notes_text(pred), Text(""), layout.no_cut(table),
                 *bounded_text(pred))


def explain_view(ex: Explanation, problem: Problem, document: dict[str, Any], origin: str,
                 max_order: int | None = None) -> Group:
    r = ex.report
    out: list[Any] = [layout.header(document, origin, [] if max_order is None else [f"max order {max_order}"])]
    title = Text()
    title.append(f"{r.name}", style="bold cyan")
    title.append(f"  on {safe(problem.name or origin)}: {problem.words.network}, target {problem.words.target}")
    out.append(title)
    out.append(Text(f"{problem.words.input}: component {problem.feature} with [lambda_{problem.feature}] = "
                    f"{problem.lambda0.linear()}", style="dim"))
    for s in ex.steps:
        out.append(Text(""))
        out.append(Text(f"Layer {s.layer}: {s.step}", style="bold"))
        for k in s.kernel_in:
            out.append(Text(f"  K_{s.layer - 1} ∋ {k.name}: lambda ∝ {' | '.join(k.eigenvalue)}"
                            + (f"   content {k.detail}" if k.detail else "")))
        out.append(Text(f"  {s.text}"))
        for c in s.cost_terms:
            out.append(Text(f"  {c}"))
    out.append(Text(""))
    out.append(Text(f"Readout (chi = {format_monomial(problem.chi)}; {problem.words.readout}): candidates for a_y",
                    style="bold"))
    for line in ex.readout_terms:
        out.append(Text(f"  {line}"))
    if ex.constraints:
        out.append(Text(""))
        out.append(Text("Linear programme: minimise [E] = t; active constraints (multiplier):", style="bold"))
        for label, mult, form in ex.constraints:
            shown = f"   t >= [{form}]" if label.startswith(("layer", "readout")) and form else ""
            out.append(Text(f"  {label}  ({mult}){shown}"))
    out.append(Text(""))
    if r.scored:
        for layer in r.layers:
            if layer.step.kind is Mechanism.GP:
                continue
            sizes = ", ".join(f"{q.label} ∝ {q.formula}" for q in layer.sizes) or "not determined"
            corner = f" [{layer.corner}]" if layer.corner else ""
            out.append(Text(f"Layer {layer.index}{corner}: {sizes}; cost {_cost_cell(layer)}"))
        if r.readout:
            out.append(Text(f"Readout: a_y = {r.readout.label} ∝ {r.readout.formula}"))
        res = Text("Result: ", style="bold")
        res.append(ex.summary, style="bold green")
        res.append(f"; P* ∝ {p_star_text(problem, r.energy)}")
        out.append(res)
    else:
        out.append(Text(f"No optimum: {r.note}", style="bold red"))
    return Group(*out)

