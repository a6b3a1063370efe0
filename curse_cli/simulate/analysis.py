"""From points to a verdict: P_half per d, the exponent fit with its bootstrap, the verdict.

`P_half(d)`: the first upward crossing of alignment 1/2 along the P grid, interpolated
linearly in `log P`.  The exponent `b` of `P_half ∝ d^b` is the least-squares slope of
`log P_half` against `log d`; its interval is the 2.5-97.5 percentile range over bootstrap
replicates that resample, at every point independently, the chains (with replacement).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .report import Curve, Fit, PointResult, Predicted, SimulateReport, Verdict

LEVEL = 0.5
BOOTSTRAP = 1000
NULL_RATE = math.erfc(3.0 / math.sqrt(2.0))  # P(|N(0,1)| > 3)


def p_half(ps: Sequence[float], alignments: Sequence[float]) -> float | None:
    """Where the alignment first crosses LEVEL upwards, interpolated in log P."""
    for i in range(len(ps) - 1):
        a0, a1 = alignments[i], alignments[i + 1]
        if a0 < LEVEL <= a1:
            t = (LEVEL - a0) / (a1 - a0)
            return math.exp(math.log(ps[i]) + t * (math.log(ps[i + 1]) - math.log(ps[i])))
    return None


def slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of log y against log x; None with fewer than two points."""
    if len(xs) < 2:
        return None
    lx, ly = np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float))
    return float(np.polyfit(lx, ly, 1)[0])


def _by_d(points: Sequence[PointResult]) -> dict[int, list[PointResult]]:
    out: dict[int, list[PointResult]] = {}
    for p in sorted(points, key=lambda q: (q.d, q.p)):
        out.setdefault(p.d, []).append(p)
    return out


def curves(points: Sequence[PointResult]) -> tuple[Curve, ...]:
    result = []
    for d, pts in _by_d(points).items():
        ps = [p.p for p in pts]
        half = p_half(ps, [p.alignment for p in pts])
        note = None
        if half is None:
            note = ("above 1/2 already at the smallest P" if pts[0].alignment >= LEVEL
                    else "never reaches 1/2 on the grid")
        result.append(Curve(d=d, widths=pts[0].widths, p_half=half,
                            gp_p_half=p_half(ps, [p.gp_alignment for p in pts]), p_half_note=note,
                            p_half_prior=p_half(ps, [p.alignment_prior for p in pts]),
                            p_half_teacher=p_half(ps, [p.alignment_teacher for p in pts]),
                            specialists=pts[-1].specialists, specialists_null=pts[0].widths[0] * NULL_RATE))
    return tuple(result)


def fit(points: Sequence[PointResult], seed: int) -> Fit:
    groups = _by_d(points)
    cs = curves(points)
    have = [c for c in cs if c.p_half is not None]
    b = slope([c.d for c in have], [c.p_half for c in have if c.p_half is not None]) if len(have) == len(cs) else None
    gp_b, b_prior, b_teacher = (_exponent(cs, attr) for attr in ("gp_p_half", "p_half_prior", "p_half_teacher"))
    spec = [c for c in cs if c.specialists > 0]
    spec_slope = slope([c.d for c in spec], [c.specialists for c in spec]) if len(spec) == len(cs) else None
    rng = np.random.default_rng(seed)
    reps = []
    if b is not None:
        for _ in range(BOOTSTRAP):
            halves = []
            for pts in groups.values():
                means = []
                for p in pts:
                    chains = np.asarray(p.chain_alignment)
                    means.append(float(np.mean(rng.choice(chains, size=len(chains)))))
                halves.append(p_half([p.p for p in pts], means))
            if all(h is not None for h in halves):
                reps.append(slope(list(groups), halves))  # type: ignore[arg-type]  # every half is known here
    low, high = (float(np.percentile(reps, 2.5)), float(np.percentile(reps, 97.5))) if reps else (None, None)  # type: ignore[arg-type]
    return Fit(b=b, low=low, high=high, replicates=len(reps), gp_b=gp_b, b_prior=b_prior, b_teacher=b_teacher,
               specialists_slope=spec_slope)


def _exponent(cs: Sequence[Curve], attr: str) -> float | None:
    """Slope of log P_half against log d for one P_half column; None if a d lacks it."""
    values = [getattr(c, attr) for c in cs]
    if any(v is None for v in values):
        return None
    return slope([c.d for c in cs], values)


def verdict(points: Sequence[PointResult], curves_: Sequence[Curve], fit_: Fit, predicted: Predicted,
            tolerance: float) -> Verdict:
    bad = [p for p in points if not p.equilibrated]
    if bad:
        worst = max(bad, key=lambda p: abs(p.alignment_prior - p.alignment_teacher))
        return Verdict("not equilibrated", (
            f"{len(bad)} of {len(points)} points not equilibrated; worst d={worst.d} P={worst.p}: "
            f"prior start {worst.alignment_prior:.3f}±{worst.alignment_prior_se:.3f} vs teacher start "
            f"{worst.alignment_teacher:.3f}±{worst.alignment_teacher_se:.3f}, R-hat {worst.rhat:.2f}"
            f"{_bracket(fit_)}; raise --warmup/--samples"))
    if predicted.p_star_exponent is None:
        return Verdict("inconclusive", f"curse predict gives no P*: {predicted.unreachable}")
    if fit_.b is None:
        missing = ", ".join(f"d={c.d} ({c.p_half_note})" for c in curves_ if c.p_half is None)
        return Verdict("inconclusive", f"no P_half at {missing}; widen --p-ratio")
    target = float(_fraction(predicted.p_star_exponent))
    low = fit_.low if fit_.low is not None else fit_.b
    high = fit_.high if fit_.high is not None else fit_.b
    interval = f"b = {fit_.b:.2f} [{low:.2f}, {high:.2f}]"
    if low - tolerance <= target <= high + tolerance:
        return Verdict("agree", f"{interval} contains [P*] = {predicted.p_star_exponent} (± {tolerance:g})")
    return Verdict("disagree", f"{interval} excludes [P*] = {predicted.p_star_exponent} (± {tolerance:g})")


def _bracket(fit_: Fit) -> str:
    if fit_.b_prior is None or fit_.b_teacher is None:
        return ""
    return f"; fitted on each start alone, b = {fit_.b_prior:.2f} (prior) and {fit_.b_teacher:.2f} (teacher)"


def _fraction(text: str):
    from fractions import Fraction

    return Fraction(text)


def summarise(settings: dict, predicted: Predicted, points: Sequence[PointResult], seed: int,
              tolerance: float) -> SimulateReport:
    """The report of a finished (or partly finished) grid."""
    ordered = tuple(sorted(points, key=lambda p: (p.d, p.p)))
    cs = curves(ordered)
    f = fit(ordered, seed)
    return SimulateReport(settings=settings, predicted=predicted, points=ordered, curves=cs, fit=f,
                          verdict=verdict(ordered, cs, f, predicted, tolerance))
