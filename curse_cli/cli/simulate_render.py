"""The rich view of a `curse simulate` report: the spec header, points, curves, verdict.

Tables never cut a number: cells do not wrap, and where a table is wider than the
console each row is printed as a stacked block of `name value` items instead, which
wrap only between items.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from curse_cli.cli.layout import header, width
from curse_cli.simulate.report import PointResult, SimulateReport, Status

VERDICT_STYLE = {Status.AGREE: "bold green", Status.DISAGREE: "bold red", Status.NOT_EQUILIBRATED: "bold yellow",
                 Status.INCONCLUSIVE: "bold yellow", Status.DYNAMICS: "bold yellow"}


def _num(x: float | None, fmt: str = ".3f") -> str:
    return "—" if x is None else format(x, fmt)


def _runs(values: list[Any], fmt: str) -> str:
    return " ".join("—" if v is None else format(v, fmt) for v in values)


def _widths(widths: tuple[int, ...]) -> str:
    return "x".join(map(str, widths)) or "—"


def _point_cells(report: SimulateReport, p: PointResult) -> list[tuple[str, str]]:
    exp = report.predicted.p_star_exponent
    smc = p.sampler == "smc"
    cells = [("d", str(p.d)), ("N", _widths(p.widths)), ("P", str(p.p)), (f"P/d^{exp}", f"{p.p_scaled:.3g}"),
             ("align.", _num(p.alignment)), ("runs", _runs([r.alignment for r in p.runs], ".3f")),
             ("eq.", "yes" if p.equilibrated else ("dyn." if not smc and not p.failed else "NO"))]
    if smc:
        cells += [("log Z", _runs([r.log_evidence for r in p.runs], ".1f")),
                  ("ESS", _runs([r.ess for r in p.runs], ".0f")), ("stages", _runs([r.stages for r in p.runs], "d"))]
    else:
        cells += [("starts", " ".join(r.start[0] for r in p.runs))]
    cells += [("spec.", _num(p.specialists, ".2f")), ("GP", _num(p.gp_alignment)), ("s", f"{p.seconds:.0f}")]
    return cells


def _table(title: str, rows: list[list[tuple[str, str]]]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    left = ("N", "runs", "eq.", "starts", "log Z", "ESS", "stages", "note")
    for name, _ in rows[0]:
        table.add_column(name, justify="left" if name in left else "right", no_wrap=True)
    for row in rows:
        table.add_row(*(value for _, value in row))
    return table


def _pack(items: list[str], columns: int, indent: str = "    ") -> list[str]:
    """Items joined by ` · ` into lines of at most `columns`, broken only between items
    (an item wider than the line stands alone on its line)."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 3 + len(item) <= columns:
            lines[-1] += " · " + item
        else:
            lines.append((indent if lines else "") + item)
    return lines


def _stacked(title: str, rows: list[list[tuple[str, str]]], columns: int) -> Group:
    blocks: list[RenderableType] = [Text(title, style="italic")]
    for row in rows:
        first = "  ".join(f"{n} {v}" for n, v in row[:3])
        lines = _pack([first, *(f"{n} {v}" for n, v in row[3:])], columns)
        text = Text(no_wrap=True, overflow="ignore")
        text.append(lines[0], style="bold")
        for line in lines[1:]:
            text.append("\n" + line)
        blocks.append(text)
    return Group(*blocks)


def _fitting(title: str, rows: list[list[tuple[str, str]]], columns: int) -> RenderableType:
    if not rows:
        return Text(f"{title}: none")
    table = _table(title, rows)
    wide = Console(width=10_000)
    needed = Measurement.get(wide, wide.options, table).maximum
    return table if needed <= columns else _stacked(title, rows, columns)


def points_view(report: SimulateReport, columns: int) -> RenderableType:
    rows = [_point_cells(report, p) for p in report.points]
    return _fitting("Alignment of the posterior-mean predictor (test set), per point", rows, columns)


def curves_view(report: SimulateReport, columns: int) -> RenderableType:
    rows = []
    for c in report.curves:
        half = _num(c.p_half, ".3g") if c.p_half is not None else "—"
        interval = f"{_num(c.p_half_low, '.3g')}-{_num(c.p_half_high, '.3g')}" if c.p_half_low is not None else "—"
        rows.append([("d", str(c.d)), ("N", _widths(c.widths)), ("P_half", half), ("95% (runs)", interval),
                     ("GP P_half", _num(c.gp_p_half, ".3g")), ("spec.", _num(c.specialists, ".2f")),
                     ("null", _num(c.specialists_null, ".2f")), ("note", c.p_half_note or "")])
    return _fitting("Per d: where the equilibrated alignment crosses 1/2", rows, columns)


def summary_text(report: SimulateReport) -> Text:
    pred, fit = report.predicted, report.fit
    lines = Text()
    lines.append(f"predicted: {pred.pattern}, P* ∝ {pred.p_star}, [P*] = {pred.p_star_exponent}\n")
    if fit.b is None:
        lines.append("measured: P_half ∝ d^b, b undetermined\n")
    else:
        interval = (f" [{fit.low:.2f}, {fit.high:.2f}] (95% bootstrap over runs, {fit.replicates} replicates)"
                    if fit.low is not None else "")
        lines.append(f"measured: P_half ∝ d^b, b = {fit.b:.2f}{interval}\n")
    if report.points and report.points[0].sampler != "smc":
        lines.append(f"each start alone: b = {_num(fit.b_prior, '.2f')} (prior), "
                     f"{_num(fit.b_teacher, '.2f')} (teacher)\n")
    lines.append(f"GP (lazy) baseline: b = {_num(fit.gp_b, '.2f')}\n")
    m = (f"{pred.m_label} ∝ {pred.m_formula}, [{pred.m_label}] = {pred.m_exponent}" if pred.m_label
         else "no first-layer M")
    lines.append(f"specialists at the largest P: slope in d {_num(fit.specialists_slope, '.2f')} (predicted {m})\n")
    lines.append("verdict: ")
    lines.append(report.verdict.status.value, style=VERDICT_STYLE.get(report.verdict.status, "bold"))
    lines.append(f" — {report.verdict.reason}")
    for item in report.verdict.unequilibrated:
        lines.append(f"\n  not equilibrated: {item}")
    for note in report.notes:
        lines.append(f"\nnote: {note}", style="dim")
    return lines


def simulate_view(report: SimulateReport, document: dict[str, Any], origin: str) -> Group:
    s = report.settings
    if s.get("sampler") == "smc":
        run = [f"smc: {s['runs']} runs x {s['particles']} particles", f"kappa {s['kappa']:g}",
               "data annealing" if s.get("anneal") else "fresh tempering", f"agreement {s['agreement']:g}"]
    else:
        run = [f"{s.get('sampler')}: {s.get('chains')} chains per start", f"kappa {s['kappa']:g}"]
    columns = width()
    return Group(header(document, origin, run), Text(""), points_view(report, columns), Text(""),
                 curves_view(report, columns), Text(""), summary_text(report))
