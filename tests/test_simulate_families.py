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
                degree=3, measure="gaussian", patch_exponent=1.0, readout="per-patch", length_exponent=0.0,
                token_order=1)
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


def test_fcn_specialists_under_the_prior_are_three_sigma_outliers():
    """Networks drawn from the prior: every layer's units pass at P(|N(0,1)| > 3) = 0.27 %."""
    d, n = 16, 64
    fam = families.build(_facts(width_exponents=(math.log(n, d),) * 3), d, 1.0, 0.1)
    draws = 100
    z = jax.random.normal(jax.random.PRNGKey(0), (draws, fam.n_params))
    counts = np.asarray(jax.jit(jax.vmap(fam.layer_specialists))(z)).sum(0)
    rate, units = 2 * (1 - 0.5 * (1 + math.erf(3 / math.sqrt(2)))), draws * n
    assert np.all(np.abs(counts - rate * units) < 5 * math.sqrt(rate * units) + 1), counts


def test_fcn_second_layer_overlap_is_the_stein_value():
    """The probe average c_0 = E[erf(w*.x) w*.x] = 2/sqrt(3 pi) (Stein: E[erf'(z)])."""
    from curse_cli.simulate import fcn

    d = 16
    probes = fcn.data.inputs((fcn.PROBE_SEED, d), "gaussian", fcn.PROBES, d)
    zz = probes @ (np.ones(d) / math.sqrt(d))
    assert np.mean(erf(zz) * zz) == pytest.approx(2 / math.sqrt(3 * math.pi), abs=3 / math.sqrt(fcn.PROBES))


def test_fcn_aligned_start_sets_every_first_layer_row_to_w_star():
    fam = families.build(_facts(width_exponents=(1.0, 0.5)), 16, 1.0, 0.1)
    z = jnp.zeros((3, fam.n_params))
    out = np.asarray(fam.aligned(z))
    np.testing.assert_allclose(out[:, :256], 1.0)  # whitened w* sqrt(d): entries 1
    np.testing.assert_array_equal(out[:, 256:], 0.0)
    assert float(fam.specialists(jnp.asarray(out[0]))) == 16  # overlap sqrt(d) = 4 sigma each


# -- convolutional -----------------------------------------------------------------------


def _arcsine(a, b, dim):
    """Williams' erf kernel on inputs of dimension `dim`, pre-activation kernel a.b/dim."""
    s12, s11, s22 = a @ b.T / dim, (a * a).sum(1) / dim, (b * b).sum(1) / dim
    return 2 / np.pi * np.arcsin(2 * s12 / np.sqrt((1 + 2 * s11)[:, None] * (1 + 2 * s22)[None, :]))


def _cnn(readout, d=16, channels_exp=0.5, chi_exp=0.0):
    return families.build(_facts(kind="cnn", width_exponents=(channels_exp,), patch_exponent=0.5, readout=readout,
                                 chi_exponent=chi_exp), d, 1.0, 0.2)


def _cnn_features(fam, z, x):
    """(channel, patch) features of the cnn written out with loops."""
    s, n_p, n = fam.patch, fam.patches, fam.channels
    w = z.reshape(n, s) / math.sqrt(s)
    out = np.zeros((len(x), n, n_p))
    for c in range(n):
        for p in range(n_p):
            out[:, c, p] = erf(x[:, p * s:(p + 1) * s] @ w[c])
    return out


@pytest.mark.parametrize("readout", ["per-patch", "pooled"])
def test_cnn_likelihood_and_predictor_integrate_the_readout_exactly(readout):
    fam = _cnn(readout, chi_exp=0.5)
    assert (fam.patch, fam.patches, fam.channels, fam.n_params) == (4, 4, 4, 16)
    rng = np.random.default_rng(2)
    z = rng.normal(size=fam.n_params)
    x, y, xt, _ = fam.data(1, 24, 6)
    f, ft = _cnn_features(fam, z, x), _cnn_features(fam, z, xt)
    if readout == "pooled":   # one weight per channel, variance 1/(chi N), output over sqrt(n_p)
        phi, phit, s = f.sum(2) / 2.0, ft.sum(2) / 2.0, 1.0 / (4.0 * 4)
    else:                     # one weight per (channel, patch), variance 1/(chi N n_p)
        phi, phit, s = f.reshape(24, -1), ft.reshape(6, -1), 1.0 / (4.0 * 4 * 4)
    xp, yp, mask = _padded(x, y, 8)
    got = float(fam.log_likelihood(jnp.asarray(z), xp, yp, mask))
    assert got == pytest.approx(_gaussian_logpdf(phi, y, s, 0.2), rel=1e-8)
    pred = np.asarray(fam.predictor(jnp.asarray(z), xp, yp, mask, xt))
    np.testing.assert_allclose(pred, phit @ _readout_mean(phi, y, s, 0.2), rtol=1e-8)


@pytest.mark.parametrize("readout", ["per-patch", "pooled"])
def test_cnn_kernel_is_the_patch_average_of_the_arcsine_kernel(readout):
    fam = _cnn(readout, chi_exp=0.5)   # chi = 4
    x, _, xt, _ = fam.data(0, 5, 3)
    pairs = [(p, p) for p in range(4)] if readout == "per-patch" else [(p, q) for p in range(4) for q in range(4)]
    exact = sum(_arcsine(xt[:, 4 * p:4 * p + 4], x[:, 4 * q:4 * q + 4], 4) for p, q in pairs) / (4 * 4.0)
    np.testing.assert_allclose(fam.kernel(xt, x), exact, rtol=1e-12)


def test_cnn_pooled_kernel_is_the_covariance_of_random_networks():
    """Monte Carlo over networks from the prior (filters and readout drawn, f evaluated)."""
    fam = _cnn("pooled")
    x = fam.data(4, 3, 1)[0]
    rng = np.random.default_rng(5)
    draws = 20000
    f = np.zeros((draws, 3))
    for r in range(draws // 500):
        w = rng.normal(size=(500, 4, 4)) / 2.0                       # (draw, channel, S), var 1/S
        a = rng.normal(size=(500, 4)) / math.sqrt(4)                 # var 1/(chi N)
        post = erf(np.einsum("nps,rcs->rnpc", x.reshape(3, 4, 4), w))  # (draw, n, patch, channel)
        f[500 * r:500 * (r + 1)] = np.einsum("rnpc,rc->rn", post, a) / 2.0
    cov = f.T @ f / draws
    k = fam.kernel(x, x)
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / draws)
    assert np.all(np.abs(cov - k) < 5 * se), (cov, k)


def test_cnn_specialists_count_filters_along_the_patch_teacher():
    fam = _cnn("per-patch", d=64, channels_exp=0.5)   # S = 8, N = 8
    assert (fam.patch, fam.channels) == (8, 8)
    filters = np.zeros((8, 8))
    filters[0] = np.ones(8) / math.sqrt(8) * 1.1          # overlap 1.1 sqrt(8) = 3.1 sd
    filters[1] = np.ones(8) / math.sqrt(8) * -1.2         # 3.4 sd
    filters[2] = np.ones(8) / math.sqrt(8)                # sqrt(8) = 2.8 sd: not
    filters[3, :2] = [1.0, -1.0]                          # orthogonal to w*
    z = (filters * math.sqrt(8)).ravel()
    assert float(fam.specialists(jnp.asarray(z))) == 2
    np.testing.assert_allclose(np.asarray(fam.filters(fam.aligned(jnp.asarray(z)))), np.full((8, 8), 1 / math.sqrt(8)))


def test_cnn_data_are_nested_patch_sums_of_unit_variance():
    fam = _cnn("pooled")
    x, y, _, _ = fam.data(2, 30, 4)
    x2, y2, _, _ = fam.data(2, 5000, 4)
    np.testing.assert_array_equal(x2[:30], x)
    np.testing.assert_array_equal(y2[:30], y)
    zp = x2.reshape(5000, 4, 4).sum(2) / 2.0                   # w*.x_p, w* = (1, 1, 1, 1)/2
    np.testing.assert_allclose(y2, ((zp ** 3 - 3 * zp) / math.sqrt(6)).sum(1) / 2.0, atol=1e-12)
    assert np.mean(y2 ** 2) == pytest.approx(1.0, abs=0.15)


# -- softmax attention -------------------------------------------------------------------


def _attention(d=6, heads_exp=0.0, width=2.0, length_exp=None, chi_exp=0.0, order=1):
    length_exp = math.log(4, d) if length_exp is None else length_exp   # L = 4 tokens
    return families.build(_facts(kind="attention", activation="softmax", width_exponents=(heads_exp,),
                                 length_exponent=length_exp, chi_exponent=chi_exp, token_order=order), d, width, 0.2)


def _attention_phi(w, x):
    """The features, written out with loops: f(X) = (N L)^(-1/2) sum_h sum_{i,j}
    softmax_j(x_i^T W_h x_j) (a_h . x_j) is sum_{h,k} a_{h,k} phi_{h,k}(X).
    `w` (N, d, d), `x` (n, L, d); returns (n, N d)."""
    n_heads, n_tok = len(w), x.shape[1]
    out = np.zeros((len(x), n_heads, x.shape[2]))
    for m in range(len(x)):
        for h in range(n_heads):
            for i in range(n_tok):
                s = np.array([x[m, i] @ w[h] @ x[m, j] for j in range(n_tok)])
                soft = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
                out[m, h] += sum(soft[j] * x[m, j] for j in range(n_tok))
    return out.reshape(len(x), -1) / math.sqrt(n_heads * n_tok)


def test_attention_likelihood_and_predictor_integrate_the_readout_exactly():
    fam = _attention(chi_exp=0.5)
    assert (fam.d, fam.length, fam.heads, fam.n_params) == (6, 4, 2, 72)
    rng = np.random.default_rng(3)
    z = rng.normal(size=fam.n_params) * 3.0           # scores of order a few: the softmax is not flat
    x, y, xt, _ = fam.data(0, 10, 3)
    w = z.reshape(2, 6, 6) / 6
    phi, phit, s = _attention_phi(w, x), _attention_phi(w, xt), 1.0 / (math.sqrt(6) * 6)
    xp, yp, mask = _padded(x, y, 6)
    got = float(fam.log_likelihood(jnp.asarray(z), xp, yp, mask))
    assert got == pytest.approx(_gaussian_logpdf(phi, y, s, 0.2), rel=1e-8)
    pred = np.asarray(fam.predictor(jnp.asarray(z), xp, yp, mask, xt))
    np.testing.assert_allclose(pred, phit @ _readout_mean(phi, y, s, 0.2), rtol=1e-8)


def test_attention_kernel_is_the_covariance_of_random_networks():
    """The Monte-Carlo kernel (its own draws of W) against the empirical covariance of f over
    networks drawn from the prior, W and a: one network, one head per draw, f_r = a_r . phi(W_r)
    (phi checked against the loop formula on a few draws)."""
    import dataclasses

    fam = dataclasses.replace(_attention(d=4, width=1.0), gp_draws=4096)
    x = fam.data(1, 3, 1)[0]
    rng = np.random.default_rng(9)
    draws = 4000
    w = rng.normal(size=(draws, 4, 4)) / 4.0            # entries N(0, 1/d^2)
    a = rng.normal(size=(draws, 4)) / 2.0               # N(0, 1/(chi d))
    wide = dataclasses.replace(fam, heads=draws)
    phi = np.asarray(wide.features(jnp.asarray((w * 4.0).ravel()), jnp.asarray(x))).reshape(3, draws, 4)
    phi = phi * math.sqrt(draws)
    for r in range(5):
        np.testing.assert_allclose(phi[:, r], _attention_phi(w[r:r + 1], x), rtol=1e-10)
    f = np.einsum("nrk,rk->rn", phi, a)
    cov = f.T @ f / draws
    k = fam.kernel(x, x)
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / draws)
    assert np.all(np.abs(cov - k) < 5 * se + 0.05 * np.sqrt(np.outer(np.diag(k), np.diag(k)))), (cov, k)


def test_attention_features_in_chunks_of_samples_are_the_loop_formula():
    """Enough samples for several chunks, the last one padded (one head, L = 6: 14 rows a chunk)."""
    fam = _attention(d=6, width=1.0, length_exp=1.0)
    rng = np.random.default_rng(5)
    z = rng.normal(size=fam.n_params) * 3.0
    x = fam.data(4, 45, 3)[0]
    got = np.asarray(fam.features(jnp.asarray(z), jnp.asarray(x)))
    np.testing.assert_allclose(got, _attention_phi(z.reshape(1, 6, 6) / 6, x), rtol=1e-10)


def _best_fit_alignment(fam, z, seed=0):
    """Alignment on fresh samples of the least-squares readout of the features at `z`."""
    x, y, xt, yt = fam.data(seed, 6000, 3000)
    phi, phit = (np.asarray(fam.features(jnp.asarray(z), jnp.asarray(a))) for a in (x, xt))
    a = np.linalg.lstsq(phi, y, rcond=None)[0]
    return float(np.mean(phit @ a * yt) / np.mean(yt * yt))


def test_one_attention_head_cannot_express_the_target_and_two_can():
    """The caveat's claim, by least squares on the features: one head along u v^T keeps the
    linear term sum_j a.x_j and fits the target badly at any strength; two heads of opposite
    sign cancel it and fit it well (checked at d = 6)."""
    one, two = (_attention(d=6, width=heads, length_exp=1.0) for heads in (1.0, 2.0))
    assert (one.heads, one.length, two.heads) == (1, 6, 2)
    assert one.caveat is not None and two.caveat is None
    for c in (0.5, 1.0, 2.0, 4.0):
        w1 = np.zeros((1, 6, 6))
        w1[0, 0, 1] = 6 * c                      # W = c u v^T
        w2 = np.zeros((2, 6, 6))
        w2[0, 0, 1], w2[1, 0, 1] = 6 * c, -6 * c
        assert _best_fit_alignment(one, w1.ravel()) < 0.15
        if c <= 1.0:
            assert _best_fit_alignment(two, w2.ravel()) > 0.6


def test_attention_specialists_count_heads_along_u_v():
    fam = _attention(d=8, width=4.0)
    z = np.zeros((4, 8, 8))
    z[0, 0, 1] = 3.5     # u^T W v = 3.5/d: 3.5 sd
    z[1, 0, 1] = -4.0
    z[2, 1, 0] = 10.0    # v u^T: not the target's direction
    z[3, 0, 0] = 10.0
    assert float(fam.specialists(jnp.asarray(z.ravel()))) == 2
    aligned = np.asarray(fam.aligned(jnp.asarray(z.ravel()))).reshape(4, 8, 8)
    np.testing.assert_array_equal(aligned[:, 0, 1], 8.0)    # u^T W_h v = 1 for every head
    assert float(fam.specialists(jnp.asarray(aligned.ravel()))) == 4


@pytest.mark.parametrize("order", [1, 2])
def test_attention_data_are_nested_two_token_targets_of_unit_variance(order):
    fam = _attention(d=5, order=order)
    x, y, _, _ = fam.data(2, 20, 3)
    x2, y2, _, _ = fam.data(2, 20000, 3)
    np.testing.assert_array_equal(x2[:20], x)
    np.testing.assert_array_equal(y2[:20], y)
    u, v, w = x[:, :, 0], x[:, :, 1], x[:, :, 2]
    raw = np.array([sum(u[m, i] ** order * v[m, j] ** order * w[m, j] for i in range(4) for j in range(4) if i != j)
                    for m in range(20)]) / 4
    ratio = y / raw
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-10)          # y is the target up to its scale
    assert np.mean(y2 ** 2) == pytest.approx(1.0, abs=0.06 * order)


# -- from the spec -----------------------------------------------------------------------


def test_every_family_is_built_from_its_spec():
    """The sizes the specs give (cnn N = S = d^(1/2), attention L = d with a fixed number
    of heads, three layers N1 = N2 = d) reach the built networks."""
    from curse_cli.simulate import predicted

    with pytest.raises(predicted.SimulateSpecError, match="runs fcn"):
        predicted.load("specs/cnn_erf.yaml", ())           # a caller that runs fcn only
    kinds = predicted.SIMULATED_KINDS
    cnn = predicted.load("specs/cnn_erf.yaml", (), kinds)
    assert (cnn.kind, cnn.patch_exponent, cnn.readout, cnn.width_exponents) == ("cnn", 0.5, "per-patch", (0.5,))
    fam = families.build(cnn, 64, 2.0, 0.1)
    assert (fam.patch, fam.patches, fam.channels, fam.degree) == (8, 8, 16, 3)
    with pytest.raises(ValueError, match="multiple of the patch size"):
        families.build(cnn, 8, 1.0, 0.1)   # S = round(8^(1/2)) = 3 does not divide 8
    att = predicted.load("specs/attention_cubic.yaml", (), kinds)
    assert (att.kind, att.length_exponent, att.token_order) == ("attention", 1.0, 1)
    fam = families.build(att, 8, 2.0, 0.1)
    assert (fam.d, fam.length, fam.heads, fam.order) == (8, 8, 2, 1)
    deep = predicted.load("specs/three_layer_erf.yaml", (), kinds)
    fam = families.build(deep, 8, 1.0, 0.1)
    assert (fam.kind, fam.net.widths) == ("fcn", (8, 8))
    assert ("GP-Sp(z)", 2, "Sp", "M2") in {(x.pattern, x.layer, x.mechanism, x.label) for x in deep.layers}
    # Usable as static arguments of jax.jit: equal when built alike, hashable.
    built = [families.build(f, 16, 1.0, 0.1) for f in (cnn, att, deep)]
    assert built == [families.build(f, 16, 1.0, 0.1) for f in (cnn, att, deep)]
    assert len({hash(b) for b in built}) == 3


def test_deep_fcn_kernel_is_the_covariance_of_random_networks():
    """Two erf layers: the composed arcsine kernel against f over random finite networks
    (wide enough that the second layer's pre-activations are nearly Gaussian)."""
    d, n1, draws = 3, 64, 20000
    fam = families.build(_facts(width_exponents=(math.log(n1, d), math.log(n1, d))), d, 1.0, 0.1)
    x = np.array([[1.0, 0.5, -1.0], [0.3, -1.2, 0.8], [2.0, 0.0, 0.4]])
    rng = np.random.default_rng(4)
    f = np.zeros((draws, 3))
    for r in range(0, draws, 1000):
        w1 = rng.normal(size=(1000, n1, d)) / math.sqrt(d)
        w2 = rng.normal(size=(1000, 1, n1)) / math.sqrt(n1)   # one second-layer unit suffices
        h = erf(np.einsum("rnd,md->rmn", w1, x))
        f[r:r + 1000] = erf(np.einsum("rkn,rmn->rm", w2, h))
    cov = f.T @ f / draws
    from curse_cli.simulate import gp

    k = gp.kernel(fam.net, x, x)   # readout variance 1/N2 per unit: the output kernel is E[phi phi]
    se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / draws)
    assert np.all(np.abs(cov - k) < 5 * se + 0.01), (cov, k)


# -- the finite networks against their GP limits ------------------------------------------


def _wide_predictor_vs_gp(fam, p, seed):
    """One prior draw of a very wide network: its readout-posterior predictor is the GP's
    up to O(N^-1/2) (the features' Gram matrix concentrates on the kernel)."""
    x, y, xt, _ = fam.data(seed, p, 16)
    z = jax.random.normal(jax.random.PRNGKey(seed), (fam.n_params,))
    f = np.asarray(fam.predictor(z, jnp.asarray(x), jnp.asarray(y), jnp.ones(p), jnp.asarray(xt)))
    f_gp = fam.gp_predictor(x, y, xt)
    return f, f_gp


@pytest.mark.parametrize("kind", ["fcn3", "cnn-per-patch", "cnn-pooled", "attention"])
def test_a_very_wide_network_predicts_like_its_gp(kind):
    import dataclasses

    if kind == "fcn3":
        fam = families.build(_facts(width_exponents=(math.log(2048, 4), math.log(2048, 4))), 4, 1.0, 0.5)
    elif kind.startswith("cnn"):
        fam = families.build(_facts(kind="cnn", width_exponents=(math.log(4096, 16),), patch_exponent=0.5,
                                    readout=kind[4:]), 16, 1.0, 0.5)
    else:
        fam = dataclasses.replace(_attention(d=4, width=1.0), heads=4096, gp_draws=4096, kappa=0.5)
    f, f_gp = _wide_predictor_vs_gp(fam, 12, 0)
    # kappa = 0.5 keeps the regression off interpolation, so the kernel's scale matters:
    # twice the right kernel puts the predictors 14-42 % apart, the right one 1-6 %.
    assert np.sqrt(np.mean(f_gp ** 2)) > 0.1            # not a comparison of two zeros
    assert np.sqrt(np.mean((f - f_gp) ** 2)) < 0.1 * np.sqrt(np.mean(f_gp ** 2)), (f, f_gp)
