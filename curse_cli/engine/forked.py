"""Two halves of one job on two cores: one here, one in a forked process.

The second half is a function of the state this process holds (kernels, a search's
queue): it reaches the forked process by inheritance, not by pickling; only its result
comes back pickled, through a pipe.  The worker is a `multiprocessing` child, so the
CLI's signal handlers end it with the main process (`cli.main._on_signal`), and it is
killed at once if this half fails.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Callable, TypeVar

_T = TypeVar("_T")
_U = TypeVar("_U")


class WorkerLost(RuntimeError):
    """The forked half ended without a result (killed, or out of memory)."""


def can_fork(workers: int | None) -> bool:
    """Whether a second process may be used: `workers` allows it (None: one per core, at
    most two) and the platform forks."""
    allowed = workers if workers is not None else min(2, os.cpu_count() or 1)
    return allowed >= 2 and "fork" in multiprocessing.get_all_start_methods()


def _run(there: Callable[[], object], send) -> None:
    """The forked half: its result, or the exception it raised, sent back."""
    try:
        outcome = (True, there())
    except BaseException as exc:   # noqa: BLE001 - re-raised in the parent
        outcome = (False, exc)
    send.send(outcome)
    send.close()


def in_two(here: Callable[[], _T], there: Callable[[], _U]) -> tuple[_T, _U]:
    """`here()` in this process and `there()` in a forked one, at the same time; both
    results.  An exception in either is raised here (the other half is not waited for:
    a failing `here` kills the child)."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_run, args=(there, send), daemon=True)
    child.start()
    send.close()
    try:
        mine = here()
        try:
            ok, theirs = receive.recv()
        except EOFError:
            child.join()
            raise WorkerLost(f"the second process ended without a result (exit code {child.exitcode})") from None
    except BaseException:
        child.kill()
        child.join()
        raise
    finally:
        receive.close()
    child.join()
    if not ok:
        raise theirs
    return mine, theirs
