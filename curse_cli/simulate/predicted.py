"""The one bridge from `curse simulate`'s library to the rest of curse: the spec and
`curse predict`.

Every import of another curse module is here, so that moving those modules touches this
file only.  Nothing here imports JAX.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from curse_cli.algebra.scales import format_fraction, format_monomial
from curse_cli.engine.api import Mechanism, Options, predict
from curse_cli.spec.load import load_spec

from .report import Predicted

SIMULATED = ("erf", "tanh", "relu", "linear", "quadratic", "cubic")
SIMULATED_KINDS = ("fcn", "cnn", "attention")


class SimulateSpecError(ValueError):
    """A valid spec that `curse simulate` cannot run: one line, exit 2."""


@dataclass(frozen=True)
class LayerPrediction:
    """One hidden layer of one winning pattern: its mechanism and, for Sp, the size that
    counts its specialised units (`M2`, or a combination such as `M2 q2^2` on a face)."""

    pattern: str
    layer: int
    mechanism: str                   # GP, GFL or Sp
    label: str | None
    formula: str | None
    exponent: str | None


@dataclass(frozen=True)
class SpecFacts:
    """What the simulation needs from a spec, as plain numbers."""

    origin: str
    name: str | None
    activation: str                  # a builtin name, or "polynomial"
    coefficients: tuple[float, ...]  # a0, a1, ... for "polynomial"
    width_exponents: tuple[float, ...]
    chi_exponent: float
    degree: int
    measure: str
    p_star_exponent: Fraction
    predicted: Predicted
    document: dict[str, Any]
    kind: str = "fcn"                # the family: fcn, cnn or attention (families.build)
    patch_exponent: float = 1.0      # cnn: [S]
    readout: str = "per-patch"       # cnn: per-patch or pooled
    length_exponent: float = 0.0     # attention: [L]
    token_order: int = 1             # attention: r, the target has degree 2r + 1
    layers: tuple[LayerPrediction, ...] = ()  # every layer of every tied winner


def _activation(origin: str, doc: Any) -> tuple[str, tuple[float, ...]]:
    if isinstance(doc, str) and doc in SIMULATED:
        return doc, ()
    if isinstance(doc, dict) and "polynomial" in doc:
        return "polynomial", tuple(float(Fraction(c)) for c in doc["polynomial"])
    raise SimulateSpecError(f"{origin}: architecture.activation: an activation given only by its supports "
                            "cannot be simulated; use a builtin name or {polynomial: [a0, a1, ...]}")


def _family(kind: str, architecture: dict[str, Any], problem: Any, scales: dict[str, Fraction]) -> dict[str, Any]:
    """The SpecFacts fields that say which family to build: a cnn's patch exponent (the
    dimension of its filter, `S`) and readout, attention's length exponent (its readout
    factor is `L d`) and target order `r` (the Hermite order its readout reads)."""
    if kind == "cnn":
        return {"kind": kind, "patch_exponent": float(problem.dimension.exponent(scales)),
                "readout": architecture.get("readout", "per-patch")}
    if kind == "attention":
        return {"kind": kind, "length_exponent": float(problem.readout_factor.exponent(scales)) - 1.0,
                "token_order": problem.degree}
    return {"kind": kind}


def _first_layer_m(pred) -> tuple[str | None, str | None, str | None]:
    """The predicted number of specialised first-layer neurons, if the winner fixes it."""
    main = next((w for w in pred.winners if any(step.step.kind is Mechanism.SP for step in w.layers)),
                pred.winners[0] if pred.winners else None)
    if main is None:
        return None, None, None
    for layer in main.layers:
        if layer.index == 1 and layer.step.kind is Mechanism.SP:
            q = next((q for q in layer.sizes if q.label == "M1"), None) or (layer.sizes[0] if layer.sizes else None)
            if q is not None:
                return q.label, format_monomial(q.formula), format_fraction(q.exponent)
    return None, None, None


def _layers(pred) -> tuple[LayerPrediction, ...]:
    out = []
    for winner in pred.winners:
        for layer in winner.layers:
            size = next((q for q in layer.sizes if q.label.startswith("M")), None)
            label = formula = exponent = None
            if layer.step.kind is Mechanism.SP and size is not None:
                label, formula, exponent = size.label, format_monomial(size.formula), format_fraction(size.exponent)
            out.append(LayerPrediction(pattern=winner.name, layer=layer.index, mechanism=layer.step.kind.value,
                                       label=label, formula=formula, exponent=exponent))
    return tuple(out)


def _p_star(ridge: str, energy: str) -> str:
    if energy == "1":
        return ridge
    return energy if ridge == "1" else f"{ridge} {energy}"


def load(path: str, overrides: tuple[str, ...], kinds: tuple[str, ...] = ("fcn",)) -> SpecFacts:
    """Load and check the spec, and run `curse predict` on it.  `kinds`: the families the
    caller runs (an experiment built on `families.build` passes `SIMULATED_KINDS`)."""
    loaded = load_spec(path, overrides)
    doc, problem, origin = loaded.document, loaded.problem, loaded.origin
    architecture = doc.get("architecture", {})
    kind = architecture.get("kind")
    if kind not in kinds or kind not in SIMULATED_KINDS:
        raise SimulateSpecError(f"{origin}: architecture.kind: {kind!r} cannot be simulated yet; "
                                f"curse simulate runs {', '.join(k for k in kinds if k in SIMULATED_KINDS)}")
    if Fraction(doc.get("data", {}).get("target_variance", "0")) != 0:
        raise SimulateSpecError(f"{origin}: data.target_variance: only 0 (isotropic data) is simulated; remove it")
    if problem.shares:
        raise SimulateSpecError(f"{origin}: target: a target of {len(problem.shares)} pieces cannot be simulated yet; "
                                "curse simulate runs one Hermite piece (kind: hermite)")
    # Attention has no activation of its own: the softmax is part of the family.
    activation, coefficients = ("softmax", ()) if kind == "attention" else _activation(
        origin, architecture["activation"])
    scales = problem.scale_values()
    family = _family(kind, architecture, problem, scales)
    # One process: JAX may already run threads here, and forking a worker then can deadlock.
    pred = predict(problem, Options(workers=1), top=5)   # best-first as predict: deep specs have too many to rank
    if pred.p_star_exponent is None:
        raise SimulateSpecError(f"{origin}: curse predict finds no P* for this spec ({pred.unreachable}); "
                                "there is no prediction to test")
    main = pred.winners[0]
    energy = format_monomial(main.energy) if main.energy is not None else f"d^{format_fraction(pred.p_star_exponent)}"
    m_label, m_formula, m_exponent = _first_layer_m(pred)
    predicted = Predicted(
        pattern=main.name, p_star=_p_star(format_monomial(problem.ridge), energy),
        p_star_exponent=format_fraction(pred.p_star_exponent), m_label=m_label, m_formula=m_formula,
        m_exponent=m_exponent, unreachable=pred.unreachable)
    return SpecFacts(
        origin=origin, name=problem.name, activation=activation, coefficients=coefficients,
        width_exponents=tuple(float(w.exponent(scales)) for w in problem.widths),
        chi_exponent=float(problem.chi.exponent(scales)), degree=problem.degree, measure=problem.measure,
        p_star_exponent=pred.p_star_exponent, predicted=predicted, document=doc,
        layers=_layers(pred), **family)
