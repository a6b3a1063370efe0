"""Which Hermite orders any pattern can reach, from the activation's supports alone.

Used to answer an unreachable target at once, before any enumeration (issue 9,
section 3).  Every content the rules build is downward closed (docs/theory.md section 9): an
order `n >= 2` comes with `n - 2`.  So the orders a kernel can carry are described by
two numbers, the largest even and the largest odd order (`-1`: none), and a Hermite
product of two such sets is again one (`He_a He_b` reaches `a + b` with its parity, and
downward closure gives the rest).  Taking the union over patterns layer by layer can
only over-estimate what one pattern reaches, so "not reached" is a proof.
"""

from __future__ import annotations

from typing import NamedTuple

from curse_cli.archs.problem import Activation, Support


class Orders(NamedTuple):
    """A downward closed set of Hermite orders: the largest even and odd ones (-1: none)."""

    even: int
    odd: int

    def __contains__(self, n: object) -> bool:
        return isinstance(n, int) and n >= 0 and n <= (self.even if n % 2 == 0 else self.odd)

    def union(self, other: Orders) -> Orders:
        return Orders(max(self.even, other.even), max(self.odd, other.odd))

    def times(self, other: Orders, cap: int) -> Orders:
        """The orders of a product (capped: orders above `cap` are never needed to decide
        orders up to it)."""
        def top(*sums: int) -> int:
            best = max(sums)
            return -1 if best < 0 else best - (best > cap) * (best - cap + (best - cap) % 2)

        ee = [self.even + other.even] if self.even >= 0 and other.even >= 0 else []
        oo = [self.odd + other.odd] if self.odd >= 0 and other.odd >= 0 else []
        eo = [self.even + other.odd] if self.even >= 0 and other.odd >= 0 else []
        oe = [self.odd + other.even] if self.odd >= 0 and other.even >= 0 else []
        return Orders(top(-1, *ee, *oo), top(-1, *eo, *oe))


NONE = Orders(-1, -1)


def _powers(base: Orders, support: Support, cap: int) -> Orders:
    """The union over powers m in `support` of `base^m`.  An infinite tail is followed
    until a power adds nothing that the tail had not (then no later one does:
    `base^(m+2) = base^m base^2`)."""
    out = NONE
    power = base
    m = 1
    finite_top = max(support.finite, default=0)
    tail = NONE
    while True:
        if m in support:
            if support.infinite and m % 2 == support.parity and m >= support.start:
                if power.union(tail) == tail and m > finite_top:
                    return out
                tail = tail.union(power)
            out = out.union(power)
        if not support.infinite and m >= finite_top:
            return out
        power = power.times(base, cap)
        m += 1


def reachable(act: Activation, depth: int, degree: int) -> Orders:
    """Orders up to `max(degree, 1)` that the last hidden kernel of some pattern carries."""
    cap = max(degree, 1)
    kernel = features = Orders(-1, 1)          # K_0: the component z
    spike_support = act.taylor if act.taylor is not None else act.hermite
    for _ in range(depth):
        spikes = _powers(features, spike_support, cap)
        lazy = _powers(kernel, act.hermite, cap)
        kernel = lazy.union(spikes)
        features = (features if 1 in act.hermite else NONE).union(spikes)
    return kernel


def unreachable_from_supports(act: Activation, depth: int, degree: int) -> str | None:
    """A one-line reason when no pattern can carry `He_degree` (None: some may)."""
    if not parity_reachable(act, depth, degree):
        orders = reachable(act, depth, 1)     # decided by parity alone, whatever the degree
    elif degree > 64:
        return None   # decided by the enumeration, after the degree limit
    else:
        orders = reachable(act, depth, degree)
        if degree in orders:
            return None
    parity = "even" if degree % 2 == 0 else "odd"
    top = orders.even if degree % 2 == 0 else orders.odd
    have = f"{parity} orders up to {top}" if top >= 0 else f"no {parity} order at all"
    reason = (f"no pattern reaches He_{degree}(z): from {act.name}'s supports (J = {act.hermite.describe()}"
              + (f", T = {act.taylor.describe()}" if act.taylor is not None else "")
              + f") a {depth}-layer network's last kernel carries {have}")
    return reason + parity_hint(act, degree)


def parity_hint(act: Activation, degree: int) -> str:
    """Why the activation's Hermite orders miss `He_degree`'s parity, when they do
    (`; ...`), else nothing."""
    js = act.hermite.upto(degree + 2)
    if degree % 2 == 1 and not any(j % 2 == 1 and j > 1 for j in js):
        return (f"; {act.name} has no odd Hermite order above 1 (J = {act.hermite.describe()}), so He_{degree} "
                f"needs a product of odd and even features, which takes more hidden layers")
    if degree % 2 == 0 and not any(j % 2 == 0 for j in js):
        return f"; {act.name} is odd (J = {act.hermite.describe()}): it never produces an even order from z"
    return ""


def parity_reachable(act: Activation, depth: int, degree: int) -> bool:
    """Whether some pattern carries an order of `degree`'s parity at all: by downward
    closure, whether it carries order 0 or 1, decided with orders up to one."""
    return (degree % 2) in reachable(act, depth, 1)
