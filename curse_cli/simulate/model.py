"""The finite Bayesian network of docs/theory.md section 1, in JAX (float64).

    f(x) = a . h_L(x),   h_l = phi(W_l h_{l-1}),   h_0 = x

with `W_1` entries `N(0, 1/d)`, `W_l` entries `N(0, 1/N_{l-1})` and readout `a ~ N(0, s I)`,
`s = 1/(chi N_L)`; likelihood `exp(-sum (f - y)^2 / (2 kappa))`.

Given the hidden weights the readout is a Bayesian linear model, so it is integrated out
exactly: `y ~ N(0, s Phi Phi^T + kappa I)`, `Phi` the `P x N_L` last-layer features.  The
hidden weights are sampled in whitened coordinates `z` (weights = prior std * z), so the
prior of `z` is standard normal.  Each sample's readout posterior mean
`a = (Phi^T Phi + kappa/s I)^-1 Phi^T y` gives its predictor in closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
from jax.scipy.linalg import cho_solve  # noqa: E402
from jax.scipy.special import erf  # noqa: E402

from .data import activations  # noqa: E402

# name -> (phi, polynomial coefficients or None); polynomials are also given by coefficients.
_NAMED = activations(jnp, erf)
NAMED_ACTIVATIONS = tuple(_NAMED)


@dataclass(frozen=True)
class Network:
    """One finite network: input dimension, hidden widths, readout scale, noise, activation.

    `activation` is a builtin name, or "polynomial" with `coefficients` a0, a1, ... .
    """

    d: int
    widths: tuple[int, ...]
    chi: float
    kappa: float
    activation: str
    coefficients: tuple[float, ...] = ()

    @property
    def readout_variance(self) -> float:
        return 1.0 / (self.chi * self.widths[-1])

    @property
    def fan_ins(self) -> tuple[int, ...]:
        return (self.d, *self.widths[:-1])

    @property
    def n_params(self) -> int:
        return sum(n * m for n, m in zip(self.widths, self.fan_ins, strict=True))


def phi(net: Network):
    """The activation as a JAX function."""
    if net.activation == "polynomial":
        coeffs = tuple(reversed(net.coefficients))
        return lambda v: jnp.polyval(jnp.asarray(coeffs, dtype=v.dtype), v)
    return _NAMED[net.activation]


def unflatten(net: Network, z: jnp.ndarray) -> tuple[jnp.ndarray, ...]:
    """Whitened flat vector -> weight matrices `W_l` of shape (N_l, fan_in), prior-scaled."""
    weights, start = [], 0
    for n, m in zip(net.widths, net.fan_ins, strict=True):
        weights.append(z[start:start + n * m].reshape(n, m) / math.sqrt(m))
        start += n * m
    return tuple(weights)


def flatten(net: Network, weights) -> jnp.ndarray:
    """Inverse of `unflatten`."""
    return jnp.concatenate([(w * math.sqrt(m)).ravel() for w, m in zip(weights, net.fan_ins, strict=True)])


def features(net: Network, weights, x: jnp.ndarray) -> jnp.ndarray:
    """Last hidden layer's post-activations, shape (P, N_L)."""
    act = phi(net)
    h = x
    for w in weights:
        h = act(h @ w.T)
    return h


def marginal_loglik(feats: jnp.ndarray, y: jnp.ndarray, s: float, kappa: float, rows=None) -> jnp.ndarray:
    """log N(y; 0, s Phi Phi^T + kappa I), through an N x N solve when N < P, else P x P.

    `rows`: how many leading rows are data (default all); the rest must be zero rows of
    `feats` and zeros of `y` (padding to a shared shape), and are left out exactly.
    """
    p, n = feats.shape
    rows = p if rows is None else rows
    if n < p:
        a = feats.T @ feats + (kappa / s) * jnp.eye(n, dtype=feats.dtype)
        chol = jnp.linalg.cholesky(a)
        b = feats.T @ y
        quad = (y @ y - b @ cho_solve((chol, True), b)) / kappa
        logdet = rows * jnp.log(kappa) + n * jnp.log(s / kappa) + 2.0 * jnp.sum(jnp.log(jnp.diag(chol)))
    else:
        c = s * feats @ feats.T + kappa * jnp.eye(p, dtype=feats.dtype)
        chol = jnp.linalg.cholesky(c)
        quad = y @ cho_solve((chol, True), y)
        logdet = 2.0 * jnp.sum(jnp.log(jnp.diag(chol))) - (p - rows) * jnp.log(kappa)
    return -0.5 * (quad + logdet + rows * jnp.log(2.0 * jnp.pi))


def readout_mean(feats: jnp.ndarray, y: jnp.ndarray, s: float, kappa: float) -> jnp.ndarray:
    """Posterior mean of the readout given the features: (Phi^T Phi + kappa/s I)^-1 Phi^T y."""
    p, n = feats.shape
    if n < p:
        a = feats.T @ feats + (kappa / s) * jnp.eye(n, dtype=feats.dtype)
        return cho_solve((jnp.linalg.cholesky(a), True), feats.T @ y)
    c = s * feats @ feats.T + kappa * jnp.eye(p, dtype=feats.dtype)
    return s * feats.T @ cho_solve((jnp.linalg.cholesky(c), True), y)


def log_posterior(net: Network, x: jnp.ndarray, y: jnp.ndarray, mask: jnp.ndarray, z: jnp.ndarray) -> jnp.ndarray:
    """Unnormalised log posterior of the whitened hidden weights `z` (readout integrated out).

    `mask` is 1 on data rows of (x, y) and 0 on padding rows (whose y must be 0)."""
    feats = features(net, unflatten(net, z), x) * mask[:, None]
    return -0.5 * z @ z + marginal_loglik(feats, y, net.readout_variance, net.kappa, jnp.sum(mask))


def predictor(net: Network, z: jnp.ndarray, x: jnp.ndarray, y: jnp.ndarray, mask: jnp.ndarray,
              x_test: jnp.ndarray) -> jnp.ndarray:
    """The posterior-mean predictor of one hidden-weight sample, on `x_test`."""
    weights = unflatten(net, z)
    a = readout_mean(features(net, weights, x) * mask[:, None], y, net.readout_variance, net.kappa)
    return features(net, weights, x_test) @ a


class _Features(Protocol):
    kappa: float

    @property
    def readout_variance(self) -> float: ...

    def features(self, z: jnp.ndarray, x: jnp.ndarray) -> jnp.ndarray: ...


class LinearReadout:
    """A family whose output is a linear readout of `features(z, x)` with prior variance
    `readout_variance`: the readout is integrated out exactly (the marginal likelihood
    above), and a sample's predictor is the readout's posterior mean."""

    def log_likelihood(self: _Features, z, x, y, mask):
        feats = self.features(z, x) * mask[:, None]
        return marginal_loglik(feats, y, self.readout_variance, self.kappa, jnp.sum(mask))

    def predictor(self: _Features, z, x, y, mask, x_test):
        a = readout_mean(self.features(z, x) * mask[:, None], y, self.readout_variance, self.kappa)
        return self.features(z, x_test) @ a
