"""`curse simulate`'s library: every check is against a closed form derived here, never
against the code itself.  Small shapes, few stages: JIT compilation dominates the time."""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import multivariate_normal

# JAX is imported when the tests run, not when they are collected (see conftest.py).
pytestmark = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs the simulate extra")


@pytest.fixture(autouse=True)
def _sim():
    global jax, jnp, analysis, model, report, smc, SamplerConfig, run_chains
    import jax
    import jax.numpy as jnp

    from curse_cli.simulate import analysis, model, report, smc
    from curse_cli.simulate.sampler import SamplerConfig, run_chains


# -- the marginal likelihood -------------------------------------------------------------


@pytest.mark.parametrize("p, n", [(40, 7), (6, 9)])  # N x N solve (N < P) and P x P solve
def test_marginal_likelihood_equals_direct_gaussian_density(p, n):
    rng = np.random.default_rng(p)
    feats, y = rng.normal(size=(p, n)), rng.normal(size=p)
    s, kappa = 0.3, 0.05
    direct = multivariate_normal(mean=np.zeros(p), cov=s * feats @ feats.T + kappa * np.eye(p)).logpdf(y)
    got = float(model.marginal_loglik(jnp.asarray(feats), jnp.asarray(y), s, kappa))
    assert got == pytest.approx(direct, rel=1e-6)
    padded = np.vstack([feats, np.zeros((5, n))])
    got_padded = float(model.marginal_loglik(jnp.asarray(padded), jnp.asarray(np.r_[y, np.zeros(5)]), s, kappa, p))
    assert got_padded == pytest.approx(direct, rel=1e-6)


# -- tempered SMC on posteriors with a known answer ------------------------------------------


@dataclass(frozen=True)
class Linear:
    """Bayesian linear regression y = x.z + N(0, s2), z ~ N(0, I): the family protocol's
    log_likelihood, with the rows `mask` counted."""

    s2: float

    def log_likelihood(self, z, x, y, mask):
        r = y - x @ z
        return jnp.sum(mask * (-0.5 * r * r / self.s2 - 0.5 * jnp.log(2 * jnp.pi * self.s2)))


def _linear_problem():
    rng = np.random.default_rng(0)
    n, dim, s2 = 24, 3, 0.25
    x = rng.normal(size=(n, dim))
    y = x @ np.array([1.0, -0.5, 0.3]) + math.sqrt(s2) * rng.normal(size=n)
    cov = np.linalg.inv(np.eye(dim) + x.T @ x / s2)
    # Exact: posterior mean S X^T y / s2, evidence y ~ N(0, X X^T + s2 I).
    return Linear(s2), x, y, cov @ x.T @ y / s2, multivariate_normal(np.zeros(n), x @ x.T + s2 * np.eye(n)).logpdf(y)


def _data(x, y, old, new):
    rows = np.arange(len(y))
    return tuple(jnp.asarray(a) for a in (x, y, (rows < old).astype(float), (rows < new).astype(float)))



def _config():
    return smc.SMCConfig(particles=512, mutations=4, leapfrog=4)


def test_smc_gives_the_exact_evidence_and_posterior_mean_of_a_gaussian_linear_model():
    family, x, y, mean, log_z = _linear_problem()
    config = _config()
    start = smc.prior_population(jax.random.PRNGKey(1), 3, config)
    fresh = smc.temper(family, config, _data(x, y, 0, len(y)), start, jax.random.PRNGKey(2), True)
    assert fresh.failure is None and fresh.stages > 1
    assert fresh.log_evidence == pytest.approx(log_z, abs=0.5)  # Monte-Carlo error about 0.15
    w, z = np.asarray(fresh.population.weights), np.asarray(fresh.population.particles)
    np.testing.assert_allclose(w @ z, mean, atol=0.03)
    # Data annealing: the first half from the prior, then the second half tempered in;
    # the evidences add up to the whole one and the posterior is the same.
    half = smc.temper(family, config, _data(x, y, 0, 12), start, jax.random.PRNGKey(3), True)
    rest = smc.temper(family, config, _data(x, y, 12, len(y)), half.population, jax.random.PRNGKey(4), False)
    assert rest.failure is None
    assert half.log_evidence + rest.log_evidence == pytest.approx(log_z, abs=0.5)
    w, z = np.asarray(rest.population.weights), np.asarray(rest.population.particles)
    np.testing.assert_allclose(w @ z, mean, atol=0.03)


@dataclass(frozen=True)
class TwoModes:
    """Likelihood 0.3 N(z; -m, s^2 I) + 0.7 N(z; +m, s^2 I) in two dimensions: the modes are
    symmetric about the prior's centre, so the posterior weights stay 0.3 and 0.7, and
    the barrier between them (width s = 0.15, centres 3 apart) traps a local chain."""

    def log_likelihood(self, z, x, y, mask):
        m = jnp.array([1.5, 0.0])
        s2 = 0.15**2

        def comp(c):
            return -0.5 * jnp.sum((z - c) ** 2) / s2 - jnp.log(2 * jnp.pi * s2)

        return jnp.logaddexp(jnp.log(0.3) + comp(-m), jnp.log(0.7) + comp(m))


def test_smc_recovers_both_weights_of_a_two_mode_posterior_where_one_chain_does_not():
    family = TwoModes()
    dummy = tuple(jnp.zeros(1) for _ in range(4))
    config = smc.SMCConfig(particles=1024, mutations=4, leapfrog=4)
    out = smc.temper(family, config, dummy, smc.prior_population(jax.random.PRNGKey(5), 2, config),
                     jax.random.PRNGKey(6), True)
    assert out.failure is None
    w, z = np.asarray(out.population.weights), np.asarray(out.population.particles)
    left = float(w @ (z[:, 0] < 0))
    assert left == pytest.approx(0.3, abs=0.08)
    # Exact evidence: sum_k w_k N(m_k; 0, (1 + s^2) I).
    cov = (1 + 0.15**2) * np.eye(2)
    exact = math.log(0.3 * multivariate_normal([0, 0], cov).pdf([-1.5, 0]) +
                     0.7 * multivariate_normal([0, 0], cov).pdf([1.5, 0]))
    assert out.log_evidence == pytest.approx(exact, abs=0.3)

    # One MALA chain (started at the prior's centre) never crosses: all its samples lie
    # on one side, so it reports weight 0 or 1 for the left mode.
    def logdensity(z):
        return -0.5 * z @ z + family.log_likelihood(z, None, None, None)

    config_mcmc = SamplerConfig("mala", warmup=300, samples=1500)
    chains = jax.jit(lambda k, z0: run_chains(logdensity, lambda z: (z[0] < 0, z[0] < 0), k, z0, config_mcmc))
    single = chains(jax.random.split(jax.random.PRNGKey(7), 1), jnp.full((1, 2), 0.01))
    assert float(single.mean[0]) in (0.0, 1.0)


@dataclass(frozen=True)
class Holes:
    """A standard-normal likelihood that is NaN where z0 > 1 (a numerical failure there)."""

    def log_likelihood(self, z, x, y, mask):
        value = -0.5 * jnp.sum((z - 0.5) ** 2) / 0.5
        return jnp.where(z[0] > 1.0, jnp.nan, value)


def test_a_nan_log_likelihood_counts_as_minus_infinity():
    config = smc.SMCConfig(particles=256, mutations=3, leapfrog=3)
    dummy = tuple(jnp.zeros(1) for _ in range(4))
    out = smc.temper(Holes(), config, dummy, smc.prior_population(jax.random.PRNGKey(8), 2, config),
                     jax.random.PRNGKey(9), True)
    assert out.failure is None and math.isfinite(out.log_evidence)
    w, z = np.asarray(out.population.weights), np.asarray(out.population.particles)
    assert float(w @ (z[:, 0] > 1.0)) == 0.0   # no weight where the likelihood is NaN


# -- from runs to P_half, b and the verdict --------------------------------------------------


def _point(d, p, aligns, equilibrated=True, reason=None):
    runs = tuple(report.Run(seed=i, alignment=a, log_evidence=-1.0, ess=10.0, stages=3, specialists=0.0,
                            seconds=1.0) for i, a in enumerate(aligns))
    return report.PointResult(d=d, p=p, widths=(d,), p_scaled=p / d, sampler="smc", runs=runs,
                              alignment=float(np.mean(aligns)), spread=max(aligns) - min(aligns),
                              equilibrated=equilibrated, reason=reason, mse=0.5, gp_alignment=0.1, gp_mse=0.9,
                              specialists=0.0, seconds=1.0)



def _predicted():
    return report.Predicted("Sp(z)", "d", "1", None, None, None, None)


def test_p_half_is_interpolated_in_log_p():
    assert analysis.p_half([10, 1000], [0.25, 0.75]) == pytest.approx(100.0)
    assert analysis.p_half([10, 100], [0.6, 0.9]) is None
    assert analysis.slope([2, 4, 8], [3, 12, 48]) == pytest.approx(2.0)


def test_b_uses_equilibrated_points_only_and_the_verdict_names_the_others():
    # Crossings at P = 2d (log-midpoint of d and 4d) at d = 8, 16: b = 1 exactly.  A third,
    # unequilibrated point at d = 16 would move P_half if it were used.
    points = [_point(8, 8, [0.24, 0.26]), _point(8, 32, [0.74, 0.76]),
              _point(16, 16, [0.25, 0.25]), _point(16, 48, [0.9, 0.2], False, "runs differ by 0.700 > 0.05"),
              _point(16, 64, [0.75, 0.75])]
    doc = analysis.summarise({"sampler": "smc"}, _predicted(), points, seed=0, tolerance=0.1)
    assert [c.p_half for c in doc.curves] == [pytest.approx(16.0), pytest.approx(32.0)]
    assert doc.fit.b == pytest.approx(1.0)
    assert doc.verdict.status is report.Status.AGREE
    assert doc.verdict.unequilibrated == ("d=16 P=48: runs differ by 0.700 > 0.05",)
    assert "interpolated across P = 48" in doc.curves[1].p_half_note and "d = 16" in doc.verdict.reason
    # The bootstrap over runs: at d = 16 both runs agree exactly, so P_half(16) is fixed;
    # at d = 8 the runs differ, so its interval is not a point.
    c8, c16 = doc.curves
    assert c16.p_half_low == pytest.approx(32.0) and c16.p_half_high == pytest.approx(32.0)
    assert c8.p_half_low < 16.0 < c8.p_half_high


def test_without_equilibrated_points_there_is_no_b():
    points = [_point(8, 8, [0.1, 0.4], False, "x"), _point(8, 32, [0.9, 0.5], False, "y"),
              _point(16, 16, [0.2, 0.21]), _point(16, 64, [0.7, 0.71])]
    doc = analysis.summarise({"sampler": "smc"}, _predicted(), points, seed=0, tolerance=0.1)
    assert doc.fit.b is None
    assert doc.verdict.status is report.Status.NOT_EQUILIBRATED
    assert len(doc.verdict.unequilibrated) == 2


# -- the point lines -----------------------------------------------------------------------


def test_a_point_line_reads_back_through_the_same_model_and_refuses_non_finite_numbers():
    point = _point(8, 8, [0.24, 0.26])
    assert report.PointResult.model_validate_json(report.point_line(point)) == point
    with pytest.raises(ValueError):
        point.model_validate({**point.model_dump(), "alignment": float("nan")})
    with pytest.raises(ValueError):
        point.model_validate({**point.model_dump(), "alignment": "x"})


@pytest.mark.parametrize("damage, needle", [
    (lambda line: line.replace('"alignment":0.25', '"alignment":"x"', 1), "line 2: alignment"),
    (lambda line: line.replace('"spread":', '"spreads":', 1), "line 2:"),
])
def test_resume_names_the_damaged_line(tmp_path, damage, needle):
    settings = {"seed": 0}
    path = tmp_path / "run.jsonl"
    good = report.point_line(_point(8, 8, [0.24, 0.26]))
    path.write_text(report.header_line(settings) + "\n" + damage(good) + "\n" + good + "\n")
    with pytest.raises(report.ResumeError, match=needle):
        report.read_jsonl(str(path), settings)
    path.write_bytes(report.header_line(settings).encode() + b"\n" + good.encode() + b"\n\xff\xfe\n")
    with pytest.raises(report.ResumeError, match="line 3: not UTF-8"):
        report.read_jsonl(str(path), settings)


def test_specialists_and_widths_come_from_the_family():
    facts = SimpleNamespace(kind="fcn", activation="erf", coefficients=(), width_exponents=(1.0,), chi_exponent=0.0,
                            degree=3, measure="gaussian", p_star_exponent=1)
    from curse_cli.simulate.experiment import Setup, bucket, widths_of

    setup = Setup(facts=facts, kappa=0.1, width_factor=1.0)
    assert widths_of(setup.family(8)) == (8,)
    # P = round(r d): 0.3 * 8 = 2.4 is run as 2, and a note says so; 1 * 8 = 8 is exact.
    assert setup.p_requested(8, (0.3, 1.0)) == ((0.3, pytest.approx(2.4), 2), (1.0, 8.0, 8))
    # Padded sizes: multiples of 16 up to 256, then m 2^k with 8 <= m < 16 (hand-listed).
    assert [bucket(p) for p in (1, 3, 16, 17, 33, 96, 97, 256, 257, 576, 1600)] == \
        [16, 16, 16, 32, 48, 96, 112, 256, 288, 576, 1664]
    assert all(p <= bucket(p) < p + max(p / 8, 16) for p in range(1, 5000))


@pytest.mark.parametrize("spec, ds, ratios, width, measured", [
    # the benchmark's grids and their measured wall seconds on two cores (docs/simulate.md)
    ("two_layer_erf.yaml", (8, 16, 32), (8, 12, 16, 24, 32), 1.0, 1379),
    ("cnn_erf.yaml", (16, 25, 36), (8, 16, 32, 64), 1.0, 565),
    ("attention_cubic.yaml", (4, 6, 8), (1, 2, 4, 8), 2.0, 573),
])
def test_the_time_estimate_is_within_a_factor_of_four_of_the_measured_benchmarks(spec, ds, ratios, width, measured):
    """Each family counts its own work (attention's scores and softmax were missing, so its
    grid was thought too short for workers and ran its runs one after the other)."""
    from pathlib import Path

    from curse_cli.simulate import predicted
    from curse_cli.simulate.experiment import Settings, Setup, memory_estimate, use_workers
    from curse_cli.simulate.smc import SMCConfig
    from curse_cli.simulate.workers import cores

    facts = predicted.load(str(Path(__file__).parents[1] / "specs" / spec), (), predicted.SIMULATED_KINDS)
    setup = Setup(facts=facts, kappa=0.1, width_factor=width)
    settings = Settings(ds=ds, p_ratios=ratios, test_size=512, seed=0, sampler="smc", runs=2,
                        smc=SMCConfig(particles=128), anneal=False, agreement=0.05, chains=SamplerConfig(),
                        chains_per_start=4)
    seconds = memory_estimate(setup, settings)[3] * min(2, len(cores())) / 2   # wall on two cores, as measured
    assert measured / 4 < seconds < measured * 4
    assert use_workers(setup, settings) is (len(cores()) > 1)


def test_workers_stream_their_items_raise_their_errors_and_report_a_lost_worker():
    import worker_tasks

    from curse_cli.simulate.workers import WorkerLost, cores, side_by_side

    with side_by_side(worker_tasks.count, [(3,), (2,)]) as streams:
        assert [list(s) for s in streams] == [[0, 1, 2], [0, 1]]
    with side_by_side(worker_tasks.fail, [("boom",)]) as (stream,):
        assert next(stream) == "first"
        with pytest.raises(ValueError, match="boom"):
            next(stream)
    with side_by_side(worker_tasks.die, [()]) as (stream,):
        assert next(stream) == "first"
        with pytest.raises(WorkerLost, match="exit code 3"):
            next(stream)
    usable = cores()
    with side_by_side(worker_tasks.affinity, [()] * (len(usable) + 1)) as streams:
        pinned = [next(s) for s in streams]
    assert pinned == [[usable[i % len(usable)]] for i in range(len(usable) + 1)]
    assert cores() == usable   # the parent got its own cores back


def test_waiting_for_a_worker_looks_up_for_ctrl_c_and_leaving_kills_it():
    import time

    import worker_tasks

    from curse_cli.simulate.workers import POLL_SECONDS, side_by_side

    calls = []

    def between():
        calls.append(time.monotonic())
        if len(calls) == 3:
            raise KeyboardInterrupt

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with side_by_side(worker_tasks.slow, [(60,)], between) as (stream,):
            next(stream)
    assert time.monotonic() - start < 10 * POLL_SECONDS + 5   # the 60 s worker was killed, not waited for


def test_a_worker_imports_this_package_wherever_the_command_runs(tmp_path, monkeypatch):
    """`python -m` puts the working directory first on a path: a worker started from a
    checkout of another version must still import the parent's package (CI's benchmark
    once mixed an installed parent with a checkout's worker)."""
    import worker_tasks

    from curse_cli.simulate.workers import side_by_side

    decoy = tmp_path / "curse_cli" / "simulate"
    decoy.mkdir(parents=True)
    (tmp_path / "curse_cli" / "__init__.py").write_text("raise ImportError('the decoy was imported')\n")
    (decoy / "__init__.py").write_text("")
    monkeypatch.chdir(tmp_path)
    with side_by_side(worker_tasks.count, [(2,)]) as (stream,):
        assert list(stream) == [0, 1]
