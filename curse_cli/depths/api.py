"""How `[P*]` and the winners change with the number of hidden layers.

The spec is the template: its network at `L` hidden layers has the spec's widths, cut
to the first `L` or continued by repeating the last (`with_depth`), and everything else
as written.  Each depth is one `predict` by best-first search for the `top` best
patterns and every tie, so each row is exactly what full enumeration would rank first.
Every depth is loaded and checked against the limits before the first search: work
that cannot finish is refused up front.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import yaml

from curse_cli.errors import CurseError
from curse_cli.engine.api import Options, PatternReport, Prediction, check_limits, predict, unreachable_from_supports
from curse_cli.spec.load import LoadedSpec, SpecError, load_spec_text

MAX_LAYERS = 64   # the most hidden layers a list of depths names (far beyond what a search finishes)


class DepthError(CurseError):
    """A `layers` value (the text begins with it; the CLI puts `--layers` before it) or a
    spec that has no depth to vary: exit 2."""


class DepthRow(NamedTuple):
    """One depth: its spec and the prediction there."""

    depth: int
    spec: LoadedSpec
    prediction: Prediction

    @property
    def example(self) -> PatternReport | None:
        """The simplest winner: fewest layers that learn features, then by name (the
        same choice at every depth, so rows compare)."""
        winners = self.prediction.winners
        return min(winners, key=lambda w: (w.order_key, w.name)) if winners else None


def parse_layers(text: str) -> tuple[int, ...]:
    """Depths written `1-8`, `3`, or as a list `1,2,4` (ranges allowed in it); ascending,
    no repeats, each from 1 to `MAX_LAYERS`.  Errors start with the text (the CLI names
    its option before it)."""
    values: list[int] = []
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            start, stop = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise DepthError(f"{text}: {part.strip()!r} is not a number of hidden layers or a range A-B; "
                             f"e.g. 1-6 or 1,2,4") from None
        if not 1 <= start <= stop <= MAX_LAYERS:
            raise DepthError(f"{text}: {part.strip()!r} must name depths from 1 to {MAX_LAYERS}, "
                             f"the smaller first")
        values.extend(range(start, stop + 1))
    if sorted(set(values)) != values:
        raise DepthError(f"{text}: give each depth once, in increasing order")
    return tuple(values)


def with_depth(loaded: LoadedSpec, depth: int) -> LoadedSpec:
    """The spec's network with `depth` hidden layers: the widths cut to the first
    `depth`, or continued by repeating the last one; a scale only the dropped widths
    used is dropped with them.  The result is validated like any spec."""
    doc = yaml.safe_load(yaml.safe_dump(loaded.document))   # a deep copy of plain data
    arch = doc["architecture"]
    widths = arch.get("widths")
    if not isinstance(widths, list):
        raise DepthError(f"{loaded.origin}: architecture.kind: {arch['kind']} has a fixed number of layers; "
                         f"curse depth varies the widths list of a fully connected network (kind: fcn)")
    kept = [widths[min(i, len(widths) - 1)] for i in range(depth)]
    for name in {w for w in widths[depth:] if isinstance(w, str)} - {w for w in kept if isinstance(w, str)}:
        doc["scales"].pop(name, None)
    arch["widths"] = kept
    try:
        return load_spec_text(yaml.safe_dump(doc, sort_keys=False), loaded.origin)
    except SpecError as err:
        cut = f"in the network cut to {depth} hidden layer{'s' * (depth != 1)}"
        raise SpecError(err.origin, err.path, f"{err.message} ({cut})") from None


def depth_specs(loaded: LoadedSpec, layers: Sequence[int], options: Options) -> list[LoadedSpec]:
    """Every depth's spec, loaded and checked against `options`' limits (before any
    search, so a depth that is refused stops the command before the others run)."""
    specs = [with_depth(loaded, depth) for depth in layers]
    for spec in specs:
        problem = spec.problem
        # As `predict` checks them: the degree only where a pattern can reach it.
        check_limits(problem, options, degree=unreachable_from_supports(
            problem.activation, problem.depth, problem.degree) is None)
    return specs


def depth_rows(specs: Sequence[LoadedSpec], options: Options, top: int = 1) -> Iterator[DepthRow]:
    """The prediction at each depth, as each search finishes."""
    for spec in specs:
        yield DepthRow(spec.problem.depth, spec, predict(spec.problem, options, top=top))
