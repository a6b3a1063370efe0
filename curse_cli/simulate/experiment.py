"""One experiment: a grid of (d, P) points, each sampled by independent runs.

For each `d` the network is the spec's family at that `d` (`families.build`); the sample
sizes are `P = round(r d^[P*])` for the ratios `r`.  The training sets of one `d` are
nested (the first `P` rows of one sequence), the test set is fixed per `d`, and the data
do not depend on the run: independent runs sample the same posterior, so whether they
agree is the test of equilibrium.

With the `smc` sampler each run is a population of particles (`smc.temper`).  With data
annealing the population of each `P` of the grid is carried to the next `P`, whose extra
rows are tempered in; without it every point is tempered from the prior.  A run's
alignment is that of its weighted posterior-mean predictor `<f, y>/<y, y>` on the test
set.  With `mala` or `hmc` each run is one chain, half from the prior and half from a
teacher-aligned start: they show dynamics, not an equilibrium.

Randomness: the data from `Settings.seed`; run `r` samples with seed `1000 seed + r`,
folded with `d` (and with `P` without annealing), so a point's numbers repeat.
"""

from __future__ import annotations

import math
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterator

import jax
import jax.numpy as jnp
import numpy as np

from . import families, workers
from .report import PointResult, Run, finite
from .sampler import SamplerConfig, run_chains
from .smc import Population, SMCConfig, Tempered, prior_population, temper

RUN_SEEDS = 1000   # run r of seed s samples with seed RUN_SEEDS s + r
DYNAMICS_NOTE = "dynamics (two starts of {kind} chains), not an equilibrium"


@dataclass(frozen=True)
class Setup:
    """What the spec fixes, and the two numbers of the run that change the network."""

    facts: Any                 # predicted.SpecFacts
    kappa: float
    width_factor: float

    @property
    def p_star_exponent(self) -> float:
        return float(self.facts.p_star_exponent)

    def family(self, d: int) -> families.Family:
        return families.build(self.facts, d, self.width_factor, self.kappa)

    def p_requested(self, d: int, ratios: tuple[float, ...]) -> tuple[tuple[float, float, int], ...]:
        """(ratio, r d^[P*], P) for each ratio; P is the rounded value, at least 1."""
        out = []
        for r in ratios:
            exact = r * d ** self.p_star_exponent
            out.append((r, exact, max(1, round(exact))))
        return tuple(out)

    def p_values(self, d: int, ratios: tuple[float, ...]) -> tuple[int, ...]:
        return tuple(sorted({p for _, _, p in self.p_requested(d, ratios)}))


@dataclass(frozen=True)
class Settings:
    ds: tuple[int, ...]
    p_ratios: tuple[float, ...]
    test_size: int
    seed: int
    sampler: str               # smc | mala | hmc
    runs: int                  # smc: independent runs per point
    smc: SMCConfig
    anneal: bool               # smc: carry each P's population to the next P
    agreement: float           # runs agree when their alignments lie within this
    chains: SamplerConfig      # mala / hmc
    chains_per_start: int
    device: str = "cpu"


def grid(setup: Setup, settings: Settings) -> tuple[tuple[int, int], ...]:
    return tuple((d, p) for d in settings.ds for p in setup.p_values(d, settings.p_ratios))


def notes(setup: Setup, settings: Settings) -> tuple[str, ...]:
    """The report's notes: the families' caveats (once each), then one note per d whose
    requested sample sizes `r d^[P*]` rounding changed."""
    caveats = [setup.family(d).caveat for d in settings.ds]
    out = list(dict.fromkeys(c for c in caveats if c is not None))
    for d in settings.ds:
        changed = [f"{exact:.4g} -> {p}" for _, exact, p in setup.p_requested(d, settings.p_ratios)
                   if abs(exact - p) > 1e-9 * max(1.0, exact)]
        if changed:
            out.append(f"d={d}: P = r d^{setup.facts.p_star_exponent} rounded to whole points: {', '.join(changed)}")
    return tuple(out)


BUCKET_BITS = 3   # significant bits of a padded size: at most 1/8 of its rows are padding
BUCKET_ROWS = 16  # and at least this many rows a step: small sets share compiled code


def bucket(p: int) -> int:
    """Training sets are padded (masked rows) to the next multiple of a step: `2^k` with
    `2^(k + BUCKET_BITS)` at most `p`, so that padding, which costs as much as data, stays
    under 1/8 (a power of two wasted up to half: `P = 576` ran as 1024), but at least
    `BUCKET_ROWS`, so that small sets, whose time is mostly compiling, share compiled code."""
    step = max(BUCKET_ROWS, 1 << max(0, p.bit_length() - BUCKET_BITS - 1))
    return -(-p // step) * step


def widths_of(family: Any) -> tuple[int, ...]:
    """The hidden widths of a family (fcn: every layer; cnn: channels; attention: heads)."""
    for inner in ("net", "unit"):
        widths = getattr(getattr(family, inner, None), "widths", None)
        if widths:
            return tuple(widths)
    heads = getattr(family, "heads", None)
    return (heads,) if heads else ()


def _shard(array, device: str):
    """Place the leading (particle or chain) axis across the devices of `device`."""
    devices = jax.devices(device)
    if len(devices) == 1 or array.shape[0] % len(devices):
        return jax.device_put(array, devices[0])
    mesh = jax.sharding.Mesh(np.array(devices), ("particles",))
    return jax.device_put(array, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("particles")))


@partial(jax.jit, static_argnames=("family",))
def _measure(family, particles, weights, x, y, mask, x_test):
    """The weighted posterior-mean predictor on the test set and the mean specialist count."""
    f = jax.vmap(lambda z: family.predictor(z, x, y, mask, x_test))(particles)
    spec = jax.vmap(family.specialists)(particles)
    return weights @ f, weights @ spec


@dataclass(frozen=True)
class _Data:
    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def padded(self, p_old: int, p: int) -> tuple:
        """(x, y, mask_old, mask_new) of the first `p` rows padded to `bucket(p)`."""
        size = bucket(p)
        x = np.zeros((size, *self.x.shape[1:]))
        y = np.zeros(size)
        x[:p], y[:p] = self.x[:p], self.y[:p]
        rows = np.arange(size)
        return tuple(jnp.asarray(a) for a in (x, y, (rows < p_old).astype(float), (rows < p).astype(float)))


def _data(family, settings: Settings, p_max: int) -> _Data:
    x, y, x_test, y_test = family.data(settings.seed, p_max, settings.test_size)
    return _Data(np.asarray(x, float), np.asarray(y, float), np.asarray(x_test, float), np.asarray(y_test, float))


def _alignment(f: np.ndarray, y_test: np.ndarray) -> tuple[float, float]:
    norm = float(np.mean(y_test * y_test))
    return float(np.mean(f * y_test)) / norm, float(np.mean((f - y_test) ** 2)) / norm


@dataclass(frozen=True)
class _RunOutcome:
    run: Run
    predictor: np.ndarray | None


def _smc_run(family, settings: Settings, data: _Data, p: int, seed: int, tempered: Tempered, start: float
             ) -> _RunOutcome:
    pop = tempered.population
    seconds = time.perf_counter() - start
    if tempered.failure is not None:
        return _RunOutcome(Run(seed=seed, alignment=None, log_evidence=None, ess=finite(tempered.ess),
                               stages=tempered.stages, specialists=None, seconds=seconds,
                               failure=tempered.failure.value), None)
    x, y, _, mask = data.padded(p, p)
    f, spec = _measure(family, pop.particles, pop.weights, x, y, mask, jnp.asarray(data.x_test))
    f = np.asarray(f)
    align, _ = _alignment(f, data.y_test)
    if not (np.all(np.isfinite(f)) and math.isfinite(align)):
        return _RunOutcome(Run(seed=seed, alignment=None, log_evidence=finite(tempered.log_evidence),
                               ess=finite(tempered.ess), stages=tempered.stages, specialists=None,
                               seconds=seconds, failure="the posterior-mean predictor was not finite"), None)
    return _RunOutcome(Run(seed=seed, alignment=align, log_evidence=finite(tempered.log_evidence),
                           ess=finite(tempered.ess), stages=tempered.stages, specialists=finite(float(spec)),
                           seconds=time.perf_counter() - start), f)


def _run_seed(settings: Settings, r: int) -> int:
    return RUN_SEEDS * settings.seed + r


def _key(seed: int, *folds: int):
    key = jax.random.PRNGKey(seed)
    for f in folds:
        key = jax.random.fold_in(key, f)
    return key


def run_pass(setup: Setup, settings: Settings, r: int, done: frozenset[tuple[int, int]] = frozenset(),
             between: Callable[[], None] = lambda: None) -> Iterator[_RunOutcome]:
    """Run `r` over the grid, d by d and P by P, one outcome per point not in `done`.
    Each point is tempered from the prior, or (annealing) from this run's population at
    the previous P; a finished point is tempered through only when a later P needs it."""
    seed = _run_seed(settings, r)
    for d in settings.ds:
        family = setup.family(d)
        ps = setup.p_values(d, settings.p_ratios)
        data = _data(family, settings, ps[-1])
        kept: Population | None = None
        evidence: float | None = None
        previous = 0
        for i, p in enumerate(ps):
            if all((d, q) in done for q in (ps[i:] if settings.anneal else (p,))):
                if settings.anneal:
                    break
                continue
            t0 = time.perf_counter()
            fresh = not settings.anneal or kept is None
            if fresh or kept is None:
                carried = prior_population(_key(seed, d, 0, p), family.n_params, settings.smc)
                carried = carried._replace(particles=_shard(carried.particles, settings.device))
            else:
                carried = kept
            key = _key(seed, d, 1, p) if settings.anneal else _key(seed, d, 2, p)
            tempered = temper(family, settings.smc, data.padded(0 if fresh else previous, p), carried, key, fresh,
                              between)
            outcome = _smc_run(family, settings, data, p, seed, tempered, t0)
            if settings.anneal:
                kept = tempered.population if tempered.failure is None else None  # else restart
                if not fresh and outcome.run.log_evidence is not None:
                    # log Z of P is log Z of the previous P plus this pass's increment
                    total = None if evidence is None else evidence + outcome.run.log_evidence
                    outcome = _RunOutcome(outcome.run.model_copy(update={"log_evidence": total}), outcome.predictor)
                evidence = outcome.run.log_evidence if kept is not None else None
            previous = p
            if (d, p) not in done:
                yield outcome


WORKERS_FROM_SECONDS = 20.0   # estimated time of the grid from which worker processes pay


def use_workers(setup: Setup, settings: Settings) -> bool:
    """Whether the runs get a worker process each (`workers`): on a CPU with two cores or
    more, for two runs or more, and for a grid long enough to repay each worker's start
    (a few seconds of imports and compilation)."""
    return (settings.device == "cpu" and settings.runs > 1 and len(workers.cores()) > 1
            and memory_estimate(setup, settings)[3] >= WORKERS_FROM_SECONDS)


def smc_points(setup: Setup, settings: Settings, done: frozenset[tuple[int, int]] = frozenset(),
               between: Callable[[], None] = lambda: None) -> Iterator[PointResult]:
    """The points of the grid not in `done`, in order, each as soon as all its runs are
    done.  The runs go side by side in worker processes when that pays (`use_workers`),
    else they take turns in this process; `between()` is called between stages, or while
    the workers are waited for (where Ctrl-C is noticed)."""
    todo = [pt for pt in grid(setup, settings) if pt not in done]
    if not todo:
        return
    args = [(setup, settings, r, done) for r in range(settings.runs)]
    streams: AbstractContextManager[list[Iterator[Any]]]
    if use_workers(setup, settings):
        streams = workers.side_by_side(run_pass, args, between)
    else:
        streams = nullcontext([run_pass(*a, between) for a in args])
    current: tuple[int, Any, _Data] | None = None
    with streams as runs:
        for (d, p), outcomes in zip(todo, zip(*runs, strict=True), strict=True):
            if current is None or current[0] != d:
                family = setup.family(d)
                current = (d, family, _data(family, settings, setup.p_values(d, settings.p_ratios)[-1]))
            _, family, data = current
            yield _point(setup, settings, family, data, d, p, list(outcomes),
                         max(o.run.seconds for o in outcomes))


def _point(setup: Setup, settings: Settings, family, data: _Data, d: int, p: int, outcomes: list[_RunOutcome],
           seconds: float) -> PointResult:
    runs = tuple(o.run for o in outcomes)
    good = [o for o in outcomes if o.predictor is not None]
    predictors = [o.predictor for o in good if o.predictor is not None]
    aligns = [o.run.alignment for o in good if o.run.alignment is not None]
    alignment = float(np.mean(aligns)) if aligns else None
    spread = float(max(aligns) - min(aligns)) if len(aligns) >= 2 else None
    mse = _alignment(np.mean(predictors, axis=0), data.y_test)[1] if predictors else None
    specs = [o.run.specialists for o in good if o.run.specialists is not None]
    gp_align, gp_mse = _gp(family, data, p)
    equilibrated, reason = _judge(settings, runs, spread)
    return PointResult(d=d, p=p, widths=widths_of(family), p_scaled=p / d ** setup.p_star_exponent,
                       sampler=settings.sampler, runs=runs,  # type: ignore[arg-type]
                       alignment=finite(alignment), spread=finite(spread),
                       equilibrated=equilibrated, reason=reason, mse=finite(mse), gp_alignment=finite(gp_align),
                       gp_mse=finite(gp_mse), specialists=finite(float(np.mean(specs))) if specs else None,
                       seconds=seconds)


def _judge(settings: Settings, runs: tuple[Run, ...], spread: float | None) -> tuple[bool, str | None]:
    failed = [f"run {i + 1} failed: {r.failure}" for i, r in enumerate(runs) if r.failure is not None]
    if failed:
        return False, "; ".join(failed)
    if settings.sampler != "smc":
        return False, DYNAMICS_NOTE.format(kind=settings.sampler)
    if spread is None:
        return False, "one run cannot show agreement; use --runs 2 or more"
    if spread > settings.agreement:
        return False, f"runs differ by {spread:.3f} > --agreement {settings.agreement:g}"
    return True, None


def _gp(family, data: _Data, p: int) -> tuple[float | None, float | None]:
    f = np.asarray(family.gp_predictor(data.x[:p], data.y[:p], data.x_test), float)
    if not np.all(np.isfinite(f)):
        return None, None
    return _alignment(f, data.y_test)


# -- mala / hmc: dynamics from two starts ------------------------------------------------------


@partial(jax.jit, static_argnames=("family", "config"))
def _chains(family, config, keys, z0, data: tuple):
    x, y, mask, x_test, y_test = data
    y_norm = jnp.mean(y_test * y_test)

    def logdensity(z):
        v = -0.5 * z @ z + family.log_likelihood(z, x, y, mask)
        return jnp.where(jnp.isnan(v), -jnp.inf, v)

    def observe(z):
        f = family.predictor(z, x, y, mask, x_test)
        return (jnp.mean(f * y_test) / y_norm, family.specialists(z)), f

    return run_chains(logdensity, observe, keys, z0, config)


def chain_point(setup: Setup, settings: Settings, d: int, p: int) -> PointResult:
    """Chains from the prior and from the teacher-aligned start at (d, P)."""
    start = time.perf_counter()
    family = setup.family(d)
    data = _data(family, settings, p)
    c = settings.chains_per_start
    key = _key(settings.seed, d, 3, p)
    k_init, k_run = jax.random.split(key)
    z_prior = jax.random.normal(k_init, (2 * c, family.n_params))
    z0 = _shard(jnp.concatenate([z_prior[:c], family.aligned(z_prior[c:])]), settings.device)
    keys = _shard(jax.random.split(k_run, 2 * c), settings.device)
    x, y, _, mask = data.padded(p, p)
    out = _chains(family, settings.chains, keys, z0, (x, y, mask, jnp.asarray(data.x_test), jnp.asarray(data.y_test)))
    (align, spec), f_mean = out.trace, np.asarray(out.mean)
    align, spec = np.asarray(align).mean(axis=1), np.asarray(spec).mean(axis=1)
    seconds = time.perf_counter() - start
    outcomes = []
    for i in range(2 * c):
        ok = bool(np.isfinite(align[i]) and np.all(np.isfinite(f_mean[i])))
        run = Run(seed=_run_seed(settings, i), start="prior" if i < c else "teacher",
                  alignment=finite(float(align[i])) if ok else None, log_evidence=None, ess=None, stages=None,
                  specialists=finite(float(spec[i])) if ok else None, seconds=seconds,
                  failure=None if ok else "the chain's log-density or predictor was not finite")
        outcomes.append(_RunOutcome(run, f_mean[i] if ok else None))
    return _point(setup, settings, family, data, d, p, outcomes, seconds)


STAGES_GUESS = 40          # tempering stages of a fresh point, for the time estimate
FLOPS = 2e10              # float64 rate of one CPU core on this model, for the time estimate (docs/simulate.md)


def memory_estimate(setup: Setup, settings: Settings) -> tuple[int, int, int, float]:
    """(bytes, d, P) of the most demanding point (the population or chains, one
    likelihood-and-gradient per particle, the test-set predictions) and a rough time in
    seconds for the whole grid: a guess to put in a refusal, never a promise."""
    worst = (0, 0, 0)
    seconds = 0.0
    smc = settings.sampler == "smc"
    n = settings.smc.particles if smc else 2 * settings.chains_per_start
    at_once = min(settings.runs, len(workers.cores())) if smc and settings.device == "cpu" else 1  # side by side
    for d, p in grid(setup, settings):
        family = setup.family(d)
        per = family.memory_bytes(bucket(p)) + 8 * settings.test_size * (sum(widths_of(family)) or family.n_params)
        total = n * (per + 8 * 6 * family.n_params) + 8 * bucket(p) * bucket(p)
        worst = max(worst, (total * at_once, d, p))
        evals = (settings.runs * STAGES_GUESS * settings.smc.mutations * (settings.smc.leapfrog + 1) if smc
                 else settings.chains.warmup + settings.chains.samples)
        seconds += n * evals * family.work(bucket(p)) / FLOPS
    return (*worst, seconds / at_once)
