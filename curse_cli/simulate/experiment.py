"""One experiment: a grid of (d, P) points, each a set of posterior chains of the network.

For each `d` the network is `Setup.network(d)`; the sample sizes are
`P = round(r d^[P*])` for the ratios `r` of `Settings.p_ratios`.  At each point half of
the chains start from the prior and half from a teacher-aligned state (every first-layer
row equal to `w*`, deeper layers from the prior).  Recorded per chain: the alignment
`<f, y>/<y, y>` of each sample's posterior-mean predictor on a fixed test set (its trace,
for R-hat), the number of specialised first-layer neurons (`|w_i . w*| sqrt(d) > 3`, three
prior standard deviations, docs/theory.md section 10), and the running mean of the predictor
(for the test MSE of the posterior-mean predictor).

Randomness is derived from `Settings.seed` and `d`, `P` and a purpose (numpy generators
for the data, JAX keys folded in for the chains), and the training inputs of a point are
the first `P` rows of one per-`d` sequence, so a point's numbers do not depend on the rest
of the grid (and `--resume` reproduces them).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import data, gp, model
from .report import PointResult
from .sampler import SamplerConfig, run_chains

SPECIALIST_SIGMAS = 3.0
EQUILIBRIUM_SIGMAS = 3.0
EQUILIBRIUM_FLOOR = 0.01   # smallest error assumed when comparing the two starts
RHAT_MAX = 1.1


@dataclass(frozen=True)
class Setup:
    """What the spec fixes: network family, target, data, the predicted exponent."""

    activation: str
    coefficients: tuple[float, ...]
    width_exponents: tuple[float, ...]
    chi_exponent: float
    degree: int
    measure: str
    p_star_exponent: float
    kappa: float
    width_factor: float

    def widths(self, d: int) -> tuple[int, ...]:
        return tuple(max(1, round(self.width_factor * d ** e)) for e in self.width_exponents)

    def network(self, d: int) -> model.Network:
        return model.Network(d=d, widths=self.widths(d), chi=float(d ** self.chi_exponent), kappa=self.kappa,
                             activation=self.activation, coefficients=self.coefficients)

    def p_values(self, d: int, ratios: tuple[float, ...]) -> tuple[int, ...]:
        return tuple(sorted({max(1, round(r * d ** self.p_star_exponent)) for r in ratios}))


@dataclass(frozen=True)
class Settings:
    ds: tuple[int, ...]
    p_ratios: tuple[float, ...]
    chains: int          # per initialisation
    test_size: int
    seed: int
    sampler: SamplerConfig
    device: str = "cpu"


def grid(setup: Setup, settings: Settings) -> tuple[tuple[int, int], ...]:
    return tuple((d, p) for d in settings.ds for p in setup.p_values(d, settings.p_ratios))


def _teacher_start(net: model.Network, z: jnp.ndarray) -> jnp.ndarray:
    n1, d = net.widths[0], net.d
    first = jnp.tile(jnp.asarray(data.teacher(d)) * math.sqrt(d), n1)  # whitened W1 rows = w*
    return z.at[:, : n1 * d].set(first)


@partial(jax.jit, static_argnames=("net", "config"))
def _sample(net, config, keys, z0, x, y, mask, x_test, y_test):
    w_star = jnp.asarray(data.teacher(net.d))
    y_norm = jnp.mean(y_test * y_test)

    def observe(z):
        f = model.predictor(net, z, x, y, mask, x_test)
        overlap = model.unflatten(net, z)[0] @ w_star * math.sqrt(net.d)
        spec = jnp.sum(jnp.abs(overlap) > SPECIALIST_SIGMAS).astype(z.dtype)
        return (jnp.mean(f * y_test) / y_norm, spec), f

    return run_chains(partial(model.log_posterior, net, x, y, mask), observe, keys, z0, config)


def bucket(p: int) -> int:
    """Training sets are padded (masked rows) to the next power of two: points of one d
    share compiled code, and a point's shape does not depend on the rest of the grid."""
    return 1 << max(0, (p - 1).bit_length())


def _padded(x: jnp.ndarray, y: jnp.ndarray):
    p = x.shape[0]
    pad = bucket(p) - p
    mask = jnp.concatenate([jnp.ones(p), jnp.zeros(pad)])
    return jnp.pad(x, ((0, pad), (0, 0))), jnp.pad(y, (0, pad)), mask


def _shard(arrays, device: str):
    """Place the chain axis across the devices of `device` (a no-op for one device)."""
    devices = jax.devices(device)
    if len(devices) == 1:
        return tuple(jax.device_put(a, devices[0]) for a in arrays)
    mesh = jax.sharding.Mesh(np.array(devices), ("chains",))
    spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("chains"))
    return tuple(jax.device_put(a, spec) for a in arrays)


def split_rhat(traces: np.ndarray) -> float:
    """Gelman-Rubin split R-hat of traces shaped (chains, samples)."""
    n = traces.shape[1] // 2
    halves = np.concatenate([traces[:, :n], traces[:, n:2 * n]], axis=0)
    w = np.mean(np.var(halves, axis=1, ddof=1))
    b = n * np.var(np.mean(halves, axis=1), ddof=1)
    if w <= 0:
        return 1.0 if b <= 0 else math.inf
    return float(math.sqrt(((n - 1) / n * w + b / n) / w))


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values, ddof=1) / math.sqrt(len(values)))


def point_data(setup: Setup, settings: Settings, d: int, p: int):
    """Training and test data of one point: (x, y, x_test, y_test)."""
    scale = data.target_scale(setup.measure, setup.degree, d)
    x = data.inputs((settings.seed, d, 1), setup.measure, p, d)
    x_test = data.inputs((settings.seed, d, 2), setup.measure, settings.test_size, d)
    arrays = (x, data.target(x, setup.degree, scale), x_test, data.target(x_test, setup.degree, scale))
    return tuple(jnp.asarray(a) for a in arrays)


def run_point(setup: Setup, settings: Settings, d: int, p: int) -> PointResult:
    """Sample the posterior at (d, P) from both starts and measure it."""
    start = time.perf_counter()
    net = setup.network(d)
    x, y, x_test, y_test = point_data(setup, settings, d, p)
    c = settings.chains
    key = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(settings.seed), d), 3), p)
    k_init, k_run = jax.random.split(key)
    z_prior = jax.random.normal(k_init, (2 * c, net.n_params))
    z0 = jnp.concatenate([z_prior[:c], _teacher_start(net, z_prior[c:])])
    keys, z0 = _shard((jax.random.split(k_run, 2 * c), z0), settings.device)
    chains = _sample(net, settings.sampler, keys, z0, *_padded(x, y), x_test, y_test)
    (align_trace, spec_trace), f_mean = chains.trace, chains.mean
    align_trace, spec_trace = np.asarray(align_trace), np.asarray(spec_trace)
    chain_align = align_trace.mean(axis=1)
    chain_spec = spec_trace.mean(axis=1)
    f_bar = np.asarray(f_mean).mean(axis=0)
    yt = np.asarray(y_test)
    y_norm = float(np.mean(yt * yt))
    f_gp = gp.gp_predictor(net, x, y, x_test)
    a_p, se_p = _mean_se(chain_align[:c])
    a_t, se_t = _mean_se(chain_align[c:])
    a_all, se_all = _mean_se(chain_align)
    gap = abs(a_p - a_t)
    err = max(math.hypot(se_p, se_t), EQUILIBRIUM_FLOOR)
    rhat = split_rhat(align_trace)
    return PointResult(
        d=d, p=p, widths=net.widths, p_scaled=p / d ** setup.p_star_exponent,
        alignment=a_all, alignment_se=se_all,
        alignment_prior=a_p, alignment_prior_se=se_p, alignment_teacher=a_t, alignment_teacher_se=se_t,
        rhat=rhat, equilibrated=bool(gap <= EQUILIBRIUM_SIGMAS * err and rhat <= RHAT_MAX),
        mse=float(np.mean((f_bar - yt) ** 2)) / y_norm,
        gp_alignment=float(np.mean(f_gp * yt)) / y_norm, gp_mse=float(np.mean((f_gp - yt) ** 2)) / y_norm,
        specialists=float(chain_spec.mean()), specialists_prior=float(chain_spec[:c].mean()),
        specialists_teacher=float(chain_spec[c:].mean()),
        acceptance=float(np.mean(chains.acceptance)), step_size=float(np.mean(chains.step_size)),
        chain_alignment=tuple(float(a) for a in chain_align),
        chain_specialists=tuple(float(s) for s in chain_spec),
        seconds=time.perf_counter() - start,
    )
