"""`--plot FILE`: alignment against P and against P/d^[P*] (the collapse), with the GP
baseline dashed, and the specialist counts.  matplotlib (the `plot` extra) is imported
here only; the caller checks it is installed before any work."""

from __future__ import annotations

from typing import Any, Callable

from curse_cli.simulate.analysis import LEVEL
from curse_cli.simulate.report import SimulateReport


def figure(report: SimulateReport) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    exp = report.predicted.p_star_exponent
    ds = sorted({p.d for p in report.points})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, d in enumerate(ds):
        pts = [p for p in report.points if p.d == d and p.alignment is not None]
        if not pts:
            continue
        color = colors[i % len(colors)]
        ps = [p.p for p in pts]
        label = f"d={d}, N={'x'.join(map(str, pts[0].widths))}"
        spread = [(p.spread or 0.0) / 2 for p in pts]   # half the range of the runs
        axes[0].errorbar(ps, [p.alignment for p in pts], spread, marker="o", color=color, label=label)
        gp = [(p.p, p.gp_alignment) for p in pts if p.gp_alignment is not None]
        axes[0].plot([g[0] for g in gp], [g[1] for g in gp], "--", color=color, alpha=0.6)
        axes[1].errorbar([p.p_scaled for p in pts], [p.alignment for p in pts], spread, marker="o", color=color,
                         label=label)
        axes[2].plot(ps, [p.specialists if p.specialists is not None else float("nan") for p in pts], marker="o",
                     color=color, label=label)
    from matplotlib.ticker import NullFormatter

    for ax in axes:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    for ax in axes[:2]:
        ax.axhline(LEVEL, color="grey", lw=0.8)
        ax.set_ylabel("alignment")
    axes[0].set_xlabel("P (dashed: GP regression, infinite width)")
    axes[1].set_xlabel(f"P / d^{exp}")
    axes[2].set_xlabel("P")
    axes[2].set_ylabel("specialised first-layer neurons (3σ)")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"curse simulate: {report.verdict.status.value} — {report.predicted.pattern}, [P*] = {exp}")
    fig.tight_layout()
    return fig


def write_plot(report: SimulateReport, path: str, save: Callable[[Any, str], None]) -> None:
    save(figure(report), path)
