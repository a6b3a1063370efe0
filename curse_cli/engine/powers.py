"""The truncation, what every propagation rule reads (`Rules`, `Place`), and the powers
of a content under the Hermite product (`power_list`), which the lazy, GFL and Sp rules
of `kernels` raise amplitudes and contents to (docs/theory.md section 9)."""

from __future__ import annotations

from enum import Enum
from functools import partial
from typing import Callable, Mapping, NamedTuple, Sequence

from curse_cli.algebra import floors as floor_rules
from curse_cli.algebra.orders import power_pairs
from curse_cli.algebra.memo import Memo
from curse_cli.algebra.product import Pruning, hermite_product, remembered_product
from curse_cli.algebra.space import Space
from curse_cli.algebra.tropical import Content, Term, Trop, content_max, content_merge
from curse_cli.archs.problem import Activation, Support


class Truncation(NamedTuple):
    """Hermite orders tracked (0..max_order) and the lazy/Taylor powers used.

    `max_power=None` is the safe rule: every power of a finite support, and for an
    infinite support (erf, tanh, ReLU) powers until the series is certified stable
    (`_certified`), at most `power_cap`.  An integer is an expert override: the powers up
    to it, nothing certified."""

    max_order: int
    max_power: int | None = None
    power_cap: int = 0


def safe_truncation(degree: int, depth: int) -> Truncation:
    """The truncation no exponent depends on (module docstring): orders up to the target
    degree, every power the certificate needs (cap: degree + 2 depth + 3)."""
    return Truncation(max(degree, 1), None, max(degree, 1) + 2 * depth + 3)


Scale = tuple[str, tuple[int, ...]]
"""An input-scale size: its name (`#s3`) and its form."""


class Rules(NamedTuple):
    """What every propagation rule reads: the symbol space, the activation, the
    truncation, the run's cache of results (`memo`) and what is needed (a provenance mask: only the terms of the highest
    power that rely on every layer of it are made, for a lean readout,
    `folder.Folder.readout_kernel`; 0: all of them)."""

    space: Space
    act: Activation
    trunc: Truncation
    memo: Memo
    need: int = 0


class Place(NamedTuple):
    """Where a rule applies: layer `layer`; `only`, the Hermite order its kernel is read
    at alone (None: every order; the last layer is read at the target's); `scale`, the
    size of its input scale, for a homogeneous activation (None: none)."""

    layer: int
    only: int | None = None
    scale: Scale | None = None


class Reuse(NamedTuple):
    """What `power_list` goes on from: `split = (powers of a, b)` with `base = a ⊕ b`;
    `body`, the powers below the highest, already made; `top` false: the highest power
    is not made at all."""

    split: tuple[Mapping[int, Content], Content] | None = None
    body: Mapping[int, Content] | None = None
    top: bool = True


class Caveat(Enum):
    """Why a kernel is not certified exact (collected, then reported as warnings)."""

    POWERS = "powers"     # an infinite power series was cut at the cap or by an override
    SCALE = "scale"       # a homogeneous activation below an input scale that may exceed one


def used_powers(support: Support, trunc: Truncation) -> list[int]:
    """The powers of `support` the truncation uses (module docstring: *Powers*)."""
    if trunc.max_power is not None:
        return list(support.upto(trunc.max_power))
    if not support.infinite:
        return sorted(support.finite)
    return list(support.upto(trunc.max_order + 1))


def power_list(rules: Rules, base: Content, needed: Sequence[int], only: int | None = None, remember: bool = False,
               floors: tuple[tuple[str, Term], ...] = (), reuse: Reuse | None = None) -> dict[int, Content]:
    """`{m: base^m}` under the Hermite product for the powers `needed` and the ones they
    are made from (`power_chain`), the highest at order `only` alone (the caller reads
    no other order of it; the others are needed whole).

    The highest power is the one the caller reads, all the others are factors: with
    `rules.need`, only its terms that rely on every layer of it are made
    (`hermite_product`'s `need`); with `reuse.top` false, it is not made at all;
    `reuse.body`: the powers below it, already made (this function's output without
    the highest power), to go on from.  `remember`: the products are remembered per
    space (`remembered_product`).

    `reuse.split = (powers of a, b)` with `base = a ⊕ b`: every product of `m` factors `a` or
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
    space, need = rules.space, rules.need
    split, body, top = reuse if reuse is not None else Reuse()
    region = floor_rules.floor_region(rules.memo, space, floors)
    if remember:
        product: Callable[..., Content] = partial(remembered_product, rules.memo, pruning=None if region is None else
                                                  Pruning(region.prune_rows, floors))
    else:
        product = hermite_product if region is None else partial(hermite_product, prune_rows=region.prune_rows)
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
        a_m = relying_on(a_powers[m], mask) if m in a_powers else power(a_powers, m, half, order, mask)
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


def relying_on(content: Content, need: int) -> Content:
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
    for top in sorted(wanted, reverse=True):  # a loop, not recursion: a power may be in the thousands
        m = top
        while m not in how:
            if m == 1:
                how[1] = 0
            elif m % 2 == 0 and m - 1 not in wanted:
                how[m] = m // 2
                m //= 2
            else:
                how[m] = 0
                m -= 1
    return dict(sorted(how.items()))
