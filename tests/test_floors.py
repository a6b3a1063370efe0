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
    monkeypatch.setattr(fl, "floor_region", lambda memo, space, named: None)
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
    from curse_cli.algebra.space import make_space
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
    """The region is inside the box, so the substitution test (`at_least_zero`) accepts
    the difference of every pair `dominates` accepts (whose provenance it has checked).
    Checked on the pairwise sums of one order of a real kernel's terms (an unpruned
    product: many of its terms dominate others on the box)."""
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
                assert fl.at_least_zero(space, tuple(x - y for x, y in zip(a.vec, b.vec)), table)
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
        m.setattr(fl, "floor_region", lambda memo, space, named: None)
        plain = predict(problem, Options(workers=1))

    def table(pred):
        return sorted((r.name, r.exponent, str(r.energy), r.status) for r in pred.patterns)

    assert len(pruned.patterns) == 51
    assert table(pruned) == table(plain)
    assert pruned.p_star_exponent == plain.p_star_exponent


def _near_pairs(space, kernel, table, rng, count):
    """Pairs of terms of a kernel's amplitude (same order) at least equal at every
    sample point of the region: the pairs `_greedy` gives the complete test."""
    samples = fl.region_samples(space, table)
    out = []
    for order in kernel.amplitude:
        if len(order) < 2:
            continue
        vecs = np.array([t.vec for t in order], dtype=np.int64)
        values = vecs @ samples
        near = (values[:, None, :] >= values[None, :, :] - 1e-9).all(axis=2)
        np.fill_diagonal(near, False)
        j, i = np.nonzero(near)
        for k in rng.permutation(len(j))[:count]:
            out.append(vecs[j[k]] - vecs[i[k]])
    return out


@pytest.mark.parametrize("direct", [True, False])
def test_the_complete_test_agrees_with_a_linear_programme(monkeypatch, direct):
    """`Programme.at_least_zero` against scipy's `linprog` on the region (`_region_minimum`,
    at the point): every difference it accepts is `>= 0` there (sound), every
    difference whose minimum is clearly positive is accepted (complete; a minimum of
    exactly zero is decided along the direction, which the reference does not see), and
    it accepts many that the substitution test (`at_least_zero`) does not.  Pairs from
    real three-layer ReLU kernels, pruned on the box only, that the samples leave; with
    scipy's bundled HiGHS (`direct`) and with the public `linprog` path."""
    from curse_cli.solve import highs

    if not direct:
        monkeypatch.setattr(highs, "FAST", False)
    folder = _unpruned(monkeypatch, _relu(3))
    space = folder.space
    rng = np.random.default_rng(2)
    accepted = beyond_substitution = clear = 0
    for name, kernel in _kernels(folder):
        table = fl.floor_table(space, kernel.floors)
        if not table:
            continue
        programme = fl.Programme(space, table)
        assert (programme.warm is None) != direct
        for delta in _near_pairs(space, kernel, table, rng, 12 if direct else 4):
            verdict = programme.at_least_zero(delta)
            low = _region_minimum(space, tuple(int(x) for x in delta), table)
            if verdict:
                accepted += 1
                assert low >= -1e-9, (name, delta)
                beyond_substitution += not fl.at_least_zero(space, tuple(int(x) for x in delta), table)
            if low > 1e-6:
                clear += 1
                assert verdict, (name, delta, low)
    assert accepted > (150 if direct else 50) and beyond_substitution > (30 if direct else 10) and clear > 20, \
        (accepted, beyond_substitution, clear)


def test_a_certificate_is_checked_exactly_and_needs_nonnegative_weights():
    """`certified` on a hand-made region: `a` in `[0, [N]]` (N = 1), a size `s` above
    its floors `0` and `a`.  `s - a >= 0` there, and the weights (0, 1) prove it;
    (1, 0) do not (they leave `-a`).  `s - 2a` is negative at `a = s = 1`: no weights
    prove it.  And `-s` is negative for every `s`: the weight -1 on the floor `s >= 0`
    would turn it into zero, so a negative weight must be refused."""
    from fractions import Fraction
    from curse_cli.algebra.space import make_space
    from curse_cli.algebra.scales import Monomial

    space = make_space({"N": Fraction(1)}, {"a": (Monomial(), Monomial({"N": Fraction(1)})), "s": (None, None)})
    u = space.unit

    def form(**coefficients):
        vec = [0] * space.size
        for name, value in coefficients.items():
            vec[space.index(name)] = int(value * u)
        return tuple(vec)

    table = fl.floor_table(space, [("s", Term(form(), 0)), ("s", Term(form(a=1), 0))])
    assert fl.certified(space, form(s=1, a=-1), table, [Fraction(0), Fraction(1)])
    assert not fl.certified(space, form(s=1, a=-1), table, [Fraction(1), Fraction(0)])
    grid = [Fraction(k, 4) for k in range(9)]
    assert not any(fl.certified(space, form(s=1, a=-2), table, [x, y]) for x in grid for y in grid)
    assert not fl.certified(space, form(s=-1), table, [Fraction(-1), Fraction(0)])
    programme = fl.Programme(space, table)
    assert programme.at_least_zero(np.array(form(s=1, a=-1)))
    assert not programme.at_least_zero(np.array(form(s=1, a=-2)))
    assert not programme.at_least_zero(np.array(form(s=-1)))
    assert programme.at_least_zero(np.array(form(s=2, a=-1)))   # weights (1, 1)


def test_pruning_on_the_floors_leaves_no_term_another_kept_term_dominates(monkeypatch):
    """Completeness of a whole prune: in every amplitude order of the three-layer ReLU
    prefixes pruned on its floors, no kept term is below another kept term (relying on
    at least its layers) by a positive margin everywhere on the region, by `linprog`
    (`_region_minimum`).  The substitution test alone left such pairs."""
    folder = _unpruned(monkeypatch, _relu(3))
    space = folder.space
    pairs = 0
    for name, kernel in _kernels(folder):
        table = fl.floor_table(space, kernel.floors)
        if not table:
            continue
        pruned = fl.Region(table, fl.region_samples(space, table)).prune(space, kernel.amplitude)
        for order in pruned:
            for a in order:
                for b in order:
                    if a is b or b.prov & ~a.prov:
                        continue
                    pairs += 1
                    low = _region_minimum(space, tuple(x - y for x, y in zip(a.vec, b.vec)), table)
                    assert low <= 1e-6, (name, a, b, low)
    assert pairs > 100, pairs


def test_the_floors_reaching_a_content_give_the_same_region_on_its_sizes(monkeypatch):
    """`reaching` keeps the floors that bound a size of the content (and the floors
    of their sizes): for differences of the content's terms, the minimum over the box
    and those floors is the minimum over the box and all the kernel's floors
    (`linprog`), and it drops floors for the features of the deepest kernels."""
    folder = _unpruned(monkeypatch, _relu(3))
    space = folder.space
    rng = np.random.default_rng(4)
    compared = dropped = 0
    for name, kernel in _kernels(folder):
        if not kernel.floors:
            continue
        whole = fl.floor_table(space, kernel.floors)
        for _, feature in kernel.features:
            named = fl.reaching(space, kernel.floors, feature.content)
            dropped += len(named) < len(kernel.floors)
            terms = [t for order in feature.content for t in order]
            if len(terms) < 2:
                continue
            part = fl.floor_table(space, named)
            for i, j in rng.choice(len(terms), size=(6, 2)):
                delta = tuple(x - y for x, y in zip(terms[i].vec, terms[j].vec))
                low_all = _region_minimum(space, delta, whole)
                low_part = _region_minimum(space, delta, part) if part else _region_minimum(space, delta, ())
                assert low_all == pytest.approx(low_part, abs=1e-9), (name, delta)
                compared += 1
    assert compared > 20 and dropped > 5, (compared, dropped)


def _hand_made():
    """A region by hand: `a` in `[0, [N]]` (N = 1), sizes `s >= a` and `r >= s` (so
    `r`'s floor mentions `s`), and a form builder in the space's units."""
    from fractions import Fraction
    from curse_cli.algebra.space import make_space
    from curse_cli.algebra.scales import Monomial

    space = make_space({"N": Fraction(1)}, {"a": (Monomial(), Monomial({"N": Fraction(1)})),
                                            "s": (None, None), "r": (None, None)})

    def form(**coefficients):
        vec = [0] * space.size
        for name, value in coefficients.items():
            vec[space.index(name)] = int(value * space.unit)
        return tuple(vec)

    return space, form


def test_the_floors_reaching_a_content_follow_the_floors_of_floors():
    """A content carrying `r` alone still needs `s >= a`: `r`'s floor is `s`.  With both
    floors `r - a >= 0`; without `s`'s, `s` (hence `r`) could be as low as wanted."""
    space, form = _hand_made()
    named = (("s", Term(form(a=1), 0)), ("r", Term(form(s=1), 0)))
    content = ((Term(form(r=1), 0),),)
    assert fl.reaching(space, named, content) == named
    assert fl.reaching(space, named, ((Term(form(a=1), 0),),)) == ()
    assert fl.reaching(space, named, ((Term(form(s=1), 0),),)) == named[:1]
    programme = fl.Programme(space, fl.floor_table(space, fl.reaching(space, named, content)))
    assert programme.at_least_zero(np.array(form(r=1, a=-1)))


def test_a_wrong_float_answer_cannot_make_the_complete_test_accept(monkeypatch):
    """The programme's float minimum only chooses the weights: told (falsely) that
    `s - 2a` has its minimum at a point where it is positive, with any weights, the
    test still refuses it, since no weights pass `certified`; told the truth about
    `s - a`, it accepts."""
    space, form = _hand_made()
    table = fl.floor_table(space, [("s", Term(form(a=1), 0))])
    programme = fl.Programme(space, table)
    delta = np.array(form(s=1, a=-2))
    for weight in (0.0, 0.5, 1.0, 2.0):
        monkeypatch.setattr(programme, "_minimum", lambda c, w=weight: (np.array([0.0, 5.0, 0.0]), np.array([w])))
        assert not programme.at_least_zero(delta)
    monkeypatch.setattr(programme, "_minimum", lambda c: (np.array([0.0, 5.0, 0.0]), np.array([1.0])))
    assert programme.at_least_zero(np.array(form(s=1, a=-1)))
