"""The derivation of one pattern, step by step, as a theorist would write it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from curse_cli.engine.analysis import active_piece, form_label
from curse_cli.engine.symbols import display
from curse_cli.engine.kernels import Feature, Kernel
from curse_cli.engine.patterns import Mechanism, Pattern
from curse_cli.engine.report import CostTerm, ExplainStep, Explanation, KernelLine, ReadoutTerm
from curse_cli.algebra.scales import format_fraction, format_monomial
from curse_cli.algebra.space import Space
from curse_cli.algebra.tropical import Term

if TYPE_CHECKING:   # the front door (`api.explain`) passes its context in
    from curse_cli.engine.api import Context


def _term_label(space: Space, term: Term) -> str:
    mono = space.monomial(term.vec)
    return format_monomial({display(k): v for k, v in mono.items()})


def _layers_of(prov: int) -> tuple[int, ...]:
    """The layers a readout term relies on (bit l of its provenance)."""
    return tuple(layer for layer in range(1, prov.bit_length()) if prov >> layer & 1)


def _feature_lines(space: Space, kernel: Kernel, degree: int) -> tuple[KernelLine, ...]:
    lines = []
    for name, feature in kernel.features:
        content = ", ".join(
            f"He_{n}: " + " | ".join(_term_label(space, t) for t in order)
            for n, order in enumerate(feature.content) if order and n in (1, degree)
        )
        lines.append(KernelLine(name, tuple(_term_label(space, e) for e in feature.eigen), content))
    return tuple(lines)


def _rule_text(step, l: int, problem, feature: Feature | None, space: Space) -> tuple[str, tuple[CostTerm, ...]]:
    act = problem.activation.name
    width = format_monomial(problem.widths[l - 1])
    unit = problem.words.unit
    if step.kind is Mechanism.GP:
        return (f"all {width} {unit} lazy: K_{l} = sum_j b_j K_{l - 1}^(∘j) over the Hermite orders j of {act} "
                f"(components keep their relative scale, Claim iii)"), ()
    assert feature is not None   # GFL and Sp act on a feature of the input kernel
    lam = " | ".join(_term_label(space, e) for e in feature.eigen)
    f = step.feature
    if step.kind is Mechanism.GFL:
        return (f"GFL on {f}: the eigenvalue of {f} (lambda = {lam}) is raised by D{l} in all {width} {unit}; "
                f"products containing {f} j times gain D{l}^j (Claim ii); amplified eigenvalue capped at order one"), (
            CostTerm(f"{width} D{l}", None, None, "the amplification of every unit"),)
    return (f"Sp on {f}: M{l} of the {width} {unit} take the mean q{l} {f}; they add a spike sigma{l} = "
            f"{act}(q{l} {f}) with eigenvalue M{l}/{width} (Claim i)"), (
        CostTerm(f"M{l} q{l}^2 / lambda_{f}", f, lam, problem.words.cost),)


def _readout_terms(orders: tuple[int, ...], program, optimum, space: Space) -> list[ReadoutTerm]:
    """The readout candidates: `a_y`'s for one piece; for several, each piece's (its
    order, the one chosen at the optimum, and which piece is active: the one whose row
    binds, else the largest).  A piece no component of the last kernel carries has one
    term without a formula."""
    families = [d for d in program.decisions if not d.layer]
    if len(orders) == 1:
        return [ReadoutTerm(form_label(space, o.vec), _layers_of(o.prov)) for o in families[0].options]
    chosen = [] if optimum is None else \
        [o for d, o in zip(program.decisions, optimum.choice, strict=True) if not d.layer]
    active = active_piece(optimum) if optimum is not None else None
    terms = []
    for i, (k, family) in enumerate(zip(orders, families, strict=True)):
        for o in family.options:
            picked = bool(chosen) and o is chosen[i]
            terms.append(ReadoutTerm(form_label(space, o.vec), _layers_of(o.prov), k, picked, picked and i == active))
        if not family.options:
            terms.append(ReadoutTerm(None, (), k))
    return terms


def derivation(ctx: Context, pattern: Pattern) -> Explanation:
    """Kernels layer by layer, the costs, the readout candidates, the active constraints."""
    problem = ctx.problem
    program, optimum, report = ctx.evaluate(pattern)
    space = ctx.space
    steps = []
    for l, step in enumerate(pattern, start=1):
        kernel_in = program.kernels[l - 1]
        feature = kernel_in.feature(step.feature) if step.feature else None
        text, costs = _rule_text(step, l, problem, feature, space)
        steps.append(ExplainStep(l, step, _feature_lines(space, kernel_in, problem.degree), costs, text))
    readout = _readout_terms(problem.read_orders, program, optimum, space)
    constraints: list[tuple[str, str, str]] = []
    summary = report.note or ""
    if optimum is not None:
        sol, mm = optimum.solution, optimum.minmax
        options = (*program.conditions, *program.terms, *optimum.choice)   # the order of the LP's rows
        for i, y in sorted(sol.multipliers.items()):
            if y == 0:
                continue
            constraints.append((mm.rows[i].label, format_fraction(y), form_label(space, options[i].vec)))
        summary = (f"[E] = {report.energy.linear()} = {format_fraction(report.exponent)} "  # type: ignore[union-attr, arg-type]  # a scored pattern
                   f"at the spec's scales; E ∝ {report.energy}")
    return Explanation(report, tuple(steps), tuple(readout), tuple(constraints), summary)

