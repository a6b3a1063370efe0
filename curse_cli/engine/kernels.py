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
"""

from __future__ import annotations

from typing import NamedTuple

from curse_cli.archs.problem import Activation
from curse_cli.algebra.tropical import (
    Content,
    Space,
    Term,
    Trop,
    content_max,
    content_shift,
    hermite_product,
    powers,
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

    def amplitude(self, space: Space, extra: tuple[int, ...] | None = None, prov: int = 0) -> Content:
        """`[lambda]/2 + c[n]` for every term of each (optionally shifted by `extra`)."""
        halves = tuple(Term(tuple(x // 2 for x in e.vec), e.prov) for e in self.eigen)
        if extra is not None:
            halves = shift(halves, extra, prov)
        return tuple(
            prune(space, (Term(tuple(a + b for a, b in zip(h.vec, c.vec)), h.prov | c.prov) for h in halves for c in order))
            for order in self.content
        )


class Kernel(NamedTuple):
    """Aggregated amplitudes per Hermite order (0..n_max) and the named components."""

    amplitude: Content
    features: tuple[tuple[str, Feature], ...]

    def feature(self, name: str) -> Feature | None:
        return dict(self.features).get(name)



class Truncation(NamedTuple):
    """Hermite orders tracked (0..max_order) and the largest lazy power `j` used."""

    max_order: int
    max_power: int


def _zero(space: Space) -> tuple[int, ...]:
    return (0,) * space.size


def _single(space: Space, order: int, term: Term, n_max: int) -> Content:
    return tuple((term,) if n == order else () for n in range(n_max + 1))


def input_kernel(space: Space, lambda0: tuple[int, ...], trunc: Truncation, name: str = Z) -> Kernel:
    """The input kernel: one component `name` (`z` for `K_0 = x.x'/d`) with eigenvalue
    exponent `lambda0` (`[sigma^2] - 1` for a fully connected layer) and content `He_1`."""
    z = Feature(eigen=(Term(lambda0, 0),), content=_single(space, 1, Term(_zero(space), 0), trunc.max_order))
    return Kernel(amplitude=z.amplitude(space), features=((name, z),))


def lazy(space: Space, act: Activation, kernel: Kernel, trunc: Truncation, only: int | None = None) -> Kernel:
    """Claims ii and iii: `K_l ⊇ sum_{j in J} b_j K_{l-1}^{∘j}`.

    Every product of `j` components (j in J) is a component; a named component survives
    (with its eigenvalue) when `1 in J`.  With `only`, the amplitude is computed at that
    Hermite order alone (the last layer needs only the target's order).
    """
    orders = act.hermite.upto(trunc.max_power)
    if not orders:
        empty: Content = tuple(() for _ in kernel.amplitude)
        return Kernel(empty, ())
    a = kernel.amplitude
    top = max(orders)
    if only is None:
        pw = powers(space, a, top)
        amplitude = content_max(space, *(pw[j - 1] for j in orders))
    else:
        # Powers below the top whole, then each power j in J at order `only` alone.
        full = powers(space, a, top - 1) if top > 1 else []
        parts = [a if j == 1 else hermite_product(space, full[j - 2], a, only) for j in orders]
        amplitude = tuple(order if n == only else () for n, order in enumerate(content_max(space, *parts)))
    features = kernel.features if 1 in orders else ()
    return Kernel(amplitude, features)


def gfl(space: Space, act: Activation, kernel: Kernel, layer: int, name: str, d_form: tuple[int, ...],
        trunc: Truncation, only: int | None = None) -> Kernel:
    """GFL rule: the lazy rule on `K_{l-1}` with `[lambda_f]` raised by `[D_l]`.

    Products containing the amplified feature `j` times are raised by `j [D_l]`
    (Claim ii); they rely on layer `l`.
    """
    f = kernel.feature(name)
    assert f is not None, name
    bit = 1 << layer
    half_d = tuple(x // 2 for x in d_form)
    boosted = content_max(space, kernel.amplitude, f.amplitude(space, half_d, bit))
    out = lazy(space, act, Kernel(boosted, kernel.features), trunc, only)
    if not out.features:
        return out
    amplified = Feature(tmax(space, f.eigen, shift(f.eigen, d_form, bit)), f.content)
    return Kernel(out.amplitude, tuple((n, amplified if n == name else g) for n, g in out.features))


def spike_content(space: Space, act: Activation, f: Feature, q_form: tuple[int, ...], bit: int,
                  trunc: Truncation) -> Content:
    """Hermite content of `sigma = phi(q f)` (docs/theory.md section 4, last column).

    Analytic activations: `max_{m in T} (m[q] + c_{f^m}[n])`; positively homogeneous
    ones: `[q] + max_{j in J} c_{f^j}[n]`.
    """
    if act.taylor is not None:
        ms = act.taylor.upto(trunc.max_power)
        pw = powers(space, f.content, max(ms)) if ms else []
        parts = [content_shift(pw[m - 1], tuple(m * x for x in q_form), bit) for m in ms]
    else:
        js = act.hermite.upto(trunc.max_power)
        pw = powers(space, f.content, max(js)) if js else []
        parts = [content_shift(pw[j - 1], q_form, bit) for j in js]
    if not parts:
        return tuple(() for _ in f.content)
    return content_max(space, *parts)


def specialise(space: Space, act: Activation, kernel: Kernel, lazy_part: Kernel, layer: int, name: str,
               m_form: tuple[int, ...], q_form: tuple[int, ...], width_form: tuple[int, ...],
               trunc: Truncation) -> Kernel:
    """Sp rule (Claim i): `M_l` neurons with mean `q f` add a rank-one spike along
    `sigma_l = phi(q f)` with eigenvalue exponent `[M_l] - [N_l]` to the lazy part."""
    f = kernel.feature(name)
    assert f is not None, name
    bit = 1 << layer
    eigen = (Term(tuple(m - w for m, w in zip(m_form, width_form)), bit),)
    sigma = Feature(eigen, spike_content(space, act, f, q_form, bit, trunc))
    amplitude = content_max(space, lazy_part.amplitude, sigma.amplitude(space))
    return Kernel(amplitude, lazy_part.features + ((spike_name(layer), sigma),))
