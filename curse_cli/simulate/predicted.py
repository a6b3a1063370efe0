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
from curse_cli.engine.api import Options, predict
from curse_cli.engine.patterns import Mechanism
from curse_cli.spec.load import load_spec

from .report import Predicted

SIMULATED = ("erf", "tanh", "relu", "linear", "quadratic", "cubic")


class SimulateSpecError(ValueError):
    """A valid spec that `curse simulate` cannot run: one line, exit 2."""


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


def _activation(origin: str, doc: Any) -> tuple[str, tuple[float, ...]]:
    if isinstance(doc, str) and doc in SIMULATED:
        return doc, ()
    if isinstance(doc, dict) and "polynomial" in doc:
        return "polynomial", tuple(float(Fraction(c)) for c in doc["polynomial"])
    raise SimulateSpecError(f"{origin}: architecture.activation: an activation given only by its supports "
                            "cannot be simulated; use a builtin name or {polynomial: [a0, a1, ...]}")


def _first_layer_m(pred) -> tuple[str | None, str | None, str | None]:
    """The predicted number of specialised first-layer neurons, if the winner fixes it."""
    main = next((w for w in pred.winners if any(l.step.kind is Mechanism.SP for l in w.layers)),
                pred.winners[0] if pred.winners else None)
    if main is None:
        return None, None, None
    for layer in main.layers:
        if layer.index == 1 and layer.step.kind is Mechanism.SP:
            q = next((q for q in layer.sizes if q.label == "M1"), None) or (layer.sizes[0] if layer.sizes else None)
            if q is not None:
                return q.label, format_monomial(q.formula), format_fraction(q.exponent)
    return None, None, None


def _p_star(ridge: str, energy: str) -> str:
    if energy == "1":
        return ridge
    return energy if ridge == "1" else f"{ridge} {energy}"


def load(path: str, overrides: tuple[str, ...]) -> SpecFacts:
    """Load and check the spec, and run `curse predict` on it."""
    loaded = load_spec(path, overrides)
    doc, problem, origin = loaded.document, loaded.problem, loaded.origin
    kind = doc.get("architecture", {}).get("kind")
    if kind != "fcn":
        raise SimulateSpecError(f"{origin}: architecture.kind: {kind!r} cannot be simulated yet; "
                                "curse simulate runs fully connected networks (kind: fcn) only")
    if Fraction(doc.get("data", {}).get("target_variance", "0")) != 0:
        raise SimulateSpecError(f"{origin}: data.target_variance: only 0 (isotropic data) is simulated; remove it")
    if problem.shares:
        raise SimulateSpecError(f"{origin}: target: a target of {len(problem.shares)} pieces cannot be simulated yet; "
                                "curse simulate runs one Hermite piece (kind: hermite)")
    activation, coefficients = _activation(origin, doc["architecture"]["activation"])
    scales = problem.scale_values()
    # One process: JAX may already run threads here, and forking a worker then can deadlock.
    pred = predict(problem, Options(workers=1))
    if pred.p_star_exponent is None:
        raise SimulateSpecError(f"{origin}: curse predict finds no P* for this spec ({pred.unreachable}); "
                                "there is no prediction to test")
    main = pred.winners[0]
    m_label, m_formula, m_exponent = _first_layer_m(pred)
    predicted = Predicted(
        pattern=main.name, p_star=_p_star(format_monomial(problem.ridge), format_monomial(main.energy)),
        p_star_exponent=format_fraction(pred.p_star_exponent), m_label=m_label, m_formula=m_formula,
        m_exponent=m_exponent, unreachable=pred.unreachable)
    return SpecFacts(
        origin=origin, name=problem.name, activation=activation, coefficients=coefficients,
        width_exponents=tuple(float(w.exponent(scales)) for w in problem.widths),
        chi_exponent=float(problem.chi.exponent(scales)), degree=problem.degree, measure=problem.measure,
        p_star_exponent=pred.p_star_exponent, predicted=predicted, document=doc)
