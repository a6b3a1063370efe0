"""Softmax attention, one layer of `N` heads over `L` tokens (docs/theory.md section 8.2).

    f(X) = (N L)^(-1/2) sum_h sum_{i,j} softmax_j(x_i^T W_h x_j) (a_h . x_j)

Target `L^-1 sum_{i != j} (u.x_i)^r (v.x_j)^r (w.x_j)`, degree `2r + 1`.  Expanding the
softmax around `W = 0`, the target is carried by the order-`r` term of the score,
`(u^T W_h v)^r (a_h . w)`: the feature a head learns is the direction `u v^T` of `W_h`
(prior variance `1/d^2`: `[lambda_uv] = -2`); scores stay of order one, so a head's
mean overlap has `[q] <= 0` (bounded).  The readout weights `a_h` (variance
`1/(chi d)`) and the `L^2` pairs over the `L` normalisation give `a_y = chi L d /
<y|K|y>` where the score's order-`r` term has `<y|K|y> ~ lambda_uv^r` lazily.

So the rows are those of the one-layer calculus with: the input component `uv` at
`[lambda] = -2`, a bounded profile whose only Hermite order and Taylor power is `r`
(only the order-`r` term of the score reaches the target), the readout factor `L d`,
and the Hermite order `r` read at the readout.  Worked out (chi = 1):
GP `L d^(2r+1)`; GFL cost `N D` (`[D] <= 2`), `a_y = L d^(2r+1) / D^r`;
Sp cost `M d^2 q^2`, `a_y = N L d / (M q^(2r))`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from pydantic import Field

from curse_cli.algebra.scales import BASE, Monomial
from curse_cli.archs.base import Architecture, Block, Network, Sizes, width_limit
from curse_cli.archs.fields import SizeRef, ref_doc
from curse_cli.archs.problem import Activation, ActivationKind, Limit, Support, Words
from curse_cli.archs.targets import TwoTokenTarget


class AttentionBlock(Block):
    kind: Literal["attention"] = Field(description="one softmax-attention layer")
    heads: SizeRef = Field(description="number of heads N")
    length: SizeRef = Field(description="sequence length L")


def score_profile(r: int) -> Activation:
    """The softmax score as the target sees it: its order-`r` term, bounded."""
    order = Support(frozenset({r}))
    return Activation(f"softmax (score order {r})", ActivationKind.BOUNDED, hermite=order, taylor=order)


def resolve(block: AttentionBlock, target: TwoTokenTarget, data, sizes: Sizes) -> Network:
    heads = sizes.size(block.heads, "architecture.heads")
    length = sizes.size(block.length, "architecture.length")
    if data.target_variance != 0:
        raise sizes.error("data.target_variance", "attention's tokens are isotropic N(0, I_d); remove target_variance")
    if data.measure != "gaussian":
        raise sizes.error("data.measure", "attention's tokens are Gaussian N(0, I_d); use measure: gaussian")
    r = target.r
    power = "" if r == 1 else f"^{r}"
    return Network(
        activation=score_profile(r),
        widths=(heads,),
        degree=r,
        feature="uv",
        lambda0=Monomial({BASE: -2}),
        readout_factor=length * Monomial({BASE: 1}),
        dimension=Monomial({BASE: 1}),
        limits=(width_limit(heads, "architecture.heads"),
                Limit(length, Fraction(0), None, "architecture.length", "a sequence length",
                      "a sequence has at least one token", "at least 1")),
        words=Words(
            network="a softmax-attention layer",
            unit="heads",
            input="the query-key matrix W_h, prior variance 1/d^2 along u v^T",
            cost="a head's mean q u v^T costs d^2 q^2",
            readout="a_y = chi L d / <y|K|y>",
            target=f"L^-1 sum_(i != j) (u.x_i){power} (v.x_j){power} (w.x_j), degree {target.degree} (r = {r})",
        ),
        document={"kind": "attention", "heads": ref_doc(block.heads), "length": ref_doc(block.length)},
    )


ATTENTION = Architecture("attention", "softmax attention, one layer of heads", AttentionBlock,
                         (TwoTokenTarget,), resolve)
