"""The verdict of `curse ldt`: do the Chernoff slopes agree with the heuristic's exponents,
and if not, why (in plain words).  Pure: values in, a `Verdict` and notes out.

Agreement is judged at the largest-d pair of the scan: the energy slope against `[E]` of
the heuristic's winner and, where the heuristic fixes `M` itself at an M-Sp or full-Sp
corner, the slope of the specialised count against `[M]`.  The reasons name the usual
causes of a difference: the heuristic's `M >= 1` against a fractional Chernoff count,
a lazy or GFL winner, a vacuous bound (superlinear polynomials), the `t_max` edge of
linearly growing activations, and slopes that have not settled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scipy.special import erfc

from curse_cli.ldt.bound import LdtPoint
from curse_cli.engine.api import Mechanism
from curse_cli.algebra.scales import format_fraction, format_monomial

DEFAULT_TOLERANCE = 0.05  # of the verdict, on slopes

if TYPE_CHECKING:
    from curse_cli.ldt.report import Heuristic, Slope

TILTED = ("ok", "boundary")  # statuses with a tilted measure
_COUNTED = ("M-Sp", "full Sp")  # corners where "M neurons with q ~ 1" is the whole story


@dataclass(frozen=True)
class Verdict:
    """`agree` (False when inconclusive); `conclusive` False when the compared slope was
    drawn only from unresolved (`boundary`) points; the reason in words."""

    agree: bool
    reason: str
    conclusive: bool = True

    @property
    def outcome(self) -> str:
        """`agree`, `disagree` or `inconclusive`."""
        return "inconclusive" if not self.conclusive else ("agree" if self.agree else "disagree")


def _f(x: float) -> str:
    return f"{x:.3f}"


def _dd(d: float) -> str:
    return f"{d:.0f}" if d < 1e6 and float(d).is_integer() else f"{d:.3g}"


def _special(statuses: set[str], h: Heuristic, act: str, k: int) -> Verdict | None:
    """The verdict when either side has no finite exponent (unreachable, vacuous)."""
    if statuses == {"unreachable"}:
        if h.unreachable is not None:
            return Verdict(True, f"agree: both say He_{k} is out of reach. One {act} neuron has no correlation "
                                 f"with He_{k}(z) (g = 0, so the alignment is 0 surely), and no pattern of the "
                                 f"heuristic reaches He_{k} with one hidden layer.")
        return Verdict(False, f"disagree: one {act} neuron has no correlation with He_{k}(z) (g = 0), so the "
                              f"bound is infinite, yet the heuristic predicts {h.pattern} with [E] = "
                              f"{format_fraction(h.energy_exponent)}.")  # type: ignore[arg-type]  # the heuristic predicts a pattern here
    if h.unreachable is not None:
        return Verdict(False, f"disagree: the heuristic finds no pattern reaching He_{k}, but one {act} neuron "
                              "does correlate with it (g != 0), so the Chernoff energy is finite; tracking "
                              "higher Hermite orders (a higher max order) may show the missing pattern.")
    if "vacuous" in statuses:
        corner = f", {h.corner}" if h.corner else ""
        return Verdict(False, f"no comparison: the Chernoff bound is vacuous. {act} grows faster than linearly "
                              f"(its highest power with the parity of k = {k} is 2 or more), so E[exp(tA)] is "
                              "infinite for every t > 0 and the bound only says E >= 0; the heuristic's [E] = "
                              f"{format_fraction(h.energy_exponent)} ({h.pattern}{corner}) cannot be checked "  # type: ignore[arg-type]  # the heuristic predicts a pattern here
                              "this way.")
    return None


RESOLVED = 1e-6  # a boundary point's bracket [E, E + alpha (t_max - t*)], relative to E, that pins E


def _resolved(p: LdtPoint) -> bool:
    """Is the point's energy pinned?  `ok`, or `boundary` with a narrow bracket (ReLU's
    optimum crowds a finite t_max); not when the bracket is wide or t_max is infinite."""
    if p.status != "boundary":
        return True
    gap = p.alpha * (p.t_max - p.t_star) if p.t_max is not None else math.inf
    return math.isfinite(gap) and gap <= RESOLVED * abs(p.energy)


def judge(points: tuple[LdtPoint, ...], slopes: tuple[Slope, ...], h: Heuristic,
             act: str, k: int, tol: float) -> Verdict:
    """Agree iff, at the largest-d pair, the energy slope is within `tol` of `[E]` and (where
    the heuristic fixes M at an M-Sp or full-Sp corner) the count's slope within `tol` of `[M]`."""
    special = _special({p.status for p in points}, h, act, k)
    if special is not None:
        return special
    assert h.energy_exponent is not None   # _special answers every case without a prediction
    he = float(h.energy_exponent)
    last, top = slopes[-1], points[-1]
    pair = [p for p in points if p.d in (last.d_from, last.d_to)]
    if pair and not any(_resolved(p) for p in pair):
        return Verdict(False, f"inconclusive: the compared slope (d = {_dd(last.d_from)}..{_dd(last.d_to)}) joins "
                              "two unresolved points (status boundary: the supremum lies at the edge of the grid "
                              "in t, so each energy is only a lower estimate); scan smaller d.",
                       conclusive=False)
    e_ok = last.energy is not None and abs(last.energy - he) <= tol
    counted = (h.m is not None and h.m_determined and h.corner in _COUNTED
               and all(p.status == "ok" for p in points[-2:]))
    mexp = float(h.m.exponent) if h.m is not None else None
    c_ok = not counted or (last.specialised is not None and abs(last.specialised - mexp) <= tol)  # type: ignore[operator]  # counted: M is known
    agree = e_ok and c_ok
    e_text = "—" if last.energy is None else _f(last.energy)
    head = (f"{'agree' if agree else 'disagree'}: energy slope {e_text} at d = {_dd(last.d_from)}..{_dd(last.d_to)}"
            f" vs [E] = {format_fraction(h.energy_exponent)} of {h.pattern}")
    if counted:
        c_text = "—" if last.specialised is None else _f(last.specialised)
        head += f"; specialised-count slope {c_text} vs [{h.m.label}] = {format_fraction(h.m.exponent)}"  # type: ignore[union-attr]  # counted: M is known
    why = [head + f" (tolerance {tol:g})."]
    if h.tied:
        why.append(f"The heuristic ties {h.pattern} with {', '.join(h.tied)}.")
    count = top.specialised if top.status == "ok" and math.isfinite(top.specialised) else None
    fraction = count is not None and count < 1
    if not agree and (h.corner == "partial" or (mexp == 0 and fraction)):
        here = f" (here {count:.2g} at d = {_dd(top.d)})" if fraction else ""
        why.append("The heuristic needs at least one whole specialised neuron (M >= 1) while the Chernoff bound "
                   f"can count a fraction of one{here}: at a partial-specialisation corner or with [M] = 0, "
                   "expect the count below 1 and the bound's energy to grow more slowly than the heuristic's.")
    if not e_ok and h.kind in (Mechanism.GP, Mechanism.GFL) and last.energy is not None:
        name = "lazy (GP)" if h.kind is Mechanism.GP else "Gaussian feature learning (GFL)"
        stays = (f" and stays with specialisation ({count:.3g} neurons at d = {_dd(top.d)})"
                 if count is not None and count >= 1 else "")
        why.append(f"The heuristic's winner is {name}, while the bound weighs every mechanism of the two-layer "
                   f"network at once{stays}; its slope lies {'below' if last.energy < he else 'above'} [E].")
    elif not e_ok and last.energy is not None and last.energy > he + tol:
        why.append("The Chernoff energy is a lower bound on E: a slope above [E] means the heuristic's pattern is "
                   "too optimistic here, unless the slopes have not settled.")
    if counted and not c_ok and not fraction:
        why.append(f"The count of neurons with |u| > u_c = sigma_w d^(-1/4) does not follow {h.m.label} ∝ "  # type: ignore[union-attr]  # counted: M is known
                   f"{format_monomial(h.m.formula)}.")  # type: ignore[union-attr]  # counted: M is known
    why += _caveats(points, slopes, h, act, counted, agree, tol)
    return Verdict(agree, " ".join(why))


def _caveats(points: tuple[LdtPoint, ...], slopes: tuple[Slope, ...], h: Heuristic, act: str,
             counted: bool, agree: bool, tol: float) -> list[str]:
    """Boundary points, counts not compared, slopes not settled."""
    out = []
    edge = [p for p in points if p.status == "boundary"]
    if edge and math.isfinite(edge[0].t_max):
        out.append(f"{act} grows linearly, so E[exp(tA)] is finite only for t < t_max ∝ (chi N d)^(1/2): the "
                   "supremum sits at that edge (status boundary), E ≈ alpha t_max: one neuron carries the whole "
                   "alignment (a single large jump of a g(u)), which the tilted measure does not show, so the "
                   "tilted count of specialised neurons means little there.")
    elif edge:
        out.append(f"From d = {_dd(edge[0].d)} the maximiser lies beyond the grid the bound can resolve (status "
                   "boundary): the energy there is a lower estimate and the count is not meaningful.")
    if h.m is not None and not counted and h.corner not in (None, "partial", *_COUNTED):
        if h.m_determined:
            out.append(f"The heuristic's optimum is at the {h.corner} corner, so the specialised count is not "
                       "compared.")
        else:
            face = h.corner.replace(f"face {h.m.label}", "a face").strip()
            out.append(f"The heuristic fixes only {h.m.label} ∝ {format_monomial(h.m.formula)} ({face}), not M "
                       "itself, so the specialised count is not compared.")
    if not agree:
        energies = [s.energy for s in slopes if s.energy is not None]
        if len(energies) >= 2 and abs(energies[-1] - energies[-2]) > tol:
            out.append(f"The local slopes have not settled ({_f(energies[-2])} then {_f(energies[-1])}): slopes "
                       "only settle at large d; extend the scan to larger d.")
        elif points[-1].d < 1000:
            out.append(f"Slopes only settle at large d (the largest here is {_dd(points[-1].d)}); extend the scan "
                       "to larger d.")
    return out


def notes(points: tuple[LdtPoint, ...], measure: str) -> tuple[str, ...]:
    """Caveats on the counts (small d, a crowded bulk) and on the input measure."""
    out = []
    finite = [p for p in points if p.status in TILTED]
    small = [p for p in finite if p.d < 100]
    if small:
        out.append(f"Counts at d < 100 ({', '.join(_dd(p.d) for p in small)}) mean little: the threshold "
                     "u_c = sigma_w d^(-1/4) barely separates the bulk from the aligned neurons.")
    bulk = [(p, p.N * float(erfc(p.d**0.25 / math.sqrt(2)))) for p in finite if p.d >= 100]
    crowded = [(p, b) for p, b in bulk if b > 0.1 * max(p.specialised, 1.0)]
    if crowded:
        where = ", ".join(f"{b:.2g} at d = {_dd(p.d)}" for p, b in crowded)
        out.append(f"The untilted bulk alone puts neurons above u_c ({where}; N erfc(d^(1/4)/sqrt 2), "
                     "large once N >~ d^5): that part of the count is not specialisation.")
    if measure != "gaussian":
        out.append(f"The bound assumes Gaussian inputs; for the {measure} measure it is the Gaussian approximation.")
    return tuple(out)
