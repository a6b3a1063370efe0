"""Kernel states and the propagation rules (docs/theory.md sections 4 and 5).

A kernel is a sum of rank-one components `lambda_e e e^T`.  Write each as `v v^T` with
`v = sqrt(lambda_e) e`: the coefficient of `He_n(z)` in `v` has exponent
`a_e[n] = [lambda_e]/2 + c_e[n]` (its *amplitude*).  Hadamard products of components
multiply the `v`s, so amplitudes compose by the Hermite product rule, and the readout
`<y|K|y> = sum_e <y|v_e>^2` has exponent `2 max_e a_e[k]`.  Both only need the maximum
over components, order by order: a `Kernel` keeps that aggregate, plus the named
spectral components (`z`, the spikes `sigma_l`) that a layer can specialise on or
amplify, with their eigenvalue and Hermite content.

Each rule is a function `(rules, kernel, place, ...) -> kernel` of one `Rules` value (space,
activation, truncation, what is needed) and the `Place` it applies at; a pattern is a
fold over layers.

Truncation (docs/theory.md section 9).  Raising the safe truncation (`safe_truncation`)
changes neither P* nor the winners nor the exponent of any pattern it scores, because:

* *Orders up to `k` suffice.*  Every content built here is downward closed: each term
  at order `n >= 2` is dominated, with its provenance, by a term at order `n - 2` (true
  of `z`, kept by maxima, shifts and Hermite products).  Then order `n` of a product
  `x y` is reached from factor orders `<= max(n, 1)`: lower both factors by two while
  the sum stays `>= n`, and a lone `(n + 1, 1)` to `(n - 1, 1)`.  So orders above the
  target's never raise an order `<= k` anywhere, and the largest exponent over all
  orders (the input scale `[s]`) is that of orders 0 and 1.
* *Powers.*  A finite support (polynomials) is used whole.  An infinite series
  `u_m` (erf's and tanh's odd powers, ReLU's even ones) whose terms are all `<= 0`
  wherever a programme can be (checked on its top terms, on the free sizes' box and
  through each GFL cap `[D] + [lambda] <= 0`) needs powers up to `k + 1` only: a
  product of `r >= n + 2` factors reaching order `n` is dominated in value by one of
  `r - 2` factors (`_certified`).  ReLU's factors are `<= 0` once normalised by the input
  scale (`lazy`, `spike_content`: docs/theory.md section 9).  The higher powers add terms
  that are no larger but rely on more layers; they can only let a pattern that uses a
  layer nominally score (inconsistent at the default), never below the simpler
  pattern, so the prediction does not depend on them.
* What is not certified is marked on the kernel (`Caveat`) and becomes a warning.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

from curse_cli.archs.problem import Activation, ActivationKind, Support
from curse_cli.algebra import floors as floor_rules
from curse_cli.engine.powers import (Caveat, Place, Reuse, Rules, Scale, Truncation, power_chain, power_list,
                                     relying_on, used_powers)
from curse_cli.algebra.space import Space
from curse_cli.algebra.tropical import (Content, Term, Trop, content_max, content_merge, content_shift, prune, shift,
                                       tmax)

Z = "z"


def spike_name(layer: int) -> str:
    return f"sigma{layer}"


class Feature(NamedTuple):
    """A named spectral component: its eigenvalue exponent and its Hermite content."""

    eigen: Trop
    content: Content

    def amplitude(self, space: Space, extra: tuple[int, ...] | None = None, prov: int = 0,
                  only: int | None = None) -> Content:
        """`[lambda]/2 + c[n]` for every term of each (optionally shifted by `extra`);
        with `only`, at that order alone (the others are left empty)."""
        halves = tuple(Term(tuple(x // 2 for x in e.vec), e.prov) for e in self.eigen)
        if extra is not None:
            halves = shift(halves, extra, prov)
        return tuple(
            prune(space, (Term(tuple(a + b for a, b in zip(h.vec, c.vec)), h.prov | c.prov)
                          for h in halves for c in order))
            if only is None or n == only else ()
            for n, order in enumerate(self.content)
        )


class Kernel(NamedTuple):
    """Aggregated amplitudes per Hermite order (0..n_max) and the named components.

    `caveats` name the rules applied on the way that are not certified exact (see
    `Caveat`); empty for every kernel the safe truncation certifies."""

    amplitude: Content
    features: tuple[tuple[str, Feature], ...]
    caveats: frozenset[Caveat] = frozenset()
    caps: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = ()
    """`(D form, eigenvalue term)` of each GFL layer below: `[D] + [lambda] <= 0` holds in
    every programme (the amplified eigenvalue is at most order one), not on the box."""
    floors: tuple[tuple[str, Term], ...] = ()
    """`(scale size, term)`: the programme must impose `[s] >= term` (the input scales of
    homogeneous layers, `normalises`)."""

    def feature(self, name: str) -> Feature | None:
        return dict(self.features).get(name)


def rescaled(kernel: Kernel, factor: int) -> Kernel:
    """The kernel in a unit `factor` times finer: every form times `factor`.  Pruning
    compares forms by sign over the box, which scaling keeps, so this is the kernel
    the finer unit would compute."""

    def vec(v: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(factor * x for x in v)

    def trop(terms: Trop) -> Trop:
        return tuple(Term(vec(t.vec), t.prov) for t in terms)

    def content(c: Content) -> Content:
        return tuple(trop(t) for t in c)

    return kernel._replace(
        amplitude=content(kernel.amplitude),
        features=tuple((name, Feature(trop(f.eigen), content(f.content))) for name, f in kernel.features),
        caps=tuple((vec(d), vec(e)) for d, e in kernel.caps),
        floors=tuple((name, Term(vec(t.vec), t.prov)) for name, t in kernel.floors))


def normalises(act: Activation) -> bool:
    """Whether the activation is homogeneous with a power other than one: its layers
    need their input scale `s` (docs/theory.md section 9)."""
    return act.kind is ActivationKind.HOMOGENEOUS and (act.hermite.infinite or any(j != 1 for j in act.hermite.finite))



def _zero(space: Space) -> tuple[int, ...]:
    return (0,) * space.size


def _single(space: Space, order: int, term: Term, n_max: int) -> Content:
    return tuple((term,) if n == order else () for n in range(n_max + 1))


def input_kernel(space: Space, lambda0: tuple[int, ...], trunc: Truncation, name: str = Z) -> Kernel:
    """The input kernel: one component `name` (`z` for `K_0 = x.x'/d`) with eigenvalue
    exponent `lambda0` (`[sigma^2] - 1` for a fully connected layer) and content `He_1`."""
    z = Feature(eigen=(Term(lambda0, 0),), content=_single(space, 1, Term(_zero(space), 0), trunc.max_order))
    return Kernel(amplitude=z.amplitude(space), features=((name, z),))


Caps = tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]


def nonnegative(space: Space, vec: tuple[int, ...], caps: Caps = (), box_checked: bool = False) -> bool:
    """Whether the form `vec` is `>= 0` wherever a programme can be: on the free sizes'
    box, or after eliminating a GFL size `D` through its cap `[D] + [lambda] <= 0`
    (for `beta < 0`: `beta [D] >= -beta [lambda]` there).  `box_checked`: the box test
    is known to fail, try only the eliminations."""
    if not box_checked and space.nonnegative(vec):
        return True
    for d_form, eigen in caps:
        col = next(i for i, x in enumerate(d_form) if x)
        beta = vec[col]
        if beta < 0:
            scaled = tuple(space.unit * v - beta * (x + e) for v, x, e in zip(vec, d_form, eigen))
            if nonnegative(space, scaled, tuple(c for c in caps if c[0] != d_form)):
                return True
    return False


def at_order(content: Content, only: int | None) -> Content:
    """`content` at order `only` alone, the other orders left empty (None: all of it):
    the last layer's kernel is read at the target's order only."""
    if only is None:
        return content
    return tuple(order if n == only else () for n, order in enumerate(content))


def top_terms(amplitude: Content) -> Trop:
    """The terms whose maximum is the largest exponent over *all* Hermite orders: those
    of orders 0 and 1 (every order-n term is dominated by an order n-2 one, docs/theory.md section 9)."""
    return tuple(t for order in amplitude[:2] for t in order)


def _nonpositive(rules: Rules, term: Term, caps: Caps = ()) -> bool:
    """Whether `term <= 0` wherever a programme can be (`nonnegative` of its negation),
    decided once per run, form and caps (`rules.memo`): the same top terms are checked
    by the lazy rule and the power series of many kernels."""
    return rules.memo.remember(("nonpositive", term.vec, caps),
                               lambda: nonnegative(rules.space, tuple(-x for x in term.vec), caps))


def _powers(rules: Rules, support: Support, base: Content, only: int | None = None, remember: bool = False,
            floors: tuple[tuple[str, Term], ...] = ()) -> list[tuple[int, Content]]:
    """`(m, base^m)` for the powers `m` of `support` the truncation uses (`used_powers`; the
    highest at order `only` alone).  With `remember`, the products are remembered per
    space (`remembered_product`: a feature's content is raised at every layer that
    specialises on it).  `floors`: those every programme reading the result imposes
    (`power_list`)."""
    ms = used_powers(support, rules.trunc)
    powers = power_list(rules, base, ms, only, remember, floors)
    return [(m, powers[m]) for m in ms]


def _certified(rules: Rules, support: Support, base: Content, caps: Caps = (), normalised: bool = False) -> bool:
    """Whether the powers `used_powers` gives the whole series of `support` on `base`.

    A finite support is used whole.  An infinite tail is used up to `max_order + 1`:
    when every top term of `base` (hence every term, by downward closure) is `<= 0`
    wherever a programme can be, a product of `r >= n + 2` factors reaching order `n`
    is dominated in value by one of `r - 2` of them (docs/theory.md section 9.2), so
    higher powers add only terms no larger than the ones kept.  When a top term may be
    positive (a large input scale) there is no such bound, unless the caller
    `normalised` the series by that scale (each factor then `<= 0` again).  Under an
    override, whether it reaches far enough is the caller's question."""
    certified = not support.infinite or normalised or all(_nonpositive(rules, t, caps) for t in top_terms(base))
    if rules.trunc.max_power is not None:
        return certified and all(m <= rules.trunc.max_power for m in support.finite)
    return certified


def taylor_top(act: Activation, j: int) -> int:
    """`t_j`: the largest Taylor power `>= j` of `j`'s parity, so that the `He_j`
    coefficient of `phi(s u)` grows like `s^(t_j)` for `s >> 1` (docs/theory.md section 9).
    A custom profile with no such power (inconsistent supports) gets no gain."""
    assert act.taylor is not None and not act.taylor.infinite
    return max((m for m in act.taylor.finite if m >= j and (m - j) % 2 == 0), default=j)


def lazy(rules: Rules, kernel: Kernel, at: Place, remember: bool = True,
         powers: Mapping[int, Content] | None = None) -> Kernel:
    """Claims ii and iii: `K_l ⊇ sum_{j in J} b_j K_{l-1}^{∘j}`.

    Every product of `j` components (j in J) is a component; a named component survives
    (with its eigenvalue) when `1 in J`.  With `only`, the amplitude is kept at that
    Hermite order alone (the last layer needs only the target's order, `at.only`).

    Input scale (docs/theory.md section 9): `[s] = max(0, top terms)`.  A polynomial's
    `j`-th power gains `(t_j - j)[s] >= 0`: the maximum of itself and its copies
    shifted by `(t_j - j)` times each top term that may be positive.  A homogeneous
    activation's loses `(j - 1)[s]`: with `at.scale` (the size `[s]` and its form), the
    `j`-th power is shifted by `(1 - j)[s]` and the programme imposes `[s] >= 0` and
    `[s] >=` each top term (`Kernel.floors`).  No programme gains from `[s]` above that
    maximum (a larger `[s]` only lowers amplitudes, and the powers it lowers never set
    the next layer's scale: docs/theory.md section 9.3), so the optimum has `[s]`
    exactly the input scale.  Without a scale (the first layer, whose input `K_0` is of
    order one) a possibly large input scale is a `Caveat.SCALE`.

    Computed once per run and arguments (`rules.memo`; not with `remember`
    false): the lazy layer on a prefix is asked for by every pattern below it.
    `powers`: the amplitude's powers (`lazy_powers`), when the caller has them.
    `rules.need` (not remembered): only the terms that rely on every layer of it, for
    a lean readout (`folder.Folder.readout_kernel`; `powers` made with the same rules).
    """
    if not remember:
        return _lazy(rules, kernel, at, powers)
    assert not rules.need, "a lean kernel is not remembered"
    return rules.memo.remember(("lazy", rules.act, kernel, rules.trunc, at.only, at.scale),
                                lambda: _lazy(rules, kernel, at, powers))


def lazy_powers(rules: Rules, kernel: Kernel, only: int | None = None,
                reuse: Reuse | None = None) -> dict[int, Content]:
    """The powers of the kernel's amplitude the lazy rule raises it to (`power_list` of
    the powers used, the highest at `only` alone): made once per prefix and shared by
    its lazy layer and every GFL layer on it (`gfl`).  `reuse`: as for `power_list` (a
    specialised layer's amplitude is its lazy part's and its spike's)."""
    return power_list(rules, kernel.amplitude, used_powers(rules.act.hermite, rules.trunc), only, floors=kernel.floors,
                      reuse=reuse)


def highest_power(act: Activation, trunc: Truncation) -> int:
    """The highest power `lazy_powers` makes."""
    return max(power_chain(used_powers(act.hermite, trunc)))


def _lazy(rules: Rules, kernel: Kernel, at: Place, powers: Mapping[int, Content] | None = None) -> Kernel:
    space, act, need = rules.space, rules.act, rules.need
    only, scale = at.only, at.scale
    a = kernel.amplitude
    caveats = set(kernel.caveats)
    floors = kernel.floors
    homogeneous = act.kind is ActivationKind.HOMOGENEOUS and normalises(act)
    normalised = homogeneous and scale is not None
    parts = _powers(rules, act.hermite, a, only) if powers is None else \
        [(m, powers[m]) for m in used_powers(act.hermite, rules.trunc)]
    if not _certified(rules, act.hermite, a, kernel.caps, normalised):
        caveats.add(Caveat.POWERS)
    if not parts:
        return Kernel(tuple(() for _ in a), (), frozenset(caveats), kernel.caps, floors)
    tops = [t for t in top_terms(a) if not _nonpositive(rules, t, kernel.caps)]
    parts = [(j, at_order(c, only)) for j, c in parts]   # pruned order by order: the others are not read
    if need:   # a lean kernel (`folder.Folder.readout_kernel`; no input-scale gain adds layers below)
        assert act.kind is not ActivationKind.POLYNOMIAL
        parts = [(j, relying_on(c, need)) for j, c in parts]
    if normalised:
        name, form = scale  # type: ignore[misc]  # normalised: a scale is given
        floors = floors + tuple((name, t) for t in (Term(_zero(space), 0), *top_terms(a)))
        parts = [(j, c if j == 1 else content_shift(c, tuple((1 - j) * x for x in form))) for j, c in parts]
    elif tops and homogeneous:
        caveats.add(Caveat.SCALE)
    if tops and act.kind is ActivationKind.POLYNOMIAL and act.taylor is not None:
        grown = []
        for j, c in parts:
            gain = taylor_top(act, j) - j
            grown.append(c if not gain else content_max(
                space, c, *(content_shift(c, tuple(gain * x for x in t.vec), t.prov) for t in tops)))
        amplitude = content_max(space, *grown)
    else:
        amplitude = content_max(space, *(c for _, c in parts))
    if normalised:
        amplitude = floor_rules.floor_prune(rules.memo, space, amplitude, floors)
    features = kernel.features if any(j == 1 for j, _ in parts) else ()
    return Kernel(amplitude, features, frozenset(caveats), kernel.caps, floors)


def gfl(rules: Rules, kernel: Kernel, at: Place, name: str, d_form: tuple[int, ...],
        powers: Mapping[int, Content] | None = None) -> Kernel:
    """GFL rule: the lazy rule on `K_{l-1}` with `[lambda_f]` raised by `[D_l]`.

    Products containing the amplified feature `j` times are raised by `j [D_l]`
    (Claim ii); they rely on layer `l`.  The boosted amplitude `a ⊕ b` (`b`: the
    amplified feature's) is raised to its powers from those of `a` (`power_list`'s
    split; `powers`: `lazy_powers` of `kernel` with the same `at.only`, when the caller
    has them).
    """
    space = rules.space
    f = kernel.feature(name)
    assert f is not None, name
    bit = 1 << at.layer
    half_d = tuple(x // 2 for x in d_form)
    extra = f.amplitude(space, half_d, bit)
    boosted = content_max(space, kernel.amplitude, extra)
    caps = kernel.caps + tuple((d_form, e.vec) for e in f.eigen)
    if powers is None:
        powers = lazy_powers(rules, kernel, at.only)
    boosted_kernel = Kernel(boosted, kernel.features, kernel.caveats, caps, kernel.floors)
    out = lazy(rules, boosted_kernel, at, remember=False,
               powers=lazy_powers(rules, boosted_kernel, at.only, Reuse(split=(powers, extra))))
    if not out.features:
        return out
    amplified = Feature(tmax(space, f.eigen, shift(f.eigen, d_form, bit)), f.content)
    return out._replace(features=tuple((n, amplified if n == name else g) for n, g in out.features))


def spike_content(rules: Rules, f: Feature, q_form: tuple[int, ...], at: Place, caps: Caps = (),
                  floors: tuple[tuple[str, Term], ...] = ()) -> tuple[Content, frozenset[Caveat], tuple]:
    """Hermite content of `sigma = phi(q f)` (docs/theory.md section 4, last column), its
    caveats and the floors it needs.

    Analytic activations: `max_{m in T} (m[q] + c_{f^m}[n])`.  Positively homogeneous
    ones: `phi(q f) = q s_f phi(f / s_f)` with `[s_f]` the top content of `f` (exactly
    zero for `z`): `[q] + max_{j in J} (c_{f^j}[n] - (j - 1)[s_f])`.  With `at.scale` (the
    size `[s_f]` and its form) the programme imposes `[s_f] >=` each top content term
    (as for the lazy rule, no programme gains from a larger `[s_f]`); without it, a
    feature whose top content is not exactly zero is a `Caveat.SCALE`.

    `floors` (those of the kernel `f` belongs to, `Kernel.floors`): the powers of a
    homogeneous activation's series are pruned where every programme reading the spike
    is, on the box and above these floors (`floors.floor_region`), as the lazy rule's
    are; on the box alone the powers of a deep feature's content multiply (five ReLU
    layers spent most of their time there).  Only the floors that bound a size of the
    content count (`floors.reaching`).

    Computed once per run and arguments (`rules.memo`), of which only the
    feature's content counts: a feature is specialised on at many layers of many
    patterns.
    """
    assert not rules.need, "a spike's content is remembered whole"
    space, act, bit = rules.space, rules.act, 1 << at.layer
    named = floor_rules.reaching(space, floors, f.content) if act.taylor is None else ()
    return rules.memo.remember(("spike_content", act, f.content, q_form, bit, rules.trunc, caps, at.scale, named),
                          lambda: _spike_content(rules, f.content, q_form, bit, at.scale, (caps, named)))


def _spike_content(rules: Rules, content: Content, q_form: tuple[int, ...], bit: int, scale: Scale | None,
                   bounds: tuple[Caps, tuple[tuple[str, Term], ...]]) -> tuple[Content, frozenset[Caveat], tuple]:
    """`spike_content` of a feature with Hermite content `content` (its eigenvalue plays
    no part); `bounds`: the caps and the floors that reach the content."""
    space, act = rules.space, rules.act
    caps, named = bounds
    caveats: set[Caveat] = set()
    floors: tuple = ()
    if act.taylor is not None:
        parts = [(m, content_shift(c, tuple(m * x for x in q_form), bit))
                 for m, c in _powers(rules, act.taylor, content, remember=True)]
        whole = _certified(rules, act.taylor, content, caps)
    else:
        tops = top_terms(content)
        unit_scale = all(not any(t.vec) for t in tops)
        normalised = not unit_scale and scale is not None and normalises(act)
        series = _powers(rules, act.hermite, content, remember=True, floors=named)
        whole = _certified(rules, act.hermite, content, caps, normalised)
        if normalised:
            name, form = scale  # type: ignore[misc]  # normalised: a scale is given
            floors = tuple((name, t) for t in tops)
            series = [(j, c if j == 1 else content_shift(c, tuple((1 - j) * x for x in form))) for j, c in series]
        elif any(j != 1 for j, _ in series) and not unit_scale:
            caveats.add(Caveat.SCALE)
        parts = [(j, content_shift(c, q_form, bit)) for j, c in series]
    if not whole:
        caveats.add(Caveat.POWERS)
    if not parts:
        return tuple(() for _ in content), frozenset(caveats), floors
    return content_max(space, *(c for _, c in parts)), frozenset(caveats), floors


def specialise(rules: Rules, kernel: Kernel, lazy_part: Kernel, at: Place, name: str,
               m_form: tuple[int, ...], q_form: tuple[int, ...], width_form: tuple[int, ...]) -> Kernel:
    """Sp rule (Claim i): `M_l` neurons with mean `q f` add a rank-one spike along
    `sigma_l = phi(q f)` with eigenvalue exponent `[M_l] - [N_l]` to the lazy part.
    With `at.only` (the last layer, read at the target's order alone, like its
    `lazy_part`), the amplitude is kept at that Hermite order alone; `at.scale` is the
    size of the feature's input scale `[s_f]` (`spike_content`)."""
    space, only, layer = rules.space, at.only, at.layer
    f = kernel.feature(name)
    assert f is not None, name
    bit = 1 << layer
    eigen = (Term(tuple(m - w for m, w in zip(m_form, width_form)), bit),)
    content, caveats, floors = spike_content(rules, f, q_form, at, kernel.caps, kernel.floors)
    sigma = Feature(eigen, content)
    spike = sigma.amplitude(space, only=only)
    named = lazy_part.floors + floors
    if named:   # pruned on the floors (as in `power_list`, no antichain on the box to merge)
        merged = at_order(content_max(space, lazy_part.amplitude, spike), only)
        amplitude = floor_rules.floor_prune(rules.memo, space, merged, named)
    else:
        amplitude = at_order(content_merge(space, lazy_part.amplitude, spike), only)
    return Kernel(amplitude, lazy_part.features + ((spike_name(layer), sigma),),
                  lazy_part.caveats | kernel.caveats | caveats, kernel.caps, named)
