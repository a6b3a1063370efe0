"""Exact Gaussian-process regression with the network's infinite-width kernel (the lazy
baseline), in numpy (nothing to compile).

The pre-activation kernel of the first layer is `x.x'/d`; each hidden layer maps a
pre-activation covariance `(S11, S12, S22)` to `E[phi(u) phi(v)]`, `(u, v) ~ N(0, S)`,
which is the next layer's pre-activation kernel (weights `N(0, 1/N_{l-1})`).  Closed forms:

    erf:    (2/pi) arcsin(2 S12 / sqrt((1 + 2 S11)(1 + 2 S22)))            (Williams 1997)
    ReLU:   sqrt(S11 S22)/(2 pi) (sin t + (pi - t) cos t),  cos t = S12/sqrt(S11 S22)
    linear: S12

other activations by a 2-D Gauss-Hermite rule of `QUADRATURE_NODES`^2 points (exact for
polynomial activations of degree < QUADRATURE_NODES).  The readout (variance `1/(chi N_L)`
per unit) makes the output kernel `K/chi`.  The GP posterior mean on test points is
`K_te,tr (K_tr,tr + kappa I)^-1 y`.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import erf

from .data import activations
from .model import Network

QUADRATURE_NODES = 40

_NUMPY = activations(np, erf)


def _erf(s11, s12, s22):
    return (2.0 / np.pi) * np.arcsin(2.0 * s12 / np.sqrt((1.0 + 2.0 * s11) * (1.0 + 2.0 * s22)))


def _relu(s11, s12, s22):
    norm = np.sqrt(s11 * s22)
    cos = np.clip(s12 / norm, -1.0, 1.0)
    t = np.arccos(cos)
    return norm / (2.0 * np.pi) * (np.sin(t) + (np.pi - t) * cos)


def activation(net: Network):
    """The activation as a numpy function."""
    if net.activation == "polynomial":
        coeffs = np.asarray(net.coefficients[::-1], dtype=float)
        return lambda v: np.polyval(coeffs, v)
    return _NUMPY[net.activation]


def _quadrature(net: Network):
    g, w = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
    w = w / np.sqrt(2.0 * np.pi)
    act = activation(net)

    def expect(s11, s12, s22):
        s11, s12, s22 = np.broadcast_arrays(s11, s12, s22)
        a = np.sqrt(s11)[..., None]
        b = (s12 / np.sqrt(s11))[..., None]
        c = np.sqrt(np.maximum(s22 - (s12 * s12) / s11, 0.0))[..., None]
        out = np.zeros(s12.shape)
        for gi, wi in zip(g, w, strict=True):  # outer node: u = a g_i, inner sum over v = b g_i + c g_j
            out += wi * act(a[..., 0] * gi) * np.sum(w * act(b * gi + c * g), axis=-1)
        return out

    return expect


def _layer_map(net: Network):
    if net.activation == "erf":
        return _erf
    if net.activation == "relu":
        return _relu
    if net.activation == "linear":
        return lambda s11, s12, s22: s12
    return _quadrature(net)


def kernel(net: Network, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """Output kernel of the infinite-width network between the rows of x1 and x2."""
    f = _layer_map(net)
    k12 = x1 @ x2.T / net.d
    k11 = np.sum(x1 * x1, axis=1) / net.d
    k22 = np.sum(x2 * x2, axis=1) / net.d
    for _ in net.widths:
        k12 = f(k11[:, None], k12, k22[None, :])
        k11, k22 = f(k11, k11, k11), f(k22, k22, k22)
    return k12 / net.chi


def regression(k_train: np.ndarray, k_cross: np.ndarray, y: np.ndarray, kappa: float) -> np.ndarray:
    """GP-regression posterior mean `K_te,tr (K_tr,tr + kappa I)^-1 y`."""
    k = np.asarray(k_train, dtype=float) + kappa * np.eye(len(y))
    return np.asarray(k_cross, dtype=float) @ cho_solve(cho_factor(k, lower=True), np.asarray(y, dtype=float))


def gp_predictor(net: Network, x: np.ndarray, y: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """GP-regression posterior mean on `x_test`, trained on (x, y) with noise `kappa`."""
    x, y, x_test = (np.asarray(a, dtype=float) for a in (x, y, x_test))
    return regression(kernel(net, x, x), kernel(net, x_test, x), y, net.kappa)
