"""Kernel states along pattern prefixes (`Folder`): the fold of the propagation rules
over a pattern's layers, each prefix computed once and shared by every pattern below it."""

from __future__ import annotations

from fractions import Fraction

from curse_cli.algebra.memo import Memo
from curse_cli.algebra.space import Space
from curse_cli.archs.problem import ActivationKind, Problem
from curse_cli.engine.kernels import (Kernel, gfl, highest_power, input_kernel, lazy, lazy_powers, rescaled, specialise,
                                      spike_name)
from curse_cli.engine.patterns import GP, Mechanism, Pattern, layer_options
from curse_cli.engine.powers import Place, Reuse, Rules, Truncation
from curse_cli.engine.symbols import search_bound, var


class Folder:
    """Kernel states along pattern prefixes, computed once per prefix."""

    def __init__(self, problem: Problem, space: Space, trunc: Truncation, restrict_last: bool = True,
                 q_bound: int | None = None, memo: Memo | None = None) -> None:
        self.restrict_last = restrict_last
        self.q_bound = q_bound if q_bound is not None else search_bound(problem)
        self.problem = problem
        self.space = space
        self.trunc = trunc
        self.rules = Rules(space, problem.activation, trunc, memo if memo is not None else Memo())
        self._kernels: dict[Pattern, Kernel] = {
            (): input_kernel(space, space.form(problem.lambda0), trunc, problem.feature)}
        self._lazy: dict[Pattern, Kernel] = {}
        self._powers: dict[Pattern, dict] = {}
        self._highest = highest_power(problem.activation, trunc)   # of the powers the lazy rule uses
        self._sibling: tuple[Pattern, dict] | None = None   # the powers of the last lazy prefix released
        self._rows: dict[tuple, object] = {}

    def adopt(self, other: Folder, factor: int) -> None:
        """Take the kernels `other` computed for the same problem and box in a unit
        `factor` times coarser (`kernels.rescaled`), instead of computing them again."""
        self._kernels.update((p, rescaled(k, factor)) for p, k in other._kernels.items())
        self._lazy.update((p, rescaled(k, factor)) for p, k in other._lazy.items())

    def rows(self, key: tuple, make):
        """A layer's rows, built once per (kind, layer, feature, eigenvalue terms)."""
        held = self._rows.get(key)
        if held is None:
            held = self._rows[key] = make()
        return held

    def form(self, name: str, coefficient: int = 1) -> tuple[int, ...]:
        return self.space.form({name: Fraction(coefficient)})

    def only(self, length: int) -> int | None:
        """The last hidden layer's kernel is only read at the target's order (at every
        order when the readout reads several pieces)."""
        restrict = self.restrict_last and length == self.problem.depth and len(self.problem.read_orders) == 1
        return self.problem.degree if restrict else None

    def scale(self, kind: str, layer: int) -> tuple[str, tuple[int, ...]] | None:
        """The size `[s_l]` (kind "s") or `[s_f]` of layer `l`'s feature (kind "r"), if the
        space has it."""
        name = var(kind, layer)
        return (name, self.form(name)) if name in self.space.variables else None

    def place(self, layer: int, kind: str = "s") -> Place:
        """Where layer `layer`'s rule applies: the order it is read at and its input scale
        (`kind` "s": the layer's, for the lazy and GFL rules; "r": its feature's, for Sp)."""
        return Place(layer, self.only(layer), self.scale(kind, layer))

    def powers_of(self, prefix: Pattern, need: int = 0) -> dict:
        """The powers of `K_l`'s amplitude that the next layer's lazy rule uses
        (`kernels.lazy_powers`): shared by the lazy layer on `prefix` and every GFL
        layer on it.  With `need`, the highest power is made lean (only its terms that
        rely on every layer of `need`, for `readout_kernel`) and not remembered."""
        made = self._made_powers(prefix)
        if need or self._highest not in made:
            powers = self._raise(prefix, self.rules._replace(need=need), made)
            if need:
                return powers
            made = self._powers[prefix] = powers
        return made

    def _made_powers(self, prefix: Pattern) -> dict:
        """The powers of `prefix` made so far: all of them, or, for a prefix one layer
        short of the network, those below the highest (read at the target's order only,
        by the last layer's lazy rule: made whole or lean when asked for)."""
        if prefix not in self._powers:
            if self._sibling is not None and self._sibling[0] == prefix:
                return self._sibling[1]
            whole = self.only(len(prefix) + 1) is None
            self._powers[prefix] = self._raise(prefix, self.rules, None, whole)
        return self._powers[prefix]

    def _raise(self, prefix: Pattern, rules: Rules, made: dict | None, top: bool = True) -> dict:
        kernel, split = self.kernel(prefix), None
        if prefix and prefix[-1].kind is Mechanism.SP:
            # `K_l`'s amplitude is its lazy part's (the lazy sibling's) and the spike's:
            # raised from the sibling's powers (`kernels.power_list`'s split)
            sigma = kernel.feature(spike_name(len(prefix)))
            assert sigma is not None
            split = (self._made_powers(prefix[:-1] + (GP,)), sigma.amplitude(self.space))
        return lazy_powers(rules, kernel, self.only(len(prefix) + 1), Reuse(split, made, top))

    def readout_kernel(self, pattern: Pattern, need: int) -> Kernel:
        """`kernel(pattern)` for a lean programme (`Rows.program`'s `lean`), which reads
        only the readout terms that rely on every layer of `need`: when the last layer
        is lazy, only those are made (the highest power lean, `powers_of`); else the
        whole kernel.  Not for a polynomial activation, whose input-scale gain adds
        layers to a term after the powers are made.  Not remembered."""
        l = len(pattern)
        act = self.problem.activation
        if not need or pattern in self._kernels or pattern[-1].kind is not Mechanism.GP or \
                self.only(l) is None or act.kind is ActivationKind.POLYNOMIAL:
            return self.kernel(pattern)
        below = pattern[:-1]
        return lazy(self.rules._replace(need=need), self.kernel(below), self.place(l), remember=False,
                    powers=self.powers_of(below, need))

    def lazy_of(self, prefix: Pattern) -> Kernel:
        if prefix not in self._lazy:
            l = len(prefix) + 1
            # The last layer's lazy rule is not remembered per space: `release` forgets it.
            self._lazy[prefix] = lazy(self.rules, self.kernel(prefix), self.place(l), remember=l < self.problem.depth,
                                      powers=self.powers_of(prefix))
        return self._lazy[prefix]

    def kernel(self, prefix: Pattern) -> Kernel:
        """`K_l` after the layers of `prefix`."""
        if prefix in self._kernels:
            return self._kernels[prefix]
        below = prefix[:-1]
        step = prefix[-1]
        l = len(prefix)
        if step.kind is Mechanism.GP:
            out = self.lazy_of(below)
            self._kernels[prefix] = out
            return out
        assert step.feature is not None   # GFL and Sp steps name their feature
        if step.kind is Mechanism.GFL:
            out = gfl(self.rules, self.kernel(below), self.place(l), step.feature, self.form(var("D", l, step.feature)),
                      self.powers_of(below))
        else:
            width = self.space.form(self.problem.widths[l - 1])
            out = specialise(self.rules, self.kernel(below), self.lazy_of(below), self.place(l, "r"), step.feature,
                             self.form(var("M", l)), self.form(var("q", l)), width)
        self._kernels[prefix] = out
        return out

    def release(self, prefix: Pattern) -> None:
        """Forget what only the complete patterns below `prefix` (one layer short of the
        network) use: their kernels and the lazy layer on `prefix`.  A search calls it once
        it is done with them, so that memory follows the open prefixes rather than the
        patterns seen (they are computed again if asked for)."""
        self._lazy.pop(prefix, None)
        powers = self._powers.pop(prefix, None)
        if prefix[-1:] == (GP,) and powers is not None:
            self._sibling = (prefix, powers)   # its specialised siblings, expanded next, raise theirs from them
        for step in layer_options(self.problem.activation, prefix, self.problem.feature):
            self._kernels.pop(prefix + (step,), None)
