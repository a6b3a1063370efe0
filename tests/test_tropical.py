"""The exponent algebra: the Hermite product rule against numpy, dominance pruning."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial import hermite_e as H

from curse_cli.algebra.prune import _whole_view
from curse_cli.algebra.space import make_space
from curse_cli.algebra.tropical import Term, dominates, prune
from curse_cli.algebra.orders import hermite_orders
from curse_cli.algebra.scales import Monomial


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 8), st.integers(0, 8))
def test_hermite_orders_match_numpy_product(a, b):
    """He_a He_b computed by numpy (probabilists' Hermite): the orders with a non-zero
    coefficient are exactly those of the rule |a-b| <= n <= a+b, n = a+b mod 2."""
    ea = np.zeros(a + 1)
    ea[a] = 1
    eb = np.zeros(b + 1)
    eb[b] = 1
    prod = H.hermemul(ea, eb)
    present = tuple(n for n, c in enumerate(prod) if abs(c) > 1e-9)
    assert hermite_orders(a, b, 100) == present


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6))
def test_hermite_product_is_associative_in_support(a, b, c):
    """Supports of (He_a He_b) He_c and He_a (He_b He_c) agree (the product is associative)."""
    left = {n for m in hermite_orders(a, b, 100) for n in hermite_orders(m, c, 100)}
    right = {n for m in hermite_orders(b, c, 100) for n in hermite_orders(a, m, 100)}
    assert left == right


def _space():
    return make_space({"N": Fraction(1)}, {"M": (Monomial(), Monomial({"N": 1})), "q": (None, Monomial())})


def dominance_matrix(space, rows: list[Term], cols: list[Term]) -> np.ndarray:
    """`out[j, i]`: the vectorised test of whether `rows[j]` dominates `cols[i]`."""
    every = rows + cols
    vecs = np.array([t.vec for t in every], dtype=np.int64)
    provs = np.array([t.prov for t in every], dtype=np.int64)
    out = _whole_view(space, vecs, provs).matrix(np.arange(len(rows)), np.arange(len(rows), len(every)))
    if cols is rows:
        np.fill_diagonal(out, False)
    return out


small = st.integers(-3, 3)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(small, small, small, small, st.integers(0, 3)), min_size=2, max_size=7))
def test_vectorised_dominance_matches_reference(raw):
    space = _space()
    terms = [Term(tuple(2 * x for x in t[:4]), t[4]) for t in raw]
    dom = dominance_matrix(space, terms, terms)
    for j, a in enumerate(terms):
        for i, b in enumerate(terms):
            if i != j:
                assert dom[j, i] == dominates(space, a, b)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(small, small, small, small, st.integers(0, 3)), min_size=1, max_size=7),
       st.floats(0, 1), st.floats(-5, 0))
def test_prune_keeps_the_maximum(raw, m, q):
    """At any point of the box (and any provenance class), the pruned set attains the
    same maximum as the full set."""
    space = _space()
    terms = [Term(tuple(2 * x for x in t[:4]), t[4]) for t in raw]
    kept = prune(space, terms)
    assert set(kept) <= set(terms)

    def value(t):  # const, N, M, q at N = 1 (+ a tiny nudge, as the space compares)
        c, n, mm, qq = (x / space.unit for x in t.vec)
        return c + n * (1 + 1e-9) + mm * m + qq * q

    for t in terms:
        assert any(value(k) >= value(t) - 1e-6 and (t.prov & ~k.prov) == 0 for k in kept)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(small, small, small, small, st.integers(0, 3)), min_size=1, max_size=9))
def test_exact_pruning_path_agrees_with_numpy(raw):
    """Large denominators switch pruning to Python integers (`_prune_exact`); on small
    ones both paths must select the same terms."""
    from curse_cli.algebra.prune import _prune_exact, prune_arrays

    space = _space()
    vecs = np.array([[2 * x for x in t[:4]] for t in raw], dtype=np.int64)
    provs = np.array([t[4] for t in raw], dtype=np.int64)
    assert _prune_exact(space, vecs, provs) == prune_arrays(space, vecs, provs)


def test_large_denominators_do_not_overflow():
    """A scale of 17/200140 makes the unit ~4e5, and with [q] >= -20 the product
    10[q] x bound reaches ~1e19, beyond 64 bits.  The exact path must still see that
    10[q] + 1 can be negative, so `10 [q]` does not dominate the constant -1."""
    space = make_space({"N": Fraction(17, 200140)}, {"q": (Monomial({"d": -20}), Monomial())})
    assert not space.fits_int64
    u = space.unit
    ten_q = Term((0, 0, 10 * u), 0)
    minus_one = Term((-u, 0, 0), 0)
    assert set(prune(space, [ten_q, minus_one])) == {ten_q, minus_one}


def test_remembered_products_are_the_computed_ones():
    """`remembered_product` is `hermite_product` remembered in the run's memo, and a square
    (the same object twice) is kept apart from a product of two equal contents."""
    from curse_cli.algebra.memo import Memo
    from curse_cli.algebra.product import hermite_product, remembered_product

    space = make_space({"N": Fraction(1)}, {"x": (None, None), "y": (None, None)})
    ex, ey = space.form({"x": Fraction(1)}), space.form({"y": Fraction(1)})
    x = ((Term(ex, 1),), (Term(ey, 2), Term(tuple(a + b for a, b in zip(ex, ey)), 0)), ())
    twin = tuple(tuple(Term(tuple(t.vec), t.prov) for t in order) for order in x)
    memo = Memo()
    square = remembered_product(memo, space, x, x)
    assert remembered_product(memo, space, x, x) is square and len(memo) == 1
    assert square == hermite_product(space, x, x, None)
    assert remembered_product(memo, space, x, twin) == hermite_product(space, x, twin, None)
    assert remembered_product(memo, space, x, x, 2) == hermite_product(space, x, x, 2)


def test_a_product_pruned_in_parts_is_the_product_pruned_whole(monkeypatch):
    """`hermite_product` bounds its memory by making and pruning the candidate terms in
    parts (`PRODUCT_ROWS`).  Pruning a part drops only terms that pruning the whole
    drops, and survivors keep their order, so the result is the same tuple, order
    included.  Checked on the kernels of a four-layer erf network: every amplitude and
    spike content squared, times another, and at one order, in parts of 7 rows against
    parts larger than any product."""
    from curse_cli.algebra import product
    from curse_cli.engine.api import Context, Options
    from curse_cli.engine.patterns import enumerate_patterns
    from curse_cli.spec.load import load_spec_text

    text = ('architecture: {kind: fcn, activation: erf, widths: ["d", "d^(1/2)", "d", "d^2"]}\n'
            'target: {kind: hermite, degree: 3}\nscaling: mean-field\n')
    problem = load_spec_text(text, "t.yaml").problem
    ctx = Context(problem, Options(workers=1))
    contents = []
    for pattern in list(enumerate_patterns(problem.activation, 4))[::9]:
        for l in range(1, 5):
            kernel = ctx.folder.kernel(pattern[:l])
            contents.append(kernel.amplitude)
            contents += [f.content for _, f in kernel.features]
    contents = list(dict.fromkeys(c for c in contents if sum(map(len, c)) > 3))[:40]
    assert len(contents) >= 10

    def products(rows: int) -> list:
        monkeypatch.setattr(product, "PRODUCT_ROWS", rows)
        return [product.hermite_product(ctx.space, x, x) for x in contents] + [
            product.hermite_product(ctx.space, x, y, only)
            for x, y in zip(contents, contents[1:]) for only in (None, 3)]

    assert products(7) == products(10**9)


def _same_maximum(space, x, y, floors=()) -> bool:
    """Whether two contents are the same maximum order by order: every term of each is
    dominated (with its provenance, `dominates`) by a term of the other.

    With `floors` (a ReLU kernel's, pruned where the box and the floors hold,
    `floors.floor_prune`), terms that two routes compare differently, or that are equal
    on the region, may leave two routes with different terms of the same maximum.  Then the maxima are compared at
    2,000 points of that region, for every provenance: the largest term relying on at
    least the layers `P` must be the same for each `P` (dropping a term dominated by
    one relying on more layers keeps exactly these)."""
    from curse_cli.algebra.floors import floor_table, region_samples
    from test_floors import same_on_region

    table = floor_table(space, floors)
    if table:
        points = region_samples(space, table, 2000, seed=7)
        return all(same_on_region(xs, ys, points) for xs, ys in zip(x, y))
    for xs, ys in zip(x, y):
        if bool(xs) != bool(ys):
            return False
        if xs and not (dominance_matrix(space, list(ys), list(xs)).any(axis=0).all()
                       and dominance_matrix(space, list(xs), list(ys)).any(axis=0).all()):
            return False
    return True


def test_a_gfl_layer_raised_from_the_lazy_layers_powers_is_the_lazy_rule_on_the_boosted_kernel():
    """`gfl` raises the boosted amplitude `a ⊕ b` to its powers as `a^m ⊕ (a ⊕ b)^(m-1) b`
    (`power_list`'s split, reusing `a`'s powers), not by multiplying `a ⊕ b` by itself.
    Every product of `m` factors `a` or `b` is `a^m` or has a factor `b`, so the two
    are the same maximum (the truncated products lose only dominated terms, docs/theory.md
    section 9.1).  Checked against the lazy rule applied to the boosted kernel directly,
    at every GFL step of every pattern of three-layer mean-field networks (erf, a cubic
    and ReLU, whose input scales add floors), at the last layer's single order too."""
    from curse_cli.engine.api import Context, Options
    from curse_cli.algebra.tropical import content_max
    from curse_cli.engine.kernels import Kernel, gfl, lazy
    from curse_cli.engine.patterns import Mechanism, enumerate_patterns
    from curse_cli.engine.symbols import var
    from curse_cli.spec.load import load_spec_text

    checked = 0
    for act in ("erf", "cubic", "relu"):
        text = (f'architecture: {{kind: fcn, activation: {act}, widths: ["d", "d^(1/2)", "d^2"]}}\n'
                'target: {kind: hermite, degree: 3}\nscaling: mean-field\n')
        problem = load_spec_text(text, "t.yaml").problem
        ctx = Context(problem, Options(workers=1))
        folder, space = ctx.folder, ctx.space
        for pattern in enumerate_patterns(problem.activation, problem.depth):
            for l, step in enumerate(pattern, start=1):
                if step.kind is not Mechanism.GFL:
                    continue
                below = folder.kernel(pattern[:l - 1])
                f = below.feature(step.feature)
                d_form = folder.form(var("D", l, step.feature))
                fast = gfl(folder.rules, below, folder.place(l), step.feature, d_form)
                boosted = content_max(space, below.amplitude, f.amplitude(space, tuple(x // 2 for x in d_form), 1 << l))
                caps = below.caps + tuple((d_form, e.vec) for e in f.eigen)
                direct = lazy(folder.rules, Kernel(boosted, below.features, below.caveats, caps, below.floors),
                              folder.place(l), remember=False)
                assert _same_maximum(space, fast.amplitude, direct.amplitude, fast.floors), (act, pattern, l)
                assert fast.caveats == direct.caveats and fast.floors == direct.floors
                checked += 1
    assert checked > 50


def test_a_specialised_layers_powers_raised_from_its_lazy_siblings_are_its_own():
    """`Folder.powers_of` raises the amplitude of a prefix that ends in `Sp` from the
    powers of its lazy sibling's (the same prefix ending in `GP`): the specialised
    layer's amplitude is the lazy part's and the spike's, `a ⊕ sigma`, and
    `(a ⊕ sigma)^m = a^m ⊕ (a ⊕ sigma)^(m-1) sigma` (as for a GFL layer, above).
    Checked against the powers made directly, for every such prefix of three-layer
    networks (erf standard and mean-field, a cubic, ReLU), the last layer's single
    order included."""
    from curse_cli.engine.api import Context, Options
    from curse_cli.engine.kernels import lazy_powers
    from curse_cli.engine.patterns import Mechanism, enumerate_patterns
    from curse_cli.spec.load import load_spec_text

    checked = 0
    for act, scaling in (("erf", "standard"), ("erf", "mean-field"), ("cubic", "standard"), ("relu", "mean-field")):
        text = (f'architecture: {{kind: fcn, activation: {act}, widths: ["d", "d^(1/2)", "d^2"]}}\n'
                f'target: {{kind: hermite, degree: 3}}\nscaling: {scaling}\n')
        problem = load_spec_text(text, "t.yaml").problem
        folder = Context(problem, Options(workers=1)).folder
        prefixes = {p[:l] for p in enumerate_patterns(problem.activation, problem.depth)
                    for l in range(1, problem.depth)}
        for prefix in sorted(prefixes, key=len):
            if prefix[-1].kind is not Mechanism.SP:
                continue
            fast = folder.powers_of(prefix)
            direct = lazy_powers(folder.rules, folder.kernel(prefix), folder.only(len(prefix) + 1))
            assert fast.keys() == direct.keys()
            floors = folder.kernel(prefix).floors
            for m in fast:
                assert _same_maximum(folder.space, fast[m], direct[m], floors), (act, scaling, prefix, m)
            checked += 1
    assert checked >= 20, checked


def test_the_power_chain_squares_only_where_the_power_below_is_not_needed():
    """`power_chain` (hand-derived): ReLU's lazy rule uses the powers 1, 2 and 4, so
    `base^4 = (base^2)^2` and no cube is made; erf's 1 and 3, a full support and a
    polynomial's single power are made one step at a time, as before."""
    from curse_cli.engine.powers import power_chain

    assert power_chain([1, 2, 4]) == {1: 0, 2: 0, 4: 2}
    assert power_chain([1, 2, 4, 6]) == {1: 0, 2: 0, 3: 0, 4: 2, 6: 3}
    assert power_chain([1, 3]) == {1: 0, 2: 0, 3: 0}
    assert power_chain([1, 2, 3, 4, 5]) == {m: 0 for m in range(1, 6)}
    assert power_chain([2]) == {1: 0, 2: 1}
    assert power_chain([]) == {1: 0}


def _repeated_products(space, x, up_to, only=None):
    """`[x, x^2, ..., x^up_to]`, one factor at a time, every pair of orders multiplied
    (`closed=False`) and pruned on the box alone; the last power at order `only`."""
    from curse_cli.algebra.product import hermite_product

    out = [x]
    for j in range(2, up_to + 1):
        out.append(hermite_product(space, out[-1], x, only if j == up_to else None, closed=False))
    return out


def test_powers_are_the_repeated_products():
    """`power_list` against the reference `_repeated_products`, which multiplies by the
    base one factor at a time, every pair of orders, and prunes on the box alone: the
    same maxima, for every provenance, wherever the box and the floors hold
    (`_same_maximum`).  For ReLU's powers 1, 2, 4 (the fourth a square of the second,
    `power_chain`), erf's 1 and 3 (the cube from the square's order-2 part times the
    base's order 1 alone, `orders.power_pairs`) and every power up to 5 (a polynomial's);
    for the amplitude of every prefix of up to two layers of a three-layer ReLU network
    (with floors from the second layer on) and of an erf network (no floors), whole and
    at the last order alone; and for the split `base = a ⊕ b` (a prefix ending in `Sp`,
    raised from its lazy sibling's powers: the square is then `a^4 ⊕ c_2 base^2`)."""
    from curse_cli.engine.api import Context, Options
    from curse_cli.engine.powers import Reuse, power_list
    from curse_cli.engine.patterns import GP, Mechanism, enumerate_patterns
    from curse_cli.spec.load import load_spec_text

    checked = split = 0
    for act in ("relu", "erf"):
        text = (f'architecture: {{kind: fcn, activation: {act}, widths: ["d", "d^(1/2)", "d"]}}\n'
                'target: {kind: hermite, degree: 3}\nscaling: mean-field\n')
        problem = load_spec_text(text, "t.yaml").problem
        folder = Context(problem, Options(workers=1)).folder
        space = folder.space
        prefixes = {p[:l] for p in enumerate_patterns(problem.activation, problem.depth)
                    for l in range(0, problem.depth)}   # kernels made whole (the last is read at one order)
        for prefix in sorted(prefixes, key=len):
            kernel = folder.kernel(prefix)
            for needed, only in product(([1, 2, 4], [1, 3], [1, 2, 3, 4, 5]), (None, 3)):
                made = power_list(folder.rules, kernel.amplitude, needed, only, floors=kernel.floors)
                reference = _repeated_products(space, kernel.amplitude, max(needed), only)
                assert set(needed) <= set(made)
                for m in needed[1:]:
                    assert _same_maximum(space, made[m], reference[m - 1], kernel.floors), (act, prefix, only, m)
                checked += 1
                if prefix and prefix[-1].kind is Mechanism.SP:
                    sibling = folder.kernel(prefix[:-1] + (GP,))
                    sigma = kernel.feature(f"sigma{len(prefix)}")
                    a_powers = power_list(folder.rules, sibling.amplitude, needed, only, floors=sibling.floors)
                    raised = power_list(folder.rules, kernel.amplitude, needed, only, floors=kernel.floors,
                                        reuse=Reuse(split=(a_powers, sigma.amplitude(space))))
                    for m in needed[1:]:
                        assert _same_maximum(space, raised[m], reference[m - 1], kernel.floors), (act, prefix, m)
                    split += 1
    assert checked >= 60 and split >= 12, (checked, split)


def test_equal_orders_of_a_product_are_one_polynomial():
    """`hermite_product` prunes orders whose candidates come from the same factor
    polynomials once: erf's square has the products of two order-1 terms at orders 0
    and 2 (the same object), and the cube made from it has one polynomial at orders 1
    and 3.  Checked on an erf amplitude, with the cube against the reference."""
    from curse_cli.engine.api import Context, Options
    from curse_cli.engine.powers import power_list
    from curse_cli.engine.patterns import GP, Mechanism, Step
    from curse_cli.spec.load import load_spec_text

    text = ('architecture: {kind: fcn, activation: erf, widths: ["d", "d", "d"]}\n'
            'target: {kind: hermite, degree: 3}\nscaling: standard\n')
    folder = Context(load_spec_text(text, "t.yaml").problem, Options(workers=1)).folder
    amplitude = folder.kernel((Step(Mechanism.SP, "z"), GP)).amplitude
    assert [bool(t) for t in amplitude] == [False, True, False, True]
    made = power_list(folder.rules, amplitude, [1, 3])
    assert made[2][0] is made[2][2] and made[3][1] is made[3][3]
    assert _same_maximum(folder.space, made[3], _repeated_products(folder.space, amplitude, 3)[2])


def _engine_contents():
    """Every prefix kernel's amplitude and named components' contents of three-layer
    networks (erf standard and mean-field, a cubic, ReLU), with the kernel's floors:
    the contents `hermite_product` multiplies."""
    from curse_cli.engine.api import Context, Options
    from curse_cli.engine.patterns import enumerate_patterns
    from curse_cli.spec.load import load_spec_text

    for act, scaling in (("erf", "standard"), ("erf", "mean-field"), ("cubic", "standard"), ("relu", "mean-field")):
        text = (f'architecture: {{kind: fcn, activation: {act}, widths: ["d", "d^(1/2)", "d^2"]}}\n'
                f'target: {{kind: hermite, degree: 3}}\nscaling: {scaling}\n')
        problem = load_spec_text(text, "t.yaml").problem
        folder = Context(problem, Options(workers=1)).folder
        prefixes = {p[:l] for p in enumerate_patterns(problem.activation, problem.depth) for l in range(problem.depth)}
        for prefix in sorted(prefixes, key=len):
            kernel = folder.kernel(prefix)
            for content in (kernel.amplitude, *(f.content for _, f in kernel.features)):
                yield act, folder.space, content, kernel.floors


def test_every_content_the_engine_multiplies_is_downward_closed():
    """The precondition of `hermite_product`'s skipped order pairs (docs/theory.md section
    9.1), checked on the contents themselves: every term at order `n >= 2` lies below a
    term at order `n - 2` that relies on at least its layers, at 400 points of the region
    where the kernel is read (the box and, for ReLU, its floors), for every prefix of
    four three-layer networks."""
    from curse_cli.algebra.floors import floor_table, region_samples

    checked = 0
    for act, space, content, floors in _engine_contents():
        table = floor_table(space, floors) or ()
        points = region_samples(space, table, 400, seed=3)
        for n in range(2, len(content)):
            if not content[n]:
                continue
            below = np.array([t.vec for t in content[n - 2]], dtype=float) @ points
            for term in content[n]:
                value = np.array(term.vec, dtype=float) @ points
                assert any((term.prov & ~u.prov) == 0 and (row >= value - 1e-9).all()
                           for u, row in zip(content[n - 2], below)), (act, n, term)
                checked += 1
    assert checked > 150, checked


def test_skipping_the_order_pairs_a_lower_pair_reaches_keeps_the_product():
    """`hermite_product` of downward-closed contents (the default) against the product
    over every pair of orders (`closed=False`): the same maxima, for every provenance,
    on the region (`_same_maximum`), for squares and for products with the amplitude's
    components, of every prefix of four three-layer networks, whole and at order 3."""
    from functools import partial

    from curse_cli.algebra.floors import floor_region
    from curse_cli.algebra.memo import Memo
    from curse_cli.algebra.product import hermite_product

    checked = 0
    for act, space, content, floors in _engine_contents():
        region = floor_region(Memo(), space, floors)
        prune_rows = region.prune_rows if region is not None else None
        product = partial(hermite_product, prune_rows=prune_rows)
        for only in (None, 3):
            skipped = product(space, content, content, only)
            every = product(space, content, content, only, closed=False)
            assert _same_maximum(space, skipped, every, floors), (act, only)
            checked += 1
    assert checked > 100, checked


def test_few_rows_path_matches_the_general_path_and_the_reference():
    """`_prune_few` (at most CHUNK rows: classes in a dict, all pairs at once in floats)
    selects the same rows, in the same order, as the general numpy path and as the
    pair-by-pair reference built from `dominates`.  Random spaces with missing, pinned
    and crossed bounds; rows drawn from small pools, so that copies, exact ties
    (mutually dominating rows, classes of equal free part) and provenance covers are
    common; provenance from a few bits, so that a row often lacks another's layers."""
    import random

    from curse_cli.algebra.prune import CHUNK, _prune_few, _prune_general
    from tests.test_prune import _rows, _space as random_space, reference

    rng = random.Random(20261130)
    compared = 0
    for case in range(600):
        space = random_space(rng, box=False)
        m = rng.choice((2, 3, 4, 6, 9, 17, 40, CHUNK))
        vecs, provs = _rows(rng, space, m)
        if rng.random() < 0.3:   # shift some copies by a constant: classes with a strict best
            vecs[rng.randrange(m), 0] += rng.choice((-1, 1)) * space.unit
        if rng.random() < 0.3:
            provs = np.array([rng.choice((0, 1, 3)) for _ in range(m)], dtype=np.int64)
        few = _prune_few(space, vecs, provs)
        if few is None:
            continue
        compared += 1
        assert few == _prune_general(space, vecs, provs) == reference(space, vecs, provs), f"case {case}"
    assert compared > 500


def test_merging_two_pruned_sets_is_their_maximum():
    """`merge` (only the pairs across two pruned sets are tested) gives `tmax` of them:
    the same terms in the same order.  Both sets are pruned from rows of one small
    pool, so that copies, class mates (same free part and provenance, different
    constant) and mutually dominating terms across the two are common; spaces with
    missing, pinned and crossed bounds, some with a box and some past CHUNK terms
    (where `merge` defers to `tmax`)."""
    import random

    from curse_cli.algebra.prune import CHUNK
    from curse_cli.algebra.tropical import content_merge, merge, tmax
    from tests.test_prune import _rows, _space as random_space

    rng = random.Random(7)
    crossing = 0
    for case in range(500):
        space = random_space(rng, box=case % 10 == 0)
        m = rng.choice((2, 4, 10, 30, 60, 2 * CHUNK))
        vecs, provs = _rows(rng, space, m)
        vecs[rng.randrange(m), 0] += space.unit   # a class mate with a larger constant
        terms = [Term(tuple(int(v) for v in row), int(p)) for row, p in zip(vecs, provs)]
        cut = rng.randrange(m + 1)
        x, y = prune(space, terms[:cut]), prune(space, rng.sample(terms, m - cut))
        want = prune(space, list(x) + list(y))   # not tmax, which merges pruned operands itself
        assert merge(space, x, y) == want == tmax(space, x, y), f"case {case}"
        assert content_merge(space, (x, y, ()), (y, x, x)) == tuple(
            prune(space, list(a) + list(b)) for a, b in zip((x, y, ()), (y, x, x)))
        crossing += len(want) < len(x) + len(y) <= CHUNK
    assert crossing > 150


def test_tmax_and_remembered_arrays_agree_with_pruning_the_terms():
    """`tmax` concatenates the arrays its polynomials carry (`Held`, `trop_arrays`)
    instead of converting the terms again, and merges two known to be pruned in its
    space: the result is `prune` of all the terms in order, and a carried array is
    always the polynomial's own."""
    import random

    from curse_cli.algebra.tropical import _arrays, tmax, trop_arrays
    ARRAY_MEMORY = 512
    from tests.test_prune import _rows, _space as random_space

    rng = random.Random(11)
    made = []
    for case in range(3 * ARRAY_MEMORY // 4):
        space = random_space(rng, box=case % 7 == 0)
        trops = []
        for _ in range(rng.randint(0, 4)):
            m = rng.choice((0, 1, 1, 3, 8))
            vecs, provs = _rows(rng, space, m) if m else (np.zeros((0, space.size), dtype=np.int64), np.zeros(0))
            trops.append(tuple(Term(tuple(int(v) for v in row), int(p)) for row, p in zip(vecs, provs)))
        out = tmax(space, *trops)
        assert out == prune(space, [t for trop in trops for t in trop]), f"case {case}"
        assert tmax(space, *trops) == out   # plain tuples: not known to be pruned, no merge
        pruned = [prune(space, trop) for trop in trops]   # pruned in the space: tmax merges them
        assert tmax(space, *pruned) == prune(space, [t for trop in pruned for t in trop]), f"case {case}"
        other = space.with_point({n: Fraction(rng.randint(0, 3)) for n in space.scales})   # pruned elsewhere
        elsewhere = [prune(other, trop) for trop in trops]
        assert tmax(space, *elsewhere) == prune(space, [t for trop in elsewhere for t in trop]), f"case {case}"
        made.append(out)
        made = made[-2 * ARRAY_MEMORY:]
        for trop in rng.sample(made, min(len(made), 5)):
            if trop:
                vecs, provs = trop_arrays(trop)
                want_vecs, want_provs = _arrays(trop)
                assert (vecs == want_vecs).all() and (provs == want_provs).all()
