"""The optional plot of `curse depth` (matplotlib, the `plot` extra, imported only here
and only when a plot is asked for): `[P*]` against the number of hidden layers, each
point labelled with its winners (one name, or how many tie)."""

from __future__ import annotations

from typing import Sequence

from curse_cli.algebra.scales import format_fraction
from curse_cli.documents.depth import summary
from curse_cli.cli.plotfile import save
from curse_cli.depths.api import DepthRow


def write_plot(rows: Sequence[DepthRow], path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    known = [r for r in rows if r.prediction.p_star_exponent is not None]
    xs = [r.depth for r in known]
    ys = [float(r.prediction.p_star_exponent) for r in known]  # type: ignore[arg-type]  # known: rows with a prediction
    ax.plot(xs, ys, marker="o", color="tab:blue")
    for row, x, y in zip(known, xs, ys):
        n = len(row.prediction.winners)
        label = f"{format_fraction(row.prediction.p_star_exponent)}: " + (row.example.name if n == 1 else f"{n} tie")  # type: ignore[arg-type, union-attr]  # known rows
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=7)
    if ys:   # a flat line gets room around it, not a magnified axis
        ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    ax.set_xticks([r.depth for r in rows])
    ax.set_xlabel("hidden layers")
    ax.set_ylabel("[P*]  (P* ∝ d^[P*])")
    ax.set_title(title, fontsize=10)
    ax.text(0.01, 0.02, summary(rows), transform=ax.transAxes, fontsize=7, color="dimgray")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        save(fig, path)
    finally:
        plt.close(fig)
