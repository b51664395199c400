# Set-up and entry points. `make demo` and `make test` create/refresh .venv themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
# CPU build where there is no NVIDIA GPU (a local wheel on our machines), the newest
# CUDA build otherwise. Override with `make TORCH_SPEC='torch==X' ...`.
HAS_GPU := $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo 1)
TORCH_SPEC ?= $(if $(HAS_GPU),torch>=2.13,torch==2.13.0)
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache
OUT ?= out

.PHONY: venv demo test test-all lint bench docs-gallery clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check '$(TORCH_SPEC)'
	$(PIP) install -q --disable-pip-version-check -e '.[dev,dask]'
	@touch $(STAMP)

## Main job on built-in data: train a small encoder zoo on synthetic-vmf, export
## predictions, score geo-bias with pygbs, write the comparison table and the report.
demo: $(STAMP)
	$(VENV)/bin/encoders zoo --dataset synthetic-vmf --preset demo --out $(OUT)/demo

## The test suite CI runs: lint, then every test not marked slow.
test: $(STAMP)
	$(VENV)/bin/ruff check pygbs encoders tests benchmarks
	$(VENV)/bin/pytest -q

test-all: $(STAMP)
	$(VENV)/bin/pytest -q -m ''

lint: $(STAMP)
	$(VENV)/bin/ruff check pygbs encoders tests benchmarks
	$(VENV)/bin/ruff format --check pygbs encoders tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/gbs_speed.py
	$(PY) benchmarks/encoders_speed.py

## Maps and a report from ../shared/data/predictions (docs/gallery.md), into $(OUT)/gallery.
docs-gallery: $(STAMP)
	$(PY) docs/make_gallery.py --out $(OUT)/gallery

clean:
	rm -rf $(OUT) .numba_cache .pytest_cache
