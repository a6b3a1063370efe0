"""Notes for a prediction outside the heuristic's range (docs/output.md, Limits of validity):
fewer samples than the direction to be learned has entries, a vanishing ridge, a `P*` that does not grow with d,
a growing readout scale (mean-field) with a vanishing ridge, where `P*` can be vacuous.
Each note is a code (stable, for JSON readers) and a sentence."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from curse_cli.algebra.scales import format_fraction, format_monomial


@dataclass(frozen=True)
class Note:
    code: str
    text: str


def range_notes(p_star_exponent: Fraction | None, ridge_exponent: Fraction, chi_exponent: Fraction,
                ridge_name: str, dimension_exponent: Fraction = Fraction(1)) -> list[Note]:
    """The notes that apply to a prediction with these exponents (none without one);
    `dimension_exponent`: that of the direction the network must find (1 for d entries,
    `[S]` for a convolutional filter), below which `P*` is out of range."""
    if p_star_exponent is None:
        return []
    notes = []
    p = format_fraction(p_star_exponent)
    if p_star_exponent <= 0:
        notes.append(Note("p_star_vacuous", (
            f"vacuous: [P*] = {p} <= 0, a number of samples that does not grow with d; the ridge "
            f"{ridge_name} = {format_monomial({'d': ridge_exponent})} and the readout scale chi = "
            f"{format_monomial({'d': chi_exponent})} set it, and the heuristic's lower bound says nothing here")))
    elif p_star_exponent < dimension_exponent:
        notes.append(Note("p_star_below_dimension", (
            f"outside the heuristic's range: [P*] = {p} < {format_fraction(dimension_exponent)} means fewer "
            "samples than the direction to be learned has entries")))
    if ridge_exponent < 0:
        notes.append(Note("negative_ridge", (
            f"negative ridge exponent [{ridge_name}] = {format_fraction(ridge_exponent)}: the ridge vanishes as d "
            "grows, outside the range where the heuristic is derived")))
        if chi_exponent > 0:
            notes.append(Note("vacuous_readout", (
                f"readout scale chi = {format_monomial({'d': chi_exponent})} grows (mean-field) while the ridge "
                "vanishes: P* is a lower bound that can be vacuous where over-fitting matters")))
    return notes
