"""The suite's shared settings: the `curse simulate` tests last, the slow ones marked,
derandomised property tests, no ambient COLUMNS.

The simulate tests load JAX, which starts threads; the engine and sweep tests fork worker processes,
and forking a process with JAX's threads running can deadlock.  So JAX is imported only
when a simulate test runs (never at collection), and those tests run after all others.
"""

from __future__ import annotations

import pytest

SIMULATE_MODULES = ("test_simulate.py", "test_simulate_cli.py", "test_simulate_families.py")


# `make check` runs the tests not marked slow (`-m "not slow"`): these modules, these tests,
# and any test marked `@pytest.mark.slow`.  `make test` runs everything.
SLOW_MODULES = (*SIMULATE_MODULES, "test_search.py", "test_sweep.py", "test_floors.py", "test_tropical.py",
                "test_tropical_prune.py", "test_laws.py", "test_unix.py")
SLOW_TESTS = ("test_every_bundled_spec_predicts[seven_layer_erf.yaml]",
              "test_console_entry_point_keeps_output_and_exit_codes",
              "test_default_truncation_equals_default_plus_three",
              "test_plot_writes_png_and_svg", "test_plot_is_written")   # plots: matplotlib loads for seconds


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: item.path.name in SIMULATE_MODULES)  # stable: others keep their order
    for item in items:
        if item.path.name in SLOW_MODULES or item.name in SLOW_TESTS or item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)


# Property tests draw the same examples on every run (CI included): a failure is then
# reproducible, and a run never fails by drawing a rare case another run did not.
from hypothesis import settings  # noqa: E402

settings.register_profile("curse", derandomize=True, database=None)
settings.load_profile("curse")


# Tables are as wide as COLUMNS says, and pytest-xdist's workers start with COLUMNS=80 in
# their environment (a plain pytest run has none): every test starts without it, as a plain
# run does, and a test that wants a width passes its own.
@pytest.fixture(autouse=True)
def _no_ambient_columns(monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
