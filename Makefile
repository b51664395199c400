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

.PHONY: venv demo test test-all lint bench docs docs-check docs-serve docs-gallery clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check '$(TORCH_SPEC)'
	$(PIP) install -q --disable-pip-version-check -e '.[dev,docs,dask,encoders]'
	@# Chromium and chromedriver for the browser tests of the report, where we may (root
	@# with apt-get); elsewhere those tests are skipped with a reason (README.md)
	@if ! command -v chromedriver >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	    && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -q && apt-get install -y -q chromium chromium-driver \
	    || echo "could not install chromium; the browser tests will be skipped"; fi
	@touch $(STAMP)

## Main job on built-in data: train a small encoder zoo on synthetic-vmf-biased (whose
## image model is poorer in four named regions), export predictions, score geo-bias with
## pygbs, write the comparison table and the report (docs/training.md, "The demo").
demo: $(STAMP)
	$(VENV)/bin/encoders zoo --dataset synthetic-vmf-biased --preset demo --out $(OUT)/demo

## The test suite CI runs: lint, then every test not marked slow (these include the strict
## build of the documentation site and the examples of the docs, tests/test_docs_*.py).
test: $(STAMP)
	$(VENV)/bin/ruff check pygbs encoders tests benchmarks docs
	$(VENV)/bin/pytest -q

test-all: $(STAMP)
	$(VENV)/bin/pytest -q -m ''

lint: $(STAMP)
	$(VENV)/bin/ruff check pygbs encoders tests benchmarks docs
	$(VENV)/bin/ruff format --check pygbs encoders tests benchmarks docs/_hooks docs/make_gallery.py

bench: $(STAMP)
	$(PY) benchmarks/gbs_speed.py
	$(PY) benchmarks/encoders_speed.py

## The documentation site, built in strict mode (a broken link, a missing reference or a
## docstring warning fails) into site/; open site/index.html (works from file://).
## It includes the gallery of maps drawn from the shipped example data, generated into
## $(OUT)/gallery first when missing or older than its script or data (about 1-2 minutes),
## and the tutorials (docs/tutorials/), executed during the build (2-3 minutes).
GALLERY := $(OUT)/gallery/gallery.json
docs: $(STAMP) $(GALLERY)
	GEOBIAS_EXECUTE_TUTORIALS=true GEOBIAS_GALLERY=$(abspath $(OUT))/gallery NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

## The documentation checks alone (part of `make test`): the strict build, offline use,
## the generated references, and every example marked `<!-- example -->` in docs/ run.
docs-check: $(STAMP)
	$(VENV)/bin/pytest -q tests/test_docs_site.py tests/test_docs_examples.py

## The site on http://127.0.0.1:8000, rebuilt on every change.
docs-serve: $(STAMP)
	GEOBIAS_GALLERY=$(abspath $(OUT))/gallery NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --strict

$(GALLERY): docs/make_gallery.py $(wildcard pygbs/datasets/torchspatial/*.csv.gz) | $(STAMP)
	MPLBACKEND=Agg $(PY) docs/make_gallery.py --out $(OUT)/gallery

## The maps and the report of the gallery (docs/gallery.md) from the shipped example data,
## regenerated into $(OUT)/gallery; SHARED=DIR adds those of the full published files.
docs-gallery: $(STAMP)
	MPLBACKEND=Agg $(PY) docs/make_gallery.py --out $(OUT)/gallery $(if $(SHARED),--shared $(SHARED))

clean:
	rm -rf $(OUT) site .numba_cache .pytest_cache
