"""Feature-learning patterns: what each hidden layer does, and their enumeration.

A pattern assigns every hidden layer one of `GP`, `GFL(f)`, `Sp(f)` where `f` is a
spectral component of the layer's input kernel: the target index `z`, or the spike
`sigma_m` of a specialised layer `m` below (docs/theory.md section 3).  Canonical names join
the layers bottom to top with `-`: `GP-Sp(z)`, `Sp(z)-Sp(sigma1)`.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Iterator, NamedTuple

from curse_cli.errors import CurseError
from curse_cli.engine.kernels import Z, spike_name
from curse_cli.archs.problem import Activation


class Mechanism(str, Enum):
    """What a layer does (docs/theory.md section 3); the value is how names write it."""

    GP = "GP"     # lazy: the Gaussian process of the layer below
    GFL = "GFL"   # Gaussian feature learning: one eigenvalue amplified by D
    SP = "Sp"     # specialisation: M units take a mean q f

    def __str__(self) -> str:
        return self.value


class Step(NamedTuple):
    """One layer's choice."""

    kind: Mechanism
    feature: str | None = None

    def __str__(self) -> str:
        return str(self.kind) if self.kind is Mechanism.GP else f"{self.kind}({self.feature})"


Pattern = tuple[Step, ...]
GP = Step(Mechanism.GP)


def pattern_name(pattern: Pattern) -> str:
    return "-".join(str(step) for step in pattern)


def available_features(act: Activation, prefix: Pattern, source: str = Z) -> tuple[str, ...]:
    """Named components of the input kernel of layer `len(prefix) + 1`.

    The input component `source` (`z`; an architecture may name it otherwise) is in
    `K_0`; the spike `sigma_m` appears in `K_m` when layer `m` specialises.
    A named component crosses a layer only through the linear term of the lazy rule,
    i.e. when `1 in J` (a quadratic activation forgets `z` after one layer).
    """
    keeps = 1 in act.hermite
    names: list[str] = []
    if not prefix or keeps:
        names.append(source)
    for m, step in enumerate(prefix, start=1):
        if step.kind is Mechanism.SP and (m == len(prefix) or keeps):
            names.append(spike_name(m))
    return tuple(names)


def layer_options(act: Activation, prefix: Pattern, source: str = Z) -> tuple[Step, ...]:
    feats = available_features(act, prefix, source)
    return (GP, *(Step(Mechanism.GFL, f) for f in feats), *(Step(Mechanism.SP, f) for f in feats))


def enumerate_patterns(act: Activation, depth: int, source: str = Z, prefix: Pattern = ()) -> Iterator[Pattern]:
    """Every pattern of a `depth`-layer network (that begins with `prefix`), depth first,
    GP before GFL before Sp."""

    def walk(prefix: Pattern) -> Iterator[Pattern]:
        if len(prefix) == depth:
            yield prefix
            return
        for step in layer_options(act, prefix, source):
            yield from walk(prefix + (step,))

    yield from walk(prefix)


def count_patterns(act: Activation, depth: int) -> int:
    """How many patterns `enumerate_patterns` yields, without listing them."""
    return count_completions(act, (), depth)


def count_completions(act: Activation, prefix: Pattern, depth: int) -> int:
    """How many patterns of `depth` layers begin with `prefix`, without listing them.

    A layer has `1 + 2F` options when its input kernel has `F` named components, and
    `F` evolves simply: with a linear term (`1 in J`) every component survives and a
    specialised layer adds its spike; without, only the spike of a specialised layer
    directly below remains.  So a small dynamic programme over `F` suffices.
    """
    keeps = 1 in act.hermite
    states: dict[int, int] = {len(available_features(act, prefix)): 1}
    for _ in range(len(prefix), depth):
        nxt: dict[int, int] = {}
        for feats, count in states.items():
            for after, ways in (((feats if keeps else 0), 1 + feats), ((feats + 1 if keeps else 1), feats)):
                if ways:
                    nxt[after] = nxt.get(after, 0) + count * ways
        states = nxt
    return sum(states.values())


_STEP = re.compile(r"^(GP|GFL|Sp)(?:\(([A-Za-z][A-Za-z0-9]*)\))?$")


class PatternError(CurseError):
    """A pattern name that is not valid for the network."""


def parse_pattern(act: Activation, depth: int, name: str, source: str = Z) -> Pattern:
    """Read a canonical name back, checking every feature is available where used."""
    parts = name.strip().split("-")
    if len(parts) != depth:
        raise PatternError(
            f"pattern {name!r} has {len(parts)} layer(s) but the network has {depth} hidden layer(s); "
            f"write one of GP, GFL(f), Sp(f) per layer joined by '-', e.g. {pattern_name((GP,) * depth)!r}"
        )
    steps: list[Step] = []
    for part in parts:
        match = _STEP.match(part.strip())
        if not match or (match.group(1) == "GP") != (match.group(2) is None):
            raise PatternError(f"cannot read layer {len(steps) + 1} of {name!r}: {part!r}; "
                               f"expected GP, GFL(f) or Sp(f)")
        step = Step(Mechanism(match.group(1)), match.group(2))
        if step not in layer_options(act, tuple(steps), source):
            feats = ", ".join(available_features(act, tuple(steps), source)) or "none"
            raise PatternError(
                f"layer {len(steps) + 1} of {name!r} uses {step.feature}, which is not a component of its input "
                f"kernel (available: {feats})"
            )
        steps.append(step)
    return tuple(steps)
