"""Best-first search for the best patterns without scoring every one (docs/theory.md
section 11).

Prefixes are expanded in the order of a lower bound on every completion's energy
(`bound.relaxed_program`), and a prefix is *bounded away* once its bound exceeds
`theta`, the energy of the `top`-th best proper pattern found so far: no completion can
then beat or tie it.  A child is pushed with its parent's bound and its own bound is
computed only when it is taken (most children are bounded away with their parent's).
A prefix's bound is first computed without relaxing any layer with GFL (much cheaper);
it holds for `theta` up to the smallest remaining width, and is recomputed with GFL
only when it would bound the prefix away but does not hold at `theta` (by then `theta`
has often fallen below the widths).  Until `top` proper patterns are known there is no
`theta`: the search then dives depth first (GP before GFL before Sp) without bounds,
which would cost more than they save.

Two cheaper tests do most of the work.  A child that amplifies layer `l` (GFL) with
`[N_l] >= theta` is dropped at once: its cost `N_l D_l` alone reaches `theta` (at
equality `D_l = 1`, and the pattern is trivial).  And a complete pattern is scored
exactly only after a float search of its programme finds a branch below `theta`.  A
relaxed programme costs `L - l` layers of kernel propagation over merged components and
a search over many branches, against one float search per leaf; measured, it saves
time only on large subtrees, so prefixes with fewer than `BOUND_MIN` completions are
expanded without one (at five hidden layers that is every prefix: erf He_5 5.7 s
without bounds against 16.9 s with them at every prefix; six layers, erf He_3, 8.8 s
against 20.3 s).  So the patterns returned are exactly the proper optima with `[E] <=
theta` at the end, the same as full enumeration would rank first, ties included,
whatever the order of expansion and wherever bounds were used.

Comparisons with `theta` are made at the spec's point in floating point with a margin
(`MARGIN`) on the side of keeping: a prefix is dropped only when its bound exceeds
`theta` by more than the margin, far above the solver's tolerance, so a float error can
only make the search keep more, never lose a pattern.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from fractions import Fraction
from typing import TYPE_CHECKING, NamedTuple, Sequence

from curse_cli.engine.bound import Relaxed, relaxed_program
from curse_cli.engine.energy import Optimum, Program, search
from curse_cli.engine.patterns import Mechanism, Pattern, count_completions, layer_options
from curse_cli.engine.report import PatternReport

if TYPE_CHECKING:   # api imports this module
    from curse_cli.engine.api import Context

Evaluation = tuple[Program, Optimum | None, PatternReport]
"""A scored pattern: its programme, exact optimum (None if it has none) and report."""

MARGIN = 1e-6
BOUND_MIN = 2000   # completions below which a prefix is expanded without a bound (measured: see the docstring)
ROOT = Relaxed(None, None, None)  # type: ignore[arg-type]  - never recomputed: the root is expanded first


class Found(NamedTuple):
    """What a search returns: the proper optima with `[E] <= theta` (every tie kept) and
    `theta` (None when fewer than `top` proper patterns exist: then no pattern was
    bounded away for its energy, only for having no proper optimum).  For the record:
    how many patterns were scored exactly, how many lie in subtrees dropped by a bound
    (`pruned`; with `scored`, every pattern exactly once) and how many prefixes were
    expanded."""

    reports: tuple[PatternReport, ...]
    theta: Fraction | None
    scored: int
    pruned: int
    expanded: int


class Trail:
    """What a search did, for a caller that must certify its answer (`sweep.cells`):
    every pattern scored exactly, with its programme and optimum, and the prefix of
    every subtree bounded away (with `scored`, every pattern exactly once)."""

    def __init__(self) -> None:
        self.scored: list[Evaluation] = []
        self.dropped: list[Pattern] = []


class _Best:
    """The proper optima found so far and `theta`, the `top`-th best exponent."""

    def __init__(self, top: int) -> None:
        self.top = top
        self.reports: list[PatternReport] = []
        self.exponents: list[Fraction] = []   # of `reports`, kept sorted

    @property
    def theta(self) -> Fraction | None:
        return self.exponents[self.top - 1] if len(self.exponents) >= self.top else None

    def beyond(self, value: float) -> bool:
        """Whether `value` (a float lower bound) lies above `theta` by more than the margin."""
        theta = self.theta
        return theta is not None and value > float(theta) + MARGIN

    def add(self, report: PatternReport) -> None:
        if report.counts:
            self.reports.append(report)
            bisect.insort(self.exponents, report.exponent)

    def kept(self) -> tuple[PatternReport, ...]:
        theta = self.theta
        return tuple(r for r in self.reports if theta is None or r.exponent <= theta)


def best_first(ctx: Context, top: int, trail: Trail | None = None, seed: Sequence[Pattern] = (),
               bound_min: int = BOUND_MIN) -> Found:
    """The `top` best proper patterns of `ctx.problem` (and every tie), by best-first
    search over prefixes.  `ctx` is an `api.Context` built with `relaxed=True`; a
    `trail` records what was scored and dropped.  The `seed` patterns (a guess at the
    best, e.g. the winners at a neighbouring point of a sweep) are scored first, so
    that `theta` is known from the start.  Only prefixes with at least `bound_min`
    completions get a relaxed programme; smaller ones are expanded.  The result depends
    on neither."""
    trail = trail if trail is not None else Trail()
    seeded = tuple(dict.fromkeys(seed))
    problem, folder = ctx.problem, ctx.folder
    act, depth, space = problem.activation, problem.depth, ctx.space
    point = problem.scale_values()
    widths = [w.exponent(point) for w in problem.widths]

    def relaxed_of(prefix: Pattern, theta: Fraction | None = None) -> Relaxed:
        return relaxed_program(folder, prefix, theta, point)

    best = _Best(top)
    pruned = scored = expanded = 0
    order = itertools.count()
    # (bound, -length, tie, prefix, its relaxed programme: None until computed); the
    # root is expanded at once, its children inherit its bound until their own is known
    heap: list[tuple[float, int, int, Pattern, Relaxed | None]] = [(float("-inf"), 0, 0, (), ROOT)]

    def subtree(prefix: Pattern) -> int:
        """The patterns below `prefix` not scored as seeds."""
        return count_completions(act, prefix, depth) - sum(1 for p in seeded if p[:len(prefix)] == prefix)

    def score(pattern: Pattern, program: Program) -> None:
        nonlocal scored
        scored += 1
        evaluation = ctx.evaluate(pattern, program)
        trail.scored.append(evaluation)
        best.add(evaluation[2])

    for pattern in seeded:
        score(pattern, ctx.program(pattern))

    def cutoff() -> float:
        theta = best.theta
        return float("inf") if theta is None else float(theta) + MARGIN

    def bound(prefix: Pattern, relaxed: Relaxed) -> None:
        """With `theta` known: push `prefix` with the first branch of its relaxed
        programme below `theta` (the prefix is then expanded), or count it bounded away
        when there is none and the bound holds at `theta`; when it does not hold, try the
        programme relaxed with GFL below `theta`, which does."""
        nonlocal pruned
        theta = best.theta
        found = search(space, relaxed.program, cutoff=cutoff(), nudge=0.0, first=True)
        if found is not None:
            heapq.heappush(heap, (found[0], -len(prefix), next(order), prefix, relaxed))
        elif relaxed.holds(theta):
            pruned += subtree(prefix)
            trail.dropped.append(prefix)
        else:
            bound(prefix, relaxed_of(prefix, theta))

    while heap:
        value, _, _, prefix, relaxed = heapq.heappop(heap)
        if relaxed is None and best.theta is not None and count_completions(act, prefix, depth) >= bound_min:
            # First the cheap bound without GFL; the one with GFL only where that would
            # bound the prefix away but does not hold at theta.
            bound(prefix, relaxed_of(prefix))
            continue
        if relaxed is not None and best.beyond(value):
            bound(prefix, relaxed)   # again, at the current theta
            continue
        expanded += 1
        theta = best.theta
        for step in layer_options(act, prefix, problem.feature):
            child = prefix + (step,)
            layer = len(child)
            if step.kind is Mechanism.GFL and theta is not None and widths[layer - 1] >= theta:
                pruned += subtree(child)   # its cost alone reaches theta
                trail.dropped.append(child)
                continue
            if layer < depth:
                heapq.heappush(heap, (value, -layer, next(order), child, None))
                continue
            if child in seeded:
                continue
            program = ctx.program(child)
            if search(space, program, cutoff=cutoff(), nudge=0.0, first=True) is None:
                pruned += 1
                trail.dropped.append(child)
                continue
            score(child, program)
    return Found(best.kept(), best.theta, scored, pruned, expanded)
