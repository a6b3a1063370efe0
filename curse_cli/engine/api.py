"""The engine's front door: score patterns, rank them, search for the best, and the
programme operations a sweep's certificates need.

Sweep, depth, the CLI and the Python API import the engine from here only.  Nothing
here prints; the CLI renders what these functions return.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Callable, Iterable

from curse_cli.engine.analysis import form_at, read_optimum
from curse_cli.engine.explain import derivation
from curse_cli.engine.energy import (Evaluation, Option, Optimum, Program, RowCache, build_program, combination,
                                     minimise, without_amplification)
from curse_cli.engine.folder import Folder
from curse_cli.engine.forked import can_fork, in_two
from curse_cli.engine.symbols import Box, build_space, pattern_variables, search_bound
from curse_cli.engine.kernels import normalises
from curse_cli.engine.powers import Caveat, Truncation, safe_truncation
from curse_cli.limits import (  # noqa: F401 - DEFAULT_MAX_PATTERNS is re-exported
    DEFAULT_HOMOGENEOUS_DEPTH, DEFAULT_MAX_DEGREE, DEFAULT_MAX_DEPTH, DEFAULT_MAX_PATTERNS, DEFAULT_MAX_POWER,
    DEFAULT_TOP, PATTERN_CEILING, RULES, LimitExceeded, WorkLimit, ceiling, degree_ceiling, terms_estimate,
)
from curse_cli.engine.patterns import (Mechanism, Pattern, Step, count_patterns, enumerate_patterns, parse_pattern,
                                      pattern_name)
from curse_cli.archs.problem import Problem
from curse_cli.engine.reach import parity_hint, parity_reachable, unreachable_from_supports
from curse_cli.engine.report import (Bounded, EngineWarning, Explanation, LayerReport, PatternReport, Prediction,
                                     Progress, Quantity, ReadoutTerm, Status)
from curse_cli.engine.search import Found, Trail, best_first
from curse_cli.engine.staircase import Staircase, Step as StairStep, climb, set_problem, unresolved
from curse_cli.algebra.memo import Memo
from curse_cli.algebra.space import Space

__all__ = [
    "Bounded", "Context", "EngineWarning", "Evaluation", "Explanation", "Found", "LayerReport", "LimitExceeded",
    "Mechanism", "Optimum", "Option", "Options", "Pattern", "PatternReport", "PatternSpaceTooLarge", "Prediction",
    "Progress", "Program", "Quantity", "ReadoutTerm", "RowCache", "Staircase", "StairStep", "Status", "Step", "Trail",
    "at_alignment", "check_limits", "check_size", "count_patterns", "enumerate_patterns", "explain", "form_at",
    "parse_pattern", "pattern_name", "pieces_at", "predict", "predict_staircase", "rank", "set_problem", "staircase",
    "unreachable_from_supports", "unreachable_reason",
]


class PatternSpaceTooLarge(LimitExceeded):
    """More candidate patterns than the caller allowed."""


@dataclass(frozen=True)
class Options:
    """Engine settings: the Hermite truncation and the enumeration limit.

    `max_order=None` is the safe truncation (`kernels.safe_truncation`, which no
    exponent depends on); an integer is an expert override honoured exactly as given:
    the Hermite orders tracked and the lazy/Taylor powers used (a warning says when it
    is below the safe truncation).  `max_patterns` refuses pattern spaces larger than it.
    """

    max_order: int | None = None
    max_patterns: int = DEFAULT_MAX_PATTERNS
    workers: int | None = None  # processes for large pattern spaces; None: one per core, at most 2
    max_depth: int = DEFAULT_MAX_DEPTH      # hidden layers
    max_degree: int = DEFAULT_MAX_DEGREE    # target degree k (a target no pattern reaches is answered anyway)
    max_power: int = DEFAULT_MAX_POWER      # the activation's largest finite Hermite order or Taylor power
    max_depth_homogeneous: int = DEFAULT_HOMOGENEOUS_DEPTH   # hidden layers of a ReLU-like (normalised) activation
    max_depth_growing_chi: int | None = None   # a search's hidden layers when chi grows (mean-field); None: max_depth
    depth_limit: WorkLimit = WorkLimit.DEPTH   # which limit max_depth is (a search's, or one pattern's)
    # Told how far a long run is (a search's expanded prefixes, a sweep's grid points); the
    # engine only calls it, the caller shows it.  Not part of what the options compute.
    progress: Callable[[Progress], None] | None = field(default=None, compare=False, repr=False)

    def truncation(self, problem: Problem) -> Truncation:
        if self.max_order is None:
            if unreachable_from_supports(problem.activation, problem.depth, problem.degree) is not None:
                return Truncation(1, None, 1)   # no pattern carries He_k: nothing above order one is needed
            return safe_truncation(problem.degree, problem.depth)
        return Truncation(max_order=self.max_order, max_power=self.max_order)


def truncation_warnings(problem: Problem, options: Options, caveats: Iterable[Caveat]) -> tuple[EngineWarning, ...]:
    """Structured warnings for a truncation that is not certified (the caveats collected
    from the scored patterns' kernels, and an override below the target's order)."""
    out = []
    caveats = set(caveats)
    k, n = problem.degree, options.max_order
    act = problem.activation
    supports = [act.hermite, *([act.taylor] if act.taylor is not None else [])]
    needed = max([k, *(m for sup in supports for m in sup.finite),
                  *(max(sup.upto(k + 1), default=0) for sup in supports if sup.infinite)])
    if n is not None and n < needed:
        out.append(EngineWarning(
            "max-order", f"a truncation at order {n} is below the safe truncation (target order {k}, {act.name} "
                         f"powers up to {needed}): exponents may differ from the exact ones; omit the override for "
                         "the safe default"))
    if Caveat.POWERS in caveats and (n is None or n >= needed):
        out.append(EngineWarning(
            "powers", f"the powers of {act.name} were cut without a bound on the higher ones (an input scale "
                      f"above one that is not normalised): exponents are not certified"))
    if Caveat.SCALE in caveats:
        out.append(EngineWarning(
            "scale", f"{act.name} is homogeneous and an input scale that may exceed one is not normalised "
                     f"(docs/theory.md section 9): exponents of such patterns are not certified"))
    return tuple(out)


class Context:
    """One problem's symbol space, kernels and cache (`memo`), shared by all its patterns.

    With a `box` of scale ranges (sweeps), kernels and programmes hold on the whole box
    and `at` moves the point of the linear programmes without recomputing them;
    `denominators` are those of the points `at` will be given.
    """

    def __init__(self, problem: Problem, options: Options = Options(), box: Box | None = None,
                 denominators: Iterable[int] = (), patterns: Iterable[Pattern] | None = None) -> None:
        self.problem = problem
        self.options = options
        self.truncation = options.truncation(problem)
        self.box, self.denominators = box, tuple(denominators)
        only = None if patterns is None else pattern_variables(patterns)
        self.space: Space = build_space(problem, box, self.denominators, only)
        self.memo = Memo()   # results of the rules in this space, for this context's patterns alone
        self.folder = Folder(problem, self.space, self.truncation, q_bound=search_bound(problem, box), memo=self.memo)
        self.programs: dict[Pattern, Program] = {}

    def refined(self, denominators: Iterable[int]) -> Context:
        """The same problem and box in a unit fine enough for `denominators` as well
        (points between grid points): a new context that starts from this one's kernels,
        rescaled to its unit, instead of computing them again."""
        finer = Context(self.problem, self.options, self.box, [*self.denominators, *denominators])
        factor, rest = divmod(finer.space.unit, self.space.unit)
        assert rest == 0 and finer.space.variables == self.space.variables
        finer.folder.adopt(self.folder, factor)
        return finer

    def at(self, values: dict[str, Fraction]) -> Context:
        """The same context at other scale values (inside the box)."""
        moved = copy.copy(self)
        moved.problem = replace(self.problem, scales=tuple((n, values.get(n, v)) for n, v in self.problem.scales))
        moved.space = self.space.with_point(moved.problem.scale_values())
        return moved

    def score(self, pattern: Pattern) -> PatternReport:
        return self.evaluate(pattern).report

    def program(self, pattern: Pattern, keep: bool = False, lean: bool = False) -> Program:
        """The pattern's programme (kept if `keep`; `evaluate` keeps those it scores;
        `lean`: without the readout terms no branch that counts can use, for a caller
        that only solves it, `energy.Rows.program`)."""
        program = self.programs.get(pattern) or build_program(self.folder, pattern, lean)
        if keep:
            self.programs[pattern] = program
        return program

    def evaluate(self, pattern: Pattern, program: Program | None = None) -> Evaluation:
        """The pattern's programme, its exact optimum (None if it has none) and report."""
        program = program or self.programs.get(pattern)
        if program is None:
            program = build_program(self.folder, pattern)
        self.programs[pattern] = program
        name = pattern_name(pattern)
        missing = [k for k, d in zip(self.problem.read_orders, program.decisions, strict=False) if not d.options]
        if missing:
            orders = ", ".join(f"He_{k}" for k in missing)
            return Evaluation(program, None, PatternReport(
                name, pattern, None, None, status=Status.UNREACHABLE,
                note=f"no component of the last kernel carries {orders}({self.problem.feature})"))
        optimum = minimise(self.space, program)
        if optimum is None:
            return Evaluation(program, None, PatternReport(name, pattern, None, None, status=Status.INCONSISTENT,
                                                           note="no readout path uses every layer the pattern names"))
        return Evaluation(program, optimum, read_optimum(self.space, optimum))

    def search(self, top: int, trail: Trail | None = None, seed: Iterable[Pattern] = ()) -> Found:
        """The `top` best proper patterns and every tie, by best-first search
        (`engine.search.best_first`, in one process); `trail` records what was scored and
        dropped, `seed` patterns are scored first."""
        return best_first(self, top, trail, tuple(seed))

    def minimise(self, program: Program) -> Optimum | None:
        """The programme's exact optimum (None: no branch uses every layer)."""
        return minimise(self.space, program)

    def rows(self, program: Program) -> RowCache:
        """The programme's rows as exact LP rows, converted when first asked for."""
        return RowCache(self.space, program)

    def combination(self, program: Program, chosen: tuple[Option, ...]) -> list[tuple[int, int, Option]]:
        """The weights of a branch's Fourier-Motzkin bound (`energy.combination`)."""
        return combination(self.space, program, chosen)

    def without_amplification(self, program: Program, layer: int, feature: str) -> Program:
        """The programme with layer `layer`'s amplification `D` held at one (lazy)."""
        return without_amplification(self.space, program, layer, feature)

    def reached_orders(self, patterns: Iterable[Pattern]) -> list[int]:
        """Hermite orders present in the last kernel of any of `patterns` (all orders are
        computed here, unlike for scoring, which reads only the target's order)."""
        folder = Folder(self.problem, self.space, self.truncation, restrict_last=False, memo=self.memo)
        orders: set[int] = set()
        for p in patterns:
            amp = folder.kernel(p).amplitude
            orders |= {n for n, terms in enumerate(amp) if terms and n > 0}
        return sorted(orders)


def check_size(problem: Problem, options: Options, limit: WorkLimit = WorkLimit.PATTERNS) -> int:
    """The number of candidate patterns, or `PatternSpaceTooLarge` (raisable only up to
    the ceiling: a run there finishes); `limit` says whether they are to be scored or
    only listed."""
    total = count_patterns(problem.activation, problem.depth)
    if total > options.max_patterns:
        raise PatternSpaceTooLarge(limit, total, options.max_patterns,
                                   f"the number of candidate patterns of a {problem.depth}-layer network",
                                   RULES[limit].ceiling)
    return total


def check_limits(problem: Problem, options: Options, degree: bool = True) -> None:
    """Depth, the activation's powers and the target degree against their limits, before
    any work (`LimitExceeded`: which limit, the value and the bound).  A target whose
    parity no pattern reaches is not refused for its degree: `predict` answers it from
    the supports."""
    act = problem.activation
    for limit, bound in _depth_bounds(problem, options):
        if problem.depth > bound:
            subject = {WorkLimit.DEPTH_HOMOGENEOUS: f"the number of hidden layers of {act.name} (ReLU-like)",
                       WorkLimit.DEPTH_GROWING_CHI: f"the number of hidden layers under a readout scale chi = "
                                                    f"{problem.chi} that grows with d (mean-field)"}
            raise LimitExceeded(limit, problem.depth, bound, subject.get(limit, "the number of hidden layers"),
                                RULES[limit].ceiling)
    top = max([*act.hermite.finite, *(act.taylor.finite if act.taylor is not None else ())], default=0)
    power_ceiling = ceiling(WorkLimit.POWER, problem.depth)
    assert power_ceiling is not None
    if top > min(options.max_power, power_ceiling):
        raise LimitExceeded(WorkLimit.POWER, top, min(options.max_power, power_ceiling),
                            f"the highest order of {act.name}", power_ceiling)
    _check_terms(problem)
    top_degree = degree_ceiling(problem.depth)
    bound = min(options.max_degree, top_degree)
    if degree and problem.degree > bound and parity_reachable(act, problem.depth, problem.degree):
        raise LimitExceeded(WorkLimit.DEGREE, problem.degree, bound, "the target degree", top_degree,
                            _degree_estimate(problem.depth, problem.degree, top_degree))


def _check_terms(problem: Problem) -> None:
    """A polynomial activation's Taylor powers, how many times the highest: each layer
    raises the terms below to every power, so this, not the highest order alone, is what
    its work grows with (docs/limits.md); it cannot be raised."""
    taylor = problem.activation.taylor
    if taylor is None or taylor.infinite or not taylor.finite:
        return
    product = len(taylor.finite) * max(taylor.finite)
    bound = ceiling(WorkLimit.TERMS, problem.depth)
    assert bound is not None
    if product > bound:
        raise LimitExceeded(WorkLimit.TERMS, product, bound,
                            f"the number of Taylor powers of {problem.activation.name} ({len(taylor.finite)}) times "
                            f"the highest ({max(taylor.finite)})", bound, terms_estimate(problem.depth, product))


def _depth_bounds(problem: Problem, options: Options) -> list[tuple[WorkLimit, int]]:
    """The depth limits that apply to `problem`, each with its bound in force."""
    bounds = [(options.depth_limit, options.max_depth)]
    if normalises(problem.activation):
        bounds.append((WorkLimit.DEPTH_HOMOGENEOUS, options.max_depth_homogeneous))
    growing = options.max_depth_growing_chi
    if growing is not None and problem.chi.exponent(problem.scale_values()) > 0:
        bounds.append((WorkLimit.DEPTH_GROWING_CHI, growing))
    return bounds


def _degree_estimate(depth: int, degree: int, ceiling: int) -> str:
    """What a degree beyond the ceiling would cost: about twelve times the time and five
    times the memory per two degrees above it (measured, docs/limits.md)."""
    if degree <= ceiling or depth == 1:
        return ""
    steps = (degree - ceiling) / 2
    seconds, gigabytes = 5 * 12 ** steps, 0.3 * 5 ** steps
    return (f"at {depth} hidden layers degree {ceiling} takes about 5 s and 0.3 GB, and each two degrees more about "
            f"twelve times the time and five times the memory: degree {degree} would need about "
            f"{_duration(seconds)} and {gigabytes:.3g} GB")


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.0f} s"


def unreachable_reason(ctx: Context, patterns: list[Pattern]) -> str:
    """Why no pattern reaches the target: the orders the last kernels do reach."""
    problem = ctx.problem
    k = problem.degree
    reached = ctx.reached_orders(patterns)
    orders = ", ".join(map(str, reached)) or "none"
    reason = (f"no pattern reaches He_{k}({problem.feature}): in every pattern the last hidden layer's kernel "
              f"has no component with He_{k} content (orders reached: {orders}; tracked up to "
              f"{ctx.truncation.max_order})")
    return reason + parity_hint(problem.activation, k)


PARALLEL_MIN = 120  # below this many patterns a second process costs more than it saves


def _score_chunk(problem: Problem, options: Options,
                 patterns: list[Pattern]) -> tuple[list[PatternReport], set[Caveat]]:
    """The patterns' reports and the caveats of their kernels."""
    ctx = Context(problem, options, patterns=patterns)
    reports = [ctx.score(p) for p in patterns]
    caveats = {c for p in patterns for c in ctx.programs[p].kernels[-1].caveats}
    return reports, caveats


def _balanced_halves(patterns: list[Pattern], depth: int) -> tuple[list[Pattern], list[Pattern]]:
    """Two groups of whole subtrees (same first three layers), so that each process
    reuses its kernels along shared prefixes; the larger subtrees are placed first.
    Subtrees of three layers rather than two are smaller and balance better, and lose
    little sharing."""
    key = min(3, depth)
    trees: dict[Pattern, list[Pattern]] = {}
    for p in patterns:
        trees.setdefault(p[:key], []).append(p)
    halves: tuple[list[Pattern], list[Pattern]] = ([], [])
    for tree in sorted(trees.values(), key=len, reverse=True):
        min(halves, key=len).extend(tree)
    return halves


def score_all(problem: Problem, options: Options,
              patterns: list[Pattern]) -> tuple[list[PatternReport], set[Caveat]]:
    """Every pattern's report, in the given order, and the caveats of their kernels.
    Large pattern spaces are split in two halves of whole subtrees, one scored in a
    forked process: the results are the same as in one process (each pattern depends
    only on its own prefix)."""
    if len(patterns) < PARALLEL_MIN or not can_fork(options.workers):
        return _score_chunk(problem, options, patterns)
    mine, theirs = _balanced_halves(patterns, problem.depth)
    (own, caveats), (other, more) = in_two(lambda: _score_chunk(problem, options, mine),
                                           lambda: _score_chunk(problem, options, theirs))
    reports = dict(zip(mine, own, strict=True))
    reports.update(zip(theirs, other, strict=True))
    return [reports[p] for p in patterns], caveats | more


def rank(reports: Iterable[PatternReport]) -> tuple[tuple[PatternReport, ...], tuple[PatternReport, ...]]:
    """Scored patterns best first (then the unscored), and the winners: the proper optima
    tied with the best at the spec's point."""
    reports = list(reports)
    scored = sorted((r for r in reports if r.scored), key=lambda r: (r.order_key, r.name))
    unscored = [r for r in reports if not r.scored]
    proper = [r for r in scored if r.counts]
    winners = tuple(r for r in proper if r.tie_key == proper[0].tie_key) if proper else ()
    return tuple(scored + unscored), winners


def predict(problem: Problem, options: Options = Options(),
            patterns: Iterable[Pattern] | None = None, top: int | None = None) -> Prediction:
    """Score the given patterns (default: all of them) and rank them; with `top`, find
    the `top` best proper patterns and every tie by best-first search instead
    (`engine.search`: the same patterns full ranking puts first), without scoring the
    rest.  A target no pattern can reach is answered from the activation's supports,
    before any work.  A target of several pieces is answered at its alignment, by the
    staircase (`predict_staircase`); named patterns are scored on the set it chooses."""
    check_limits(problem, options, degree=False)
    if unresolved(problem):
        if patterns is None:
            return predict_staircase(problem, options, top)[0]
        return predict(pieces_at(problem, options), options, patterns, top)
    if patterns is None:
        reason = unreachable_from_supports(problem.activation, problem.depth, problem.degree)
        if reason is not None:
            return _unreachable(problem, options, reason)
    check_limits(problem, options)
    if patterns is None and top is not None:
        return _searched(problem, options, top)
    total = check_size(problem, options) if patterns is None else count_patterns(problem.activation, problem.depth)
    chosen = list(patterns) if patterns is not None else list(
        enumerate_patterns(problem.activation, problem.depth, problem.feature))
    reports, caveats = score_all(problem, options, chosen)
    ranked, winners = rank(reports)
    if winners:
        reason = None
    elif all(r.status is Status.UNREACHABLE for r in reports):
        reason = unreachable_reason(Context(problem, options, patterns=chosen), chosen)
    else:
        reason = NO_PROPER
    return _prediction(problem, options, ranked, winners, reason, total, caveats)


NO_PROPER = "no pattern has a proper optimum: each one either misses the target or leaves a layer unused"


def _prediction(problem: Problem, options: Options, ranked, winners, reason: str | None, total: int,
                caveats: Iterable[Caveat], bounded: Bounded | None = None) -> Prediction:
    p_star = problem.ridge * winners[0].energy if winners else None
    p_exp = p_star.exponent(problem.scale_values()) if p_star is not None else None
    return Prediction(problem, ranked, winners, p_star, p_exp, reason, options.truncation(problem).max_order, total,
                      truncation_warnings(problem, options, caveats), bounded)


def _searched(problem: Problem, options: Options, top: int) -> Prediction:
    """`predict` by best-first search for the `top` best proper patterns."""
    ctx = Context(problem, options)
    found = best_first(ctx, top, workers=options.workers)
    ranked, winners = rank(found.reports)
    total = count_patterns(problem.activation, problem.depth)
    caveats = found.caveats
    bounded = Bounded(top, total - len(ranked), found.theta, found.scored, found.expanded)
    return _prediction(problem, options, ranked, winners, None if winners else NO_PROPER, total, caveats, bounded)


def explain(problem: Problem, pattern: Pattern, options: Options = Options()) -> Explanation:
    """The derivation of one pattern: kernels layer by layer, costs, readout candidates
    and the constraints active at its optimum (`engine.explain`)."""
    check_limits(problem, options)
    problem = pieces_at(problem, options)
    return derivation(Context(problem, options, patterns=[pattern]), pattern)


def staircase(problem: Problem, options: Options = Options(), top: int | None = None) -> Staircase:
    """The learning staircase of the problem's target (docs/theory.md section 12): each
    set of pieces solved as one programme (`predict` on `set_problem`), the sets taken
    smallest exponent first (`engine.staircase.climb`).  One piece: one step, today's
    prediction."""
    check_limits(problem, options, degree=False)
    for k, _ in sorted(problem.pieces, reverse=True):   # every piece's degree before any set is solved
        check_limits(set_problem(problem, (k,)), options)
    return climb(problem.pieces, lambda pieces: predict(set_problem(problem, pieces), options, top=top))


def predict_staircase(problem: Problem, options: Options = Options(),
                      top: int | None = None) -> tuple[Prediction, Staircase]:
    """The prediction at the problem's alignment and the whole staircase."""
    stair = staircase(problem, options, top)
    return at_alignment(problem, stair, options), stair


def pieces_at(problem: Problem, options: Options = Options()) -> Problem:
    """The problem of the set of pieces the staircase learns at the problem's alignment
    (above the reachable share: every piece); a target of one piece as it is."""
    if not unresolved(problem):
        return problem
    step = staircase(problem, options, DEFAULT_TOP).at(problem.alignment)
    return set_problem(problem, step.pieces if step is not None else tuple(k for k, _ in problem.pieces))


def at_alignment(problem: Problem, stair: Staircase, options: Options = Options()) -> Prediction:
    """The prediction at the problem's alignment: that of the step holding it, or, above
    the share the reachable pieces carry, an unreachable answer naming the pieces no
    pattern reaches (one piece: its own answer)."""
    step = stair.at(problem.alignment)
    if step is not None:
        return step.prediction
    if len(problem.pieces) == 1:   # its one piece is unreachable: the step-less staircase holds its answer
        return stair.alone[0]
    names = ", ".join(f"He_{k}" for k, _ in stair.missing)
    reason = (f"alignment {problem.alignment} is above {stair.cap}, the share of the pieces some pattern reaches: "
              f"no pattern reaches {names}; " + "; ".join(why for _, why in stair.missing[:1]))
    return _unreachable(problem, options, reason)


def _unreachable(problem: Problem, options: Options, reason: str) -> Prediction:
    """The answer that no pattern learns the target, with the reason."""
    return Prediction(problem, (), (), None, None, reason, options.truncation(problem).max_order,
                      count_patterns(problem.activation, problem.depth))
