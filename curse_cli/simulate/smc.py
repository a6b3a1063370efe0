"""Adaptive tempered sequential Monte Carlo (BlackJAX), driven one stage at a time.

A population of particles, drawn from the standard-normal prior of the whitened weights,
is moved to the posterior through the tempered targets

    pi_lambda(z) ∝ N(z; 0, I) L_old(z) (L_new(z) / L_old(z))^lambda,   lambda: 0 -> 1,

each increment of `lambda` chosen so that the effective sample size of the reweighted
population stays at `target_ess` (BlackJAX's `adaptive_tempered` kernel): resample, then
`mutations` HMC steps at the current temperature, then reweight.  `L_old` is the
likelihood of the rows `mask_old` of the data and `L_new` that of `mask_new`: a fresh
run has no old rows (`L_old = 1`); data annealing carries the population of a smaller
training set to a larger one of the same nested sequence, whose extra rows are tempered in.

Between stages (in Python, so that Ctrl-C stops a run within one stage) the HMC inverse
mass matrix is set to the population's weighted variance and the step size moves towards
the acceptance rate `target_accept`.  A log-likelihood that is NaN counts as -inf (the
particle gets weight zero) rather than poisoning the temperature solver.  The log-evidence
`log Z_new - log Z_old` is the sum of the stages' log mean incremental weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from functools import partial
from typing import Any, Callable, NamedTuple

import blackjax
import jax
import jax.numpy as jnp
import numpy as np
from blackjax.smc import adaptive_tempered, resampling
from blackjax.smc.tempered import TemperedSMCState

MIN_STEP, MAX_STEP = 1e-4, 2.0
VARIANCE_FLOOR = 1e-12


@dataclass(frozen=True)
class SMCConfig:
    particles: int = 256
    mutations: int = 10         # HMC steps per stage
    leapfrog: int = 5           # leapfrog steps per HMC step
    target_ess: float = 0.5     # fraction of the particles
    target_accept: float = 0.65
    initial_step: float = 0.5
    max_stages: int = 400


class Failure(Enum):
    """Why a tempering pass gave no usable population."""

    NOT_FINITE = "a log-likelihood or weight was not finite in every particle"
    COLLAPSED = "the population collapsed onto one particle (effective sample size below 2)"
    TOO_MANY_STAGES = "tempering did not reach the posterior within the stage limit"


class Population(NamedTuple):
    """Weighted particles (rows of `particles`, weights summing to 1) and the HMC step
    size adapted so far."""

    particles: Any
    weights: Any
    step: float


@dataclass(frozen=True)
class Tempered:
    """One tempering pass: the final population and what it cost."""

    population: Population
    log_evidence: float        # log Z_new - log Z_old
    stages: int
    ess: float                 # of the final weights
    acceptance: float          # mean over stages
    failure: Failure | None


def prior_population(key, n_params: int, config: SMCConfig) -> Population:
    particles = jax.random.normal(key, (config.particles, n_params))
    return Population(particles, jnp.full(config.particles, 1.0 / config.particles), config.initial_step)


def _safe(value):
    return jnp.where(jnp.isnan(value), -jnp.inf, value)


@partial(jax.jit, static_argnames=("family", "config", "fresh"))
def _stage(family, config: SMCConfig, fresh: bool, key, state: tuple, controls: tuple, data: tuple):
    """One stage from `state = (particles, weights, lambda)` with `controls = (step size,
    inverse mass)` on `data = (x, y, mask_old, mask_new)`."""
    particles, weights, lam = state
    step, inv_mass = controls
    x, y, mask_old, mask_new = data

    def loglik(z, mask):
        return family.log_likelihood(z, x, y * mask, mask)   # the protocol: y is 0 on masked rows

    if fresh:
        def base(z):
            return -0.5 * z @ z

        def new(z):
            return _safe(loglik(z, mask_new))
    else:
        def base(z):
            return _safe(-0.5 * z @ z + loglik(z, mask_old))

        def new(z):
            return _safe(loglik(z, mask_new) - loglik(z, mask_old))

    hmc = blackjax.hmc.build_kernel()

    def mutate(k, state, logdensity, step_size, inverse_mass_matrix):
        return hmc(k, state, logdensity, step_size, inverse_mass_matrix, config.leapfrog)

    kernel = adaptive_tempered.build_kernel(base, new, mutate, blackjax.hmc.init, resampling.systematic,
                                            config.target_ess)
    params = {"step_size": step[None], "inverse_mass_matrix": inv_mass[None]}
    moved, info = kernel(key, TemperedSMCState(particles, weights, lam), config.mutations, params)
    acceptance = jnp.mean(jnp.nan_to_num(info.update_info.acceptance_rate, nan=0.0))
    return moved.particles, moved.weights, moved.tempering_param, info.log_likelihood_increment, acceptance


def _weighted_variance(particles, weights):
    mean = weights @ particles
    return weights @ (particles - mean) ** 2 + VARIANCE_FLOOR


def temper(family, config: SMCConfig, data: tuple, population: Population, key, fresh: bool,
           between: Callable[[], None] = lambda: None) -> Tempered:
    """Move `population` from the target of `mask_old` to that of `mask_new` (`data` is
    `(x, y, mask_old, mask_new)`); `fresh` says `mask_old` is empty (the prior).
    `between()` is called between stages (where Ctrl-C is noticed)."""
    particles, weights, step = population
    lam, log_z, stages, accepts = 0.0, 0.0, 0, []
    failure = None
    while lam < 1.0:
        between()
        if stages >= config.max_stages:
            failure = Failure.TOO_MANY_STAGES
            break
        key, k = jax.random.split(key)
        inv_mass = _weighted_variance(particles, weights)
        particles, weights, lam_, dlog_z, acc = _stage(family, config, fresh, k, (particles, weights, jnp.asarray(lam)),
                                                       (jnp.asarray(step), inv_mass), data)
        lam, dlog_z, acc = float(lam_), float(dlog_z), float(acc)
        stages += 1
        accepts.append(acc)
        if not math.isfinite(dlog_z) or not bool(jnp.all(jnp.isfinite(weights))):
            failure = Failure.NOT_FINITE
            break
        log_z += dlog_z
        step = float(np.clip(step * math.exp(2.0 * (acc - config.target_accept)), MIN_STEP, MAX_STEP))
    ess = float(1.0 / jnp.sum(weights ** 2)) if failure is not Failure.NOT_FINITE else 0.0
    if failure is None and ess < 2.0:
        failure = Failure.COLLAPSED
    return Tempered(Population(particles, weights, step), log_z, stages, ess,
                    float(np.mean(accepts)) if accepts else 0.0, failure)
