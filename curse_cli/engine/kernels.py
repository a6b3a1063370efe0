"""Kernel states and the propagation rules (docs/theory.md sections 4 and 5).

A kernel is a sum of rank-one components `lambda_e e e^T`.  Write each as `v v^T` with
`v = sqrt(lambda_e) e`: the coefficient of `He_n(z)` in `v` has exponent
`a_e[n] = [lambda_e]/2 + c_e[n]` (its *amplitude*).  Hadamard products of components
multiply the `v`s, so amplitudes compose by the Hermite product rule, and the readout
`<y|K|y> = sum_e <y|v_e>^2` has exponent `2 max_e a_e[k]`.  Both only need the maximum
over components, order by order: a `Kernel` keeps that aggregate, plus the named
spectral components (`z`, the spikes `sigma_l`) that a layer can specialise on or
amplify, with their eigenvalue and Hermite content.

Each rule is a pure function `(kernel, ...) -> kernel`; a pattern is a fold over layers.

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
  `r - 2` factors (`_series`).  ReLU's factors are `<= 0` once normalised by the input
  scale (`lazy`, `spike_content`: docs/theory.md section 9).  The higher powers add terms
  that are no larger but rely on more layers; they can only let a pattern that uses a
  layer nominally score (inconsistent at the default), never below the simpler
  pattern, so the prediction does not depend on them.
* What is not certified is marked on the kernel (`Caveat`) and becomes a warning.
"""

from __future__ import annotations

from functools import partial
from typing import Mapping, NamedTuple, Sequence

from curse_cli.archs.problem import Activation, Support
from curse_cli.algebra import floors as floor_rules
from curse_cli.algebra.orders import power_pairs
from curse_cli.algebra.tropical import (
    Content,
    Space,
    Term,
    Trop,
    content_max,
    content_merge,
    content_shift,
    dominates,
    hermite_product,
    remembered_product,
    prune,
    shift,
    tmax,
)

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
    caveats: frozenset[str] = frozenset()
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
    return act.kind == "homogeneous" and (act.hermite.infinite or any(j != 1 for j in act.hermite.finite))



class Truncation(NamedTuple):
    """Hermite orders tracked (0..max_order) and the lazy/Taylor powers used.

    `max_power=None` is the safe rule: every power of a finite support, and for an
    infinite support (erf, tanh, ReLU) powers until the series is certified stable
    (`_series`), at most `power_cap`.  An integer is an expert override: the powers up
    to it, nothing certified."""

    max_order: int
    max_power: int | None = None
    power_cap: int = 0


def safe_truncation(degree: int, depth: int) -> Truncation:
    """The truncation no exponent depends on (module docstring): orders up to the target
    degree, every power the certificate needs (cap: degree + 2 depth + 3)."""
    return Truncation(max(degree, 1), None, max(degree, 1) + 2 * depth + 3)


class Caveat:
    """Why a kernel is not certified exact (collected, then reported as warnings)."""

    POWERS = "powers"     # an infinite power series was cut at the cap or by an override
    SCALE = "scale"       # a homogeneous activation below an input scale that may exceed one


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
    if not box_checked and dominates(space, Term(vec, 0), Term(_zero(space), 0)):
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


def _nonpositive(space: Space, term: Term, caps: Caps = ()) -> bool:
    """Whether `term <= 0` wherever a programme can be (`nonnegative` of its negation),
    decided once per space, form and caps (`Space.remember`): the same top terms are
    checked by the lazy rule and the power series of many kernels."""
    return space.remember(("nonpositive", term.vec, caps),
                          lambda: nonnegative(space, tuple(-x for x in term.vec), caps))


def _series(space: Space, support: Support, base: Content, trunc: Truncation,
            step: tuple[int, ...] | None = None, bit: int = 0,
            caps: Caps = (), only: int | None = None,
            normalised: bool = False, remember: bool = False,
            powers: Mapping[int, Content] | None = None,
            floors: tuple[tuple[str, Term], ...] = ()) -> tuple[list[tuple[int, Content]], bool]:
    """`(m, base^m shifted by m step)` for the powers m of `support` the truncation uses,
    and whether they are certified to give the whole series.

    A finite support is used whole.  An infinite tail is used up to `max_order + 1`:
    when every top term of `base` (hence every term, by downward closure) is `<= 0`
    wherever a programme can be, a product of `r >= n + 2` factors reaching order `n`
    is dominated in value by one of `r - 2` of them (docs/theory.md section 9.2), so
    higher powers add only terms no larger than the ones kept.  When a top term may be
    positive (a large input scale) there is no such bound: uncertified, unless the
    caller `normalised` the series by that scale (each factor then `<= 0` again).
    With `remember`, the products are remembered per space (`remembered_product`: a
    feature's content is raised at every layer that specialises on it; an amplitude's
    powers are only needed again through the lazy rule, remembered as a whole).
    `powers`: `base`'s powers as `power_list` makes them, when the caller has them.
    `floors`: those every programme reading the result imposes (`power_list`).
    """
    ms = _used(support, trunc)
    if powers is None:
        powers = power_list(space, base, ms, only, remembered_product if remember else hermite_product,
                            floors=floors)
    out = [(m, powers[m] if step is None else content_shift(powers[m], tuple(m * x for x in step), bit))
           for m in ms]
    certified = not support.infinite or normalised or all(_nonpositive(space, t, caps) for t in top_terms(base))
    if trunc.max_power is not None:   # an override: whether it reaches far enough is the caller's question
        return out, certified and all(m <= trunc.max_power for m in support.finite)
    if not support.infinite:
        return out, True
    return out, certified


def _used(support: Support, trunc: Truncation) -> list[int]:
    """The powers of `support` that `_series` uses (module docstring: *Powers*)."""
    if trunc.max_power is not None:
        return list(support.upto(trunc.max_power))
    if not support.infinite:
        return sorted(support.finite)
    return list(support.upto(trunc.max_order + 1))


def power_list(space: Space, base: Content, needed: Sequence[int], only: int | None = None,
               product=hermite_product, split: tuple[Mapping[int, Content], Content] | None = None,
               floors: tuple[tuple[str, Term], ...] = (), need: int = 0, top: bool = True,
               body: Mapping[int, Content] | None = None) -> dict[int, Content]:
    """`{m: base^m}` under the Hermite product for the powers `needed` and the ones they
    are made from (`power_chain`), the highest at order `only` alone (the caller reads
    no other order of it; the others are needed whole).

    The highest power is the one the caller reads, all the others are factors: with
    `need` (a provenance mask), only its terms that rely on every layer of `need` are
    made (`hermite_product`'s `need`; a lean readout, `energy.Folder.readout_kernel`);
    with `top` false, it is not made at all; `body`: the powers below it, already made
    (this function's output without the highest power), to go on from.

    `split = (powers of a, b)` with `base = a ⊕ b`: every product of `m` factors `a` or
    `b` is `a^m` or contains a `b`, so `base^m = a^m ⊕ c_m` with `c_m = base^(m-1) b`,
    and a square `base^(2h) = (a^h ⊕ c_h)^2 = a^(2h) ⊕ c_h base^h` (the maxima and the
    truncated products keep the same undominated terms, docs/theory.md section 9.1).
    That reuses `a`'s powers (made with the same `needed`; the highest, when missing,
    is made from the others): a GFL layer boosts one feature `b` of an amplitude `a`
    whose powers its sibling lazy layer has already made, and `b` has far fewer terms
    than `a`, so each power costs `|base^(m-1)| |b|` products instead of
    `|base^(m-1)| |base|`.

    `floors` (a homogeneous activation's kernel, `Kernel.floors`): each product is
    pruned where every programme is, on the box and above the floors
    (`floors.floor_region`), before the next power is made from it; on the box alone
    terms that carry different multiples of an input scale never compare, and their
    number multiplies with each power."""
    region = floor_rules.floor_region(space, floors)
    if region is not None:
        product = partial(product, prune_rows=region.prune_rows)
        if product.func is remembered_product:
            product = partial(product, where=floors)
    chain = power_chain(needed)
    highest = max(chain)
    out: dict[int, Content] = dict(body) if body is not None else {1: base}
    limit, present = len(base) - 1, _present(base)

    def power(x: Mapping[int, Content], m: int, half: int, order: int | None, mask: int) -> Content:
        """`x[1]^m` from the lower powers in `x`, as `power_chain` says."""
        if half:
            return product(space, x[half], x[half], order, need=mask)
        return product(space, x[m - 1], x[1], order, pairs=power_pairs(m, _present(x[1]), _present(x[1]), limit),
                       need=mask)

    for m, half in chain.items():
        if m in out:
            continue
        if m == highest and not top:
            break
        order, mask = (only, need) if m == highest else (None, 0)
        if split is None:
            out[m] = power(out, m, half, order, mask)
            continue
        a_powers, b = split
        a_m = _with(a_powers[m], mask) if m in a_powers else power(a_powers, m, half, order, mask)
        if half:   # `c_h`: `b`, or the terms of `base^h` that are not `a^h`'s (with it, the same maximum)
            rest = b if half == 1 else tuple(_without(terms, held) for terms, held in zip(out[half], a_powers[half]))
            made = product(space, rest, out[half], order, need=mask)
        else:
            made = product(space, out[m - 1], b, order, pairs=power_pairs(m, present, _present(b), limit), need=mask)
        # pruned on the floors, the factors need not be an antichain on the box, which
        # `content_merge` assumes: the whole maximum is pruned instead
        out[m] = (region.prune(space, content_max(space, a_m, made)) if region is not None
                  else content_merge(space, a_m, made))
    return out


def _with(content: Content, need: int) -> Content:
    """The terms of `content` that rely on every layer of `need` (all for 0)."""
    if not need:
        return content
    return tuple(tuple(t for t in trop if t.prov & need == need) for trop in content)


def _present(content: Content) -> frozenset[int]:
    """The orders where `content` has terms."""
    return frozenset(n for n, trop in enumerate(content) if trop)


def _without(terms: Trop, other: Trop) -> Trop:
    """The terms of `terms` that are not in `other`."""
    if not other:
        return terms
    held = set(other)
    return tuple(t for t in terms if t not in held)


def power_chain(needed: Sequence[int]) -> dict[int, int]:
    """The powers `power_list` makes for `needed`, in increasing order, each with how:
    `0` from the power below times the base, `h` as the square of the power `h`.  An
    even power whose predecessor is not needed is a square: ReLU's lazy rule uses the
    powers 1, 2 and 4, and `base^4 = (base^2)^2` makes no cube, the largest product
    of the chain (its `|base^2|^2 / 2` pairs instead of `|base^3| |base|` and the
    cube's own `|base^2| |base|`).  Otherwise each power is made from the one below,
    as always (which keeps the same terms of ties as before for every other support)."""
    wanted = set(needed) or {1}
    how: dict[int, int] = {}

    def add(m: int) -> None:
        if m in how:
            return
        if m == 1:
            how[1] = 0
        elif m % 2 == 0 and m - 1 not in wanted:
            add(m // 2)
            how[m] = m // 2
        else:
            add(m - 1)
            how[m] = 0

    for m in sorted(wanted, reverse=True):
        add(m)
    return dict(sorted(how.items()))


def taylor_top(act: Activation, j: int) -> int:
    """`t_j`: the largest Taylor power `>= j` of `j`'s parity, so that the `He_j`
    coefficient of `phi(s u)` grows like `s^(t_j)` for `s >> 1` (docs/theory.md section 9).
    A custom profile with no such power (inconsistent supports) gets no gain."""
    assert act.taylor is not None and not act.taylor.infinite
    return max((m for m in act.taylor.finite if m >= j and (m - j) % 2 == 0), default=j)


def lazy(space: Space, act: Activation, kernel: Kernel, trunc: Truncation, only: int | None = None,
         scale: tuple[str, tuple[int, ...]] | None = None, remember: bool = True,
         powers: Mapping[int, Content] | None = None, need: int = 0) -> Kernel:
    """Claims ii and iii: `K_l ⊇ sum_{j in J} b_j K_{l-1}^{∘j}`.

    Every product of `j` components (j in J) is a component; a named component survives
    (with its eigenvalue) when `1 in J`.  With `only`, the amplitude is kept at that
    Hermite order alone (the last layer needs only the target's order).

    Input scale (docs/theory.md section 9): `[s] = max(0, top terms)`.  A polynomial's
    `j`-th power gains `(t_j - j)[s] >= 0`: the maximum of itself and its copies
    shifted by `(t_j - j)` times each top term that may be positive.  A homogeneous
    activation's loses `(j - 1)[s]`: with `scale` (the size `[s]` and its form), the
    `j`-th power is shifted by `(1 - j)[s]` and the programme imposes `[s] >= 0` and
    `[s] >=` each top term (`Kernel.floors`).  No programme gains from `[s]` above that
    maximum (a larger `[s]` only lowers amplitudes, and the powers it lowers never set
    the next layer's scale: docs/theory.md section 9.3), so the optimum has `[s]`
    exactly the input scale.  Without `scale` (the first layer, whose input `K_0` is of
    order one) a possibly large input scale is a `Caveat.SCALE`.

    Computed once per space and arguments (`Space.remember`; not with `remember`
    false): the lazy layer on a prefix is asked for by every pattern below it.
    `powers`: the amplitude's powers (`lazy_powers`), when the caller has them.
    `need` (not remembered): only the terms that rely on every layer of `need`, for a
    lean readout (`energy.Folder.readout_kernel`; `powers` made with the same `need`).
    """
    if not remember:
        return _lazy(space, act, kernel, trunc, only, scale, powers, need)
    assert not need, "a lean kernel is not remembered"
    return space.remember(("lazy", act, kernel, trunc, only, scale),
                          lambda: _lazy(space, act, kernel, trunc, only, scale, powers))


def lazy_powers(space: Space, act: Activation, kernel: Kernel, trunc: Truncation, only: int | None = None,
                split: tuple[Mapping[int, Content], Content] | None = None, need: int = 0, top: bool = True,
                body: Mapping[int, Content] | None = None) -> dict[int, Content]:
    """The powers of the kernel's amplitude the lazy rule raises it to (`power_list` of
    the powers used, the highest at `only` alone): made once per prefix and shared by
    its lazy layer and every GFL layer on it (`gfl`).  `split`: as for `power_list` (a
    specialised layer's amplitude is its lazy part's and its spike's); `need`, `top`,
    `body`: as for `power_list` (the highest power lean, left out, or the others made)."""
    return power_list(space, kernel.amplitude, _used(act.hermite, trunc), only, split=split, floors=kernel.floors,
                      need=need, top=top, body=body)


def highest_power(act: Activation, trunc: Truncation) -> int:
    """The highest power `lazy_powers` makes."""
    return max(power_chain(_used(act.hermite, trunc)))


def _lazy(space: Space, act: Activation, kernel: Kernel, trunc: Truncation, only: int | None,
          scale: tuple[str, tuple[int, ...]] | None, powers: Mapping[int, Content] | None = None,
          need: int = 0) -> Kernel:
    a = kernel.amplitude
    caveats = set(kernel.caveats)
    floors = kernel.floors
    homogeneous = act.kind == "homogeneous" and normalises(act)
    normalised = homogeneous and scale is not None
    parts, whole = _series(space, act.hermite, a, trunc, caps=kernel.caps, only=only, normalised=normalised,
                           powers=powers)
    if not whole:
        caveats.add(Caveat.POWERS)
    if not parts:
        return Kernel(tuple(() for _ in a), (), frozenset(caveats), kernel.caps, floors)
    tops = [t for t in top_terms(a) if not _nonpositive(space, t, kernel.caps)]
    parts = [(j, at_order(c, only)) for j, c in parts]   # pruned order by order: the others are not read
    if need:   # a lean kernel (`energy.Folder.readout_kernel`; no input-scale gain adds layers below)
        assert act.kind != "polynomial"
        parts = [(j, _with(c, need)) for j, c in parts]
    if normalised:
        name, form = scale  # type: ignore[misc]  # normalised: a scale is given
        floors = floors + tuple((name, t) for t in (Term(_zero(space), 0), *top_terms(a)))
        parts = [(j, c if j == 1 else content_shift(c, tuple((1 - j) * x for x in form))) for j, c in parts]
    elif tops and homogeneous:
        caveats.add(Caveat.SCALE)
    if tops and act.kind == "polynomial" and act.taylor is not None:
        grown = []
        for j, c in parts:
            gain = taylor_top(act, j) - j
            grown.append(c if not gain else content_max(
                space, c, *(content_shift(c, tuple(gain * x for x in t.vec), t.prov) for t in tops)))
        amplitude = content_max(space, *grown)
    else:
        amplitude = content_max(space, *(c for _, c in parts))
    if normalised:
        amplitude = floor_rules.floor_prune(space, amplitude, floors)
    features = kernel.features if any(j == 1 for j, _ in parts) else ()
    return Kernel(amplitude, features, frozenset(caveats), kernel.caps, floors)


def gfl(space: Space, act: Activation, kernel: Kernel, layer: int, name: str, d_form: tuple[int, ...],
        trunc: Truncation, only: int | None = None, scale: tuple[str, tuple[int, ...]] | None = None,
        powers: Mapping[int, Content] | None = None) -> Kernel:
    """GFL rule: the lazy rule on `K_{l-1}` with `[lambda_f]` raised by `[D_l]`.

    Products containing the amplified feature `j` times are raised by `j [D_l]`
    (Claim ii); they rely on layer `l`.  The boosted amplitude `a ⊕ b` (`b`: the
    amplified feature's) is raised to its powers from those of `a` (`power_list`'s
    split; `powers`: `lazy_powers` of `kernel` with the same `only`, when the caller
    has them).
    """
    f = kernel.feature(name)
    assert f is not None, name
    bit = 1 << layer
    half_d = tuple(x // 2 for x in d_form)
    extra = f.amplitude(space, half_d, bit)
    boosted = content_max(space, kernel.amplitude, extra)
    caps = kernel.caps + tuple((d_form, e.vec) for e in f.eigen)
    if powers is None:
        powers = lazy_powers(space, act, kernel, trunc, only)
    boosted_kernel = Kernel(boosted, kernel.features, kernel.caveats, caps, kernel.floors)
    out = lazy(space, act, boosted_kernel, trunc, only, scale, remember=False,
               powers=lazy_powers(space, act, boosted_kernel, trunc, only, split=(powers, extra)))
    if not out.features:
        return out
    amplified = Feature(tmax(space, f.eigen, shift(f.eigen, d_form, bit)), f.content)
    return out._replace(features=tuple((n, amplified if n == name else g) for n, g in out.features))


def spike_content(space: Space, act: Activation, f: Feature, q_form: tuple[int, ...], bit: int,
                  trunc: Truncation, caps: Caps = (),
                  scale: tuple[str, tuple[int, ...]] | None = None,
                  floors: tuple[tuple[str, Term], ...] = ()) -> tuple[Content, frozenset[str], tuple]:
    """Hermite content of `sigma = phi(q f)` (docs/theory.md section 4, last column), its
    caveats and the floors it needs.

    Analytic activations: `max_{m in T} (m[q] + c_{f^m}[n])`.  Positively homogeneous
    ones: `phi(q f) = q s_f phi(f / s_f)` with `[s_f]` the top content of `f` (exactly
    zero for `z`): `[q] + max_{j in J} (c_{f^j}[n] - (j - 1)[s_f])`.  With `scale` (the
    size `[s_f]` and its form) the programme imposes `[s_f] >=` each top content term
    (as for the lazy rule, no programme gains from a larger `[s_f]`); without it, a
    feature whose top content is not exactly zero is a `Caveat.SCALE`.

    `floors` (those of the kernel `f` belongs to, `Kernel.floors`): the powers of a
    homogeneous activation's series are pruned where every programme reading the spike
    is, on the box and above these floors (`floors.floor_region`), as the lazy rule's
    are; on the box alone the powers of a deep feature's content multiply (five ReLU
    layers spent most of their time there).  Only the floors that bound a size of the
    content count (`floors.reaching`).

    Computed once per space and arguments (`Space.remember`), of which only the
    feature's content counts: a feature is specialised on at many layers of many
    patterns.
    """
    named = floor_rules.reaching(space, floors, f.content) if act.taylor is None else ()
    return space.remember(("spike_content", act, f.content, q_form, bit, trunc, caps, scale, named),
                          lambda: _spike_content(space, act, f.content, q_form, bit, trunc, caps, scale, named))


def _spike_content(space: Space, act: Activation, content: Content, q_form: tuple[int, ...], bit: int,
                   trunc: Truncation, caps: Caps,
                   scale: tuple[str, tuple[int, ...]] | None,
                   named: tuple[tuple[str, Term], ...] = ()) -> tuple[Content, frozenset[str], tuple]:
    """`spike_content` of a feature with Hermite content `content` (its eigenvalue plays
    no part)."""
    caveats: set[str] = set()
    floors: tuple = ()
    if act.taylor is not None:
        parts, whole = _series(space, act.taylor, content, trunc, q_form, bit, caps, remember=True)
    else:
        tops = top_terms(content)
        unit_scale = all(not any(t.vec) for t in tops)
        normalised = not unit_scale and scale is not None and normalises(act)
        series, whole = _series(space, act.hermite, content, trunc, caps=caps, normalised=normalised, remember=True,
                                floors=named)
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


def specialise(space: Space, act: Activation, kernel: Kernel, lazy_part: Kernel, layer: int, name: str,
               m_form: tuple[int, ...], q_form: tuple[int, ...], width_form: tuple[int, ...],
               trunc: Truncation, scale: tuple[str, tuple[int, ...]] | None = None,
               only: int | None = None) -> Kernel:
    """Sp rule (Claim i): `M_l` neurons with mean `q f` add a rank-one spike along
    `sigma_l = phi(q f)` with eigenvalue exponent `[M_l] - [N_l]` to the lazy part.
    With `only` (the last layer, read at the target's order alone, like its `lazy_part`),
    the amplitude is kept at that Hermite order alone."""
    f = kernel.feature(name)
    assert f is not None, name
    bit = 1 << layer
    eigen = (Term(tuple(m - w for m, w in zip(m_form, width_form)), bit),)
    content, caveats, floors = spike_content(space, act, f, q_form, bit, trunc, kernel.caps, scale, kernel.floors)
    sigma = Feature(eigen, content)
    spike = sigma.amplitude(space, only=only)
    named = lazy_part.floors + floors
    if named:   # pruned on the floors (as in `power_list`, no antichain on the box to merge)
        amplitude = floor_rules.floor_prune(space, at_order(content_max(space, lazy_part.amplitude, spike), only),
                                            named)
    else:
        amplitude = at_order(content_merge(space, lazy_part.amplitude, spike), only)
    return Kernel(amplitude, lazy_part.features + ((spike_name(layer), sigma),),
                  lazy_part.caveats | kernel.caveats | caveats, kernel.caps, named)
