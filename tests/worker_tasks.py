"""Generator functions for the worker-process tests (`curse_cli.simulate.workers`): a
worker imports them by name, so they live in a module of their own, without JAX."""

from __future__ import annotations

import os


def count(n: int, between) -> object:
    for i in range(n):
        between()
        yield i


def fail(message: str, between) -> object:
    yield "first"
    raise ValueError(message)


def die(between) -> object:
    yield "first"
    os._exit(3)


def affinity(between) -> object:
    yield sorted(os.sched_getaffinity(0))


def slow(seconds: float, between) -> object:
    import time

    time.sleep(seconds)
    yield "late"
