"""The symbols of a problem: its scales and the free sizes of every layer (the space
the engine's affine forms live in), with their bounds."""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable

from curse_cli.algebra.scales import BASE, Monomial
from curse_cli.algebra.space import Space, make_space
from curse_cli.archs.problem import Problem
from curse_cli.engine.kernels import normalises, spike_name
from curse_cli.engine.patterns import Mechanism, Pattern


def var(kind: str, layer: int, feature: str | None = None) -> str:
    """Internal name of a free size: `#M2`, `#q2`, or `#D2:z` (one `D` per amplified
    feature, so that each carries its own bound).  `#` keeps them apart from the spec's
    scale names (a scale may well be called `M2`); `display` gives `M2`, `D2`."""
    return f"#{kind}{layer}" if feature is None else f"#{kind}{layer}:{feature}"


def display(name: str) -> str:
    return name.lstrip("#").split(":")[0]


Box = dict[str, tuple[Fraction, Fraction]]
"""Ranges of swept scale exponents (name -> (lo, hi)); see `tropical.Space`."""


def search_bound(problem: Problem, box: Box | None = None) -> int:
    """A bound on `|[q_l]|` far beyond any optimum, so that dominated exponents can be
    dropped early.  A used spike of magnitude `q` costs at least `2|[q]|` in the readout
    when `[q] < 0`, so optima sit well inside; the scorer reports any that touches it.
    With a box, the largest scale values in it are used, so one bound serves them all."""
    box = box or {}
    values = {n: max([abs(v), *(abs(x) for x in box.get(n, ()))]) for n, v in problem.scales}

    def size(m: Monomial) -> Fraction:   # the largest |[m]| over the box
        return sum((abs(p) * (1 if n == BASE else values[n]) for n, p in m.items()), Fraction(0))

    total = 1 + size(problem.lambda0) + size(problem.readout_factor) + sum(values.values())
    return int(4 * (problem.degree + 2) * total) + 1


def pattern_variables(patterns: Iterable[Pattern]) -> frozenset[str]:
    """The free sizes the given patterns use: `M_l, q_l` of a specialised layer, `D_l`
    of an amplified feature."""
    out: set[str] = set()
    for pattern in patterns:
        for l, step in enumerate(pattern, start=1):
            if step.kind is Mechanism.SP:
                out |= {var("M", l), var("q", l)}
            elif step.kind is Mechanism.GFL:
                out.add(var("D", l, step.feature))
    return frozenset(out)


def build_space(problem: Problem, box: Box | None = None, denominators: Iterable[int] = (),
                only: frozenset[str] | None = None) -> Space:
    """The symbols of a problem: its scales, then `M_l, q_l, D_l` for every layer (with
    `only`, just those free sizes: scoring a few patterns of a deep network then works
    in their own variables, not in all of the pattern space's).

    Bounds: `0 <= [M_l] <= [N_l]`; `[q_l] <= 0` for bounded activations, `|[q_l]| <= Q`
    (`search_bound`); `0 <= [D_l]` and the amplified eigenvalue at most order one, so
    `[D_l] <= -[lambda_0]` on the input component and `[D_l] <= [N_m]` on the spike
    `sigma_m`.
    """
    q_max = Monomial({BASE: search_bound(problem, box)})
    variables: dict[str, tuple[Monomial | None, Monomial | None]] = {}
    for l, width in enumerate(problem.widths, start=1):
        variables[var("M", l)] = (Monomial(), width)
        variables[var("q", l)] = (q_max ** -1, Monomial() if problem.activation.bounded else q_max)
        variables[var("D", l, problem.feature)] = (Monomial(), problem.lambda0 ** -1)
        for m in range(1, l):
            variables[var("D", l, spike_name(m))] = (Monomial(), problem.widths[m - 1])
    if only is not None:
        variables = {name: bounds for name, bounds in variables.items() if name in only}
    if normalises(problem.activation):
        # Input scales of homogeneous layers (kernels.lazy) and of the features their
        # spikes are built on (kernels.spike_content); only the programme bounds them.
        for l in range(2, problem.depth + 1):
            variables[var("s", l)] = (Monomial(), None)
            variables[var("r", l)] = (q_max ** -problem.depth, None)
    sizes = (*problem.widths, problem.chi, problem.lambda0, problem.ridge, problem.readout_factor)
    dens = [Fraction(v).denominator for m in sizes for v in m.values()]
    return make_space(problem.scale_values(), variables, [*dens, *denominators], box)
