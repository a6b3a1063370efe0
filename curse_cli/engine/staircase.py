"""The learning staircase of a polynomial target (docs/theory.md section 12).

`[P*(alpha)] = [kappa] + min over sets S of pieces with w(S) >= alpha of [E(S)]`, where
`E(S)` is one programme that reads every piece of `S` at once (`set_problem`; the
engine's readout families).  The staircase is the lower-left edge of `(E(S), w(S))`:
each step an interval `(from, to]` of alignment, its exponent, a cheapest set whose
share is `to`, and that set's prediction.

The search (`climb`) is written against a `solve` function (a set's prediction), so it
knows nothing of patterns: it solves every piece alone, then takes sets by the smallest
lower bound on their exponent (the largest solved exponent of a subset: `E` is
monotone), and never solves a set that a solved subset already puts above a step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import combinations
from typing import Callable

from curse_cli.archs.problem import Problem
from curse_cli.engine.report import Prediction
from curse_cli.limits import MAX_PIECES, LimitExceeded, WorkLimit


@dataclass(frozen=True)
class Step:
    """One step of the staircase: alignments in `(alignment_from, alignment_to]` need
    `[P*] = prediction.p_star_exponent`, reached by the set `pieces` (its share is
    `alignment_to`) with the set's winning patterns."""

    alignment_from: Fraction
    alignment_to: Fraction
    pieces: tuple[int, ...]
    prediction: Prediction


@dataclass(frozen=True)
class Staircase:
    """Every step, lowest alignment first; `cap`: the share the reachable pieces carry
    (above it the target is unreachable); `missing`: the pieces no pattern reaches, with
    the reason of each; `alone`: each piece's own prediction, by order; `solved`: how
    many sets' programmes were solved."""

    steps: tuple[Step, ...]
    cap: Fraction
    missing: tuple[tuple[int, str], ...]
    alone: tuple[Prediction, ...]
    solved: int

    def at(self, alignment: Fraction) -> Step | None:
        """The step that holds `alignment` (None: above the reachable cap)."""
        return next((s for s in self.steps if s.alignment_from < alignment <= s.alignment_to), None)


def set_problem(problem: Problem, pieces: tuple[int, ...]) -> Problem:
    """The problem of learning the pieces `pieces` at once: the readout reads each of
    their orders.  A target of one piece is returned as it is (today's problem)."""
    if not problem.shares:
        return problem
    pieces = tuple(sorted(pieces))
    return replace(problem, degree=pieces[-1], orders=pieces)


def unresolved(problem: Problem) -> bool:
    """Whether the problem is a target of several pieces whose set is not chosen yet
    (the staircase chooses it at the problem's alignment)."""
    return bool(problem.shares) and not problem.orders


def climb(pieces: tuple[tuple[int, Fraction], ...], solve: Callable[[tuple[int, ...]], Prediction]) -> Staircase:
    """The staircase of `pieces` (order, share), `solve` giving a set's prediction
    (`p_star_exponent` None: no proper pattern learns the set)."""
    share = dict(pieces)
    known: dict[int, Fraction | None] = {}     # set (bit mask over `orders`) -> exponent
    orders = [k for k, _ in pieces]
    results: dict[int, Prediction] = {}

    def solved(mask: int) -> Fraction | None:
        if mask not in known:
            pred = solve(tuple(k for i, k in enumerate(orders) if mask >> i & 1))
            results[mask], known[mask] = pred, pred.p_star_exponent
        return known[mask]

    missing = []
    for i, k in enumerate(orders):
        if solved(1 << i) is None:
            missing.append((k, results[1 << i].unreachable or "no pattern has a proper optimum"))
    reach = [i for i, k in enumerate(orders) if known[1 << i] is not None]
    if len(reach) > MAX_PIECES:
        raise LimitExceeded(WorkLimit.PIECES, len(reach), MAX_PIECES, "the number of reachable pieces of the target",
                            None)
    weight = {i: share[orders[i]] for i in reach}
    sets = [sum(1 << i for i in c) for r in range(1, len(reach) + 1) for c in combinations(reach, r)]
    w = {m: sum((weight[i] for i in reach if m >> i & 1), Fraction(0)) for m in sets}
    cap = sum(weight.values(), Fraction(0))
    infinite = Fraction(10**9)

    def bound(mask: int) -> Fraction:
        """The largest solved exponent of a subset (a lower bound on the set's)."""
        values = [infinite if e is None else e for m, e in known.items() if m & mask == m]
        return max(values)

    steps: list[Step] = []
    covered = Fraction(0)
    while covered < cap:
        candidates = [m for m in sets if w[m] > covered]
        while True:   # the smallest exponent of a set that reaches past `covered`
            low = min(candidates, key=lambda m: (bound(m), -w[m], m))
            if low in known:
                level = bound(low)
                break
            solved(low)
        if level >= infinite:
            break
        best = None
        for m in sorted(candidates, key=lambda m: (-w[m], bin(m).count("1"), m)):
            if bound(m) > level:
                continue   # a solved subset is above the level: never solved
            e = solved(m)
            if e is not None and e <= level:
                best = m
                break
        assert best is not None   # `low` itself qualifies
        steps.append(Step(covered, w[best], tuple(k for i, k in enumerate(orders) if best >> i & 1), results[best]))
        covered = w[best]
    alone = tuple(results[1 << i] for i in range(len(orders)))
    return Staircase(tuple(steps), cap, tuple(missing), alone, len(known))
