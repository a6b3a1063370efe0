"""The limits of `curse simulate`, in one place, and the checks made before any work.

Each limit keeps a run within what one machine can hold and finish: the counts bound the
arrays JAX allocates (a population is particles x weights, a point's data P x d), and the
memory estimate of the largest point is compared with the machine's memory.  Option help
and error messages quote these numbers; nothing else does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    d: int = 4096                   # input dimension
    p_ratio: float = 1e4            # P / d^[P*]
    p: int = 200_000                # training points at one point of the grid
    width_factor: float = 1e3
    params: int = 50_000_000        # hidden weights of one network
    kappa_min: float = 1e-6         # below, the likelihood's precision 1/kappa swamps float64 sums
    kappa_max: float = 1e6
    particles: int = 65_536
    runs: int = 64
    mutations: int = 1000
    chains: int = 4096              # per start (mala / hmc)
    steps: int = 1_000_000
    test_size: int = 65_536
    seed: int = 2**31 - 1
    memory_share: float = 0.5       # of the machine's physical memory, for the largest point


LIMITS = Limits()


def physical_memory() -> int:
    """Bytes of physical memory of this machine (a generous guess where unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


def check_counts(setup, settings) -> None:
    """Refuse (ValueError, one line) a grid whose P or network exceeds the limits."""
    for d in settings.ds:
        for _, _, p in setup.p_requested(d, settings.p_ratios):
            if p > LIMITS.p:
                raise ValueError(f"d={d}: P = {p} exceeds the limit of {LIMITS.p} training points; "
                                 "lower --p-ratio or --d")
        n = setup.family(d).n_params
        if n > LIMITS.params:
            raise ValueError(f"d={d}: the network has {n:.3g} hidden weights, above the limit of "
                             f"{LIMITS.params:.3g}; lower --d or --width-factor, or the spec's widths (--set)")
