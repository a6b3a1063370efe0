"""Independent runs side by side: one process per run, each kept to one core.

XLA runs one computation at a time per process, sizes its CPU thread pool from the
process's CPU affinity, and its threads spin while they wait.  So two runs in one process
do not overlap, and two unpinned JAX processes on two busy cores slow each other many
times over (docs/performance.md).  Each run therefore gets a fresh interpreter of its own
(`python -m curse_cli.simulate.workers`: JAX's threads do not survive a fork, and
multiprocessing's `spawn` would import the caller's unguarded `__main__` again), pinned to
one core before JAX starts in it.  The task goes in pickled on its stdin; what it yields
comes back on its stdout, item by item, each pickle after its length.  A worker has a session of its own, so
Ctrl-C reaches only the parent, which kills the workers when it leaves; a worker whose
parent has gone stops at its next stage.
"""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator


# `-m` puts the working directory first on the worker's path: run it where this package
# lives, so that it imports this very package (not a checkout the user stands in).
_HOME = str(Path(__file__).resolve().parents[2])
POLL_SECONDS = 0.25   # how often the parent looks up (for Ctrl-C) while it waits


class WorkerLost(RuntimeError):
    """A worker ended without finishing (killed, or out of memory)."""


def cores() -> list[int]:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def _read(fd: int, size: int, between: Callable[[], None]) -> bytes:
    """`size` bytes from `fd`, calling `between()` every POLL_SECONDS while none come."""
    chunks = []
    while size:
        if not select.select([fd], [], [], POLL_SECONDS)[0]:
            between()
            continue
        chunk = os.read(fd, size)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _items(process: subprocess.Popen, between: Callable[[], None]) -> Iterator[Any]:
    assert process.stdout is not None
    fd = process.stdout.fileno()
    while True:
        try:
            kind, value = pickle.loads(_read(fd, int.from_bytes(_read(fd, 8, between), "little"), between))
        except EOFError:
            code = process.wait()
            raise WorkerLost(f"a worker process ended without a result (exit code {code})") from None
        if kind == "end":
            return
        if kind == "error":
            raise value
        yield value


def _send(out: IO[bytes], message: tuple[str, Any]) -> None:
    """One message: its length (8 bytes, little-endian), then its pickle."""
    body = pickle.dumps(message)
    out.write(len(body).to_bytes(8, "little") + body)
    out.flush()


@contextmanager
def side_by_side(function: Callable[..., Iterator[Any]], arg_lists: list[tuple],
                 between: Callable[[], None] = lambda: None) -> Iterator[list[Iterator[Any]]]:
    """One worker process per entry of `arg_lists`, running `function(*args, between=...)`
    (a module-level generator function) on core `i mod cores`; yields one iterator over
    each worker's items, which calls `between()` here while it waits (every
    POLL_SECONDS).  Every worker is killed when the block is left."""
    usable = cores()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path)}
    processes: list[subprocess.Popen] = []
    try:
        for i, args in enumerate(arg_lists):
            process = _start(usable[i % len(usable)], env)
            processes.append(process)
            assert process.stdin is not None
            pickle.dump((os.getpid(), function, args), process.stdin)
            process.stdin.close()
        yield [_items(process, between) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _start(core: int, env: dict) -> subprocess.Popen:
    """A worker on `core`: the calling thread takes that core while it starts the
    worker, which inherits it before anything (numpy's and XLA's thread pools included)
    is sized from it."""
    pin = hasattr(os, "sched_setaffinity")
    before = os.sched_getaffinity(0) if pin else None
    if pin:
        os.sched_setaffinity(0, {core})
    try:
        return subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                env=env, cwd=_HOME, start_new_session=True)
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)


def _serve(out: IO[bytes]) -> None:
    parent, function, args = pickle.load(sys.stdin.buffer)

    def between() -> None:
        if os.getppid() != parent:
            os._exit(1)

    try:
        for item in function(*args, between=between):
            _send(out, ("item", item))
        message: tuple[str, Any] = ("end", None)
    except BaseException as exc:   # noqa: BLE001 - raised again in the parent
        message = ("error", exc)
    try:
        _send(out, message)
    except Exception:  # noqa: BLE001 - an exception that does not pickle
        _send(out, ("error", RuntimeError(f"{type(message[1]).__name__}: {message[1]}")))


if __name__ == "__main__":
    # The protocol owns the real stdout; anything else printed goes to stderr.
    protocol = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(protocol)
