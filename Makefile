# PatentSearch: `make demo` runs everything on this machine; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint clean-var help

help:
	@echo "make demo   - create .venv, start PostgreSQL+pgvector, Redis, Celery workers, load a sample corpus, serve on :8000"
	@echo "make test   - run the whole test suite (real PostgreSQL, Redis, Celery workers, Chromium)"
	@echo "make bench  - print speed and memory figures"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m patentsearch.demo

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks

clean-var:
	rm -rf var/test
