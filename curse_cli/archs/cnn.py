"""Convolutional network, one layer of non-overlapping patches (docs/theory.md section 8.1).

    f(x) = sum_{c <= N} sum_{p <= d/S} a_{c,p} phi(w_c . x_p)

The two-layer fully connected calculus with two hooks changed.  The input component:
a filter has `S` entries, so the patch kernel `x_p.x'_p / S` gives `z = w*.x_p` the
eigenvalue `[lambda_z] = [sigma^2] - [S]` (a mean `q w*` costs `S q^2` in weight decay).
The readout: with a readout weight per patch (`per-patch`, locally connected), the
target `P^(-1/2) sum_p He_k(w*.x_p)` has `<y|K|y>` smaller by the patch count `d/S`, so
`a_y = chi (d/S) / <y|K|y>`; with one readout weight per channel shared by all
patches (`pooled`), `y` is one eigenfunction and no factor appears.  At `S = d` both
are the two-layer fully connected network.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from pydantic import Field

from curse_cli.algebra.scales import BASE, Monomial
from curse_cli.archs.base import Architecture, Block, Network, Sizes, width_limit
from curse_cli.archs.fields import ActivationSpec, SizeRef, activation_profile, ref_doc
from curse_cli.archs.problem import Limit, Words
from curse_cli.archs.targets import HermiteTarget, PolynomialTarget, several_pieces, target_words


class CnnBlock(Block):
    kind: Literal["cnn"] = Field(description="convolutional network: one layer, non-overlapping patches")
    activation: ActivationSpec
    channels: SizeRef = Field(description="number of channels N (filters)")
    patch: SizeRef = Field(description="patch size S, 1 <= S <= d (d/S patches)")
    readout: Literal["per-patch", "pooled"] = Field(
        default="per-patch", description="per-patch (locally connected) or pooled (global average pooling)")


def resolve(block: CnnBlock, target: HermiteTarget | PolynomialTarget, data, sizes: Sizes) -> Network:
    channels = sizes.size(block.channels, "architecture.channels")
    patch = sizes.size(block.patch, "architecture.patch")
    activation, activation_doc = activation_profile(block.activation)
    per_patch = block.readout == "per-patch"
    patches = Monomial({BASE: 1}) / patch
    return Network(
        activation=activation,
        widths=(channels,),
        degree=target.degree,
        feature="z",
        lambda0=Monomial({BASE: data.target_variance}) / patch,
        readout_factor=patches if per_patch else Monomial(),
        dimension=patch,
        limits=(width_limit(channels, "architecture.channels"),
                Limit(patch, Fraction(0), Fraction(1), "architecture.patch", "the patch size",
                      "a patch holds between 1 and d inputs", "between 1 and d")),
        words=Words(
            network=f"a convolutional layer, {block.readout} readout",
            unit="channels",
            input="patch kernel x_p.x'_p/S",
            cost="a filter's mean q w* costs S q^2",
            readout="a_y = chi (d/S) / <y|K|y> (one readout weight per patch)" if per_patch
            else "a_y = chi / <y|K|y> (pooled readout)",
            target=f"P^(-1/2) sum_p {target_words(target, 'w*.x_p')}",
        ),
        document={"kind": "cnn", "activation": activation_doc, "channels": ref_doc(block.channels),
                  "patch": ref_doc(block.patch), "readout": block.readout},
        shares=several_pieces(target),
    )


CNN = Architecture("cnn", "convolutional network, one layer of non-overlapping patches", CnnBlock,
                   (HermiteTarget, PolynomialTarget), resolve)
