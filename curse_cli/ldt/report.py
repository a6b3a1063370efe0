"""The `curse ldt` report: the exact Chernoff bound along a scan in d, beside the heuristic.

Pure: `ldt_report(loaded, options)` evaluates the bound of `ldt.chernoff` at each `d` of
the scan (widths and chi are the spec's monomials of the scales, evaluated at that `d`),
takes the local log-log slopes of the energy and of the specialised-neuron count, scores
the same spec with the heuristic (`engine.predict`) and has `ldt_verdict` judge whether
the two agree.  Nothing here prints; `ldt_cli` renders the frozen `LdtReport`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.special import logsumexp

from curse_cli.errors import CurseError
from curse_cli.engine.api import Mechanism, PatternReport, Prediction, Quantity, predict
from curse_cli.ldt.bound import LdtPoint, activation_callable, chernoff, log_slopes, tilted_density
from curse_cli.ldt.alignment import Phi
from curse_cli.ldt.verdict import DEFAULT_TOLERANCE, TILTED, Verdict, judge, notes
from curse_cli.algebra.scales import Monomial, format_monomial
from curse_cli.spec.load import LoadedSpec

BINS = 12


class LdtError(CurseError):
    """A spec or option `curse ldt` cannot handle (one line; the CLI exits 2)."""


@dataclass(frozen=True)
class LdtOptions:
    """The scan (`ds`, ascending) and the bound's parameters (exact, as typed)."""

    ds: tuple[float, ...]
    alpha: Fraction = Fraction(1, 2)
    sigma_w: Fraction = Fraction(1)
    sigma_a: Fraction = Fraction(1)
    tolerance: float = DEFAULT_TOLERANCE


@dataclass(frozen=True)
class Slope:
    """Local log-log slopes between consecutive `d` (None where a value is not positive)."""

    d_from: float
    d_to: float
    energy: float | None
    specialised: float | None


@dataclass(frozen=True)
class Heuristic:
    """What `predict` says for the same spec: the winner, its `[E]`, and its M."""

    pattern: str | None
    tied: tuple[str, ...]
    kind: str | None  # the winner's (last) non-GP step: Sp, GFL; GP when lazy
    energy: Monomial | None
    energy_exponent: Fraction | None
    p_star: str | None
    p_star_exponent: Fraction | None
    m: Quantity | None  # M1, or the determined combination (M1 q1^2) on a face
    m_determined: bool
    corner: str | None
    unreachable: str | None


@dataclass(frozen=True)
class Bin:
    """Tilted probability of `lo <= |u| < hi`."""

    lo: float
    hi: float
    mass: float


@dataclass(frozen=True)
class Density:
    """The tilted density of `u = w . w*` at one point, binned on a log scale of `|u|`."""

    d: float
    N: float
    u_c: float
    bins: tuple[Bin, ...]


@dataclass(frozen=True)
class LdtReport:
    """Everything `curse ldt` shows: the scan, its slopes, the heuristic and the verdict.

    `document` is the validated spec as plain data (`LoadedSpec.document`); `phi` the
    activation the bound used (None: erf), kept for plotting the tilted density.
    """

    origin: str
    document: dict[str, Any] = field(compare=False)
    scales: tuple[tuple[str, Fraction], ...]
    activation: str
    degree: int
    options: LdtOptions
    points: tuple[LdtPoint, ...]
    slopes: tuple[Slope, ...]
    heuristic: Heuristic
    verdict: Verdict
    density: Density | None
    notes: tuple[str, ...]
    phi: Phi | None = field(default=None, compare=False, repr=False)


# -- the spec ---------------------------------------------------------------------------


def _phi(loaded: LoadedSpec) -> tuple[Phi | None, str]:
    """The activation as a function (None: erf, closed form) and its display name."""
    act = loaded.document["architecture"]["activation"]
    if isinstance(act, str):
        return (None if act == "erf" else activation_callable(act)), act
    if "polynomial" in act:
        coefs = act["polynomial"]
        phi = activation_callable("polynomial", [float(Fraction(c)) for c in coefs])
        return phi, f"polynomial [{', '.join(coefs)}]"
    raise LdtError(
        f"{loaded.origin}: architecture.activation: a custom profile {{hermite, taylor, kind}} cannot be "
        "evaluated; the Chernoff bound needs the function itself: use a builtin or {polynomial: [a0, a1, ...]}"
    )


def _check(loaded: LoadedSpec) -> None:
    problem = loaded.problem
    if problem.kind != "fcn":
        raise LdtError(
            f"{loaded.origin}: architecture.kind: curse ldt handles two-layer fully connected networks (kind: fcn) "
            f"only; this spec is {problem.kind}: use curse predict, compare or sweep for it"
        )
    if problem.shares:
        raise LdtError(
            f"{loaded.origin}: target: curse ldt bounds a single Hermite target; this one has "
            f"{len(problem.shares)} pieces: use curse predict for its staircase"
        )
    if problem.depth != 1:
        widths = ", ".join(loaded.document["architecture"]["widths"])
        raise LdtError(
            f"{loaded.origin}: curse ldt handles one hidden layer only (a two-layer network); "
            f"this spec has {problem.depth} hidden layers [{widths}]"
        )
    if loaded.document["data"]["target_variance"] != "0":
        raise LdtError(
            f"{loaded.origin}: data.target_variance: the Chernoff bound assumes isotropic inputs; "
            "curse ldt needs target_variance 0"
        )


def _size(monomial: Monomial, scales: dict[str, Fraction], d: float, what: str, origin: str) -> float:
    """`d^[X]` for a width or chi; an error where it leaves the floating-point range."""
    exponent = monomial.exponent(scales)
    try:
        value = d ** float(exponent)
    except OverflowError:
        value = math.inf
    if not (math.isfinite(value) and value > 0):
        raise LdtError(f"{origin}: {what} {format_monomial(monomial)} = {format_monomial({'d': exponent})} "
                       f"leaves the floating-point range at d = {d:g}; scan smaller d")
    return value


# -- the heuristic ----------------------------------------------------------------------


def _sp_quantity(report: PatternReport) -> tuple[Quantity | None, bool, str | None]:
    for layer in report.layers:
        if layer.step.kind is not Mechanism.SP:
            continue
        m = f"M{layer.index}"
        exact = next((q for q in layer.sizes if q.label == m), None)
        if exact is not None:
            return exact, True, layer.corner
        combo = next((q for q in layer.sizes
                      if any(t == m or t.startswith(m + "^") for t in q.label.split())), None)
        return combo, False, layer.corner
    return None, False, None


def _p_star(ridge: Monomial, energy: Monomial) -> str:
    ridge_text, body = format_monomial(ridge), format_monomial(energy)
    if body == "1":
        return ridge_text
    return f"{ridge_text} {body}" if ridge_text != "1" else body


def _heuristic(pred: Prediction) -> Heuristic:
    if not pred.winners:
        return Heuristic(None, (), None, None, None, None, None, None, False, None, pred.unreachable)
    main = next((w for w in pred.winners if any(l.step.kind is Mechanism.SP for l in w.layers)), pred.winners[0])
    kinds = [l.step.kind for l in main.layers if l.step.kind is not Mechanism.GP]
    m, determined, corner = _sp_quantity(main)
    return Heuristic(
        pattern=main.name,
        tied=tuple(w.name for w in pred.winners if w is not main),
        kind=kinds[-1] if kinds else Mechanism.GP,
        energy=main.energy,
        energy_exponent=main.exponent,
        p_star=_p_star(pred.problem.ridge, main.energy),  # type: ignore[arg-type]  # a winner has an energy
        p_star_exponent=pred.p_star_exponent,
        m=m,
        m_determined=determined,
        corner=corner,
        unreachable=None,
    )


# -- the tilted density -----------------------------------------------------------------


def _support(point: LdtPoint, phi: Phi | None) -> tuple[float, float]:
    """`[lo, hi]` in `|u|`: a tenth of the bulk scale up to where `u p(u)` falls e^-60 below its top."""
    bulk = point.sigma_w / math.sqrt(point.d)
    probe = np.geomspace(bulk * 1e-2, point.sigma_w * 1e6, 2401)
    _, log_p = tilted_density(point, probe, phi=phi, log=True)
    log_m = np.where(np.isfinite(log_p), log_p + np.log(probe), -np.inf)
    alive = np.nonzero(log_m > np.max(log_m) - 60.0)[0]
    hi = float(probe[min(int(alive[-1]) + 1, probe.size - 1)]) if alive.size else point.sigma_w
    return bulk / 10.0, max(hi, 8.0 * point.sigma_w)


def density(point: LdtPoint, phi: Phi | None, bins: int = BINS) -> Density:
    """The tilted probability of each `|u|` bin: `[0, lo)`, then `bins - 1` log-spaced bins
    up to `hi`; each integrated by the trapezoidal rule at a step of an eighth of the
    bulk width `sigma_w/sqrt(d)` (at most 20001 nodes a bin), both signs of `u`."""
    lo, hi = _support(point, phi)
    edges = np.concatenate([[0.0], np.geomspace(lo, hi, bins)])
    if lo < point.u_c < hi:  # make u_c an edge: the bins above it are the specialised neurons
        span = bins - 1
        below = min(max(round(span * math.log(point.u_c / lo) / math.log(hi / lo)), 1), span - 1)
        edges = np.concatenate([[0.0], np.geomspace(lo, point.u_c, below + 1),
                                np.geomspace(point.u_c, hi, span - below + 1)[1:]])
    step = point.sigma_w / (8.0 * math.sqrt(point.d))
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        n = int(min(max(math.ceil((b - a) / step), 16), 20000)) + 1
        u = np.linspace(a, b, n)
        _, log_p = tilted_density(point, u, phi=phi, log=True)
        log_w = np.full(n, math.log((b - a) / (n - 1)))
        log_w[[0, -1]] -= math.log(2.0)
        out.append(Bin(float(a), float(b), float(2.0 * math.exp(logsumexp(log_p + log_w)))))
    return Density(point.d, point.N, point.u_c, tuple(out))


def density_curve(point: LdtPoint, phi: Phi | None, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """`(|u|, 2 |u| p(u))` on a log grid: the tilted density of `log |u|` (for plots)."""
    lo, hi = _support(point, phi)
    u = np.geomspace(lo, hi, n)
    _, log_p = tilted_density(point, u, phi=phi, log=True)
    above = np.where(u > point.u_c, log_p + np.log(u), -np.inf)
    if np.isfinite(above).any():  # resolve the aligned peak: its width is the bulk's, sigma_w/sqrt(d)
        peak, width = float(u[int(np.argmax(above))]), point.sigma_w / math.sqrt(point.d)
        u = np.union1d(u, np.linspace(max(peak - 12 * width, lo), min(peak + 12 * width, hi), 401))
    _, p = tilted_density(point, u, phi=phi)
    return u, 2.0 * u * p


# -- the report -------------------------------------------------------------------------


def ldt_report(loaded: LoadedSpec, options: LdtOptions) -> LdtReport:
    """The Chernoff bound at each `d` of `options.ds`, its slopes, the heuristic and a verdict."""
    _check(loaded)
    if len(options.ds) < 2:
        raise LdtError(f"ds: {len(options.ds)} value(s) of d; a slope needs at least two")
    problem = loaded.problem
    phi, act = _phi(loaded)
    scales = problem.scale_values()
    k = problem.degree
    points = []
    for d in options.ds:
        N = _size(problem.widths[0], scales, d, "the width", loaded.origin)
        chi = _size(problem.chi, scales, d, "chi", loaded.origin)
        points.append(chernoff(d, N, k, alpha=float(options.alpha), sigma_w=float(options.sigma_w),
                               sigma_a=float(options.sigma_a), chi=chi, phi=phi))
    pts = tuple(points)
    slopes = tuple(
        Slope(a.d, b.d, _slope(a.d, b.d, a.energy, b.energy), _slope(a.d, b.d, a.specialised, b.specialised))
        for a, b in zip(pts, pts[1:])
    )
    heuristic = _heuristic(predict(problem))
    verdict = judge(pts, slopes, heuristic, act, k, options.tolerance)
    tilted = [p for p in pts if p.status in TILTED]
    return LdtReport(
        origin=loaded.origin,
        document=loaded.document,
        scales=problem.scales,
        activation=act,
        degree=k,
        options=options,
        points=pts,
        slopes=slopes,
        heuristic=heuristic,
        verdict=verdict,
        density=density(tilted[-1], phi) if tilted else None,
        notes=notes(pts, problem.measure),
        phi=phi,
    )


def _slope(x1: float, x2: float, y1: float, y2: float) -> float | None:
    if not all(math.isfinite(v) and v > 0 for v in (y1, y2)):
        return None
    return log_slopes([x1, x2], [y1, y2])[0]
