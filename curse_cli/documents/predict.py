"""The JSON documents of `curse predict`, `compare`, `explain` and `patterns`: what
`--format json` prints and the Python API's `to_dict` returns (plain data, every
exponent an exact string)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from curse_cli.algebra.scales import Monomial, format_fraction, format_monomial
from curse_cli.archs.problem import Problem
from curse_cli.documents.notes import Note, range_notes
from curse_cli.engine.api import (Explanation, LayerReport, Pattern, PatternReport, Prediction, Quantity, ReadoutTerm,
                                  Staircase, StairStep, pattern_name)

PREDICT_SCHEMA = "curse.predict/4"
COMPARE_SCHEMA = "curse.compare/3"
EXPLAIN_SCHEMA = "curse.explain/3"
PATTERNS_SCHEMA = "curse.patterns/2"


def frac(value: Fraction | None) -> str | None:
    return None if value is None else format_fraction(value)


def p_star_text(problem: Problem, energy: Monomial | None) -> str:
    """`kappa (N1 N2 d)^(1/3)`: the ridge times the energy, kept apart as on paper."""
    assert energy is not None, "only a scored pattern has a P*"
    ridge = format_monomial(problem.ridge)
    body = format_monomial(energy)
    if body == "1":
        return ridge
    return f"{ridge} {body}" if ridge != "1" else body


def notes_of(pred: Prediction) -> list[Note]:
    """The notes for a prediction outside the heuristic's range (`notes.range_notes`)."""
    problem = pred.problem
    values = problem.scale_values()
    ridge = problem.ridge.exponent(values)
    ridge_name = next(iter(problem.ridge), "kappa")
    return range_notes(pred.p_star_exponent, ridge, problem.chi.exponent(values), ridge_name,
                       problem.dimension.exponent(values))


def shown_patterns(pred: Prediction, top: int | None) -> list[PatternReport]:
    """The first `top` patterns, and every winner the headline names (a tie is never cut)."""
    rows = list(pred.patterns)
    if top is None:
        return rows
    first = rows[:top]
    return first + [r for r in rows[top:] if r in pred.winners]


def quantity_json(q: Quantity | None) -> dict[str, Any] | None:
    if q is None:
        return None
    return {"label": q.label, "formula": str(q.formula), "exponent": frac(q.exponent)}


def layer_json(layer: LayerReport) -> dict[str, Any]:
    return {
        "layer": layer.index,
        "type": layer.step.kind,
        "feature": layer.step.feature,
        "corner": layer.corner,
        "sizes": {q.label: {"formula": str(q.formula), "exponent": frac(q.exponent)} for q in layer.sizes},
        "cost": quantity_json(layer.cost),
        "note": layer.note,
    }


def pattern_json(report: PatternReport, rank: int | None) -> dict[str, Any]:
    return {
        "rank": rank,
        "name": report.name,
        "status": report.status.value,
        "energy_exponent": frac(report.exponent),
        "energy": None if report.energy is None else str(report.energy),
        "energy_linear": None if report.energy is None else report.energy.linear(),
        "readout": quantity_json(report.readout),
        "layers": [layer_json(layer) for layer in report.layers],
        "active_constraints": list(report.active),
        "note": report.note,
    }


def search_json(pred: Prediction) -> dict[str, Any] | None:
    """How the patterns were found: None when every pattern was ranked (`--all`, or the
    patterns named), else the search's account of the rest."""
    b = pred.bounded
    if b is None:
        return None
    return {"top": b.top, "ranked": len(pred.patterns), "bounded": b.patterns,
            "bounded_energy_above": frac(b.above), "scored": b.scored, "expanded": b.expanded}


def step_json(step: StairStep, problem: Problem) -> dict[str, Any]:
    """One step of the learning staircase (docs/staircase.md)."""
    pred = step.prediction
    winners = pred.winners
    return {
        "alignment_from": format_fraction(step.alignment_from),
        "alignment_to": format_fraction(step.alignment_to),
        "pieces": list(step.pieces),
        "p_star_exponent": frac(pred.p_star_exponent),
        "p_star": p_star_text(problem, winners[0].energy) if winners else None,
        "pattern": winners[0].name if winners else None,
        "tied": [w.name for w in winners] if len(winners) > 1 else [],
    }


def staircase_json(stair: Staircase, problem: Problem) -> list[dict[str, Any]]:
    """Every step, lowest alignment first (`prediction.staircase`)."""
    return [step_json(s, problem) for s in stair.steps]


def prediction_json(pred: Prediction, spec_doc: dict[str, Any], origin: str, show: int | None = None,
                    staircase: Staircase | None = None) -> dict[str, Any]:
    """`curse predict`'s document; with the target's `staircase`, the prediction carries
    its steps (`prediction.staircase`)."""
    problem = pred.problem
    patterns = shown_patterns(pred, show)
    prediction: dict[str, Any] | None = None
    if pred.winners:
        w = pred.winners[0]
        prediction = {
            "pattern": w.name,
            "energy_exponent": frac(w.exponent),
            "energy": str(w.energy),
            "p_star_exponent": frac(pred.p_star_exponent),
            "p_star": p_star_text(problem, w.energy),
            "tied": [
                {"pattern": t.name, "energy": str(t.energy), "p_star": p_star_text(problem, t.energy)}
                for t in pred.winners
            ] if pred.tied else [],
        }
        if staircase is not None:
            prediction["staircase"] = staircase_json(staircase, problem)
    ranks = pred.ranks()
    return {
        "schema": PREDICT_SCHEMA,
        "spec": {"origin": origin, **spec_doc},
        "scales": {name: frac(v) for name, v in problem.scales},
        "max_order": pred.max_order,
        "prediction": prediction,
        "unreachable": pred.unreachable,
        "notes": [{"code": n.code, "text": n.text} for n in notes_of(pred)],
        "total_patterns": pred.total_patterns,
        "search": search_json(pred),
        "patterns": [pattern_json(p, ranks.get(p.name)) for p in patterns],
    }


def compare_json(pred: Prediction, spec_doc: dict[str, Any], origin: str) -> dict[str, Any]:
    doc = prediction_json(pred, spec_doc, origin)
    doc["schema"] = COMPARE_SCHEMA
    return doc


def explain_json(ex: Explanation, spec_doc: dict[str, Any], origin: str, problem: Problem,
                 max_order: int | None = None) -> dict[str, Any]:
    return {
        "schema": EXPLAIN_SCHEMA,
        "spec": {"origin": origin, **spec_doc},
        "scales": {name: frac(v) for name, v in problem.scales},
        "max_order": max_order,
        "pattern": pattern_json(ex.report, None),
        "steps": [
            {
                "layer": s.layer,
                "rule": str(s.step),
                "text": s.text,
                "input_kernel": [{"component": k.name, "eigenvalue": list(k.eigenvalue), "content": k.detail}
                                 for k in s.kernel_in],
                "costs": [{"formula": c.formula, "component": c.component, "eigenvalue": c.eigenvalue,
                           "words": c.words} for c in s.cost_terms],
            }
            for s in ex.steps
        ],
        "readout_candidates": [readout_json(t) for t in ex.readout_terms],
        "active_constraints": [{"row": row, "multiplier": m, "form": f} for row, m, f in ex.constraints],
        "summary": ex.summary,
    }


def readout_json(term: ReadoutTerm) -> dict[str, Any]:
    """A readout candidate; for a target of several pieces, with its piece's order,
    whether the optimum chose it and whether its piece is the active one (a formula
    of null: no component of the last kernel carries the piece)."""
    doc: dict[str, Any] = {"formula": term.formula, "layers": list(term.layers)}
    if term.order is not None:
        doc.update(order=term.order, chosen=term.chosen, active=term.active)
    return doc


def patterns_json(problem: Problem, patterns: list[Pattern], spec_doc: dict[str, Any], origin: str) -> dict[str, Any]:
    return {"schema": PATTERNS_SCHEMA, "spec": {"origin": origin, **spec_doc},
            "scales": {name: frac(v) for name, v in problem.scales}, "count": len(patterns),
            "patterns": [pattern_name(p) for p in patterns]}
