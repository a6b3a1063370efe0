"""The Python API: `predict`, `compare`, `explain`, `sweep` and `depth` for notebooks.

`spec` is a path to a YAML spec or a mapping of its fields; `set` a mapping of scale
overrides like `--set` (`{"N": 2}`, `{"N1": "d^(3/2)"}`); `alignment` the share of a
polynomial target to learn, like `--alignment` (`"1/2"`; None: the spec's).  Each call returns a frozen
result with typed fields (exponents as `Fraction`) and `to_dict()`, exactly the document
`--format json` prints.  The CLI is a thin layer over these functions.

Importing this module (and `curse_cli`) is cheap: the engine loads on the first call.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence, Union

from curse_cli.limits import (
    DEFAULT_GROWING_CHI_DEPTH, DEFAULT_HOMOGENEOUS_DEPTH, DEFAULT_MAX_DEGREE, DEFAULT_MAX_DEPTH, DEFAULT_MAX_PATTERNS,
    DEFAULT_MAX_POWER, DEFAULT_TOP, RULES, WorkLimit, naming,
)

DEFAULT_SEARCH_DEPTH = DEFAULT_MAX_DEPTH   # one default depth for every command (docs/limits.md)

if TYPE_CHECKING:
    from curse_cli.depths.api import DepthRow
    from curse_cli.engine.api import Explanation, Options, PatternReport, Prediction, Staircase, Status
    from curse_cli.spec.load import LoadedSpec
    from curse_cli.sweeps.report import Region, Sweep

SpecLike = Union[str, "os.PathLike[str]", Mapping[str, Any]]
Overrides = Union[Mapping[str, Any], Sequence[str], None]
Alignment = Union[str, int, float, Fraction, None]
MAPPING_ORIGIN = "<mapping>"


@dataclass(frozen=True)
class Settings:
    """The expert settings, one per flag of the same name (`--max-order`, ...).

    `max_depth=None` is the command's default (`curse_cli.limits`: six hidden layers)
    and keeps the lower limits of ReLU-like activations and of a search whose readout
    scale grows (mean-field); a number lifts them too.  `progress`, if given, is told
    how far a long run is (`Options.progress`)."""

    max_order: int | None = None
    max_patterns: int = DEFAULT_MAX_PATTERNS
    workers: int | None = None
    max_depth: int | None = None
    max_degree: int = DEFAULT_MAX_DEGREE
    max_power: int = DEFAULT_MAX_POWER
    progress: Callable[[Any], None] | None = field(default=None, compare=False, repr=False)

    def options(self, search: bool, limit: WorkLimit = WorkLimit.DEPTH) -> Options:
        """The engine's options for a command that searches (`predict`, `compare`,
        `depth`) or one that does not (`explain`, `sweep`); `limit` is the depth limit
        `max_depth` stands for (one pattern's for `explain`)."""
        from curse_cli.engine.api import Options

        given = self.max_depth is not None
        depth = self.max_depth if self.max_depth is not None else RULES[limit].default
        return Options(self.max_order, self.max_patterns, self.workers, max_depth=depth, max_degree=self.max_degree,
                       max_power=self.max_power,
                       max_depth_homogeneous=depth if given else min(depth, DEFAULT_HOMOGENEOUS_DEPTH),
                       max_depth_growing_chi=None if given or not search else min(depth, DEFAULT_GROWING_CHI_DEPTH),
                       depth_limit=limit, progress=self.progress)


@dataclass(frozen=True)
class _Result:
    """What every result holds: the validated spec, its warnings and the document."""

    spec: LoadedSpec = field(repr=False)
    warnings: tuple[str, ...]
    document: dict[str, Any] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The document `--format json` prints (a copy: the result stays frozen)."""
        return copy.deepcopy(self.document)


@dataclass(frozen=True)
class PredictResult(_Result):
    """`predict` or `compare`: the winners and `P*`, and every pattern ranked or found.

    `p_star` is `P*`'s formula (`kappa (N d)^(1/2)`), `p_star_exponent` its exponent
    `[P*]` at the spec's scales (None: no prediction, `unreachable` says why);
    `patterns` are the engine's reports (name, status, exponent, layers, ...), best
    first.  `staircase` is the target's learning staircase (`predict` only; None for
    `compare` and attention's target), whose step at the alignment is the prediction."""

    p_star: str | None
    p_star_exponent: Fraction | None
    energy_exponent: Fraction | None
    winners: tuple[str, ...]
    patterns: tuple[PatternReport, ...] = field(repr=False)
    unreachable: str | None
    max_order: int
    total_patterns: int
    prediction: Prediction = field(repr=False)
    staircase: Staircase | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ExplainResult(_Result):
    """`explain`: one pattern's derivation (`explanation`) and its report."""

    pattern: str
    status: Status
    energy_exponent: Fraction | None
    summary: str
    explanation: Explanation = field(repr=False)


@dataclass(frozen=True)
class SweepResult(_Result):
    """`sweep`: the regions of one outcome over the grid, the breakpoints along one axis
    (exact), and the whole `Sweep` (points, segments, boundaries)."""

    axes: tuple[str, ...]
    regions: tuple[Region, ...]
    breakpoints: tuple[Fraction, ...]
    result: Sweep = field(repr=False)


@dataclass(frozen=True)
class DepthResult(_Result):
    """`depth`: `[P*]` per number of hidden layers (None: no prediction there), the
    simplest winner at each, and the rows (each with its `Prediction`)."""

    layers: tuple[int, ...]
    p_star_exponents: tuple[Fraction | None, ...]
    examples: tuple[str | None, ...]
    summary: str
    rows: tuple[DepthRow, ...] = field(repr=False)


def load(spec: SpecLike, set: Overrides = None, alignment: Alignment = None) -> LoadedSpec:
    """The validated spec: read from a path (`-`: standard input) or from a mapping of
    the YAML's fields, with the scale overrides `set` applied, at `alignment` (None: the
    spec's)."""
    from curse_cli.spec.load import load_spec, load_spec_text

    overrides = () if set is None else set
    if isinstance(spec, Mapping):
        import yaml

        return load_spec_text(yaml.safe_dump(dict(spec), sort_keys=False), MAPPING_ORIGIN, overrides, alignment)
    return load_spec(os.fspath(spec), overrides, alignment=alignment)


def predict(spec: SpecLike, *, set: Overrides = None, top: int | None = None, all: bool = False,
            alignment: Alignment = None, settings: Settings = Settings()) -> PredictResult:
    """The best patterns and `P*`: the `top` best (default 5) and every tie by
    branch-and-bound search, or with `all` every pattern ranked (then `top`, if given,
    limits the patterns the document lists), as `curse predict`.  The target's
    learning staircase comes with it; the prediction is its step at the alignment."""
    from curse_cli.documents.predict import prediction_json
    from curse_cli.engine.api import predict_staircase

    loaded = load(spec, set, alignment)
    with naming(loaded.origin):
        pred, stair = predict_staircase(loaded.problem, settings.options(search=True),
                                        None if all else (top or DEFAULT_TOP))
    # attention's two-token target is no polynomial in one direction: no staircase
    shown = stair if loaded.document["target"]["kind"] in ("hermite", "polynomial") else None
    doc = prediction_json(pred, loaded.document, loaded.origin, top if all else None, shown)
    return _prediction_result(loaded, pred, doc, shown)


def compare(spec: SpecLike, *, patterns: Sequence[str] = (), set: Overrides = None, top: int | None = None,
            all: bool = False, alignment: Alignment = None, settings: Settings = Settings()) -> PredictResult:
    """Patterns side by side, as `curse compare`: the named `patterns` (each once), or
    the best ones as `predict` finds them (a polynomial target: scored on the set of
    pieces learned at the alignment)."""
    from curse_cli.documents.predict import compare_json
    from curse_cli.engine.api import parse_pattern

    loaded = load(spec, set, alignment)
    problem = loaded.problem
    chosen = list(dict.fromkeys(parse_pattern(problem.activation, problem.depth, n, problem.feature)
                                for n in patterns)) or None
    pred = _predict(loaded, chosen, top, all, settings)
    return _prediction_result(loaded, pred, compare_json(pred, loaded.document, loaded.origin))


def explain(spec: SpecLike, pattern: str, *, set: Overrides = None, alignment: Alignment = None,
            settings: Settings = Settings()) -> ExplainResult:
    """The derivation of one pattern, step by step, as `curse explain` (a polynomial
    target: on the set of pieces learned at the alignment, every piece's readout)."""
    from curse_cli.documents.predict import explain_json
    from curse_cli.engine.api import explain as derive
    from curse_cli.engine.api import parse_pattern, pieces_at

    loaded = load(spec, set, alignment)
    options = settings.options(search=False, limit=WorkLimit.DEPTH_EXPLAIN)
    with naming(loaded.origin):
        problem = pieces_at(loaded.problem, options)
        ex = derive(problem, parse_pattern(problem.activation, problem.depth, pattern, problem.feature), options)
    doc = explain_json(ex, loaded.document, loaded.origin, problem, options.truncation(problem).max_order)
    return ExplainResult(loaded, _spec_warnings(loaded), doc, ex.report.name, ex.report.status, ex.report.exponent,
                         ex.summary, ex)


def sweep(spec: SpecLike, x: str, y: str | None = None, *, set: Overrides = None, alignment: Alignment = None,
          settings: Settings = Settings()) -> SweepResult:
    """The outcome of `predict` over a grid of one (`x`) or two (`x`, `y`) scale
    exponents, each `NAME=START:STOP:COUNT` (exact: `N=0:3:61`), as `curse sweep`.
    A swept scale cannot also be set.  A polynomial target: `[P*]` at the alignment."""
    from curse_cli.documents.sweep import sweep_json
    from curse_cli.spec.load import parse_overrides
    from curse_cli.sweeps.api import SweepError, check_axes, parse_axis
    from curse_cli.sweeps.api import sweep as run

    axes = (parse_axis(x, "x"),) if y is None else (parse_axis(x, "x"), parse_axis(y, "y"))
    loaded = load(spec, set, alignment)
    fixed = parse_overrides(() if set is None else set)
    for index, axis in enumerate(axes):
        if axis.name in fixed:
            raise SweepError(f"{axis.name}: the scale is swept, so it cannot also be set (an override)", index)
    check_axes(loaded.problem, axes, loaded.origin)
    with naming(loaded.origin):
        result = run(loaded.problem, axes, settings.options(search=False))
    return SweepResult(loaded, _spec_warnings(loaded), sweep_json(result, loaded.document, loaded.origin),
                       tuple(a.name for a in axes), tuple(result.regions), tuple(result.breakpoints), result)


def depth(spec: SpecLike, *, layers: str | Sequence[int] = f"1-{DEFAULT_SEARCH_DEPTH}", top: int = 1,
          set: Overrides = None, alignment: Alignment = None, settings: Settings = Settings(),
          progress: Callable[[int], None] | None = None) -> DepthResult:
    """`[P*]` and the winners against the number of hidden layers (`layers`: `"1-6"`,
    `"1,2,4"` or a sequence of depths), as `curse depth` (a polynomial target: at the
    alignment); `progress(depth)` is called as each depth's search finishes."""
    from curse_cli.depths.api import depth_rows, depth_specs, parse_layers
    from curse_cli.documents.depth import depth_json, summary

    depths = parse_layers(layers) if isinstance(layers, str) else parse_layers(",".join(map(str, layers)))
    loaded = load(spec, set, alignment)
    options = settings.options(search=True)
    rows = []
    with naming(loaded.origin):
        for row in depth_rows(depth_specs(loaded, depths, options), options, top):
            rows.append(row)
            if progress is not None:
                progress(row.depth)
    warnings = _spec_warnings(loaded) + tuple(f"{row.depth} hidden layers: {w.message}"
                                              for row in rows for w in row.prediction.warnings)
    return DepthResult(loaded, warnings, depth_json(rows, loaded.document, loaded.origin), depths,
                       tuple(r.prediction.p_star_exponent for r in rows),
                       tuple(r.example.name if r.example is not None else None for r in rows), summary(rows),
                       tuple(rows))


def _predict(loaded: LoadedSpec, chosen: list | None, top: int | None, rank_all: bool,
             settings: Settings) -> Prediction:
    from curse_cli.engine.api import predict as engine_predict

    searched = None if chosen or rank_all else (top or DEFAULT_TOP)
    with naming(loaded.origin):
        return engine_predict(loaded.problem, settings.options(search=True), chosen, searched)


def _spec_warnings(loaded: LoadedSpec) -> tuple[str, ...]:
    return tuple(str(w) for w in loaded.warnings)


def _prediction_result(loaded: LoadedSpec, pred: Prediction, doc: dict[str, Any],
                       stair: Staircase | None = None) -> PredictResult:
    from curse_cli.documents.predict import p_star_text

    w = pred.winners[0] if pred.winners else None
    return PredictResult(loaded, _spec_warnings(loaded) + tuple(x.message for x in pred.warnings), doc,
                         None if w is None else p_star_text(pred.problem, w.energy), pred.p_star_exponent,
                         pred.energy_exponent, tuple(x.name for x in pred.winners), pred.patterns, pred.unreachable,
                         pred.max_order, pred.total_patterns, pred, stair)
