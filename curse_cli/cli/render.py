"""Rendering: rich tables for people (the JSON documents are `documents.predict`'s)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from curse_cli.cli import layout
from curse_cli.cli.layout import formula, listing, safe
from curse_cli.documents.predict import frac, notes_of, p_star_text, shown_patterns

from curse_cli.archs.problem import Problem
from curse_cli.engine.api import Explanation, LayerReport, Mechanism, PatternReport, Prediction, Status
from curse_cli.algebra.scales import Monomial, format_fraction, format_monomial


# -- tables -----------------------------------------------------------------------------


def _sizes(report: PatternReport) -> list[str]:
    parts = []
    for layer in report.layers:
        for q in layer.sizes:
            if q.formula != Monomial() or q.label.startswith("D"):
                parts.append(f"{q.label} ∝ {q.formula}")
    return parts or ["—"]


def _corner_text(report: PatternReport) -> str:
    corners = [f"{layer.index}: {layer.corner}" for layer in report.layers if layer.corner]
    return "; ".join(corners) or ("lazy" if all(layer.step.kind is Mechanism.GP for layer in report.layers) else "—")


def _status_text(report: PatternReport) -> str:
    return {Status.TRIVIAL: "reduces", Status.INCONSISTENT: "inconsistent",
            Status.UNREACHABLE: "unreachable"}.get(report.status, "")


def headline(pred: Prediction, document: dict[str, Any], origin: str, scope: str = "") -> Any:
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
    text.append(f" at these scales ([P*] = {p_exp}): {len(pred.winners)} patterns{scope} tie")
    ties = Table.grid(padding=(0, 2))   # a name and a formula break only between layers and factors
    ties.add_column()
    ties.add_column()
    for w in pred.winners:
        ties.add_row(layout.name(w.name, "bold cyan"), formula(f"P* ∝ {p_star_text(problem, w.energy)}"))
    return Group(text, Padding(ties, (0, 0, 0, 2), expand=False))


WIDE = 120  # below this many columns, `predict`'s table puts the sizes under E


def prediction_table(pred: Prediction, top: int | None = None) -> Any:
    """The ranked patterns as a table, or stacked one pattern per block when the table's
    columns cannot fit the terminal without cutting a word, a number or a factor."""
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
    blocks: list[tuple[Any, list[tuple[str, Any]]]] = []
    for report, name, energy, size in zip(rows, names, energies, sizes, strict=True):
        rank = ranks.get(report.name)
        style = "bold" if report in pred.winners else ("dim" if not report.counts else "")
        corner = _corner_text(report) if report.scored else ""
        cells = [Group(energy, size) if size is not None else energy] if narrow else [energy, size or ""]
        table.add_row("" if rank is None else str(rank), name, corner, frac(report.exponent) or "—", *cells,
                      _status_text(report), style=style)
        title = layout.Pieces([f"{'' if rank is None else rank:>3}  ", *name.pieces], "",
                              "bold cyan" if report in pred.winners else style)
        fields = [("[E]", frac(report.exponent) or "—"), ("corner", layout.name(corner) if corner else None),
                  ("E ∝", energy if report.energy is not None else None), ("sizes", size),
                  ("note", _status_text(report) or None)]
        blocks.append((title, [(label, value) for label, value in fields if value is not None]))
    table = layout.no_cut(table)
    return table if layout.fits(table) else layout.stacked(blocks)


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
    notes = sorted({r.status for r in shown_rows if not r.counts}, key=lambda status: status.value)
    legend = {
        Status.TRIVIAL: "reduces: a GFL layer's optimal amplification is D ∝ 1, so the pattern is a simpler one "
                        "in disguise",
        Status.INCONSISTENT: "inconsistent: no readout path uses every layer the pattern names",
        Status.UNREACHABLE: f"unreachable: the last kernel has no He_{pred.problem.degree} component in this pattern",
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
    for layer in range(1, depth + 1):
        table.add_column(f"layer-{layer} cost")
    table.add_column("a_y")
    table.add_column("minimising sizes")
    table.add_column("E ∝")
    table.add_column("[E]", justify="right")
    blocks: list[tuple[Any, list[tuple[str, Any]]]] = []
    for report in pred.patterns:
        title = layout.name(report.name, "bold cyan" if report.counts else "dim")
        if not report.scored:
            table.add_row(layout.name(report.name), *([""] * depth), "", report.note or report.status.value, "—", "—",
                          style="dim")
            blocks.append((title, [("note", formula(report.note or report.status))]))
            continue
        readout = f"{report.readout.label} ∝ {report.readout.formula}" if report.readout else ""
        costs = [formula(_cost_cell(layer)) for layer in report.layers]
        cells = [*costs, formula(readout), listing(_sizes(report)), formula(str(report.energy)), frac(report.exponent)]
        table.add_row(layout.name(report.name), *cells, style="" if report.counts else "dim")
        labels = [*(f"layer-{i} cost" for i in range(1, depth + 1)), "a_y", "sizes", "E ∝", "[E]"]
        blocks.append((title, list(zip(labels, cells, strict=True))))
    scope = "" if len(pred.patterns) == pred.total_patterns or pred.bounded else " (of the compared ones)"
    table = layout.no_cut(table)
    body = table if layout.fits(table) else layout.stacked(blocks)
    return Group(headline(pred, document, origin, scope), *_notes_text(pred), Text(""), body, *bounded_text(pred))


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
            shown = f", lambda_{c.component} = {c.eigenvalue} ({c.words})" if c.eigenvalue else ""
            out.append(Text(f"  cost {c.formula}{shown}"))
    out.append(Text(""))
    out.append(Text(f"Readout (chi = {format_monomial(problem.chi)}; {problem.words.readout}): candidates for a_y",
                    style="bold"))
    for term in ex.readout_terms:
        layers = ", ".join(map(str, term.layers))
        relies = f"relies on layer{'s' if len(term.layers) > 1 else ''} {layers}" if term.layers else "lazy only"
        if term.order is None:
            out.append(Text(f"  a_y ∝ {term.formula}   ({relies})"))
        elif term.formula is None:
            out.append(Text(f"  He_{term.order}: no component of the last kernel carries it"))
        else:
            mark = ("   <- chosen, active" if term.active else "   <- chosen") if term.chosen else ""
            out.append(Text(f"  He_{term.order}: a_{term.order} ∝ {term.formula}   ({relies}){mark}"))
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

