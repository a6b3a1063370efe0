# `make run` and `make test` work on a fresh machine: each installs what it needs into
# a local virtual environment (.venv) first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TESTED := $(VENV)/.installed-test

.PHONY: install run lint test check docs-examples bench bench-simulate clean

SOURCES := $(wildcard curse_cli/*.py curse_cli/*/*.py)

# A regular (not editable) install, as a user would have it: byte-compiled, and no
# import hook at start-up.  It is refreshed whenever a source file changes.  `make run`
# needs the runtime dependencies only; `make test` adds the test tools, the simulate
# extra (JAX, BlackJAX) and the plot extra (matplotlib), so the suite covers
# `curse simulate` and every `--plot` too.
$(STAMP): pyproject.toml $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check .
	touch $(STAMP)

$(TESTED): pyproject.toml $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check '.[test,simulate,plot]'
	touch $(STAMP) $(TESTED)

install: $(TESTED)

run: $(STAMP)
	$(BIN)/curse predict specs/three_layer_erf.yaml

# Lint and types first (seconds), then the whole suite.  Both tools read their settings
# from pyproject.toml and check the whole tree.
lint: $(TESTED)
	$(BIN)/ruff check .
	$(BIN)/mypy

# The whole suite in parallel (pytest-xdist, one worker per core).
test: lint
	$(BIN)/python -m pytest -q -n auto

# While developing: lint, types and the tests not marked slow (tests/conftest.py), in
# well under 30 s; `make test` before a commit.
check: lint
	$(BIN)/python -m pytest -q -n auto -m "not slow"

# Rewrite the output under every `$ curse ...` line of README.md and docs/*.md (what
# tests/test_docs.py checks) after a change to what a command prints; read the diff.
docs-examples: $(TESTED)
	$(BIN)/python tests/doc_examples.py

bench: $(STAMP)
	$(BIN)/python tests/benchmarks/bench.py

bench-simulate: $(TESTED)
	$(BIN)/python tests/benchmarks/bench_simulate.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
