# PatentSearch: `make demo` runs everything on this machine; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench models ablation lint clean-var help

help:
	@echo "make demo   - create .venv, start PostgreSQL+pgvector, Redis, Celery workers, load a sample corpus, serve on :8000 (PORT=...)"
	@echo "make test   - make lint, then run the whole test suite (real PostgreSQL, Redis, Celery workers, Chromium)"
	@echo "make lint   - ruff on the whole tree, mypy --strict on retrieval/ml (settings in pyproject.toml)"
	@echo "make bench  - print speed and memory figures"
	@echo "make models - rebuild the missing shipped models: classical, default, baseline (needs DATA, the dev corpus)"
	@echo "make ablation - train and evaluate the earlier from-scratch rows of docs/evaluation.md (needs DATA)"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m patentsearch.demo

test: $(STAMP) lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) -m benchmarks $(BENCH_ARGS)

DATA ?= ../shared/data/design-patents-dev

models: $(STAMP)
	$(PY) -m retrieval.ml.recipes models --data $(DATA)

ablation: $(STAMP)
	$(PY) -m retrieval.ml.recipes ablation --data $(DATA)
	$(PY) -m retrieval.ml.recipes table

clean-var:
	rm -rf var/test
