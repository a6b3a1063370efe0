"""Best-first search (engine/search.py, docs/theory.md section 11) against full ranking.

The search must return exactly the proper optima full enumeration ranks at or below the
`top`-th best energy, ties included, with the same formulas; every other pattern is
either scored or lies in a subtree it bounded away, each exactly once.
"""

from __future__ import annotations

import itertools
from collections import Counter
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curse_cli.engine.api import Context, Options, predict
from curse_cli.engine.energy import RowCache, search
from curse_cli.engine.patterns import count_completions, count_patterns, enumerate_patterns
from curse_cli.engine.search import best_first
from curse_cli.archs.activations import BUILTIN_NAMES, builtin
from curse_cli.spec.load import load_spec_text

ONE = Options(workers=1)


def spec(act: str, widths: list[str], k: int, scaling: str) -> str:
    ws = ", ".join(f'"d^({w})"' for w in widths)
    return (f"architecture: {{kind: fcn, activation: {act}, widths: [{ws}]}}\n"
            f"target: {{kind: hermite, degree: {k}}}\nscaling: {scaling}\n")


def first_k(full, top: int):
    """The proper optima full ranking puts at or below the `top`-th best energy."""
    proper = sorted(r.exponent for r in full.patterns if r.counts)
    if not proper:
        return set(), None
    theta = proper[min(top, len(proper)) - 1] if len(proper) >= top else None
    return {(r.name, r.exponent, str(r.energy)) for r in full.patterns
            if r.counts and (theta is None or r.exponent <= theta)}, theta


def check(text: str, top: int) -> None:
    problem = load_spec_text(text, "t.yaml").problem
    full = predict(problem, ONE)
    searched = predict(problem, ONE, top=top)
    want, theta = first_k(full, top)
    got = {(r.name, r.exponent, str(r.energy)) for r in searched.patterns}
    assert got == want
    assert searched.p_star == full.p_star
    assert [w.name for w in searched.winners] == [w.name for w in full.winners]
    if searched.bounded is not None:   # None: answered from the supports, no search
        assert searched.bounded.above == theta
        assert searched.bounded.patterns + len(searched.patterns) == full.total_patterns
        assert {w.code for w in searched.warnings} <= {w.code for w in full.warnings}
        # And by two processes, each with half of the subtrees (the default uses two
        # only from five hidden layers on).
        two = best_first(Context(problem, ONE), top, workers=2, parallel_min=1)
        assert {(r.name, r.exponent, str(r.energy)) for r in two.reports} == want
        assert two.theta == theta
        assert two.scored + two.pruned == full.total_patterns


ACTS = ["erf", "tanh", "relu", "cubic", "quadratic", "{polynomial: [0, 1, 0, 1]}"]
WIDTHS = ["1/2", "1", "3/2", "2"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ACTS), st.lists(st.sampled_from(WIDTHS), min_size=1, max_size=3), st.integers(1, 4),
       st.sampled_from(["standard", "mean-field"]), st.sampled_from([1, 2, 5]))
def test_search_finds_what_full_ranking_puts_first(act, widths, k, scaling, top):
    """Depths 1-3 over the builtin activations and a polynomial, both scalings."""
    check(spec(act, widths, k, scaling), top)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["erf", "tanh"]), st.lists(st.sampled_from(WIDTHS), min_size=4, max_size=4),
       st.sampled_from([1, 3]), st.sampled_from(["standard", "mean-field"]), st.sampled_from([1, 3]))
def test_search_at_depth_four(act, widths, k, scaling, top):
    """Depth 4 (299 patterns), where most of the space is bounded away."""
    check(spec(act, widths, k, scaling), top)


def test_every_pattern_is_scored_or_pruned_exactly_once():
    """At N = d^2 and N = d for four erf layers, in one process and in two: scored +
    pruned = 299, and the search scores far fewer patterns than there are; seeds are
    scored once, not again when the search reaches them."""
    for width in ("2", "1"):
        problem = load_spec_text(spec("erf", [width] * 4, 3, "standard"), "t.yaml").problem
        seed = list(enumerate_patterns(problem.activation, 4))[::50]
        for seeds, workers in (([], 1), (seed, 1), ([], 2)):
            found = best_first(Context(problem, ONE), 3, seed=seeds, workers=workers, parallel_min=1)
            assert found.scored + found.pruned == count_patterns(problem.activation, 4) == 299
            assert found.scored < 60


def test_count_completions_matches_enumeration():
    for name in BUILTIN_NAMES:
        act = builtin(name)
        for depth in range(1, 5):
            patterns = list(enumerate_patterns(act, depth))
            assert count_patterns(act, depth) == len(patterns)
            for p in patterns[::7]:
                for l in range(depth + 1):
                    assert count_completions(act, p[:l], depth) == sum(1 for q in patterns if q[:l] == p[:l])


def test_cli_refuses_a_search_deeper_than_its_limit_and_says_how_to_raise_it():
    """predict and compare search up to six hidden layers by default (a seventh costs
    40 s at N = d and far more where the width test drops nothing); explain one pattern
    of seven layers works once its --max-depth is given (its ceiling is higher)."""
    from click.testing import CliRunner

    from curse_cli.cli.main import cli

    widths = ", ".join('"d"' for _ in range(7))
    text = (f"architecture: {{kind: fcn, activation: erf, widths: [{widths}]}}\n"
            "target: {kind: hermite, degree: 3}\nscaling: standard\n")
    for command in ("predict", "compare"):
        result = CliRunner().invoke(cli, [command, "-"], input=text)
        assert result.exit_code == 2 and "--max-depth 7" in result.output, result.output
    chain = "-".join(["GP"] * 6 + ["Sp(z)"])
    refused = CliRunner().invoke(cli, ["explain", "-", "-p", chain], input=text)   # the same default as predict's
    assert refused.exit_code == 2 and "--max-depth 7" in refused.output, refused.output
    assert CliRunner().invoke(cli, ["explain", "-", "-p", chain, "--max-depth", "7"], input=text).exit_code == 0


def test_every_bundled_spec_searches_to_what_full_ranking_puts_first():
    """All families (fcn, cnn, attention), both scalings, an unreachable target: the
    default search (top 5) returns the proper optima full ranking puts first."""
    from pathlib import Path

    from curse_cli.spec.load import load_spec

    for path in sorted((Path(__file__).resolve().parents[1] / "specs").glob("*.yaml")):
        problem = load_spec(str(path)).problem
        if count_patterns(problem.activation, problem.depth) > ONE.max_patterns:
            continue   # seven_layer_erf: beyond what --all scores (the five-layer benchmark compares there)
        full, searched = predict(problem, ONE), predict(problem, ONE, top=5)
        want, _ = first_k(full, 5)
        assert {(r.name, r.exponent, str(r.energy)) for r in searched.patterns} == want, path.name
        assert searched.p_star == full.p_star and searched.unreachable == full.unreachable, path.name


def _brute_force(space, program):
    """The best branch that uses every layer, over every choice of one option per
    decision (`energy.search` without any pruning)."""
    cache = RowCache(space, program)
    values = [cache.float_value(choice) for choice in itertools.product(*(d.options for d in program.decisions))
              if program.uses_every_layer(choice)]
    values = [v for v in values if v is not None]
    return min(values) if values else None


def test_branch_search_matches_brute_force():
    """The branch search (cheap bounds, and partial branches that cannot use every layer
    dropped) finds the same optimum as trying every branch, on the patterns of a
    three-layer network."""
    for act, scaling in (("erf", "standard"), ("relu", "mean-field")):
        problem = load_spec_text(spec(act, ["1", "1", "1"], 3, scaling), "t.yaml").problem
        ctx = Context(problem, ONE)
        programs = [ctx.program(p) for p in enumerate_patterns(problem.activation, problem.depth, problem.feature)]
        checked = 0
        for program in programs:
            sizes = [len(d.options) for d in program.decisions]
            if not all(sizes) or math.prod(sizes) > 60:
                continue
            found = search(ctx.space, program)
            expected = _brute_force(ctx.space, program)
            assert (found is None) == (expected is None)
            if found is not None:
                assert abs(found[0] - expected) < 1e-7
            checked += 1
        assert checked > 20


def test_units_and_what_was_decided_cover_every_pattern_exactly_once():
    """When two processes are to start (`theta` known), the patterns already scored or
    dropped and the patterns below the queue entries of the units (`_Search.units`)
    partition the pattern space: each pattern is in exactly one.  Every entry lies in
    its unit, the units are distinct prefixes of `SPLIT_LAYERS` layers (fewer in a
    shallower network), in the queue's order.  Checked by enumeration at N = d and N = d^2
    (where the width test drops GFL steps while units are cut)."""
    from curse_cli.engine.search import SPLIT_LAYERS, Trail, _Search

    for act, widths in (("erf", ["1"] * 4), ("erf", ["2"] * 4), ("relu", ["1"] * 3), ("quadratic", ["1/2"] * 4),
                        ("erf", ["1", "2"])):
        problem = load_spec_text(spec(act, widths, 3 if act != "quadratic" else 2, "standard"), "t.yaml").problem
        patterns = list(enumerate_patterns(problem.activation, problem.depth))
        trail = Trail()
        search_ = _Search(Context(problem, ONE), 1, trail, ())
        search_.run(until_theta=True)
        units = search_.units()
        assert not search_.heap
        split = min(SPLIT_LAYERS, problem.depth - 1)
        heads = [entries[0][3][:split] for entries in units]
        assert len(set(heads)) == len(heads) and all(len(h) == split for h in heads)
        assert all(e[3][:split] == head for head, entries in zip(heads, units) for e in entries)
        covered = Counter()
        for entries in units:
            for e in entries:
                covered.update(p for p in patterns if p[:len(e[3])] == e[3])
        for prefix in trail.dropped:
            covered.update(p for p in patterns if p[:len(prefix)] == prefix)
        covered.update(evaluation.report.pattern for evaluation in trail.scored)
        assert covered == Counter(patterns), act
        firsts = [min(entries) for entries in units]
        assert firsts == sorted(firsts)


def test_the_shared_theta_keeps_the_smaller_exactly():
    """Offers from either process leave the smallest exact fraction, seen by both."""
    from fractions import Fraction

    from curse_cli.engine.search import _Shared

    shared = _Shared()
    assert shared.get() is None
    for offer, held in ((Fraction(3, 2), Fraction(3, 2)), (Fraction(5, 3), Fraction(3, 2)),
                        (Fraction(7, 6), Fraction(7, 6)), (Fraction(7, 6), Fraction(7, 6)), (Fraction(1), Fraction(1))):
        shared.offer(offer)
        assert shared.get() == held


def test_two_processes_return_what_one_finds():
    """`in_two` runs one half here and one in a forked process that sees this process's
    state (a closure over a local list), and returns both results."""
    from curse_cli.engine.forked import in_two

    state = [1, 2, 3]
    assert in_two(lambda: sum(state), lambda: [x * 10 for x in state]) == (6, [10, 20, 30])


def test_a_failing_half_is_raised_and_a_failing_parent_does_not_wait(tmp_path):
    """An exception in the forked half is raised in the parent; one in the parent's half
    kills the child at once instead of waiting for it: the child, which would write a
    file after a minute's sleep, has not written it and is gone when the error arrives."""
    import multiprocessing
    import time

    import pytest

    from curse_cli.engine.forked import in_two

    with pytest.raises(ZeroDivisionError):
        in_two(lambda: 1, lambda: 1 // 0)
    finished = tmp_path / "finished"

    def sleeper() -> None:
        time.sleep(60)
        finished.write_text("waited for")

    with pytest.raises(KeyError):
        in_two(lambda: {}["missing"], sleeper)
    assert not finished.exists() and not multiprocessing.active_children()


def test_workers_one_repeats_the_whole_output_and_two_change_only_the_counts():
    """`curse predict --workers 1` on five erf layers (2,163 patterns, enough for two
    processes by default) prints the same JSON twice; with two processes the answer is
    the same and only the counts of work may differ."""
    import json

    from click.testing import CliRunner

    from curse_cli.cli.main import cli

    widths = ", ".join('"d"' for _ in range(5))
    text = (f"architecture: {{kind: fcn, activation: erf, widths: [{widths}]}}\n"
            f"target: {{kind: hermite, degree: 3}}\nscaling: standard\n")

    def run(*extra: str) -> dict:
        result = CliRunner().invoke(cli, ["predict", "-", "--format", "json", *extra], input=text)
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    one, again, two = run("--workers", "1"), run("--workers", "1"), run("--workers", "2")
    assert one == again
    for doc in (one, two):
        doc["search"].pop("scored")
        doc["search"].pop("expanded")
    assert one == two and len(one["prediction"]["tied"]) == 31
    bad = CliRunner().invoke(cli, ["predict", "-", "--workers", "3"], input=text)
    assert bad.exit_code == 2 and "--workers" in bad.output


def test_a_spike_leaf_judged_dead_has_no_branch_that_uses_every_layer():
    """`spike_may_count` drops a pattern whose last layer specialises without making its
    last kernel; the search relies on it never dropping one that has a counting branch.
    Checked against every branch of the full programme (`uses_every_layer`) for every
    such pattern of four-layer erf and three-layer ReLU (mean-field) and cubic networks,
    and it must drop some: a pattern with two unrelated spikes, say `Sp(z)-Sp(z)-...`,
    whose last layer reads one of them."""
    from curse_cli.engine.energy import spike_may_count
    from curse_cli.engine.patterns import Mechanism

    dead = alive = 0
    for act, widths, scaling in (("erf", ["1"] * 4, "standard"), ("relu", ["1", "1/2", "1"], "mean-field"),
                                 ("cubic", ["1", "1", "1"], "standard")):
        problem = load_spec_text(spec(act, widths, 3, scaling), "t.yaml").problem
        ctx = Context(problem, ONE)
        for pattern in enumerate_patterns(problem.activation, problem.depth, problem.feature):
            if pattern[-1].kind is not Mechanism.SP:
                continue
            if spike_may_count(ctx.folder, pattern):
                alive += 1
                continue
            dead += 1
            program = ctx.program(pattern)
            assert not any(program.uses_every_layer(choice)
                           for choice in itertools.product(*(d.options for d in program.decisions))), pattern
    assert dead > 50 and alive > 20, (dead, alive)


def test_a_lean_programme_drops_only_readout_terms_no_counting_branch_uses():
    """The search solves lean programmes (`Rows.program`'s `lean`): the readout terms
    without every layer of `readout_need` are left out, and where the last layer is
    lazy they are not even made (`Folder.readout_kernel`).  Each term left out is in no
    branch that uses every layer (every choice of the other layers' options, by
    `uses_every_layer`), the terms kept are the full programme's, and the exact optimum
    is the same.  For every pattern of four-layer erf and three-layer ReLU (mean-field)
    and cubic networks; and some must be left out (a pattern with two unrelated
    spikes reads out only terms that rely on both)."""
    import functools
    import operator

    from curse_cli.engine.energy import minimise

    dropped = same = made_lean = 0
    for act, widths, scaling in (("erf", ["1"] * 4, "standard"), ("relu", ["1", "1/2", "1"], "mean-field"),
                                 ("cubic", ["1", "1", "1"], "standard")):
        problem = load_spec_text(spec(act, widths, 3, scaling), "t.yaml").problem
        ctx, lean_ctx = Context(problem, ONE), Context(problem, ONE)   # lean first: no whole last kernel made
        for pattern in enumerate_patterns(problem.activation, problem.depth, problem.feature):
            lean, full = lean_ctx.program(pattern, lean=True), ctx.program(pattern)
            made_lean += sum(map(len, lean.kernels[-1].amplitude)) < sum(map(len, full.kernels[-1].amplitude))
            kept = set(lean.decisions[0].options)
            # the lean kernel (`Folder.readout_kernel`: only the terms with the layers
            # needed are made) reads out exactly the full kernel's terms with them
            need = full.required & ~functools.reduce(   # `energy.readout_need`, written out
                operator.or_, (o.prov for d in full.decisions[1:] for o in d.options), 0)
            assert kept == {o for o in full.decisions[0].options if o.prov & need == need}, pattern
            assert full.readout_need() == need   # what a sweep's certificates skip (`cells._Pattern.certify`)
            assert lean.decisions[1:] == full.decisions[1:]
            assert lean.kernels[-1].caveats == full.kernels[-1].caveats
            for option in full.decisions[0].options:
                if option in kept:
                    continue
                dropped += 1
                assert not any(full.uses_every_layer((option, *rest))
                               for rest in itertools.product(*(d.options for d in full.decisions[1:]))), pattern
            a, b = minimise(ctx.space, full), minimise(ctx.space, lean)
            assert (a is None) == (b is None), pattern
            if a is not None:
                assert a.solution.value == b.solution.value, pattern
                same += 1
    assert dropped > 100 and same > 50 and made_lean > 50, (dropped, same, made_lean)


def test_count_completions_counts_the_patterns_below_a_prefix():
    """`count_completions` against the patterns of three erf layers, counted one by one."""
    problem = load_spec_text(spec("erf", ["1", "1", "1"], 3, "standard"), "t.yaml").problem
    patterns = list(enumerate_patterns(problem.activation, problem.depth, problem.feature))
    for prefix in {p[:l] for p in patterns for l in range(1, 3)}:
        assert count_completions(problem.activation, prefix, 3) == sum(1 for p in patterns if p[:len(prefix)] == prefix)
