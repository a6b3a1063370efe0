"""The softmax-attention family of docs/theory.md section 8.2, in JAX (float64).

    f(X) = (N L)^(-1/2) sum_h sum_{i,j} softmax_j(x_i^T W_h x_j) (a_h . x_j)

`X` holds `L` tokens `x_i ~ N(0, I_d)`; `N` heads with `W_h` entries `N(0, 1/d^2)` (whitened
`W_h = Z_h / d`) and values `a_h ~ N(0, I/(chi d))`, the readout.  `f` is linear in the
`a_h`: with `beta_h(X) = sum_j alpha_hj x_j`, `alpha_hj = sum_i softmax_j(x_i^T W_h x_j)`
(the attention a token receives), the features are `(N L)^(-1/2) beta_h(X)`, `N d` of them,
and the readout is integrated out exactly as for the fcn.

Target (degree `2r + 1`), `u, v, w` the first three coordinate axes (the data and the
prior are rotation invariant, so any orthonormal triple is the same problem):

    y = L^-1 sum_{i != j} (u.x_i)^r (v.x_j)^r (w.x_j) / sd,
    sd^2 = L^-2 [L (L-1) m_2r^2 + L (L-1) (L-2) m_r^2 m_2r],   m_n = E[g^n], g ~ N(0, 1)

(pairs of terms share their `j` or vanish, since `w.x_j` is odd), so `y` has unit variance.

GP baseline: as `N -> infinity` the prior of `f` is Gaussian with kernel
`K(X, X') = E_W[beta(X) . beta(X')] / (chi d L)` (independent of `N`).  The softmax average
has no closed form; it is estimated by `gp_draws` independent draws of `W` (fixed seed):
`K` is the Gram matrix of `beta_r(X) / sqrt(chi d L gp_draws)`, unbiased, with a relative
Monte-Carlo error of about `gp_draws^(-1/2)`.  The baseline is the GP-regression mean
with that kernel (equivalently: regression on the values of `gp_draws` frozen random heads).

Specialists: heads whose overlap with the target's direction `u v^T` exceeds three prior
standard deviations, `|u^T W_h v| d > 3` (prior variance `1/d^2`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from . import data, gp, model

SPECIALIST_SIGMAS = 3.0
GP_SEED = 104_729
GP_CHUNK = 8    # draws of W per compiled call
GP_ROWS = 512   # samples per compiled call (bounds the (rows, heads, L, L) scores)
SOFTMAX_WORK = 12  # operations per score (exp, max, sums), for the time estimate
SCORE_CHUNK = 512  # attention scores per chunk of samples in `features`


def _moment(n: int) -> float:
    """E[g^n], g ~ N(0, 1): (n-1)!! for even n, 0 for odd."""
    return 0.0 if n % 2 else float(math.prod(range(n - 1, 0, -2)))


@dataclass(frozen=True)
class Attention(model.LinearReadout):
    d: int
    length: int     # L tokens
    heads: int      # N
    chi: float
    kappa: float
    order: int = 1  # r: the target has degree 2r + 1
    gp_draws: int = 128

    def __post_init__(self) -> None:
        if self.d < 3:
            raise ValueError(f"attention needs d >= 3 (the target uses three orthonormal directions), got {self.d}")

    @property
    def kind(self) -> str:
        return "attention"

    @property
    def caveat(self) -> str | None:
        """One head cannot express the target: its softmax weights sum to L over the keys,
        so its output keeps a linear term `sum_j a.x_j` that the readout cannot cancel
        (two heads of opposite sign can; docs/simulate_families.md measures both)."""
        if self.heads > 1:
            return None
        return ("one attention head cannot express the two-token target (its output keeps a linear term "
                "the readout cannot cancel); use --width-factor 2 or more for two heads or more")

    @property
    def n_params(self) -> int:
        return self.heads * self.d * self.d

    @property
    def readout_variance(self) -> float:
        return 1.0 / (self.chi * self.d)

    def weights(self, z):
        """Whitened flat vector -> query-key matrices, shape (N, d, d), prior-scaled."""
        return z.reshape(self.heads, self.d, self.d) / self.d

    def features(self, z, x):
        """Readout features `(N L)^(-1/2) beta_h(X)`, shape (n, N d); `x` is (n, L, d).

        The samples go through in chunks of about `SCORE_CHUNK` scores each (zero rows pad
        the last): the scores and their softmax are memory-bound, and a chunk's stay in cache
        (about half the time of one whole pass; docs/simulate.md)."""
        w = self.weights(z)
        n = x.shape[0]
        rows = max(1, min(n, SCORE_CHUNK // (self.heads * self.length ** 2)))
        chunks = -(-n // rows)
        padded = jnp.concatenate([x, jnp.zeros((chunks * rows - n, *x.shape[1:]), x.dtype)])

        def beta(xc):
            scores = jnp.einsum("nia,hab,njb->nhij", xc, w, xc)
            alpha = jnp.sum(jax.nn.softmax(scores, axis=-1), axis=2)  # (n, N, L): summed over queries
            return jnp.einsum("nhj,nja->nha", alpha, xc)

        out = jax.lax.map(beta, padded.reshape(chunks, rows, *x.shape[1:]))
        return out.reshape(chunks * rows, -1)[:n] / math.sqrt(self.heads * self.length)

    def overlaps(self, z):
        """Each head's `u^T W_h v` in prior standard deviations (`d u^T W_h v`)."""
        return z.reshape(self.heads, self.d, self.d)[:, 0, 1]

    def specialists(self, z):
        return jnp.sum(jnp.abs(self.overlaps(z)) > SPECIALIST_SIGMAS).astype(z.dtype)

    def layer_specialists(self, z):
        return self.specialists(z)[None]

    def gram(self, x: np.ndarray) -> np.ndarray:
        """Monte-Carlo estimate of the infinite-width kernel between all samples of `x`."""
        xs = jnp.asarray(x, dtype=jnp.float64)
        heads = Attention(d=self.d, length=self.length, heads=GP_CHUNK, chi=1.0, kappa=self.kappa)
        features = jax.jit(heads.features)
        key = jax.random.PRNGKey(GP_SEED)
        gram = np.zeros((len(xs), len(xs)))
        for start in range(0, self.gp_draws, GP_CHUNK):
            z = jax.random.normal(jax.random.fold_in(key, start), (heads.n_params,))
            keep = self.d * min(GP_CHUNK, self.gp_draws - start)
            phi = np.concatenate([np.asarray(features(z, xs[i:i + GP_ROWS]))[:, :keep]
                                  for i in range(0, len(xs), GP_ROWS)])
            gram += phi @ phi.T
        # The features carry (GP_CHUNK L)^(-1/2); the kernel wants (chi d L gp_draws)^(-1).
        return gram * GP_CHUNK / (self.chi * self.d * self.gp_draws)

    def kernel(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        """The estimated kernel between the samples of x1 and x2 (same draws of W)."""
        return self.gram(np.concatenate([x1, x2]))[: len(x1), len(x1):]

    def gp_predictor(self, x, y, x_test):
        k, n = self.gram(np.concatenate([x, x_test])), len(x)
        return gp.regression(k[:n, :n], k[n:, :n], y, self.kappa)

    def target(self, x: np.ndarray) -> np.ndarray:
        r, n_tok = self.order, self.length
        u = x[:, :, 0] ** r
        vw = x[:, :, 1] ** r * x[:, :, 2]
        pairs = u.sum(1) * vw.sum(1) - (u * vw).sum(1)          # sum over i != j
        m_r, m_2r = _moment(r), _moment(2 * r)
        var = (n_tok * (n_tok - 1) * m_2r ** 2 + n_tok * (n_tok - 1) * (n_tok - 2) * m_r ** 2 * m_2r) / n_tok ** 2
        return pairs / n_tok / math.sqrt(var)

    def data(self, seed: int, p: int, test_size: int) -> tuple[np.ndarray, ...]:
        shape = (self.length, self.d)
        x = data.inputs((seed, self.d, 1), "gaussian", p, self.length * self.d).reshape(p, *shape)
        x_test = data.inputs((seed, self.d, 2), "gaussian", test_size, self.length * self.d).reshape(test_size, *shape)
        return x, self.target(x), x_test, self.target(x_test)

    def aligned(self, z):
        """Every head at overlap one along `u v^T` (`u^T W_h v = 1`, `d` prior sd)."""
        return z.reshape(*z.shape[:-1], self.heads, self.d, self.d).at[..., 0, 1].set(self.d).reshape(z.shape)

    def work(self, p: int) -> float:
        """Per head: the queries `x W` (L d^2), the scores (L^2 d) and their softmax, about
        `SOFTMAX_WORK` operations a score; then the readout's Gram matrix."""
        per_head = self.length * self.d ** 2 + self.length ** 2 * (self.d + SOFTMAX_WORK)
        return 6.0 * p * (self.heads * per_head + (self.heads * self.d) ** 2)

    def memory_bytes(self, p: int) -> int:
        scores = p * self.heads * self.length ** 2
        rows = p * self.length * self.d + p * self.heads * self.d
        return 8 * (4 * scores + 3 * rows + 2 * min(p, self.heads * self.d) ** 2 + 4 * self.n_params)
