"""Rendering of `curse ldt`: the JSON document (schema in `ldt_cli.py`), the rich view,
the text histogram of the tilted density, and the optional matplotlib plot."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text

from curse_cli.ldt.report import TILTED, Density, LdtReport, density_curve
from curse_cli.cli.plotfile import save
from curse_cli.cli.layout import header, no_cut
from curse_cli.algebra.scales import format_fraction, format_monomial

SCHEMA = "curse.ldt/2"
_DECADES = 16  # histogram bars: one block per decade of probability above 1e-16


# -- JSON -------------------------------------------------------------------------------


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def ldt_json(report: LdtReport) -> dict[str, Any]:
    o, h = report.options, report.heuristic
    frac = lambda v: None if v is None else format_fraction(v)  # noqa: E731
    m = None if h.m is None else {"label": h.m.label, "formula": format_monomial(h.m.formula),
                                  "exponent": format_fraction(h.m.exponent), "determined": h.m_determined}
    dens = report.density
    return {
        "schema": SCHEMA,
        "spec": {"origin": report.origin, **report.document},
        "scales": {name: format_fraction(v) for name, v in report.scales},
        "parameters": {"alpha": format_fraction(o.alpha), "sigma_w": format_fraction(o.sigma_w),
                       "sigma_a": format_fraction(o.sigma_a), "tolerance": o.tolerance, "d": list(o.ds),
                       "degree": report.degree, "activation": report.activation},
        "points": [{"d": p.d, "width": p.N, "chi": p.chi, "energy": _num(p.energy), "t_star": _num(p.t_star),
                    "t_max": _num(p.t_max), "specialised": _num(p.specialised), "u_c": p.u_c, "status": p.status}
                   for p in report.points],
        "slopes": {"d": [[s.d_from, s.d_to] for s in report.slopes],
                   "energy": [s.energy for s in report.slopes],
                   "specialised": [s.specialised for s in report.slopes]},
        "heuristic": {"pattern": h.pattern, "tied": list(h.tied),
                      "energy": None if h.energy is None else format_monomial(h.energy),
                      "energy_exponent": frac(h.energy_exponent), "p_star": h.p_star,
                      "p_star_exponent": frac(h.p_star_exponent), "m": m, "corner": h.corner,
                      "unreachable": h.unreachable},
        "verdict": {"outcome": report.verdict.outcome, "agree": report.verdict.agree,
                    "reason": report.verdict.reason, "tolerance": o.tolerance},
        "density": None if dens is None else {
            "d": dens.d, "width": dens.N, "u_c": dens.u_c,
            "bins": [{"lo": b.lo, "hi": b.hi, "mass": b.mass} for b in dens.bins]},
        "notes": list(report.notes),
    }


# -- tables -----------------------------------------------------------------------------


def _g(x: float | None, digits: int = 4) -> str:
    if x is None or math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞"
    if x != 0 and abs(x) < 1e6 and float(x).is_integer():
        return f"{x:.0f}"
    return f"{x:.{digits}g}"


def _s(x: float | None) -> str:
    return "—" if x is None else f"{x:+.3f}"


def _headline(r: LdtReport) -> Text:
    o = r.options
    run = [f"alpha = {format_fraction(o.alpha)}, sigma_w = {format_fraction(o.sigma_w)}, "
           f"sigma_a = {format_fraction(o.sigma_a)}, tolerance {o.tolerance:g}"]
    return header(r.document, r.origin, run)


def _points_table(r: LdtReport) -> Table:
    table = Table(show_edge=False, header_style="bold", title="Chernoff bound", title_justify="left")
    show_chi = any(p.chi != 1 for p in r.points)
    for col in ("d", "N", *(("chi",) if show_chi else ()), "E(alpha)", "t*", "specialised", "status"):
        table.add_column(col, justify="left" if col == "status" else "right")
    for p in r.points:
        spec = max(p.specialised, 0.0) if math.isfinite(p.specialised) else p.specialised
        table.add_row(_g(p.d), _g(p.N), *((_g(p.chi),) if show_chi else ()), _g(p.energy), _g(p.t_star), _g(spec, 3),
                      p.status, style="" if p.status == "ok" else "yellow")
    return no_cut(table)


def _slopes_table(r: LdtReport) -> Table:
    h = r.heuristic
    table = Table(show_edge=False, header_style="bold", title="Slopes against d", title_justify="left")
    m_head = f"heuristic [{h.m.label}]" if h.m is not None else "heuristic [M]"
    for col in ("d range", "slope E", "heuristic [E]", "slope specialised", m_head):
        table.add_column(col, justify="right")
    he = "—" if h.energy_exponent is None else format_fraction(h.energy_exponent)
    hm = "—" if h.m is None else format_fraction(h.m.exponent)
    for s in r.slopes:
        table.add_row(f"{_g(s.d_from)} → {_g(s.d_to)}", _s(s.energy), he, _s(s.specialised), hm)
    return no_cut(table)


def _heuristic_text(r: LdtReport) -> Text:
    h = r.heuristic
    text = Text("Heuristic: ", style="bold")
    if h.pattern is None:
        text.append(f"no prediction: {h.unreachable}")
        return text
    text.append(h.pattern, style="bold cyan")
    if h.corner:
        text.append(f" [{h.corner}]")
    text.append(f"  E ∝ {format_monomial(h.energy)} ([E] = {format_fraction(h.energy_exponent)})")  # type: ignore[arg-type]  # a pattern was predicted
    if h.m is not None:
        m = h.m
        text.append(f", {m.label} ∝ {format_monomial(m.formula)} ([{m.label}] = {format_fraction(m.exponent)})")
    text.append(f", P* ∝ {h.p_star}")
    if h.tied:
        text.append(f"  (tied with {', '.join(h.tied)})", style="dim")
    return text


def density_text(dens: Density) -> Text:
    """The tilted density as a text histogram of `|u|`, one █ per decade of probability."""
    text = Text(f"Tilted density of |u| = |w·w*| at d = {_g(dens.d)}: P(bin), one █ per decade above "
                f"1e-{_DECADES}; specialised above u_c = {dens.u_c:.3g}\n", style="bold")
    marked = False
    for b in dens.bins:
        if not marked and b.lo >= dens.u_c:
            text.append(f"  {'─' * 18} u_c\n", style="dim")
            marked = True
        label = f"{_g(b.lo, 2)} – {_g(b.hi, 2)}"
        blocks = 0 if b.mass <= 0 else max(0, min(_DECADES, round(math.log10(b.mass) + _DECADES)))
        text.append(f"  {label:>18} {b.mass:8.1e} ")
        text.append("█" * blocks + "\n", style="green" if b.lo >= dens.u_c else "")
    text.rstrip()
    return text


def ldt_view(r: LdtReport) -> Group:
    parts: list[Any] = [_headline(r), Text(""), _points_table(r), Text("")]
    if any(s.energy is not None or s.specialised is not None for s in r.slopes):
        parts += [_slopes_table(r), Text("")]
    parts.append(_heuristic_text(r))
    mark, style = {"agree": ("✓ ", "bold green"), "disagree": ("✗ ", "bold red"),
                   "inconclusive": ("? ", "bold yellow")}[r.verdict.outcome]
    verdict = Text(mark, style=style)
    verdict.append(r.verdict.reason)
    parts.append(verdict)
    for note in r.notes:
        parts.append(Text(f"note: {note}", style="dim"))
    if r.density is not None:
        parts += [Text(""), density_text(r.density)]
    return Group(*parts)


# -- the plot ---------------------------------------------------------------------------


def write_plot(r: LdtReport, path: str) -> None:
    """E against d on log axes with the heuristic's slope as a reference line, and the
    tilted density at the largest d; the format follows the file's suffix."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax_e, ax_u = fig.subplots(1, 2)
    fig.suptitle(f"{r.document.get('name') or r.origin}: Chernoff bound vs heuristic", fontsize=10)
    finite = [p for p in r.points if math.isfinite(p.energy) and p.energy > 0]
    h = r.heuristic
    if finite:
        for status, marker in (("ok", "o"), ("boundary", "s")):
            pts = [p for p in finite if p.status == status]
            if pts:
                ax_e.plot([p.d for p in pts], [p.energy for p in pts], marker, fillstyle="full" if status == "ok"
                          else "none", label=f"Chernoff E(alpha) ({status})")
        ax_e.plot([p.d for p in finite], [p.energy for p in finite], "-", color="C0", alpha=0.4)
        if h.energy_exponent is not None:
            top = finite[-1]
            ds = [r.points[0].d, r.points[-1].d]
            ref = [top.energy * (d / top.d) ** float(h.energy_exponent) for d in ds]
            label = f"heuristic {h.pattern}: slope {format_fraction(h.energy_exponent)}"
            ax_e.plot(ds, ref, "--", color="C3", label=label)
        ax_e.set_xscale("log")
        ax_e.set_yscale("log")
        ax_e.legend(fontsize=8)
    else:
        ax_e.text(0.5, 0.5, f"no finite energy ({r.points[0].status})", ha="center", va="center",
                  transform=ax_e.transAxes)
    ax_e.set_xlabel("d")
    ax_e.set_ylabel("E(alpha)")
    tilted = [p for p in r.points if p.status in TILTED]
    if tilted:
        p = tilted[-1]
        u, dens = density_curve(p, r.phi)
        floor = dens.max() * 1e-30
        ax_u.plot(u, np.where(dens > floor, dens, np.nan), color="C2")  # gaps where it is negligible
        ax_u.set_ylim(bottom=floor)
        ax_u.axvline(p.u_c, color="grey", ls=":", label=f"u_c = {p.u_c:.3g}")
        ax_u.set_xscale("log")
        ax_u.set_yscale("log")
        ax_u.legend(fontsize=8)
        ax_u.set_title(f"tilted density at d = {_g(p.d)}, t* = {p.t_star:.3g}", fontsize=9)
    else:
        ax_u.text(0.5, 0.5, "no tilted measure", ha="center", va="center", transform=ax_u.transAxes)
    ax_u.set_xlabel("|u| = |w·w*|")
    ax_u.set_ylabel("density of log|u|")
    save(fig, path)
