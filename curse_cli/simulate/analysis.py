"""From points to a verdict: P_half per d, the exponent fit with its bootstrap, the verdict.

`P_half(d)`: the first upward crossing of alignment 1/2 along the P grid of the
equilibrated points of `d`, interpolated linearly in `log P`.  The exponent `b` of
`P_half ∝ d^b` is the least-squares slope of `log P_half` against `log d`; its interval
(and each P_half's) is the 2.5-97.5 percentile range over bootstrap replicates that
resample, at every point independently, its runs (with replacement).  Points that are not
equilibrated (runs that disagree, or failed) never enter a P_half or b; the verdict names
them and why.  With `mala` / `hmc` the runs are chains from two starts: the curves of each
start are fitted apart, and the verdict is `dynamics`, never agreement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from .report import Curve, Fit, PointResult, Predicted, SimulateReport, Status, Verdict

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


def _usable(pts: Sequence[PointResult]) -> list[PointResult]:
    return [p for p in pts if p.equilibrated and p.alignment is not None]


def _aligns(pts: Sequence[PointResult]) -> list[float]:
    return [p.alignment for p in pts if p.alignment is not None]


def _start_half(pts: Sequence[PointResult], start: str) -> float | None:
    ps, values = [], []
    for p in pts:
        aligns = [r.alignment for r in p.runs if r.start == start and r.alignment is not None]
        if aligns:
            ps.append(p.p)
            values.append(float(np.mean(aligns)))
    return p_half(ps, values)


def _note(used: Sequence[PointResult]) -> str | None:
    if len(used) < 2:
        return "fewer than two equilibrated points"
    if used[0].alignment is not None and used[0].alignment >= LEVEL:
        return "above 1/2 already at the smallest equilibrated P"
    return "never reaches 1/2 on the equilibrated points"


def _gap_note(pts: Sequence[PointResult], used: Sequence[PointResult], half: float) -> str | None:
    """Which points the crossing was interpolated across because they were left out."""
    below = max((p.p for p in used if p.p <= half), default=None)
    above = min((p.p for p in used if p.p >= half), default=None)
    if below is None or above is None:
        return None
    skipped = [p.p for p in pts if below < p.p < above and p not in used]
    if not skipped:
        return None
    return f"interpolated across P = {', '.join(map(str, skipped))} (not equilibrated)"


def _resampled(pts: Sequence[PointResult], rng: np.random.Generator) -> list[float]:
    means = []
    for p in pts:
        aligns = np.asarray([r.alignment for r in p.runs if r.alignment is not None])
        means.append(float(np.mean(rng.choice(aligns, size=len(aligns)))))
    return means


def _bootstrap(groups: dict[int, list[PointResult]], seed: int) -> dict[int, list[float | None]]:
    """Per d, the P_half of each bootstrap replicate (runs resampled at every point)."""
    rng = np.random.default_rng(seed)
    out: dict[int, list[float | None]] = {d: [] for d in groups}
    for _ in range(BOOTSTRAP):
        for d, pts in groups.items():
            out[d].append(p_half([p.p for p in pts], _resampled(pts, rng)) if len(pts) >= 2 else None)
    return out


def _interval(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    have = [v for v in values if v is not None]
    if len(have) < 0.95 * len(values) or not have:
        return None, None
    return float(np.percentile(have, 2.5)), float(np.percentile(have, 97.5))


def curves(points: Sequence[PointResult], seed: int) -> tuple[tuple[Curve, ...], dict[int, list[float | None]]]:
    by_d = _by_d(points)
    groups = {d: _usable(pts) for d, pts in by_d.items()}
    reps = _bootstrap(groups, seed)
    result = []
    for d, pts in by_d.items():
        used = groups[d]
        half = p_half([p.p for p in used], _aligns(used)) if len(used) >= 2 else None
        low, high = _interval(reps[d]) if half is not None else (None, None)
        gp = [(p.p, p.gp_alignment) for p in pts if p.gp_alignment is not None]
        widths = pts[0].widths
        last = used[-1].specialists if used else None
        dynamics = bool(pts) and pts[0].sampler != "smc"
        result.append(Curve(d=d, widths=widths, p_half=half, p_half_low=low, p_half_high=high,
                            gp_p_half=p_half([g[0] for g in gp], [g[1] for g in gp]),
                            p_half_note=_gap_note(pts, used, half) if half is not None else _note(used),
                            p_half_prior=_start_half(pts, "prior") if dynamics else None,
                            p_half_teacher=_start_half(pts, "teacher") if dynamics else None,
                            specialists=last, specialists_null=widths[0] * NULL_RATE if widths else None))
    return tuple(result), reps


def fit(points: Sequence[PointResult], seed: int) -> tuple[tuple[Curve, ...], Fit]:
    cs, reps = curves(points, seed)
    have = [(c.d, c.p_half) for c in cs if c.p_half is not None]
    b = slope([h[0] for h in have], [h[1] for h in have]) if len(have) >= 2 else None
    slopes = []
    if b is not None:
        ds = [h[0] for h in have]
        for i in range(BOOTSTRAP):
            halves = [h for h in (reps[d][i] for d in ds) if h is not None]
            fitted = slope(ds, halves) if len(halves) == len(ds) else None
            if fitted is not None:
                slopes.append(fitted)
    padded: list[float | None] = [*slopes, *([None] * (BOOTSTRAP - len(slopes)))]
    low, high = _interval(padded) if slopes else (None, None)
    spec = [(c.d, c.specialists) for c in cs if c.specialists is not None and c.specialists > 0]
    return cs, Fit(b=b, low=low, high=high, replicates=len(slopes), gp_b=_exponent(cs, "gp_p_half"),
                   b_prior=_exponent(cs, "p_half_prior"), b_teacher=_exponent(cs, "p_half_teacher"),
                   specialists_slope=slope([s[0] for s in spec], [s[1] for s in spec])
                   if len(spec) == len(cs) else None)


def _exponent(cs: Sequence[Curve], attr: str) -> float | None:
    """Slope of log P_half against log d for one P_half column; None if a d lacks it."""
    values = [getattr(c, attr) for c in cs]
    have = [v for v in values if v is not None]
    if len(have) < len(values):
        return None
    return slope([c.d for c in cs], have)


def _unequilibrated(points: Sequence[PointResult]) -> tuple[str, ...]:
    return tuple(f"d={p.d} P={p.p}: {p.reason}" for p in points if not p.equilibrated)


def verdict(points: Sequence[PointResult], curves_: Sequence[Curve], fit_: Fit, predicted: Predicted,
            tolerance: float, sampler: str) -> Verdict:
    bad = _unequilibrated(points)
    if sampler != "smc":
        return Verdict(Status.DYNAMICS, f"{sampler} chains from two starts show dynamics, not the posterior: "
                       f"b = {_num(fit_.b_prior)} (prior start), {_num(fit_.b_teacher)} (teacher start); "
                       "use --sampler smc for the equilibrium")
    if predicted.p_star_exponent is None:
        return Verdict(Status.INCONCLUSIVE, f"curse predict gives no P*: {predicted.unreachable}", bad)
    tail = f"; {len(bad)} of {len(points)} points not equilibrated and left out" if bad else ""
    gaps = [str(c.d) for c in curves_ if c.p_half is not None and c.p_half_note]
    if gaps:
        tail += f" (P_half at d = {', '.join(gaps)} interpolated across them)"
    if fit_.b is None:
        missing = ", ".join(f"d={c.d} ({c.p_half_note})" for c in curves_ if c.p_half is None)
        status = Status.NOT_EQUILIBRATED if bad else Status.INCONCLUSIVE
        hint = "raise --particles or --kappa, or widen --p-ratio" if bad else "widen --p-ratio"
        return Verdict(status, f"b needs P_half at two d or more; none at {missing}{tail}; {hint}", bad)
    target = float(Fraction(predicted.p_star_exponent))
    low = fit_.low if fit_.low is not None else fit_.b
    high = fit_.high if fit_.high is not None else fit_.b
    used = ", ".join(str(c.d) for c in curves_ if c.p_half is not None)
    interval = f"b = {fit_.b:.2f} [{low:.2f}, {high:.2f}] from d = {used}"
    if low - tolerance <= target <= high + tolerance:
        return Verdict(Status.AGREE, f"{interval} contains [P*] = {predicted.p_star_exponent} "
                       f"(± {tolerance:g}){tail}", bad)
    return Verdict(Status.DISAGREE, f"{interval} excludes [P*] = {predicted.p_star_exponent} "
                   f"(± {tolerance:g}){tail}", bad)


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def summarise(settings: dict, predicted: Predicted, points: Sequence[PointResult], seed: int,
              tolerance: float, notes: tuple[str, ...] = ()) -> SimulateReport:
    """The report of a finished (or partly finished) grid."""
    ordered = tuple(sorted(points, key=lambda p: (p.d, p.p)))
    cs, f = fit(ordered, seed)
    sampler = ordered[0].sampler if ordered else str(settings.get("sampler", "smc"))
    return SimulateReport(settings=settings, predicted=predicted, points=ordered, curves=cs, fit=f,
                          verdict=verdict(ordered, cs, f, predicted, tolerance, sampler), notes=notes)
