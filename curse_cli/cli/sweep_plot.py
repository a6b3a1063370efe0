"""The optional plot of `curse sweep` (matplotlib, the `plot` extra, imported only here
and only when a plot is asked for).

Two axes: the region map over the grid, one colour per region as in the terminal map,
ties marked ×, with a legend naming each region's winner(s) and P* formula.  One axis:
`[P*]` against the swept exponent, coloured by region, breakpoints dashed.
"""

from __future__ import annotations


from curse_cli.cli.plotfile import save
from curse_cli.algebra.scales import format_fraction
from curse_cli.cli.sweep_render import colour, formula_text, winners_text
from curse_cli.documents.sweep import symbols
from curse_cli.sweeps.report import Axis, Sweep


def _label(sweep: Sweep, index: int, marks: tuple[str, ...]) -> str:
    region = sweep.regions[index]
    o = region.outcome
    tie = " (tie)" if o.tied else ""
    off_grid = ", between grid points" if region.points == 0 else ""
    return f"{marks[index]}: {winners_text(o)}{tie}   P* ∝ {formula_text(sweep, o)}{off_grid}"


def _edges(axis: Axis) -> list[float]:
    """Cell edges centred on the grid points (a single point gets a cell of width 1)."""
    half = (axis.step or 1) / 2
    return [float(v - half) for v in axis.values] + [float(axis.stop + half)]


def _region_map(ax, sweep: Sweep, marks: tuple[str, ...]) -> list:
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    ax_x, ax_y = sweep.axes
    xs = [float(v) for v in ax_x.values]
    ys = [float(v) for v in ax_y.values]
    grid = [[sweep.points[i * ax_y.count + j].region for i in range(ax_x.count)] for j in range(ax_y.count)]
    n = len(sweep.regions)
    ax.pcolormesh(_edges(ax_x), _edges(ax_y), grid, cmap=ListedColormap([colour(r) for r in range(n)]),
                  vmin=-0.5, vmax=n - 0.5, shading="flat")
    tied = [(x, y) for j, y in enumerate(ys) for i, x in enumerate(xs)
            if sweep.regions[grid[j][i]].outcome.tied]
    if tied:  # ties usually lie on lines: mark each tied grid point as well as colouring it
        ax.scatter(*zip(*tied), marker="x", s=12, color="black", linewidths=0.8)
    for r in sweep.regions:  # a unique winner's letter at its point nearest the region's centre
        if r.outcome.tied:
            continue
        cells = [(float(p.coords[0]), float(p.coords[1])) for p in sweep.points if p.region == r.index]
        cx, cy = sum(x for x, _ in cells) / len(cells), sum(y for _, y in cells) / len(cells)
        x, y = min(cells, key=lambda c: (c[0] - cx) ** 2 + (c[1] - cy) ** 2)
        ax.text(x, y, marks[r.index], ha="center", va="center", fontsize=9, fontweight="bold")
    ax.set_xlabel(f"[{ax_x.name}]")
    ax.set_ylabel(f"[{ax_y.name}]")
    return [Patch(facecolor=colour(r.index), hatch="xx" if r.outcome.tied else None,
                  label=_label(sweep, r.index, marks))
            for r in sweep.regions]


def _exponent_line(ax, sweep: Sweep, marks: tuple[str, ...]) -> list:
    """Grid points coloured by region (diamonds: ties) on a thin line through them all;
    with segments, each segment's exact line in its region's colour."""
    from matplotlib.lines import Line2D

    axis = sweep.axes[0]
    shown = [p for p in sweep.points if p.p_star_exponent is not None]
    ax.plot([float(p.coords[0]) for p in shown], [float(p.p_star_exponent) for p in shown], "-", color="grey",  # type: ignore[arg-type]  # shown: points with a prediction
            lw=0.6, zorder=1)
    values = sweep.problem.scale_values()
    for s in sweep.segments:
        p_star = sweep.regions[s.region].outcome.p_star
        if p_star is not None and s.start != s.stop:
            ends = [p_star.exponent({**values, axis.name: v}) for v in (s.start, s.stop)]
            ax.plot([float(s.start), float(s.stop)], [float(e) for e in ends], "-", color=colour(s.region), lw=2.5,
                    zorder=2)
    for r in sweep.regions:
        xs = [float(p.coords[0]) for p in shown if p.region == r.index]
        ys = [float(p.p_star_exponent) for p in shown if p.region == r.index]  # type: ignore[arg-type]  # shown: points with a prediction
        ax.scatter(xs, ys, s=18, color=colour(r.index), marker="D" if r.outcome.tied else "o",
                   edgecolors="black" if r.outcome.tied else "none", zorder=3)
    for b in sweep.breakpoints:
        ax.axvline(float(b), color="grey", ls="--", lw=0.8)
        ax.annotate(format_fraction(b), (float(b), 1), xycoords=("data", "axes fraction"), fontsize=7,
                    ha="center", va="bottom", color="grey")
    ax.set_xlabel(f"[{axis.name}]")
    ax.set_ylabel("[P*]")
    ax.grid(alpha=0.3)
    return [Line2D([], [], color=colour(r.index), marker="D" if r.outcome.tied else "o", ls="none",
                   markeredgecolor="black" if r.outcome.tied else colour(r.index), label=_label(sweep, r.index, marks))
            for r in sweep.regions]


def write_plot(sweep: Sweep, path: str, title: str) -> None:
    """Draw the sweep and save it; the format follows the file's suffix."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    marks = symbols(sweep)
    fig = Figure(figsize=(10, 5.5), layout="constrained")
    ax = fig.subplots()
    draw = _region_map if len(sweep.axes) == 2 else _exponent_line
    handles = draw(ax, sweep, marks)
    ax.set_title(f"{title}: {'phase diagram' if len(sweep.axes) == 2 else '[P*]'}", fontsize=10, pad=14)
    fig.legend(handles=handles, loc="outside lower center", fontsize=8, frameon=False)
    fig.set_figheight(5.5 + 0.18 * len(handles))
    save(fig, path)
