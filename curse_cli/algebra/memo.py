"""An explicit cache owned by one run: results of pure functions, keyed by value."""

from __future__ import annotations

from typing import Callable, TypeVar

_T = TypeVar("_T")
_MISSING = object()


class Memo:
    """Results computed once per run (one problem's kernels in one space), keyed by the
    values of what they depend on: `remember(key, make)` gives `make()` the first time
    and the same object after.  Only for pure functions whose arguments the key names
    in full, so a result is the one a fresh computation would give.  A `Context` owns
    one and its `Folder` passes it to the rules (`Rules.memo`)."""

    def __init__(self) -> None:
        self._held: dict[tuple, object] = {}

    def remember(self, key: tuple, make: Callable[[], _T]) -> _T:
        held = self._held.get(key, _MISSING)
        if held is _MISSING:
            held = self._held[key] = make()
        return held  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._held)
