"""The fully connected family (any depth): `model.Network` behind the `families` protocol.

Specialists, layer by layer (docs/theory.md section 10).  A unit of layer `l` is
specialised when the overlap of its pre-activation with the target index `z = w*.x`,
`o = E_x[h_l(x) z]`, exceeds three standard deviations of that overlap under the prior of
its own weights.  With `c = E_x[a_{l-1}(x) z]` the overlaps of the layer's inputs (the
post-activations below, `x` itself for the first layer), `o = w . c` and the prior
`w ~ N(0, I/N_{l-1})` gives the standard deviation `|c| / sqrt(N_{l-1})`.  For the first
layer `c = w*` exactly, so the rule is `|w_i . w*| sqrt(d) > 3`; for deeper layers `c` is
an average over `probes` fixed inputs of the data measure (independent of the training
data).  Whatever `c` is, a unit drawn from the prior passes with probability
`P(|N(0,1)| > 3)`, so the probes' Monte-Carlo error lowers the rule's power a little but
never its false-positive rate.  The standard deviation is conditional on the sampled layers below: when those are
lazy it is the NNGP one of section 10; when they specialised, it measures whether the
layer's own weights moved, which is what the layer's `M` counts.  `z` is the feature a
deeper layer specialises on in `GP-Sp(z)`, and the spike `phi(q1 z)` of `Sp(z)-...`
carries it too (first Hermite order of an odd activation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from . import data, gp, model

SPECIALIST_SIGMAS = 3.0
PROBES = 1024
PROBE_SEED = 7_919  # the probe inputs' own stream, apart from every training seed


@dataclass(frozen=True)
class Fcn:
    """A fully connected network, its data measure and its target `He_k(w*.x)`."""

    net: model.Network
    measure: str
    degree: int
    probes: int = PROBES   # inputs averaged over for the overlaps of deeper layers

    @property
    def kind(self) -> str:
        return "fcn"

    @property
    def caveat(self) -> str | None:
        return None

    @property
    def d(self) -> int:
        return self.net.d

    @property
    def kappa(self) -> float:
        return self.net.kappa

    @property
    def n_params(self) -> int:
        return self.net.n_params

    def log_likelihood(self, z, x, y, mask):
        feats = model.features(self.net, model.unflatten(self.net, z), x) * mask[:, None]
        return model.marginal_loglik(feats, y, self.net.readout_variance, self.net.kappa, jnp.sum(mask))

    def predictor(self, z, x, y, mask, x_test):
        return model.predictor(self.net, z, x, y, mask, x_test)

    def layer_specialists(self, z):
        """Specialised units of each hidden layer, shape (layers,)."""
        weights = model.unflatten(self.net, z)
        w_star = jnp.asarray(data.teacher(self.d))
        act = model.phi(self.net)
        probes = jnp.asarray(data.inputs((PROBE_SEED, self.d), self.measure, self.probes, self.d))
        index = probes @ w_star
        h, c, counts = probes, w_star, []
        for layer, w in enumerate(weights):
            if layer > 0:
                h = act(h @ weights[layer - 1].T)
                c = h.T @ index / self.probes
            overlap = w @ c
            limit = SPECIALIST_SIGMAS * jnp.sqrt(c @ c / w.shape[1])
            counts.append(jnp.sum(jnp.abs(overlap) > limit))
        return jnp.stack(counts).astype(z.dtype)

    def specialists(self, z):
        """Specialised first-layer units: `|w_i . w*| sqrt(d) > 3`."""
        overlap = model.unflatten(self.net, z)[0] @ jnp.asarray(data.teacher(self.d)) * math.sqrt(self.d)
        return jnp.sum(jnp.abs(overlap) > SPECIALIST_SIGMAS).astype(z.dtype)

    def gp_predictor(self, x, y, x_test):
        return gp.gp_predictor(self.net, x, y, x_test)

    def data(self, seed: int, p: int, test_size: int) -> tuple[np.ndarray, ...]:
        d = self.d
        scale = data.target_scale(self.measure, self.degree, d)
        x = data.inputs((seed, d, 1), self.measure, p, d)
        x_test = data.inputs((seed, d, 2), self.measure, test_size, d)
        return x, data.target(x, self.degree, scale), x_test, data.target(x_test, self.degree, scale)

    def aligned(self, z):
        """Every first-layer row equal to `w*` (whitened: `w* sqrt(d)`), deeper layers kept."""
        n1, d = self.net.widths[0], self.d
        first = jnp.tile(jnp.asarray(data.teacher(d)) * math.sqrt(d), n1)
        return z.at[..., : n1 * d].set(first)

    def work(self, p: int) -> float:
        """Multiply-adds of the layers and of the readout's Gram matrix, forward and back."""
        return 6.0 * p * (self.n_params + sum(self.net.widths) ** 2)

    def memory_bytes(self, p: int) -> int:
        widths = self.net.widths
        rows = p * (self.d + sum(widths))        # activations kept for the gradient
        solve = min(p, widths[-1]) ** 2           # the Cholesky factor
        return 8 * (3 * rows + 2 * solve + 4 * self.n_params)
