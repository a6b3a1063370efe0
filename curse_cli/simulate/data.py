"""Data of the experiment: inputs from the spec's measure, the teacher direction, the target.

The teacher direction is `w* = (1, ..., 1)/sqrt(d)` (Gaussian data are rotation invariant,
and on the hypercube it keeps `z = w*.x` spread rather than a single coordinate).  The
target is `He_k(z)` divided by its standard deviation: `sqrt(k!)` for Gaussian data, and
a Monte-Carlo estimate on 2^16 fixed draws for the hypercube.
"""

from __future__ import annotations

import math

import numpy as np

MEASURES = ("gaussian", "hypercube")
_NORM_DRAWS = 1 << 16


def activations(xp, erf) -> dict:
    """The builtin activations written with an array module `xp` (numpy or jax.numpy)
    and its `erf`: one table for the sampled network and for the GP baseline."""
    return {
        "erf": erf,
        "tanh": xp.tanh,
        "relu": lambda v: xp.maximum(v, 0.0),
        "linear": lambda v: v,
        "quadratic": lambda v: v * v,
        "cubic": lambda v: v * v * v,
    }


def teacher(d: int) -> np.ndarray:
    return np.ones(d) / math.sqrt(d)


def inputs(seed: tuple[int, ...], measure: str, n: int, d: int) -> np.ndarray:
    """`n` inputs of dimension `d`, i.i.d. N(0, 1) or uniform +-1 entries, from numpy's
    generator seeded with `seed`.  Draws fill rows in order, so the first `P` rows of `n`
    are the inputs for `P` (nested training sets)."""
    rng = np.random.default_rng(seed)
    if measure == "hypercube":
        return rng.integers(0, 2, size=(n, d)).astype(np.float64) * 2.0 - 1.0
    return rng.standard_normal((n, d))


def hermite(k: int, z: np.ndarray) -> np.ndarray:
    """Probabilists' Hermite polynomial He_k(z): He_{n+1} = z He_n - n He_{n-1}."""
    prev, cur = np.ones_like(z), z
    if k == 0:
        return prev
    for n in range(1, k):
        prev, cur = cur, z * cur - n * prev
    return cur


def target_scale(measure: str, k: int, d: int) -> float:
    """Standard deviation of He_k(w*.x) under the measure."""
    if measure == "gaussian":
        return math.sqrt(math.factorial(k))
    x = inputs((0,), measure, _NORM_DRAWS, d)
    return float(np.sqrt(np.mean(hermite(k, x @ teacher(d)) ** 2)))


def target(x: np.ndarray, k: int, scale: float) -> np.ndarray:
    """`He_k(w*.x) / scale` along the last axis of `x` (a patch, for a cnn)."""
    return hermite(k, x @ teacher(x.shape[-1])) / scale
