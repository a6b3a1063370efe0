"""Two halves of one job on two cores: one here, one in a forked process.

The second half is a function of the state this process holds (kernels, a search's
queue): it reaches the forked process by inheritance, not by pickling; only its result
comes back pickled.  The worker is a `multiprocessing` child, so the CLI's signal
handlers end it with the main process (`cli.main._on_signal`).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, TypeVar

_T = TypeVar("_T")
_U = TypeVar("_U")

_PENDING: Callable[[], object] | None = None   # the forked half, read by the child


def can_fork(workers: int | None) -> bool:
    """Whether a second process may be used: `workers` allows it (None: one per core, at
    most two) and the platform forks."""
    allowed = workers if workers is not None else min(2, os.cpu_count() or 1)
    return allowed >= 2 and "fork" in multiprocessing.get_all_start_methods()


def _call_pending() -> object:
    assert _PENDING is not None
    return _PENDING()


def in_two(here: Callable[[], _T], there: Callable[[], _U]) -> tuple[_T, _U]:
    """`here()` in this process and `there()` in a forked one, at the same time; both
    results.  `there` is put where the child finds it before the pool exists and stays
    there until its result is back, so it is inherited whenever the pool forks."""
    global _PENDING
    _PENDING = there
    try:
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
            future = pool.submit(_call_pending)
            mine = here()
            theirs = future.result()
    finally:
        _PENDING = None
    return mine, theirs  # type: ignore[return-value]
