"""Pruning where every programme is: on the box and above the input-scale floors of a
homogeneous activation (`algebra.floors`, docs/theory.md section 9.4).

The references are independent of the pruning code: a linear programme (scipy) for the
minimum of a difference over the region, and the maxima of whole contents compared at
points of the region."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from curse_cli.algebra import floors as fl
from curse_cli.algebra.tropical import Term, dominates
from curse_cli.engine.api import Context, Options, predict
from curse_cli.engine.patterns import enumerate_patterns, pattern_name
from curse_cli.spec.load import load_spec_text


def _relu(depth: int, widths: str = "1") -> str:
    names = [f"N{i}" for i in range(1, depth + 1)]
    scales = "".join(f"  {n}: {widths}\n" for n in names)
    return (f"architecture: {{kind: fcn, activation: relu, widths: [{', '.join(names)}]}}\n"
            f"target: {{kind: hermite, degree: 3}}\nscaling: standard\nscales:\n{scales}")


def _unpruned(monkeypatch, text: str):
    """A folder whose kernels are pruned on the box alone (the floors switched off)."""
    monkeypatch.setattr(fl, "floor_region", lambda space, named: None)
    problem = load_spec_text(text, "t.yaml").problem
    return Context(problem, Options(workers=1)).folder


def _kernels(folder):
    """The kernel of every prefix and pattern, with its name (the last layer's at the
    target's order alone)."""
    problem = folder.problem
    prefixes = {p[:l] for p in enumerate_patterns(problem.activation, problem.depth)
                for l in range(1, problem.depth + 1)}
    return [(pattern_name(p), folder.kernel(p)) for p in sorted(prefixes, key=lambda p: (len(p), pattern_name(p)))]


def _region_minimum(space, delta, table) -> float:
    """The minimum of the form `delta` over the box (values at the spec's point) and
    the floors, by a linear programme over the free sizes; -inf when unbounded."""
    f, unit = space.first_variable, space.unit
    point = np.array(space.point[:f], dtype=float) / unit
    bounds = [(None if lo is None else lo[0] / unit**2, None if hi is None else hi[0] / unit**2)
              for lo, hi in zip(space.lower, space.upper)]
    rows, rhs = [], []
    for col, forms in table:
        for form in forms:   # form(x) - s <= 0
            row = np.array(form[f:], dtype=float) / unit
            row[col - f] -= 1.0
            rows.append(row)
            rhs.append(-float(np.dot(form[:f], point)) / unit)
    c = np.array(delta[f:], dtype=float) / unit
    res = linprog(c, A_ub=np.array(rows) if rows else None, b_ub=np.array(rhs) if rows else None,
                  bounds=bounds, method="highs")
    if res.status == 3:
        return -np.inf
    assert res.status == 0, res.message
    return res.fun + float(np.dot(delta[:f], point)) / unit


def test_floor_domination_holds_on_the_region_and_the_fast_test_agrees(monkeypatch):
    """For pairs of terms of real three-layer ReLU kernels (pruned on the box only):
    whenever `at_least_zero` accepts the difference, a linear programme finds it `>= 0`
    on the box and the floors (a sound test); the vectorised `pairs_at_least_zero`
    decides every pair exactly as the reference; and the floors do work the box cannot
    (many pairs accepted that `dominates` rejects)."""
    folder = _unpruned(monkeypatch, _relu(3))
    space = folder.space
    accepted = beyond_box = checked = 0
    rng = np.random.default_rng(1)
    for name, kernel in _kernels(folder):
        table = fl.floor_table(space, kernel.floors)
        if not table:
            continue
        samples = fl.region_samples(space, table)
        terms = [t for order in kernel.amplitude for t in order]
        picks = rng.choice(len(terms), size=(min(100, len(terms) ** 2), 2))
        deltas = np.array([terms[i].vec for i, _ in picks], dtype=np.int64) - \
            np.array([terms[j].vec for _, j in picks], dtype=np.int64)
        fast = fl.pairs_at_least_zero(space, deltas, table, samples)
        for (i, j), by_numpy in zip(picks, fast):
            a, b = terms[i], terms[j]
            delta = tuple(x - y for x, y in zip(a.vec, b.vec))
            reference = fl.at_least_zero(space, delta, table)
            assert by_numpy == reference, (name, a, b)
            checked += 1
            if reference:
                accepted += 1
                assert _region_minimum(space, delta, table) >= -1e-9, (name, a, b)
                beyond_box += not dominates(space, Term(delta, 0), Term((0,) * len(delta), 0))
    assert checked > 2000 and accepted > 200 and beyond_box > 100, (checked, accepted, beyond_box)


def test_region_samples_lie_in_the_region(monkeypatch):
    """The sample points respect every bound of the box and every floor."""
    folder = _unpruned(monkeypatch, _relu(3))
    space = folder.space
    f, unit = space.first_variable, space.unit
    for _, kernel in _kernels(folder):
        table = fl.floor_table(space, kernel.floors)
        if not table:
            continue
        x = fl.region_samples(space, table, 500, seed=3)
        for i, (lo, hi) in enumerate(zip(space.lower, space.upper)):
            if lo is not None:
                assert (x[f + i] >= lo[0] / unit**2 - 1e-12).all()
            if hi is not None:
                assert (x[f + i] <= hi[0] / unit**2 + 1e-12).all()
        for col, forms in table:
            for form in forms:
                assert (x[col] >= np.array(form, dtype=float) @ x / unit - 1e-9).all()


def test_the_floor_order_substitutes_each_size_before_the_sizes_its_floors_mention():
    """`floor_table` orders the sizes so that a size's floors mention only later ones,
    dedupes forms, and gives up (None) on floors that mention one another in a cycle."""
    from curse_cli.algebra.tropical import make_space
    from curse_cli.algebra.scales import Monomial
    from fractions import Fraction

    space = make_space({"N": Fraction(1)}, {"a": (Monomial(), None), "b": (Monomial(), None),
                                            "c": (Monomial(), None)})
    ia, ib, ic = (space.index(v) for v in ("a", "b", "c"))

    def form(**coefficients):
        vec = [0] * space.size
        for name, value in coefficients.items():
            vec[space.index(name)] = value
        return Term(tuple(vec), 0)

    table = fl.floor_table(space, [("b", form(a=1)), ("c", form(b=2)), ("c", form(a=1)), ("c", form(b=2)),
                                   ("a", form(N=1))])
    assert [col for col, _ in table] == [ic, ib, ia]
    assert len(dict(table)[ic]) == 2
    assert fl.floor_table(space, [("a", form(b=1)), ("b", form(a=1))]) is None


def same_on_region(x, y, points) -> bool:
    """Whether two tropical polynomials have, for every provenance `P` present, the same
    largest term relying on at least the layers `P` at every point (`points`: columns
    of `region_samples`): the invariant pruning with provenance keeps, since a term is
    dropped only below one relying on at least its layers.  Also used by
    tests/test_tropical.py."""
    for p in {t.prov for t in x + y}:
        mx = [t.vec for t in x if t.prov & p == p]
        my = [t.vec for t in y if t.prov & p == p]
        if bool(mx) != bool(my):
            return False
        if mx and not np.allclose((np.array(mx) @ points).max(axis=0), (np.array(my) @ points).max(axis=0)):
            return False
    return True


def test_pruning_on_the_floors_keeps_the_maximum_and_drops_most_terms(monkeypatch):
    """Every amplitude of every three-layer ReLU prefix, pruned on its floors, is the
    same maximum (with provenance) at 2,000 points of the region as the amplitude pruned
    on the box alone, and much smaller: the chain `Sp(z)-Sp(sigma1)-GP` holds about
    185 terms per order on the box; on the floors, a few tens at most."""
    folder = _unpruned(monkeypatch, _relu(3))
    space = folder.space
    before = after = 0
    chain = False
    for name, kernel in _kernels(folder):
        table = fl.floor_table(space, kernel.floors)
        if not table:
            continue
        points = fl.region_samples(space, table, 2000, seed=11)
        pruned = fl.Region(table, fl.region_samples(space, table)).prune(space, kernel.amplitude)
        for x, y in zip(kernel.amplitude, pruned):
            assert same_on_region(x, y, points), name
            assert set(y) <= set(x)
            before, after = before + len(x), after + len(y)
        if name == "Sp(z)-Sp(sigma1)-GP":
            assert len(kernel.amplitude[3]) > 150 and len(pruned[3]) < 30
            chain = True
    assert chain and after * 4 < before, (before, after)


def test_a_term_dominated_on_the_box_is_also_dominated_on_the_floors(monkeypatch):
    """The region is inside the box, so `floor_dominates` accepts every pair `dominates`
    accepts.  Checked on the pairwise sums of one order of a real kernel's terms (an
    unpruned product: many of its terms dominate others on the box)."""
    folder = _unpruned(monkeypatch, _relu(3))
    space = folder.space
    kernel = dict(_kernels(folder))["Sp(z)-GP"]
    table = fl.floor_table(space, kernel.floors)
    order = kernel.amplitude[1]
    terms = [Term(tuple(x + y for x, y in zip(a.vec, b.vec)), a.prov | b.prov) for a in order for b in order]
    on_box = 0
    for a in terms:
        for b in terms:
            if a != b and dominates(space, a, b):
                assert fl.floor_dominates(space, a, b, table)
                on_box += 1
    assert on_box >= 10, on_box


@pytest.mark.parametrize("widths", ["1", "2"])
def test_pruning_on_the_floors_changes_no_exponent(monkeypatch, widths):
    """Every pattern of a three-layer ReLU network (`--all`) gets the same exponent,
    the same formula and the same verdict with the kernels pruned on the floors as with
    the box alone (docs/theory.md section 9.4: a term dropped is below one kept
    wherever a programme can be)."""
    problem = load_spec_text(_relu(3, widths), "t.yaml").problem
    pruned = predict(problem, Options(workers=1))
    with monkeypatch.context() as m:
        m.setattr(fl, "floor_region", lambda space, named: None)
        plain = predict(problem, Options(workers=1))

    def table(pred):
        return sorted((r.name, r.exponent, str(r.energy), r.status) for r in pred.patterns)

    assert len(pruned.patterns) == 51
    assert table(pruned) == table(plain)
    assert pruned.p_star_exponent == plain.p_star_exponent
