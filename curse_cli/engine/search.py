"""Branch-and-bound search for the best patterns without scoring every one
(docs/theory.md section 11).

A prefix is *bounded away* once no completion can beat or tie `theta`, the energy of
the `top`-th best proper pattern found so far.  Until `top` proper patterns are known
there is no `theta`: the search dives depth first (GP before GFL before Sp).  Then two
exact tests do the work.  A child that amplifies layer `l` (GFL) with `[N_l] >= theta`
is dropped at once: its cost `N_l D_l` alone reaches `theta` (at equality `D_l = 1`,
and the pattern is trivial).  And a complete pattern is scored exactly only after a
float search of its programme finds a branch below `theta`.

Two processes (`best_first`'s `workers`): once `theta` is known, the open queue is cut
into *units*, the subtrees below the prefixes of `SPLIT_LAYERS` layers (`_Search.units`),
in the queue's order.  Two processes then take units one at a time, each claiming the next
from a counter both see when it has finished the last (`_Shared.claim`), so neither
waits while the other still has work; each unit is searched by exactly one.  Both prune
with the smaller of the two `theta`s (`_Shared`).  Either is the `top`-th best of some
patterns found, so at least the final `theta`, the `top`-th best of all: nothing at or
below it is dropped, and its owner scores it.  The union of the two answers is ranked
again (`_merged`).  Without a trail, a prefix's complete
patterns' kernels are forgotten once they are done (`Folder.release`), so memory
follows the open prefixes.

So the patterns returned are exactly the proper optima with `[E] <= theta` at the end,
the same as full enumeration would rank first, ties included, whatever the order of
expansion and however many processes searched.

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

from curse_cli.engine.energy import Evaluation, Program, search, spike_may_count
from curse_cli.engine.forked import can_fork, in_two
from curse_cli.engine.powers import Caveat
from curse_cli.engine.patterns import (Mechanism, Pattern, count_completions, count_patterns, enumerate_patterns,
                                      layer_options)
from curse_cli.engine.report import PatternReport, Progress

if TYPE_CHECKING:   # api imports this module
    from curse_cli.engine.api import Context

_Entry = tuple[float, int, int, Pattern]
"""A queue entry: (bound inherited from the root, -length, tie, prefix)."""

MARGIN = 1e-6
PARALLEL_MIN = 2000   # patterns below which one process searches alone (five hidden layers of erf and more)
SPLIT_LAYERS = 3   # the units two processes claim are the subtrees below prefixes of this many layers


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
    caveats: frozenset[Caveat]   # of the kernels of the patterns scored


class Trail:
    """What a search did, for a caller that must certify its answer (`sweeps.cells`):
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

    def add(self, report: PatternReport) -> None:
        if report.counts:
            self.reports.append(report)
            bisect.insort(self.exponents, report.exponent)  # type: ignore[misc]  # a report that counts is scored

    def kept(self) -> tuple[PatternReport, ...]:
        theta = self.theta
        return tuple(r for r in self.reports if theta is None or r.exponent <= theta)  # type: ignore[operator]  # kept reports are scored


class _Shared:
    """What the two processes of a search share, in memory both see: `theta` as they know
    it together, the smaller of theirs (an exact fraction: numerator and denominator),
    and the index of the next unit to claim.  Either may prune with that `theta`, since
    it is the `top`-th best energy of some patterns found, which is at least the
    `top`-th best of all found (the final `theta`)."""

    def __init__(self) -> None:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self.cell = context.Array("q", 2)   # (0, 0): none yet
        self.next_unit = context.Value("q", 0)

    def claim(self) -> int:
        """The index of a unit no process has claimed yet (counting up from 0)."""
        with self.next_unit.get_lock():
            index = self.next_unit.value
            self.next_unit.value = index + 1
        return index

    def get(self) -> Fraction | None:
        with self.cell.get_lock():
            num, den = self.cell[:]
        return Fraction(num, den) if den else None

    def offer(self, theta: Fraction) -> None:
        with self.cell.get_lock():
            num, den = self.cell[:]
            if not den or theta < Fraction(num, den):
                self.cell[:] = [theta.numerator, theta.denominator]


class _Search:
    """One best-first search (`best_first`): the queue of prefixes, the best patterns
    found and what was done, for the whole pattern space or one process's share."""

    def __init__(self, ctx: Context, top: int, trail: Trail | None, seeded: tuple[Pattern, ...]) -> None:
        self.ctx, self.trail, self.seeded = ctx, trail, seeded
        problem = ctx.problem
        self.act, self.depth, self.feature = problem.activation, problem.depth, problem.feature
        self.point = problem.scale_values()
        self.widths = [w.exponent(self.point) for w in problem.widths]
        self.best = _Best(top)
        self.shared: _Shared | None = None
        self.claimable: list[tuple[_Entry, ...]] = []   # the units, when two processes claim them
        self.pruned = self.scored = self.expanded = 0
        self.caveats: set[Caveat] = set()
        self.order = itertools.count()
        # (bound, -length, tie, prefix): the root is expanded at once, its children
        # inherit its bound, so the queue is depth first with GP before GFL before Sp
        self.heap: list[_Entry] = [(float("-inf"), 0, 0, ())]
        for pattern in seeded:
            self.score(pattern, ctx.program(pattern))

    def subtree(self, prefix: Pattern) -> int:
        """The patterns below `prefix`, not scored as seeds."""
        return count_completions(self.act, prefix, self.depth) - sum(
            1 for p in self.seeded if p[:len(prefix)] == prefix)

    def drop(self, prefix: Pattern) -> None:
        self.pruned += self.subtree(prefix)
        if self.trail is not None:
            self.trail.dropped.append(prefix)

    def score(self, pattern: Pattern, program: Program) -> None:
        self.scored += 1
        evaluation = self.ctx.evaluate(pattern, program)
        if self.trail is not None:
            self.trail.scored.append(evaluation)
        self.caveats |= program.kernels[-1].caveats
        self.best.add(evaluation.report)
        if self.shared is not None and self.best.theta is not None:
            self.shared.offer(self.best.theta)

    def theta(self) -> Fraction | None:
        """The energy to beat or tie: the `top`-th best found (by both processes, when two
        search)."""
        own = self.best.theta
        other = self.shared.get() if self.shared is not None else None
        return other if own is None or (other is not None and other < own) else own

    def cutoff(self) -> float:
        theta = self.theta()
        return float("inf") if theta is None else float(theta) + MARGIN

    def run(self, until_theta: bool = False) -> None:
        """Take prefixes until none is left (or, with `until_theta`, until `theta` is
        known); when two processes search, claim the next unit whenever the queue runs
        out, until none is left."""
        while True:
            while self.heap and not (until_theta and self.best.theta is not None):
                self.take()
            if until_theta or self.shared is None:
                return
            index = self.shared.claim()
            if index >= len(self.claimable):
                return
            for entry in self.claimable[index]:
                heapq.heappush(self.heap, entry)

    def take(self) -> None:
        """Take the best prefix: bound it, or expand it."""
        value, _, _, prefix = heapq.heappop(self.heap)
        theta = self.theta()
        if theta is not None and self.amplifies_too_wide(prefix, theta):
            self.drop(prefix)   # queued before `theta` came down: a cost alone now reaches it
            return
        self.expanded += 1
        progress = self.ctx.options.progress
        if progress is not None:
            progress(Progress("prefixes expanded", self.expanded))
        for step in layer_options(self.act, prefix, self.feature):
            child = prefix + (step,)
            layer = len(child)
            if step.kind is Mechanism.GFL and theta is not None and self.widths[layer - 1] >= theta:
                self.drop(child)   # its cost alone reaches theta
                continue
            if layer < self.depth:
                heapq.heappush(self.heap, (value, -layer, next(self.order), child))
                continue
            if child in self.seeded:
                continue
            if step.kind is Mechanism.SP and not spike_may_count(self.ctx.folder, child):
                self.drop(child)   # no branch uses every layer: what the float search would find, for less
                continue
            program = self.ctx.program(child, lean=self.trail is None)   # a sweep certifies the whole programme
            if search(self.ctx.space, program, cutoff=self.cutoff(), nudge=0.0, first=True) is None:
                self.drop(child)
                continue
            self.score(child, program)
        if len(prefix) == self.depth - 1 and self.trail is None:
            # Nobody asks for these kernels again (a sweep, which passes a trail,
            # certifies the patterns it dropped from their programmes: it keeps them).
            self.ctx.folder.release(prefix)

    def amplifies_too_wide(self, prefix: Pattern, theta: Fraction, start: int = 0) -> bool:
        """Whether a step of `prefix` after the first `start` amplifies a layer `l` with
        `[N_l] >= theta` (the width test: its cost `N_l D_l` alone reaches `theta`)."""
        return any(step.kind is Mechanism.GFL and self.widths[l - 1] >= theta
                   for l, step in enumerate(prefix[start:], start=start + 1))

    def units(self) -> list[tuple[_Entry, ...]]:
        """The open queue cut into units for two processes to claim, and emptied: the
        subtree below each prefix of `SPLIT_LAYERS` layers (fewer in a shallower network)
        that is still open, with the queue entries inside it, or its own prefix when a
        shorter prefix is open above it.  A unit a step of which the width test drops is
        dropped here instead.  In the queue's order (of each unit's first entry), so
        that the two processes together still take the subtrees where one would: the
        units are many and small enough (51 for erf) that claiming alone balances them,
        and `theta` comes down as early as in one process."""
        theta = self.theta()
        split = min(SPLIT_LAYERS, self.depth - 1)
        held: dict[Pattern, list[_Entry]] = {}
        for entry in sorted(self.heap):
            value, _, _, prefix = entry
            if len(prefix) >= split:
                held.setdefault(prefix[:split], []).append(entry)
                continue
            for unit in enumerate_patterns(self.act, split, self.feature, prefix):
                if theta is not None and self.amplifies_too_wide(unit, theta, len(prefix)):
                    self.drop(unit)
                else:
                    held.setdefault(unit, []).append((value, -split, next(self.order), unit))
        self.heap = []
        return sorted((tuple(entries) for entries in held.values()), key=min)

    def claiming(self, units: list[tuple[_Entry, ...]], shared: _Shared) -> _Search:
        """This search (in a forked process, on a copy of it) set to claim `units` with
        another process through `shared`: the counts start again from zero, the best
        patterns found so far are kept."""
        self.claimable, self.shared = units, shared
        self.pruned = self.scored = self.expanded = 0
        self.caveats = set()
        return self

    def found(self) -> Found:
        return Found(self.best.kept(), self.best.theta, self.scored, self.pruned, self.expanded,
                     frozenset(self.caveats))


def best_first(ctx: Context, top: int, trail: Trail | None = None, seed: Sequence[Pattern] = (),
               workers: int | None = 1, parallel_min: int = PARALLEL_MIN) -> Found:
    """The `top` best proper patterns of `ctx.problem` (and every tie), by a search over
    prefixes.  `ctx` is an `api.Context`; a `trail` records what was scored and
    dropped.  The `seed` patterns (a guess at the best, e.g. the winners at a
    neighbouring point of a sweep) are scored first, so that `theta` is known from the
    start.  The result does not depend on them.

    With two `workers` (None: one per core, at most two), no trail and no seed, a space
    of at least `parallel_min` patterns is searched by two processes once `theta` is
    known: each claims the open subtrees one at a time as it finishes the last
    (`_Search.units`, `_Shared.claim`), both prune with the better of their `theta`s
    (`_Shared`), and the two answers are merged exactly (why this is exact: the module
    docstring).  The answer is the same as one process's; the counts
    of work depend on how the two processes' progress interleaves."""
    search_ = _Search(ctx, top, trail, tuple(dict.fromkeys(seed)))
    problem = ctx.problem
    parallel = (trail is None and not seed and can_fork(workers)
                and count_patterns(problem.activation, problem.depth) >= parallel_min and problem.depth >= 2)
    if not parallel:
        search_.run()
        return search_.found()
    search_.run(until_theta=True)
    if not search_.heap:
        return search_.found()
    try:
        shared = _Shared()
    except OSError:   # no shared memory here (no /dev/shm, say): one process finishes
        search_.run()
        return search_.found()
    units = search_.units()
    before = search_.found()
    mine, theirs = in_two(lambda: _finish(search_.claiming(units, shared)),
                          lambda: _finish(search_.claiming(units, shared)))
    return _merged(top, before, mine, theirs)


def _finish(share: _Search) -> Found:
    share.run()
    return share.found()


def _merged(top: int, before: Found, *parts: Found) -> Found:
    """One answer from a search's start (`before`: up to the fork) and its two shares:
    every proper pattern found (each share returns the ones found before the fork, too),
    ranked again, counts added."""
    best = _Best(top)
    seen: set[str] = set()
    for report in (r for part in (before, *parts) for r in part.reports):
        if report.name not in seen:
            seen.add(report.name)
            best.add(report)
    return Found(best.kept(), best.theta, before.scored + sum(p.scored for p in parts),
                 before.pruned + sum(p.pruned for p in parts), before.expanded + sum(p.expanded for p in parts),
                 before.caveats.union(*(p.caveats for p in parts)))
