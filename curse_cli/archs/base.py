"""The seam between a network family and the shared engine (docs/theory.md section 8).

An architecture is a value, not a class hierarchy: its spec block (a pydantic model
whose `kind` is the tag), the targets it takes, and one pure function that resolves a
validated block into a `Network`: the widths of its layers, the input component the
first layer sees (name and eigenvalue), the activation profile, the readout factor and
the words for tables.  Everything below (patterns, kernels, programmes, exact optima,
ranking, explain, sweep, JSON) reads only these fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict

from curse_cli.algebra.scales import Monomial
from curse_cli.archs.problem import Activation, Limit, Words


class Block(BaseModel):
    """Base of every spec model: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Sizes(Protocol):
    """What an architecture may ask of the spec's resolver."""

    def size(self, ref: Any, path: str) -> Monomial:
        """A declared scale name or a literal power of d, as a monomial."""

    def error(self, path: str, message: str) -> Exception:
        """A one-line spec error at `path`."""


class Network(NamedTuple):
    """An architecture's spec block, resolved: what the engine computes on.

    `widths`: one size per hidden layer (units: neurons, channels, heads); `degree`: the
    Hermite order of the target the readout reads; `feature`, `lambda0`: the input
    component and its eigenvalue; `readout_factor` multiplies `chi` in the readout
    term; `dimension` is the size of the direction to be learned (`Problem.dimension`);
    `limits` bound the sizes; `document`: the block as plain data; `shares`: a
    polynomial target's pieces with their shares (`Problem.shares`; empty: one piece)."""

    activation: Activation
    widths: tuple[Monomial, ...]
    degree: int
    feature: str
    lambda0: Monomial
    readout_factor: Monomial
    dimension: Monomial
    limits: tuple[Limit, ...]
    words: Words
    document: dict[str, Any]
    shares: tuple[tuple[int, Fraction], ...] = ()


@dataclass(frozen=True)
class Architecture:
    """One network family: `kind` (the spec's `architecture.kind`), a one-line
    `summary`, its block `model`, the target models it accepts, and `resolve(block,
    target, data, sizes) -> Network`."""

    kind: str
    summary: str
    model: type[BaseModel]
    targets: tuple[type[BaseModel], ...]
    resolve: Callable[[Any, Any, Any, Sizes], Network]


def width_limit(size: Monomial, path: str) -> Limit:
    """A width is at least one: `[size] >= 0`."""
    return Limit(size, Fraction(0), None, path, "a width", "a width is at least 1", "at least 1")
