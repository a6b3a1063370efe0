"""`curse simulate`'s library: every check is against a closed form derived here, never
against the code itself.  Small shapes, few steps: JIT compilation dominates the time."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal

# JAX is imported when the tests run, not when they are collected (see conftest.py).
pytestmark = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs the simulate extra")


@pytest.fixture(autouse=True)
def _sim():
    global jax, jnp, analysis, experiment, model, SamplerConfig, run_chains
    import jax
    import jax.numpy as jnp

    from curse_cli.simulate import analysis, experiment, model
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
    # Zero padding rows, declared as padding, change nothing.
    padded = np.vstack([feats, np.zeros((5, n))])
    got_padded = float(model.marginal_loglik(jnp.asarray(padded), jnp.asarray(np.r_[y, np.zeros(5)]), s, kappa, p))
    assert got_padded == pytest.approx(direct, rel=1e-6)


def test_readout_mean_is_the_bayesian_linear_regression_posterior_mean():
    rng = np.random.default_rng(3)
    feats, y = rng.normal(size=(30, 5)), rng.normal(size=30)
    s, kappa = 0.2, 0.1
    # Posterior of a ~ N(0, s I) given y = Phi a + N(0, kappa): precision Phi^T Phi/kappa + I/s.
    exact = np.linalg.solve(feats.T @ feats / kappa + np.eye(5) / s, feats.T @ y / kappa)
    got = np.asarray(model.readout_mean(jnp.asarray(feats), jnp.asarray(y), s, kappa))
    np.testing.assert_allclose(got, exact, rtol=1e-9)


# -- the sampler -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mala", "hmc"])
def test_sampler_recovers_a_known_gaussian_posterior(kind):
    """Bayesian linear regression: posterior N(m, S), S = (I + X^T X/s2)^-1, m = S X^T y/s2."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3))
    s2 = 0.25
    y = x @ np.array([1.0, -0.5, 0.3]) + math.sqrt(s2) * rng.normal(size=20)
    cov = np.linalg.inv(np.eye(3) + x.T @ x / s2)
    mean = cov @ x.T @ y / s2
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def logdensity(z):
        return -0.5 * z @ z - 0.5 * jnp.sum((yj - xj @ z) ** 2) / s2

    chains = 8
    config = SamplerConfig(kind=kind, warmup=300, samples=2000)
    run = jax.jit(lambda k, z: run_chains(logdensity, lambda z: (z, z), k, z, config))
    out = run(jax.random.split(jax.random.PRNGKey(0), chains), jnp.zeros((chains, 3)))
    trace = np.asarray(out.trace)  # (chains, samples, 3)
    np.testing.assert_allclose(np.asarray(out.mean), trace.mean(axis=1), rtol=1e-10)
    chain_means = trace.mean(axis=1)
    se = chain_means.std(axis=0, ddof=1) / math.sqrt(chains)
    assert np.all(np.abs(chain_means.mean(axis=0) - mean) < 5 * se + 1e-3)
    # Covariance: chain-wise estimates, their spread is the Monte-Carlo error.
    covs = np.stack([np.cov(t.T) for t in trace])
    cov_se = covs.std(axis=0, ddof=1) / math.sqrt(chains)
    assert np.all(np.abs(covs.mean(axis=0) - cov) < 5 * cov_se + 0.05 * np.sqrt(np.outer(np.diag(cov), np.diag(cov))))
    assert 0.3 < float(np.mean(out.acceptance)) <= 1.0


# -- the network against its infinite-width limit -------------------------------------------


def _erf_kernel(a, b, d):
    """Williams' arcsine kernel of a one-hidden-layer erf network, inputs x.x'/d."""
    s12, s11, s22 = a @ b.T / d, (a * a).sum(1) / d, (b * b).sum(1) / d
    return 2 / np.pi * np.arcsin(2 * s12 / np.sqrt((1 + 2 * s11)[:, None] * (1 + 2 * s22)[None, :]))


def test_wide_network_matches_gaussian_process_regression():
    """Standard scaling, N = 1024 >> P/kappa: the posterior-mean predictor of the finite
    network is the GP-regression predictor with the erf kernel (up to O(P/(N kappa)))."""
    d, p, kappa = 4, 32, 0.5
    setup = experiment.Setup("erf", (), (0.0,), 0.0, 1, "gaussian", 1.0, kappa, 1024.0)
    settings = experiment.Settings(ds=(d,), p_ratios=(1.0,), chains=2, test_size=128, seed=0,
                                   sampler=SamplerConfig("mala", 60, 60))
    point = experiment.run_point(setup, settings, d, p)
    x, y, xt, yt = (np.asarray(a) for a in experiment.point_data(setup, settings, d, p))
    f_gp = _erf_kernel(xt, x, d) @ np.linalg.solve(_erf_kernel(x, x, d) + kappa * np.eye(p), y)
    gp_alignment = float(np.mean(f_gp * yt) / np.mean(yt * yt))
    assert point.gp_alignment == pytest.approx(gp_alignment, rel=1e-9)
    assert gp_alignment > 0.3  # the comparison is not between two zeros
    assert abs(point.alignment - gp_alignment) < 4 * point.alignment_se + 0.02
    assert point.widths == (1024,)


# -- the physics in miniature ------------------------------------------------------------


def test_linear_target_curves_collapse_on_p_over_d():
    """k = 1, N = d, P = d: the alignment depends on P/d only, so (averaged over training
    sets, whose fluctuations are O(1) at these d) it is the same at d = 8, 16 and 32
    although P grows fourfold; it sits mid-curve, where a wrong scaling with d (of the
    weights, the data or the widths) would move it.  Seeds share the compiled code."""
    setup = experiment.Setup("erf", (), (1.0,), 0.0, 1, "gaussian", 1.0, 0.01, 1.0)
    means = []
    for d in (8, 16, 32):
        values = []
        for seed in range(4):
            settings = experiment.Settings(ds=(d,), p_ratios=(1.0,), chains=2, test_size=256, seed=seed,
                                           sampler=SamplerConfig("mala", 150, 150))
            (point_d, p), = experiment.grid(setup, settings)
            point = experiment.run_point(setup, settings, point_d, p)
            assert (point.p, point.widths) == (d, (d,))
            values.append(point.alignment)
        means.append(float(np.mean(values)))
    assert all(0.3 < a < 0.9 for a in means), means
    assert max(means) - min(means) < 0.1, means


def test_p_half_is_interpolated_in_log_p():
    # Crossing halfway in alignment between P = 10 and P = 1000: log-midpoint 100.
    assert analysis.p_half([10, 1000], [0.25, 0.75]) == pytest.approx(100.0)
    assert analysis.p_half([10, 100], [0.6, 0.9]) is None
    assert analysis.slope([2, 4, 8], [3, 12, 48]) == pytest.approx(2.0)


def test_split_rhat_flags_chains_that_disagree():
    rng = np.random.default_rng(0)
    same = rng.normal(size=(4, 500))
    apart = same + np.array([0.0, 0.0, 3.0, 3.0])[:, None]
    assert experiment.split_rhat(same) < 1.02
    assert experiment.split_rhat(apart) > 1.5
