"""The network families `curse simulate` samples, behind one protocol, and the builder.

A family object is one finite network at one input dimension `d`: frozen and hashable,
so it can be a static argument of `jax.jit`.  Its hidden weights are a flat vector `z` in
whitened coordinates (weights = prior std * z), so their prior is `N(0, I)` of dimension
`n_params`; the readout is integrated out exactly.  Arrays are float64 (JAX x64).

    n_params                               int
    caveat                                 None, or why this network cannot learn its
                                           target whatever P (a note in the report)
    log_likelihood(z, x, y, mask)          log N(y; 0, s Phi Phi^T + kappa I), a JAX scalar
                                           (no prior term; `mask` 1 on data rows, 0 on
                                           padding rows, whose y must be 0)
    predictor(z, x, y, mask, x_test)       readout posterior mean's predictions, (n_test,)
    specialists(z)                         the family's count of specialised units, a JAX
                                           scalar (fcn: first layer)
    layer_specialists(z)                   per hidden layer, shape (layers,)
    gp_predictor(x, y, x_test)             the infinite-width GP's posterior mean, numpy
    data(seed, p, test_size)               numpy (x, y, x_test, y_test): the first p training
                                           rows are the same for every larger p; targets
                                           have unit variance under the data measure
    aligned(z)                             `z` with the learnable weights set along the
                                           target (a teacher-aligned start for MCMC)
    memory_bytes(p)                        rough bytes one likelihood-and-gradient
                                           evaluation holds for one particle at p rows
    work(p)                                rough floating-point operations of that
                                           evaluation (the time estimate)

The leading axis of `x` is the sample; its other axes are the family's (fcn: `(d,)`,
cnn: `(d,)`, attention: `(L, d)`).  `build(facts, d, width_factor, kappa)` makes the family
a spec describes (`facts` as returned by `predicted.load(path, overrides, predicted.SIMULATED_KINDS)`;
without `kinds` that call refuses all but fcn, for callers that cannot run the others).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from .predicted import SpecFacts

FAMILIES = ("fcn", "cnn", "attention")


class Family(Protocol):
    """One finite network at one input dimension (see the module docstring)."""

    @property
    def kind(self) -> str: ...

    @property
    def d(self) -> int: ...

    @property
    def kappa(self) -> float: ...

    @property
    def n_params(self) -> int: ...

    @property
    def caveat(self) -> str | None: ...

    def log_likelihood(self, z: Any, x: Any, y: Any, mask: Any) -> Any: ...

    def predictor(self, z: Any, x: Any, y: Any, mask: Any, x_test: Any) -> Any: ...

    def specialists(self, z: Any) -> Any: ...

    def layer_specialists(self, z: Any) -> Any: ...

    def gp_predictor(self, x: np.ndarray, y: np.ndarray, x_test: np.ndarray) -> np.ndarray: ...

    def data(self, seed: int, p: int, test_size: int) -> tuple[np.ndarray, ...]: ...

    def aligned(self, z: Any) -> Any: ...

    def memory_bytes(self, p: int) -> int: ...

    def work(self, p: int) -> float: ...


def size(factor: float, d: int, exponent: float) -> int:
    """`round(factor d^exponent)`, at least 1: a width (channels, heads) at dimension d."""
    return max(1, round(factor * d ** exponent))


def build(facts: SpecFacts, d: int, width_factor: float, kappa: float) -> Family:
    """The finite network of the spec at dimension `d`: widths (channels, heads) are
    `width_factor d^[N]`, data sizes (patch, tokens) are `d^[S]`, `d^[L]` unscaled.
    A cnn needs `d` to be a multiple of its patch size (ValueError otherwise)."""
    chi = float(d ** facts.chi_exponent)
    if facts.kind == "fcn":
        from .fcn import Fcn
        from .model import Network

        widths = tuple(size(width_factor, d, e) for e in facts.width_exponents)
        net = Network(d=d, widths=widths, chi=chi, kappa=kappa, activation=facts.activation,
                      coefficients=facts.coefficients)
        return Fcn(net=net, measure=facts.measure, degree=facts.degree)
    if facts.kind == "cnn":
        from .cnn import Cnn
        from .model import Network

        patch = max(1, round(d ** facts.patch_exponent))
        unit = Network(d=patch, widths=(size(width_factor, d, facts.width_exponents[0]),), chi=chi, kappa=kappa,
                       activation=facts.activation, coefficients=facts.coefficients)
        return Cnn(unit=unit, d=d, readout=facts.readout, measure=facts.measure, degree=facts.degree)
    if facts.kind == "attention":
        from .attention import Attention

        return Attention(d=d, length=size(1.0, d, facts.length_exponent),
                         heads=size(width_factor, d, facts.width_exponents[0]), chi=chi, kappa=kappa,
                         order=facts.token_order)
    raise ValueError(f"no simulated family {facts.kind!r}; known: {', '.join(FAMILIES)}")
