# oilimpact: every target does its own set-up (venv + install) on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SHARED ?= ../shared/data/real

.PHONY: install brief brief-real test lint notebooks notebooks-real bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,plots,distributed]"
	touch $@

install: $(BIN)/.installed

## The main job: the weekly brief. Offline it runs on the seeded demo data (reports/demo/).
brief: install
	$(BIN)/oilimpact brief --demo --out reports/demo

## The brief on the real snapshot in ../shared/data/real (imported into a temporary store),
## in its own folder (reports/real/) so it never overwrites the demo.
brief-real: install
	$(BIN)/python -m oilimpact.snapshot $(SHARED) --as-of 2026-01-09 --out reports/real

## The test suite (what CI runs).
test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check oilimpact tests benchmarks

notebooks: install
	$(BIN)/python notebooks/run.py --out reports/notebooks

## The notebooks on the real snapshot (a temporary store), HTML in reports/real/notebooks/.
## As of 2026-06-30: by the brief's own date no month after the blockade is published yet.
notebooks-real: install
	$(BIN)/python notebooks/run.py --snapshot $(SHARED) -p AS_OF 2026-06-30 --out reports/real/notebooks

bench: install
	$(BIN)/python benchmarks/bench_event_study.py
	$(BIN)/python benchmarks/bench_brief.py

clean:
	rm -rf $(VENV) .pytest_cache
