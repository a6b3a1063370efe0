"""A lower bound on the energy of every completion of a pattern prefix (docs/theory.md
section 11).

A prefix fixes layers `1..l`; its completions choose layers `l+1..L`.  Every
completion's energy is at least the optimum of the prefix's *relaxed programme*: the
prefix's own rows, then for each remaining layer one *relaxed layer* that does at once
what any single step there could do,

* its input kernel's named components merged into one feature `*` whose eigenvalue and
  Hermite content are the maxima over them (`merged`);
* the lazy rule, or, where the width allows it, GFL on `*` with its own `D_j`;
* a spike `phi(q_j *)` of `M_j` neurons on top, with the cost `M_j q_j^2 / lambda_*`.

Why it is a bound.  Every rule is monotone: larger amplitudes, eigenvalues and contents
give larger amplitudes out, and a larger eigenvalue a cheaper specialisation.  A
completion's GP step is the relaxed layer with `M_j = 1` and `q_j` at its search bound
(a spike that only adds terms, at a cost far below any energy); its `Sp(f)` step is the
relaxed spike with the same `M_j, q_j` (content and eigenvalue of `*` dominate those of
`f`); its `GFL(f)` step is GFL on `*` with `D_j` lowered by `[lambda_*] - [lambda_f]`
(the same amplified eigenvalue at no more cost).  Every term the completion's readout
uses is dominated by a relaxed term relying on a superset of its layers (pruning keeps
provenance), so the relaxed branch also uses every layer of the prefix.  Homogeneous
activations are relaxed without their input-scale normalisation (which only lowers
amplitudes), with the same powers.

GFL in a relaxed layer costs `N_j D_j` even where the completion is lazy (`D_j = 1`):
it is included only at layers with `[N_j] < theta`, the energy the search must beat, so
that cost stays below `theta` and the bound holds for every completion with `[E] <=
theta` (`Relaxed.holds`).  At a layer with `[N_j] >= theta` no completion with
`[E] <= theta` can amplify (its GFL cost alone reaches `theta`; at equality `D_j = 1`,
the pattern is trivial).
"""

from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

from curse_cli.algebra.tropical import Space, content_max, tmax
from curse_cli.engine.energy import Folder, Program, Rows, layer_rows
from curse_cli.engine.kernels import Feature, Kernel, gfl, lazy, specialise
from curse_cli.engine.patterns import Pattern
from curse_cli.engine.symbols import MERGED, var


def merged(space: Space, kernel: Kernel) -> Kernel:
    """The kernel with its named components merged into one, `*`, whose eigenvalue and
    content are the maxima over them (no components: none)."""
    features = [f for _, f in kernel.features]
    if not features:
        return kernel
    star = Feature(tmax(space, *(f.eigen for f in features)), content_max(space, *(f.content for f in features)))
    return kernel._replace(features=((MERGED, star),))


def relaxed_layer(folder: Folder, kernel: Kernel, layer: int, amplify: bool, rows: Rows) -> Kernel:
    """The kernel after relaxed layer `layer` on `kernel`, its rows added to `rows`."""
    space, act, trunc = folder.space, folder.problem.activation, folder.trunc
    k = merged(space, kernel)
    only = folder.only(layer)
    if not k.features:
        return lazy(space, act, k, trunc, only)
    star = k.features[0][1]
    if amplify:
        rows.gfl(layer, MERGED, star, required=False)
        base = gfl(space, act, k, layer, MERGED, folder.form(var("D", layer, MERGED)), trunc, only)
    else:
        # The lazy rule reads no feature but passes them on: applied to `kernel` itself,
        # it is the computation the prefix's own lazy layer makes (remembered).
        base = lazy(space, act, kernel, trunc, only)
        base = base._replace(features=k.features if base.features else ())
    rows.sp(layer, MERGED, star, required=False)
    width = space.form(folder.problem.widths[layer - 1])
    out = specialise(space, act, k, base, layer, MERGED, folder.form(var("M", layer)), folder.form(var("q", layer)),
                     width, trunc, only=only)
    return out._replace(caps=base.caps)


class Relaxed(NamedTuple):
    """A prefix's relaxed programme and the range of `theta` for which its optimum bounds
    every completion with `[E] <= theta`: at least the largest `[N_j]` of a layer
    relaxed with GFL, at most the smallest of one relaxed without (None: no limit)."""

    program: Program
    low: Fraction | None
    high: Fraction | None

    def holds(self, theta: Fraction | None) -> bool:
        return theta is not None and (self.low is None or self.low <= theta) and (
            self.high is None or theta <= self.high)


def relaxed_program(folder: Folder, prefix: Pattern, theta: Fraction | None = None,
                    point: dict[str, Fraction] | None = None) -> Relaxed:
    """The relaxed programme of `prefix` for a search that must beat `theta`: a remaining
    layer is relaxed with GFL when its width is below `theta` (at `point`, by default the
    problem's own scales).  With no `theta`, no layer is: a much cheaper programme, a
    bound for every `theta` up to the smallest remaining width (`Relaxed.holds`)."""
    problem = folder.problem
    point = problem.scale_values() if point is None else point
    low: Fraction | None = None
    high: Fraction | None = None
    amplified: list[int] = []
    for layer in range(len(prefix) + 1, problem.depth + 1):
        width = problem.widths[layer - 1].exponent(point)
        if theta is not None and width < theta:
            low = width if low is None else max(low, width)
            amplified.append(layer)
        else:
            high = width if high is None else min(high, width)
    key = tuple(amplified)
    program = folder.rows(("relaxed", prefix, key), lambda: _relaxed_rows(folder, prefix, key))
    return Relaxed(program, low, high)


def _relaxed_rows(folder: Folder, prefix: Pattern, amplified: tuple[int, ...]) -> Program:
    """The relaxed programme of `prefix` with GFL at the layers `amplified`: rows only,
    the same at every point (a sweep's points share it)."""
    rows, kernels = layer_rows(folder, prefix)
    kernel = kernels[-1]
    for layer in range(len(prefix) + 1, folder.problem.depth + 1):
        kernel = relaxed_layer(folder, kernel, layer, layer in amplified, rows)
    return rows.program(prefix, (*kernels, kernel))
