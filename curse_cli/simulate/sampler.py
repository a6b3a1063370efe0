"""Metropolis-adjusted chains with BlackJAX: MALA or HMC, step size tuned during warm-up.

Each chain runs `warmup` steps with BlackJAX's dual-averaging step-size adaptation
(towards the acceptance rate of `TARGET_ACCEPT`), then `samples` steps at the averaged
step size, which is then fixed: the chain is a Metropolis-Hastings chain whose stationary
distribution is the target density itself.  Chains are `jax.vmap`-ed, steps run in
`jax.lax.scan`; call `run_chains` inside `jax.jit`.

Positions are flat vectors in whitened coordinates (standard-normal prior), so the mass
matrix is the identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import blackjax
import jax
import jax.numpy as jnp
from blackjax.adaptation.step_size import dual_averaging_adaptation

SAMPLERS = ("mala", "hmc")
TARGET_ACCEPT = {"mala": 0.574, "hmc": 0.65}


@dataclass(frozen=True)
class SamplerConfig:
    kind: str = "mala"
    warmup: int = 1000
    samples: int = 1000
    hmc_steps: int = 8          # leapfrog steps per HMC transition
    initial_step: float = 1e-2  # first warm-up step size; the adaptation moves it
    thin: int = 1               # observe every thin-th sampling step

    @property
    def recorded(self) -> int:
        return -(-self.samples // self.thin)


class Chains(NamedTuple):
    """Per chain: the trace of the traced observables, the sample mean of the summed
    ones, the mean acceptance rate after warm-up, the final step size and position."""

    trace: Any
    mean: Any
    acceptance: jnp.ndarray
    step_size: jnp.ndarray
    position: jnp.ndarray


def _kernel(config: SamplerConfig, dim: int):
    if config.kind == "mala":
        return blackjax.mala.init, blackjax.mala.build_kernel()
    if config.kind == "hmc":
        inner = blackjax.hmc.build_kernel()
        inv_mass = jnp.ones(dim)

        def kernel(key, state, logdensity, step):
            return inner(key, state, logdensity, step, inv_mass, config.hmc_steps)

        return blackjax.hmc.init, kernel
    raise ValueError(f"unknown sampler {config.kind!r}; allowed: {', '.join(SAMPLERS)}")


def run_chains(logdensity: Callable, observe: Callable, keys: jnp.ndarray, positions: jnp.ndarray,
               config: SamplerConfig) -> Chains:
    """Run one chain per row of `positions` (shape (C, n)) with its key of `keys`.

    `observe(position)` returns `(traced, summed)`: pytrees recorded at every `thin`-th
    sampling step, and averaged over those steps, respectively.
    """
    init, kernel = _kernel(config, positions.shape[1])
    da_init, da_update, da_final = dual_averaging_adaptation(TARGET_ACCEPT[config.kind])

    warmup, n = config.warmup, config.samples
    dtype = positions.dtype

    def one_chain(key, z0):
        # One scan over warm-up and sampling, so the kernel is compiled once: during
        # warm-up the step size is the adaptation's current one, afterwards its average
        # (frozen, since the adaptation state stops changing).
        zero = jax.tree_util.tree_map(jnp.zeros_like, observe(z0))
        da0 = da_init(jnp.asarray(config.initial_step, dtype=dtype))
        if warmup == 0:
            da0 = da0._replace(log_step_size_avg=da0.log_step_size)

        def step(carry, inputs):
            st, da, total, acc = carry
            i, k = inputs
            warming = i < warmup
            size = jnp.exp(jnp.where(warming, da.log_step_size, da.log_step_size_avg))
            st, info = kernel(k, st, logdensity, size)
            rate = jnp.nan_to_num(info.acceptance_rate, nan=0.0)
            new_da = da_update(da, rate)
            da = jax.tree_util.tree_map(lambda a, b: jnp.where(warming, a, b), new_da, da)
            record = jnp.logical_and(~warming, (i - warmup) % config.thin == 0)
            traced, summed = jax.lax.cond(record, observe, lambda z: zero, st.position)
            total = jax.tree_util.tree_map(jnp.add, total, summed)
            return (st, da, total, acc + jnp.where(warming, 0.0, rate)), traced

        carry0 = (init(z0, logdensity), da0, zero[1], jnp.zeros((), dtype))
        steps = (jnp.arange(warmup + n), jax.random.split(key, warmup + n))
        (state, da, total, acc), trace = jax.lax.scan(step, carry0, steps)
        trace = jax.tree_util.tree_map(lambda t: t[warmup::config.thin], trace)
        mean = jax.tree_util.tree_map(lambda t: t / config.recorded, total)
        return Chains(trace, mean, acc / n, jnp.exp(da.log_step_size_avg), state.position)

    return jax.vmap(one_chain)(keys, positions)
