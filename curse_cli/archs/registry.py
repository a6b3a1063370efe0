"""Every architecture `curse` knows, by kind.  Adding one: write its module, list it here."""

from __future__ import annotations

from curse_cli.archs.attention import ATTENTION
from curse_cli.archs.base import Architecture
from curse_cli.archs.cnn import CNN
from curse_cli.archs.fcn import FCN

ARCHITECTURES: dict[str, Architecture] = {a.kind: a for a in (FCN, CNN, ATTENTION)}


def target_models() -> tuple[type, ...]:
    """Every target model some architecture accepts, each once, in registry order."""
    seen: dict[type, None] = {}
    for arch in ARCHITECTURES.values():
        for model in arch.targets:
            seen.setdefault(model, None)
    return tuple(seen)
