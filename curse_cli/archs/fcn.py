"""Fully connected networks (docs/theory.md sections 3-7): the reference architecture.

    f(x) = sum_i a_i phi(h^L_i),   h^1 = W^1 x / sqrt(d),  h^l = W^l phi(h^(l-1)) / sqrt(N_(l-1))

The first layer sees `K_0 = x.x'/d`: the component `z = w*.x` with `[lambda_z] = -1`
(`[sigma^2] - 1` when the data give the target direction variance `sigma^2`).  The
readout term is `chi / <y|K_L|y>`, no extra factor.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from curse_cli.algebra.scales import BASE, Monomial
from curse_cli.archs.base import Architecture, Block, Network, Sizes, width_limit
from curse_cli.archs.fields import ActivationSpec, SizeRef, activation_profile, nonempty_widths, ref_doc
from curse_cli.archs.problem import Words
from curse_cli.archs.targets import HermiteTarget, PolynomialTarget, several_pieces, target_words


class FcnBlock(Block):
    kind: Literal["fcn"] = Field(description="fully connected network")
    activation: ActivationSpec
    widths: Annotated[tuple[SizeRef, ...], AfterValidator(nonempty_widths)] = Field(
        description="hidden widths, bottom to top", json_schema_extra={"minItems": 1}
    )


def resolve(block: FcnBlock, target: HermiteTarget | PolynomialTarget, data, sizes: Sizes) -> Network:
    paths = [f"architecture.widths[{i}]" for i in range(len(block.widths))]
    widths = tuple(sizes.size(ref, path) for ref, path in zip(block.widths, paths, strict=True))
    activation, activation_doc = activation_profile(block.activation)
    depth = len(widths)
    return Network(
        activation=activation,
        widths=widths,
        degree=target.degree,
        feature="z",
        lambda0=Monomial({BASE: data.target_variance - 1}),
        readout_factor=Monomial(),
        dimension=Monomial({BASE: 1}),
        limits=tuple(width_limit(w, p) for w, p in zip(widths, paths, strict=True)),
        words=Words(network=f"{depth} hidden layer{'s' if depth > 1 else ''}",
                    target=target_words(target, "w*.x")),
        document={"kind": "fcn", "activation": activation_doc, "widths": [ref_doc(r) for r in block.widths]},
        shares=several_pieces(target),
    )


FCN = Architecture("fcn", "fully connected network, any depth", FcnBlock, (HermiteTarget, PolynomialTarget), resolve)
