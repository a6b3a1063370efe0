"""The convolutional family of docs/theory.md section 8.1, in JAX (float64).

    per-patch:  f(x) = sum_c sum_p a_{c,p} phi(w_c . x_p),          a_{c,p} ~ N(0, 1/(chi N n_p))
    pooled:     f(x) = n_p^(-1/2) sum_c a_c sum_p phi(w_c . x_p),    a_c ~ N(0, 1/(chi N))

`x` (dimension `d`) is cut into `n_p = d/S` non-overlapping patches `x_p` of `S` inputs;
the `N` filters `w_c ~ N(0, I/S)` are shared by all patches.  The target applies the
teacher filter `w* = (1, ..., 1)/sqrt(S)` to every patch, `y = n_p^(-1/2) sum_p He_k(w*.x_p)`
over the standard deviation of one patch's term (patches are independent, so `y` has unit
variance).  The readout is integrated out exactly as for the fcn: the features are
`phi(w_c . x_p)` for every (channel, patch) pair, or their patch sums over `sqrt(n_p)`.

GP baseline: with `k` the one-hidden-layer kernel of `gp.py` on patch inputs (`S11 =
x_p.x_p/S`), the infinite-width kernel is `(1/(chi n_p)) sum_p k(x_p, x'_p)` per-patch and
`(1/(chi n_p)) sum_{p,p'} k(x_p, x'_p')` pooled.

Specialists: channels whose filter overlaps `w*` beyond three prior standard deviations,
`|w_c . w*| sqrt(S) > 3`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from . import data, gp, model

SPECIALIST_SIGMAS = 3.0


@dataclass(frozen=True)
class Cnn(model.LinearReadout):
    """One convolutional network: `unit` is the network one patch sees (`d = S`,
    `widths = (N,)`, the activation, chi and kappa); `d` the full input dimension."""

    unit: model.Network
    d: int
    readout: str      # "per-patch" or "pooled"
    measure: str
    degree: int

    def __post_init__(self) -> None:
        if self.d % self.unit.d:
            raise ValueError(f"d = {self.d} is not a multiple of the patch size S = {self.unit.d}")
        if self.readout not in ("per-patch", "pooled"):
            raise ValueError(f"unknown cnn readout {self.readout!r}")

    @property
    def kind(self) -> str:
        return "cnn"

    @property
    def caveat(self) -> str | None:
        return None

    @property
    def patch(self) -> int:
        return self.unit.d

    @property
    def patches(self) -> int:
        return self.d // self.unit.d

    @property
    def channels(self) -> int:
        return self.unit.widths[0]

    @property
    def kappa(self) -> float:
        return self.unit.kappa

    @property
    def n_params(self) -> int:
        return self.channels * self.patch

    @property
    def n_features(self) -> int:
        """Readout features: a channel per patch (per-patch) or per channel (pooled)."""
        return self.channels * (self.patches if self.readout == "per-patch" else 1)

    @property
    def readout_variance(self) -> float:
        return 1.0 / (self.unit.chi * self.n_features)

    def filters(self, z):
        """Whitened flat vector -> filters, shape (N, S), prior-scaled."""
        return z.reshape(self.channels, self.patch) / math.sqrt(self.patch)

    def features(self, z, x):
        """Readout features, shape (n, N n_p) per-patch or (n, N) pooled."""
        pre = x.reshape(x.shape[0], self.patches, self.patch) @ self.filters(z).T  # (n, n_p, N)
        post = model.phi(self.unit)(pre)
        if self.readout == "pooled":
            return jnp.sum(post, axis=1) / math.sqrt(self.patches)
        return post.reshape(x.shape[0], -1)

    def specialists(self, z):
        overlap = self.filters(z) @ jnp.asarray(data.teacher(self.patch)) * math.sqrt(self.patch)
        return jnp.sum(jnp.abs(overlap) > SPECIALIST_SIGMAS).astype(z.dtype)

    def layer_specialists(self, z):
        return self.specialists(z)[None]

    def kernel(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        """The infinite-width output kernel between the rows of x1 and x2."""
        p1 = np.asarray(x1, dtype=float).reshape(len(x1), self.patches, self.patch)
        p2 = np.asarray(x2, dtype=float).reshape(len(x2), self.patches, self.patch)
        out = np.zeros((len(x1), len(x2)))
        for p in range(self.patches):
            others = range(self.patches) if self.readout == "pooled" else (p,)
            for q in others:
                out += gp.kernel(self.unit, p1[:, p], p2[:, q])
        return out / self.patches

    def gp_predictor(self, x, y, x_test):
        return gp.regression(self.kernel(x, x), self.kernel(x_test, x), y, self.kappa)

    def data(self, seed: int, p: int, test_size: int) -> tuple[np.ndarray, ...]:
        scale = data.target_scale(self.measure, self.degree, self.patch)

        def target(x: np.ndarray) -> np.ndarray:
            per_patch = x.reshape(len(x), self.patches, self.patch)
            return data.target(per_patch, self.degree, scale).sum(axis=1) / math.sqrt(self.patches)

        x = data.inputs((seed, self.d, 1), self.measure, p, self.d)
        x_test = data.inputs((seed, self.d, 2), self.measure, test_size, self.d)
        return x, target(x), x_test, target(x_test)

    def aligned(self, z):
        """Every filter equal to `w*` (whitened: all entries 1)."""
        return jnp.ones_like(z)

    def work(self, p: int) -> float:
        """Multiply-adds of the filters on every patch and of the readout's Gram matrix."""
        return 6.0 * p * (self.n_params * self.patches + self.n_features ** 2)

    def memory_bytes(self, p: int) -> int:
        rows = p * (self.d + 2 * self.channels * self.patches)
        return 8 * (3 * rows + 2 * min(p, self.n_features) ** 2 + 4 * self.n_params)
