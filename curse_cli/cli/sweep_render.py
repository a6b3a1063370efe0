"""Rendering of `curse sweep`: the rich view (a points table and the segments in one
dimension, a phase diagram and its regions in two) and the CSV table; the JSON document
is `documents.sweep`'s.

Every region has a symbol and a colour, shared by the table, the terminal map and the
plot (`sweep_plot`): a letter on a filled cell for a unique winner (`A`, `B`, ...), a
lower-case letter on an unfilled cell for a tie (`a`, `b`, ...), so that ties, which
usually lie on the lines between regions, stand out as such.
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from typing import Any, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from curse_cli.cli.layout import formula, header, name, no_cut
from curse_cli.documents.predict import frac, p_star_text
from curse_cli.documents.sweep import Texts, symbols
from curse_cli.algebra.scales import BASE, format_fraction, format_linear, format_monomial
from curse_cli.sweeps.report import Outcome, Region, Segment, Sweep

# matplotlib's tab20, dark shades first: distinct in a terminal and in the plot alike.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
           "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5")
MAP_COLUMNS = 70        # the terminal map's largest size, in characters
MAP_ROWS = 35
LONG_GRID = 60          # a one-dimensional points table longer than this shows each run's ends


# -- what every format shares ---------------------------------------------------------


def colour(region: int) -> str:
    return PALETTE[region % len(PALETTE)]


def cell_style(region: Region) -> str:
    """Filled for a unique winner, coloured letters on the background for a tie."""
    c = colour(region.index)
    return f"bold {c}" if region.outcome.tied else f"bold black on {c}"


def winners_text(outcome: Outcome) -> str:
    """`Sp(z)`, or `GP-Sp(z) = Sp(z)-GP` for a tie (the view gives the reason for none)."""
    return " = ".join(outcome.winners) if outcome.winners else "no prediction"


def formula_text(sweep: Sweep, outcome: Outcome) -> str:
    """`kappa (N d)^(1/2)`: the formula of P* (of the first winner at a tie)."""
    return "—" if outcome.energy is None else p_star_text(sweep.problem, outcome.energy)


def along_text(sweep: Sweep, outcome: Outcome) -> str:
    """`([N] + 1)/2`: [P*] as an affine function of the one swept exponent."""
    if outcome.p_star is None:
        return "—"
    name = sweep.axes[0].name
    rest = outcome.p_star.exponent({**sweep.problem.scale_values(), name: Fraction(0)})
    return format_linear({name: outcome.p_star.power(name), BASE: rest})


def interval_text(segment: Segment) -> str:
    """`[1, 5)`, `(5, 8]`, or `{5}` for a single point."""
    if segment.start == segment.stop:
        return f"{{{format_fraction(segment.start)}}}"
    left = "[" if segment.start_closed else "("
    right = "]" if segment.stop_closed else ")"
    return f"{left}{format_fraction(segment.start)}, {format_fraction(segment.stop)}{right}"


# -- CSV --------------------------------------------------------------------------------

CSV_COLUMNS = ("region", "symbol", "winners", "tied", "energy_exponent", "p_star_exponent", "energy", "p_star",
               "unreachable", "points", "boundaries", "start", "stop", "start_closed", "stop_closed")


def csv_header(sweep: Sweep) -> list[str]:
    """`kind`, one column per axis (its name, or `[NAME]` if that is taken), the rest."""
    axes = [a.name if a.name not in (*CSV_COLUMNS, "kind") else f"[{a.name}]" for a in sweep.axes]
    return ["kind", *axes, *CSV_COLUMNS]


def sweep_csv(sweep: Sweep) -> str:
    """Point rows (one per grid point), then region rows, then segment rows (one
    dimension); a cell that does not apply to a row's kind is empty."""
    header = csv_header(sweep)
    axes = header[1:1 + len(sweep.axes)]
    marks = symbols(sweep)
    buf = io.StringIO()
    out = csv.DictWriter(buf, header, restval="", lineterminator="\n")
    out.writeheader()

    def outcome_cells(region: Region) -> dict[str, Any]:
        o = region.outcome
        return {"region": region.index, "symbol": marks[region.index], "winners": ";".join(o.winners),
                "tied": str(o.tied).lower(), "energy": "" if o.energy is None else format_monomial(o.energy),
                "p_star": "" if o.energy is None else formula_text(sweep, o), "unreachable": o.unreachable or ""}

    per_region = [outcome_cells(r) for r in sweep.regions]   # formatted once, not per point
    text = Texts("")

    for p in sweep.points:
        row = {**per_region[p.region], **dict(zip(axes, map(text, p.coords)))}
        row.update(energy_exponent=text(p.energy_exponent), p_star_exponent=text(p.p_star_exponent))
        out.writerow({"kind": "point", **row})
    for r in sweep.regions:
        bounds = "; ".join(f"{b.other}:{b.relation.text if b.relation else b.note or ''}" for b in r.boundaries)
        out.writerow({"kind": "region", **outcome_cells(r), "points": r.points, "boundaries": bounds})
    for s in sweep.segments:
        out.writerow({"kind": "segment", **outcome_cells(sweep.regions[s.region]), "start": format_fraction(s.start),
                      "stop": format_fraction(s.stop), "start_closed": str(s.start_closed).lower(),
                      "stop_closed": str(s.stop_closed).lower()})
    return buf.getvalue()


# -- the rich view ----------------------------------------------------------------------


def _count(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"


def _headline(sweep: Sweep, document: dict[str, Any], origin: str, run: list[str]) -> Text:
    text = header(document, origin, run, skip={a.name for a in sweep.axes})
    for a in sweep.axes:
        text.append(f"\nsweep [{a.name}] at {format_fraction(a.start)}: one point" if a.count == 1 else
                    f"\nsweep [{a.name}] from {format_fraction(a.start)} to {format_fraction(a.stop)}: "
                    f"{a.count} points, step {format_fraction(a.step)}")
    ties = sum(r.outcome.tied for r in sweep.regions)
    text.append(f"\n{_count(len(sweep.points), 'grid point')} · {_count(len(sweep.regions), 'region')}"
                f"{f' ({ties} of them ties)' if ties else ''} · {_count(sweep.solves, 'solve')}", style="dim")
    return text


def _symbol(region: Region, marks: tuple[str, ...]) -> Text:
    return Text(f" {marks[region.index]} ", style=cell_style(region))


def _runs(sweep: Sweep) -> list[tuple[int, int]]:
    """Maximal runs of consecutive points in one region, as (first, last) indices."""
    runs: list[tuple[int, int]] = []
    for i, p in enumerate(sweep.points):
        if runs and sweep.points[runs[-1][1]].region == p.region:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _shown(sweep: Sweep) -> list[int | tuple[int, int]]:
    """The points table's rows: point indices, and (first, last) for an elided stretch."""
    if len(sweep.points) <= LONG_GRID:
        return list(range(len(sweep.points)))
    rows: list[int | tuple[int, int]] = []
    for first, last in _runs(sweep):
        rows += range(first, last + 1) if last - first <= 2 else [first, (first + 1, last - 1), last]
    return rows


def points_table(sweep: Sweep) -> Table:
    """One row per grid point; beyond `LONG_GRID` points, each run of one region shows
    its first and last point and a count of the ones between (JSON and CSV have all)."""
    axis = sweep.axes[0]
    marks = symbols(sweep)
    table = Table(show_edge=False, header_style="bold", title="Grid points", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column(f"[{axis.name}]", justify="right")
    for col, kw in (("winner(s)", {}), ("[E]", {"justify": "right"}), ("[P*]", {"justify": "right"}),
                    ("P* ∝", {"no_wrap": True})):
        table.add_column(col, **kw)
    for item in _shown(sweep):
        if isinstance(item, tuple):
            table.add_row("", "⋮", f"{item[1] - item[0] + 1} more points", "", "", "", style="dim")
            continue
        p = sweep.points[item]
        region = sweep.regions[p.region]
        table.add_row(_symbol(region, marks), format_fraction(p.coords[0]), name(winners_text(region.outcome)),
                      frac(p.energy_exponent) or "—", frac(p.p_star_exponent) or "—",
                      formula(formula_text(sweep, region.outcome)))
    return no_cut(table)


def segments_table(sweep: Sweep) -> Table:
    marks = symbols(sweep)
    table = Table(show_edge=False, header_style="bold", title=f"Segments of [{sweep.axes[0].name}]",
                  title_justify="left")
    for col in ("", f"[{sweep.axes[0].name}] in", "winner(s)", "P* ∝", "[P*] ="):
        table.add_column(col, no_wrap=col != "winner(s)")
    for s in sweep.segments:
        region = sweep.regions[s.region]
        table.add_row(_symbol(region, marks), interval_text(s), name(winners_text(region.outcome)),
                      formula(formula_text(sweep, region.outcome)), along_text(sweep, region.outcome))
    return no_cut(table)


_MARKS = "†‡§¶"


def _note_marks(sweep: Sweep) -> dict[str, str]:
    """A footnote mark for each distinct note of an unresolved boundary."""
    notes = dict.fromkeys(b.note or "not resolved" for r in sweep.regions for b in r.boundaries if b.relation is None)
    return {n: _MARKS[i] if i < len(_MARKS) else f"[{i + 1}]" for i, n in enumerate(notes)}


def _boundaries_cell(region: Region, marks: tuple[str, ...], notes: dict[str, str]) -> str:
    """One line per relation, then one per footnote, each naming the neighbours it
    separates the region from: `[N1] = 0 (b, c)`, `† (D)`."""
    lines: dict[str, list[str]] = {}
    for b in sorted(region.boundaries, key=lambda b: b.relation is None):
        key = b.relation.text if b.relation is not None else notes[b.note or "not resolved"]
        lines.setdefault(key, []).append(marks[b.other])
    return "\n".join(f"{key} ({', '.join(others)})" for key, others in lines.items()) or "—"


def regions_view(sweep: Sweep) -> Group:
    """The legend: each region's symbol, winner(s), formula, size and boundaries; the
    notes of boundaries without an exact relation as footnotes."""
    marks = symbols(sweep)
    notes = _note_marks(sweep)
    table = Table(show_edge=False, header_style="bold", title="Regions", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("winner(s)")
    table.add_column("P* ∝", no_wrap=True)
    table.add_column("points", justify="right")
    table.add_column("boundaries (neighbour)", no_wrap=True)
    for r in sweep.regions:
        who = winners_text(r.outcome) + ("  (tie)" if r.outcome.tied else "")
        table.add_row(_symbol(r, marks), name(who), formula(formula_text(sweep, r.outcome)), str(r.points),
                      _boundaries_cell(r, marks, notes))
    return Group(no_cut(table), *(Text(f"{mark} {note}", style="dim") for note, mark in notes.items()))


def _nearest(cell: int, cells: int, count: int) -> int:
    """The grid index nearest to cell `cell` of `cells` spread over `count` points."""
    if cells <= 1:
        return 0
    return (2 * cell * (count - 1) + cells - 1) // (2 * (cells - 1))


def phase_map(sweep: Sweep) -> Text:
    """The two-dimensional grid as coloured characters: x to the right, y upwards, at
    most `MAP_COLUMNS` × `MAP_ROWS`, each cell showing its nearest grid point."""
    ax, ay = sweep.axes
    marks = symbols(sweep)
    width = 2 if 2 * ax.count <= MAP_COLUMNS else 1
    cols, rows = min(ax.count, MAP_COLUMNS // width), min(ay.count, MAP_ROWS)
    top, bottom = format_fraction(ay.stop), format_fraction(ay.start)
    margin = max(len(top), len(bottom))
    text = Text(f"{' ' * margin} [{ay.name}]\n", style="bold")
    for row in range(rows):
        j = _nearest(rows - 1 - row, rows, ay.count)
        label = top if row == 0 else bottom if row == rows - 1 else ""
        text.append(f"{label:>{margin}} ┤" if label else f"{'':>{margin}} │")
        for col in range(cols):
            region = sweep.regions[sweep.points[_nearest(col, cols, ax.count) * ay.count + j].region]
            text.append(marks[region.index] * width, style=cell_style(region))
        text.append("\n")
    span = cols * width
    left, right = format_fraction(ax.start), format_fraction(ax.stop)
    text.append(f"{'':>{margin}} └{'─' * span}\n")
    ends = left if ax.count == 1 else f"{left}{right:>{max(span - len(left), len(right) + 1)}}"
    text.append(f"{'':>{margin}}  {ends}\n")
    text.append(f"{'':>{margin}}  {f'[{ax.name}]':^{span}}", style="bold")
    if cols < ax.count or rows < ay.count:
        text.append(f"\n{cols} × {rows} cells for {ax.count} × {ay.count} grid points (nearest point per cell)",
                    style="dim")
    return text


def sweep_view(sweep: Sweep, document: dict[str, Any], origin: str, run: Sequence[str] = ()) -> Group:
    parts: list[Any] = [_headline(sweep, document, origin, list(run)), Text("")]
    if len(sweep.axes) == 1:
        parts += [points_table(sweep), Text("")]
        if sweep.segments:
            parts.append(segments_table(sweep))
            cuts = ", ".join(format_fraction(b) for b in sweep.breakpoints) or "none"
            parts.append(Text(f"breakpoints of [{sweep.axes[0].name}]: {cuts}", style="bold"))
        else:
            parts.append(regions_view(sweep))
    else:
        parts += [phase_map(sweep), Text(""), regions_view(sweep)]
    marks = symbols(sweep)
    parts += [Text(f"{marks[r.index]}: no prediction: {r.outcome.unreachable or 'no pattern has an optimum'}",
                   style="bold red") for r in sweep.regions if not r.outcome.winners]
    return Group(*parts)
