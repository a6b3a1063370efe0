"""Run the `curse simulate` tests last.

They load JAX, which starts threads; the engine and sweep tests fork worker processes,
and forking a process with JAX's threads running can deadlock.  So JAX is imported only
when a simulate test runs (never at collection), and those tests run after all others.
"""

from __future__ import annotations

SIMULATE_MODULES = ("test_simulate.py", "test_simulate_cli.py", "test_simulate_families.py")


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.path.name in SIMULATE_MODULES)  # stable: others keep their order


# Property tests draw the same examples on every run (CI included): a failure is then
# reproducible, and a run never fails by drawing a rare case another run did not.
from hypothesis import settings  # noqa: E402

settings.register_profile("curse", derandomize=True, database=None)
settings.load_profile("curse")
