# `make run` and `make test` work on a fresh machine: each installs what it needs into
# a local virtual environment (.venv) first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	$(BIN)/python -m compileall -q curse_cli   # bytecode, as a regular install has
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/curse predict specs/three_layer_erf.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m compileall -q curse_cli
	$(BIN)/python tests/benchmarks/bench.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
