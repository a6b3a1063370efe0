"""The simulated network families (`curse_cli/simulate/families.py`): each family's
marginal likelihood, predictor, GP kernel, specialist count and data against quantities
derived here independently (numpy densities, explicit linear algebra, closed forms)."""

from __future__ import annotations

import importlib.util
import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.special import erf
from scipy.stats import multivariate_normal

pytestmark = pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs the simulate extra")


@pytest.fixture(autouse=True)
def _sim():
    global jax, jnp, families
    import jax
    import jax.numpy as jnp

    from curse_cli.simulate import families


def _facts(**changes):
    base = dict(kind="fcn", activation="erf", coefficients=(), width_exponents=(1.0,), chi_exponent=0.0,
                degree=3, measure="gaussian", patch_exponent=1.0, readout="per-patch", length_exponent=0.0)
    return SimpleNamespace(**{**base, **changes})


def _gaussian_logpdf(phi, y, s, kappa):
    return multivariate_normal(mean=np.zeros(len(y)), cov=s * phi @ phi.T + kappa * np.eye(len(y))).logpdf(y)


def _readout_mean(phi, y, s, kappa):
    """Posterior mean of a ~ N(0, s I) given y = Phi a + N(0, kappa)."""
    return np.linalg.solve(phi.T @ phi / kappa + np.eye(phi.shape[1]) / s, phi.T @ y / kappa)


def _padded(x, y, pad):
    mask = np.r_[np.ones(len(y)), np.zeros(pad)]
    return np.concatenate([x, np.zeros((pad, *x.shape[1:]))]), np.r_[y, np.zeros(pad)], mask


# -- fully connected ---------------------------------------------------------------------


def _fcn_features(fam, z, x):
    """Last-layer features of the fcn, written out in numpy."""
    h, start = x, 0
    for n, m in zip(fam.net.widths, fam.net.fan_ins, strict=True):
        w = z[start:start + n * m].reshape(n, m) / math.sqrt(m)
        h, start = erf(h @ w.T), start + n * m
    return h


@pytest.mark.parametrize("widths, p", [((3.0, 0.5), 12), ((0.25,), 40)])  # P x P and N x N solves
def test_fcn_likelihood_and_predictor_integrate_the_readout_exactly(widths, p):
    d = 8
    fam = families.build(_facts(width_exponents=tuple(math.log(w * d, d) for w in widths)), d, 1.0, 0.3)
    assert fam.net.widths == tuple(round(w * d) for w in widths)
    rng = np.random.default_rng(1)
    z = rng.normal(size=fam.n_params)
    x, y, xt, _ = fam.data(0, p, 5)
    phi, s = _fcn_features(fam, z, x), 1.0 / fam.net.widths[-1]
    xp, yp, mask = _padded(x, y, 4)
    got = float(fam.log_likelihood(jnp.asarray(z), xp, yp, mask))
    assert got == pytest.approx(_gaussian_logpdf(phi, y, s, 0.3), rel=1e-8)
    pred = np.asarray(fam.predictor(jnp.asarray(z), xp, yp, mask, xt))
    np.testing.assert_allclose(pred, _fcn_features(fam, z, xt) @ _readout_mean(phi, y, s, 0.3), rtol=1e-8)


def test_fcn_data_are_nested_with_unit_variance_targets():
    fam = families.build(_facts(), 6, 1.0, 0.1)
    x, y, xt, yt = fam.data(3, 50, 20)
    x2, y2, xt2, yt2 = fam.data(3, 4000, 20)
    np.testing.assert_array_equal(x2[:50], x)
    np.testing.assert_array_equal(y2[:50], y)
    np.testing.assert_array_equal(xt2, xt)
    # He_3(w*.x)/sqrt(6): variance 1 (Monte-Carlo error of 4000 draws of a cubic about 0.1)
    assert np.mean(y2 ** 2) == pytest.approx(1.0, abs=0.25)
    np.testing.assert_allclose(y2, ((x2.sum(1) / math.sqrt(6)) ** 3 - 3 * x2.sum(1) / math.sqrt(6)) / math.sqrt(6))


def test_fcn_specialists_layer_by_layer_on_hand_built_weights():
    """Layer 1: rows along w* (overlap sqrt(d) sigma) count, rows orthogonal to it do not.
    Layer 2: with unit 0 of layer 1 equal to w*, c_0 = E[erf(z) z] = 2/sqrt(3 pi) and the
    other c_i vanish in expectation (independent of z); a layer-2 row on unit 0 with weight
    v has overlap v c_0 against the sd |c|/sqrt(N1) ~ c_0/sqrt(N1)."""
    d, n1, n2 = 16, 8, 4
    fam = families.build(_facts(width_exponents=(math.log(n1, d), math.log(n2, d))), d, 1.0, 0.1)
    assert fam.net.widths == (n1, n2)
    w_star = np.ones(d) / math.sqrt(d)
    ortho = np.zeros((n1 - 1, d))
    for i in range(n1 - 1):  # +-1 pairs: orthogonal to w* and to each other
        ortho[i, 2 * i], ortho[i, 2 * i + 1] = 1 / math.sqrt(2), -1 / math.sqrt(2)
    w1 = np.vstack([w_star, ortho])            # actual weights, rows of norm 1
    w2 = np.zeros((n2, n1))
    w2[0, 0] = 2.0 / math.sqrt(n1)             # overlap about 2 sd: not specialised
    w2[1, 0] = 6.0 / math.sqrt(n1)             # about 6 sd: specialised
    w2[2, 1] = 6.0 / math.sqrt(n1)             # on a unit that carries no z: about 0 sd
    w2[3, :] = 6.0 / n1                        # spread over all units: about 6/sqrt(N1) = 2.1 sd
    z = np.r_[(w1 * math.sqrt(d)).ravel(), (w2 * math.sqrt(n1)).ravel()]
    counts = np.asarray(fam.layer_specialists(jnp.asarray(z)))
    # Layer 1: the row w* has overlap sqrt(d) = 4 sigma > 3; the orthogonal rows 0.
    assert counts[0] == 1 == float(fam.specialists(jnp.asarray(z)))
    assert counts[1] == 1
    w2[0, 0] = 4.0 / math.sqrt(n1)
    z = np.r_[(w1 * math.sqrt(d)).ravel(), (w2 * math.sqrt(n1)).ravel()]
    assert np.asarray(fam.layer_specialists(jnp.asarray(z)))[1] == 2


def test_fcn_second_layer_overlap_is_the_stein_value():
    """The probe average c_0 = E[erf(w*.x) w*.x] = 2/sqrt(3 pi) (Stein: E[erf'(z)])."""
    from curse_cli.simulate import fcn

    d = 16
    probes = fcn.data.inputs((fcn.PROBE_SEED, d), "gaussian", fcn.PROBES, d)
    zz = probes @ (np.ones(d) / math.sqrt(d))
    assert np.mean(erf(zz) * zz) == pytest.approx(2 / math.sqrt(3 * math.pi), abs=4 / math.sqrt(fcn.PROBES))


def test_fcn_aligned_start_sets_every_first_layer_row_to_w_star():
    fam = families.build(_facts(width_exponents=(1.0, 0.5)), 16, 1.0, 0.1)
    z = jnp.zeros((3, fam.n_params))
    out = np.asarray(fam.aligned(z))
    np.testing.assert_allclose(out[:, :256], 1.0)  # whitened w* sqrt(d): entries 1
    np.testing.assert_array_equal(out[:, 256:], 0.0)
    assert float(fam.specialists(jnp.asarray(out[0]))) == 16  # overlap sqrt(d) = 4 sigma each
