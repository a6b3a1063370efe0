"""`curse ldt`: the exact Chernoff bound of a two-layer network along a scan in d, beside
the heuristic's exponents.  The command parses and calls `ldt_report`; `ldt_view`,
`ldt_json` and `write_plot` render.

JSON (`--format json`) is one document, schema `curse.ldt/1`; exponents are exact strings
("3/2"), measured values are floats, and null stands for an infinite or undefined value:

    {
      "schema": "curse.ldt/1",
      "spec": {"origin": "specs/x.yaml", ...},     # the validated spec, as in `curse predict`
      "scales": {"N": "1", "kappa": "0"},         # each scale's exponent of d (after --set)
      "parameters": {
        "alpha": "1/2", "sigma_w": "1", "sigma_a": "1",   # as given, exact
        "tolerance": 0.05,                        # of the verdict, on slopes
        "d": [100.0, 1000.0],                     # the scan, ascending
        "degree": 3, "activation": "erf"
      },
      "points": [{                                # one per d
        "d": 100.0, "N": 100.0, "chi": 1.0,       # N = d^[N], chi = d^[chi] (1 standard, N mean-field)
        "energy": 478.7,                          # E(alpha) = sup_t [t alpha - N log Z(t)]; null if infinite
        "t_star": 961.0, "t_max": null,           # the maximiser; where Z stops being finite (null: never)
        "specialised": 1.94,                      # N P_tilt(|u| > u_c), expected specialised neurons
        "u_c": 0.316,                             # sigma_w d^(-1/4)
        "status": "ok"                            # ok | boundary | vacuous | unreachable
      }],
      "slopes": {                                 # local log-log slopes against d, consecutive points
        "d": [[100.0, 1000.0]],
        "energy": [1.008], "specialised": [-0.073]          # null where a value is not positive
      },
      "heuristic": {                              # `curse predict` on the same spec
        "pattern": "Sp(z)", "tied": [],           # the winner (an Sp winner first among ties)
        "energy": "(N d)^(1/2)", "energy_exponent": "1",    # [E]: the predicted energy slope
        "P_star": "kappa (N d)^(1/2)", "P_star_exponent": "1",
        "M": {"label": "M1", "formula": "(N/d)^(1/2)", "exponent": "0",
              "determined": true},                # false: a combination such as M1 q1^2; null: no Sp layer
        "corner": "M-Sp",                         # M-Sp, full Sp, Mag, q-Sp, partial, face ...; null
        "unreachable": null                       # why no pattern reaches the target, if none does
      },
      "verdict": {"agree": true, "reason": "agree: energy slope ...", "tolerance": 0.05},
      "density": {                                # tilted density of u = w.w* at the largest d with one
        "d": 100000.0, "N": 100000.0, "u_c": 0.0178,
        "bins": [{"lo": 0.0, "hi": 0.0003, "mass": 0.2}]   # P_tilt(lo <= |u| < hi), log-spaced bins
      },                                          # null when no point has a tilted measure
      "notes": ["..."]                            # caveats on the counts and the inputs
    }

The verdict compares, at the largest-d pair, the energy slope with the heuristic's `[E]`
and, where the heuristic fixes `M` at an M-Sp or full-Sp corner, the count's slope with
`[M]`; both must lie within the tolerance.  The reason says why they differ.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from .ldt_report import (
    DEFAULT_TOLERANCE, TILTED, Density, LdtError, LdtOptions, LdtReport, density_curve, ldt_report,
)
from .scales import format_fraction, format_monomial
from .spec import load_spec

SCHEMA = "curse.ldt/1"
PLOT_SUFFIXES = (".png", ".svg")
PLOT_HINT = "pip install 'curse[plot]' (or pip install '.[plot]' from a checkout)"
DEFAULT_DS = "100,1000,10000,100000"
_DECADES = 16  # histogram bars: one block per decade of probability above 1e-16


def _user_error(message: str) -> click.ClickException:
    from .cli import UserError  # imported late: cli.py registers this command at its end

    return UserError(message)


class DList(click.ParamType):
    """A comma list of input dimensions, each a number >= 2; returned ascending."""

    name = "D,D,..."

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[float, ...]:
        if isinstance(value, tuple):
            return value
        ds = []
        for item in str(value).split(","):
            try:
                d = float(item.strip())
            except ValueError:
                self.fail(f"{item.strip()!r} is not a number; give a comma list such as 100,1000,10000", param, ctx)
            if not (math.isfinite(d) and d >= 2):
                self.fail(f"every d must be a finite number >= 2, got {item.strip()!r}", param, ctx)
            ds.append(d)
        if len(set(ds)) != len(ds):
            self.fail("the values must be distinct", param, ctx)
        if len(ds) < 2:
            self.fail("give at least two values (a slope needs two points), e.g. 1000,10000", param, ctx)
        return tuple(sorted(ds))


class Positive(click.ParamType):
    """A positive number, exactly: 1, 0.5, 1/2, 1e-3."""

    name = "X"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Fraction:
        if isinstance(value, Fraction):
            return value
        try:
            x = Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            self.fail(f"{value!r} is not a number; write 1, 0.5 or 1/2", param, ctx)
        if x <= 0:
            self.fail(f"must be positive, got {value!r}", param, ctx)
        return x


@click.command("ldt")
@click.argument("spec", metavar="SPEC")
@click.option("--d", "ds", type=DList(), default=DEFAULT_DS, show_default=True,
              help="Input dimensions to scan (comma list, each >= 2); widths are the spec's scales at each d.")
@click.option("--alpha", type=Positive(), default="1/2", show_default=True, help="Target alignment alpha.")
@click.option("--sigma-w", type=Positive(), default="1", show_default=True, help="First-layer weight scale.")
@click.option("--sigma-a", type=Positive(), default="1", show_default=True, help="Readout weight scale.")
@click.option("--tolerance", type=click.FloatRange(min=0), default=DEFAULT_TOLERANCE, show_default=True,
              help="Largest |slope - heuristic exponent| that still agrees.")
@click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE",
              help="Override a scale, e.g. --set N=2 or --set 'N=d^(3/2)'. Repeatable.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Rich table for people, or one JSON document on stdout for pipes.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False, writable=True), default=None, metavar="FILE",
              help="Also draw E against d and the tilted density (.png or .svg; needs matplotlib).")
def ldt_cmd(spec: str, ds: tuple[float, ...], alpha: Fraction, sigma_w: Fraction, sigma_a: Fraction,
            tolerance: float, overrides: tuple[str, ...], fmt: str, plot: str | None) -> None:
    """Check the heuristic against the exact Chernoff bound of a two-layer network.

    Evaluates E(alpha) = sup_t [t alpha - N log Z(t)] at each d (widths and chi from the
    spec's scales), the expected number of specialised neurons, their log-log slopes in d,
    and compares them with the exponents of 'curse predict'.
    """
    if plot is not None:
        _check_plot(plot)
    loaded = load_spec(spec, overrides)
    try:
        report = ldt_report(loaded, LdtOptions(ds, alpha, sigma_w, sigma_a, tolerance))
    except LdtError as err:
        raise _user_error(str(err)) from None
    if fmt == "json":
        click.echo(json.dumps(ldt_json(report), indent=2, ensure_ascii=False))
    else:
        _console().print(ldt_view(report))
    if plot is not None:
        write_plot(report, plot)
        click.echo(f"wrote {plot}", err=True)


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
        "points": [{"d": p.d, "N": p.N, "chi": p.chi, "energy": _num(p.energy), "t_star": _num(p.t_star),
                    "t_max": _num(p.t_max), "specialised": _num(p.specialised), "u_c": p.u_c, "status": p.status}
                   for p in report.points],
        "slopes": {"d": [[s.d_from, s.d_to] for s in report.slopes],
                   "energy": [s.energy for s in report.slopes],
                   "specialised": [s.specialised for s in report.slopes]},
        "heuristic": {"pattern": h.pattern, "tied": list(h.tied),
                      "energy": None if h.energy is None else format_monomial(h.energy),
                      "energy_exponent": frac(h.energy_exponent), "P_star": h.p_star,
                      "P_star_exponent": frac(h.p_star_exponent), "M": m, "corner": h.corner,
                      "unreachable": h.unreachable},
        "verdict": {"agree": report.verdict.agree, "reason": report.verdict.reason, "tolerance": o.tolerance},
        "density": None if dens is None else {
            "d": dens.d, "N": dens.N, "u_c": dens.u_c,
            "bins": [{"lo": b.lo, "hi": b.hi, "mass": b.mass} for b in dens.bins]},
        "notes": list(report.notes),
    }


# -- tables -----------------------------------------------------------------------------


def _console() -> Console:
    probe = Console()
    return probe if probe.is_terminal else Console(width=160)


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
    text = Text()
    text.append(f"{r.document.get('name') or r.origin}\n", style="bold")
    scales = ", ".join(f"{n} = {format_monomial({'d': v}) if v else '1'}" for n, v in r.scales)
    text.append(f"{r.origin} · {r.activation} · He_{r.degree} target · {scales} · "
                f"alpha = {format_fraction(o.alpha)}, sigma_w = {format_fraction(o.sigma_w)}, "
                f"sigma_a = {format_fraction(o.sigma_a)}", style="dim")
    return text


def _points_table(r: LdtReport) -> Table:
    table = Table(show_edge=False, header_style="bold", title="Chernoff bound", title_justify="left")
    show_chi = any(p.chi != 1 for p in r.points)
    for col in ("d", "N", *(("chi",) if show_chi else ()), "E(alpha)", "t*", "specialised", "status"):
        table.add_column(col, justify="left" if col == "status" else "right")
    for p in r.points:
        spec = max(p.specialised, 0.0) if math.isfinite(p.specialised) else p.specialised
        table.add_row(_g(p.d), _g(p.N), *((_g(p.chi),) if show_chi else ()), _g(p.energy), _g(p.t_star), _g(spec, 3),
                      p.status, style="" if p.status == "ok" else "yellow")
    return table


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
    return table


def _heuristic_text(r: LdtReport) -> Text:
    h = r.heuristic
    text = Text("Heuristic: ", style="bold")
    if h.pattern is None:
        text.append(f"no prediction: {h.unreachable}")
        return text
    text.append(h.pattern, style="bold cyan")
    if h.corner:
        text.append(f" [{h.corner}]")
    text.append(f"  E ∝ {format_monomial(h.energy)} ([E] = {format_fraction(h.energy_exponent)})")
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
    verdict = Text("✓ " if r.verdict.agree else "✗ ", style="bold green" if r.verdict.agree else "bold red")
    verdict.append(r.verdict.reason)
    parts.append(verdict)
    for note in r.notes:
        parts.append(Text(f"note: {note}", style="dim"))
    if r.density is not None:
        parts += [Text(""), density_text(r.density)]
    return Group(*parts)


# -- the plot ---------------------------------------------------------------------------


def _check_plot(path: str) -> None:
    suffix = Path(path).suffix.lower()
    if suffix not in PLOT_SUFFIXES:
        raise _user_error(f"--plot {path}: unknown file type {suffix or '(none)'!r}; name a .png or .svg file")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise _user_error(f"--plot needs matplotlib: {PLOT_HINT}") from None


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
    try:
        fig.savefig(path, format=Path(path).suffix.lower().lstrip("."))
    except OSError as err:
        raise _user_error(f"--plot {path}: cannot write the file: {err.strerror or err}") from None
