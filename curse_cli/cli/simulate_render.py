"""The rich view of a `curse simulate` report: points, curves, fit and verdict."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from curse_cli.simulate.report import SimulateReport

VERDICT_STYLE = {"agree": "bold green", "disagree": "bold red", "not equilibrated": "bold yellow",
                 "inconclusive": "bold yellow"}


def _num(x: float | None, fmt: str = ".3f") -> str:
    return "—" if x is None else format(x, fmt)


def _pm(x: float, se: float) -> str:
    return f"{x:.3f} ± {se:.3f}"


def points_table(report: SimulateReport) -> Table:
    exp = report.predicted.p_star_exponent
    table = Table(title="Alignment of the posterior-mean predictor (test set)", title_justify="left")
    for name in ("d", "widths", "P", f"P/d^{exp}", "alignment", "from prior", "from teacher", "R-hat", "eq.",
                 "test MSE", "GP align.", "GP MSE", "specialists", "accept"):
        table.add_column(name, justify="right" if name not in ("widths", "eq.") else "left")
    for p in report.points:
        table.add_row(str(p.d), "x".join(map(str, p.widths)), str(p.p), f"{p.p_scaled:.3g}",
                      _pm(p.alignment, p.alignment_se), _pm(p.alignment_prior, p.alignment_prior_se),
                      _pm(p.alignment_teacher, p.alignment_teacher_se), _num(p.rhat, ".2f"),
                      "yes" if p.equilibrated else "NO", _num(p.mse), _num(p.gp_alignment), _num(p.gp_mse),
                      f"{p.specialists:.2f}", f"{p.acceptance:.2f}")
    return table


def curves_table(report: SimulateReport) -> Table:
    table = Table(title="Per d: where the alignment crosses 1/2", title_justify="left")
    for name in ("d", "widths", "P_half", "from prior", "from teacher", "GP P_half", "specialists (largest P)",
                 "prior false positives"):
        table.add_column(name, justify="right" if name != "widths" else "left")
    for c in report.curves:
        half = _num(c.p_half, ".3g") if c.p_half is not None else f"— ({c.p_half_note})"
        table.add_row(str(c.d), "x".join(map(str, c.widths)), half, _num(c.p_half_prior, ".3g"),
                      _num(c.p_half_teacher, ".3g"), _num(c.gp_p_half, ".3g"),
                      f"{c.specialists:.2f}", f"{c.specialists_null:.2f}")
    return table


def summary_text(report: SimulateReport) -> Text:
    pred, fit = report.predicted, report.fit
    lines = Text()
    lines.append(f"predicted: {pred.pattern}, P* ∝ {pred.p_star}, [P*] = {pred.p_star_exponent}\n")
    if fit.b is None:
        lines.append("measured:  P_half ∝ d^b — b undetermined (no P_half at some d)\n")
    else:
        interval = f" [{fit.low:.2f}, {fit.high:.2f}] (95% bootstrap, {fit.replicates} replicates)" \
            if fit.low is not None else ""
        lines.append(f"measured:  P_half ∝ d^b, b = {fit.b:.2f}{interval}\n")
    lines.append(f"each start alone: b = {_num(fit.b_prior, '.2f')} (prior), {_num(fit.b_teacher, '.2f')} (teacher); "
                 f"GP (lazy) baseline: b = {_num(fit.gp_b, '.2f')}\n")
    m = (f"{pred.m_label} ∝ {pred.m_formula}, [{pred.m_label}] = {pred.m_exponent}" if pred.m_label
         else "no first-layer M")
    lines.append(f"specialists at the largest P: slope in d {_num(fit.specialists_slope, '.2f')} "
                 f"(predicted {m})\n")
    lines.append("verdict: ")
    lines.append(report.verdict.status, style=VERDICT_STYLE.get(report.verdict.status, "bold"))
    lines.append(f" — {report.verdict.reason}")
    return lines


def simulate_view(report: SimulateReport) -> Group:
    return Group(points_table(report), curves_table(report), summary_text(report))
