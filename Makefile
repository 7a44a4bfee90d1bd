# Accord: `make run` serves the demo on http://127.0.0.1:5000 (`make run PORT=8000` for
# another port, HOST=0.0.0.0 to listen on every interface); `make test` runs every test.
PYTHON ?= python3
PORT ?= 5000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ACCORD_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run install snippet snippet-check lint typecheck format test test-fast bench clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

snippet/node_modules/.package-lock.json: snippet/package-lock.json
	cd snippet && npm ci --no-audit --no-fund --loglevel=error

snippet: snippet/node_modules/.package-lock.json
	cd snippet && npm run build

snippet-check: snippet/node_modules/.package-lock.json
	cd snippet && npm run check

# the demo shop is on 127.0.0.1: let the console scan it (README, "Scanner")
run: export ACCORD_SCAN_PRIVATE_NETWORKS ?= 1
run: $(STAMP)
	$(BIN)/accord db upgrade
	$(BIN)/accord demo --origin http://127.0.0.1:$(PORT) --origin http://localhost:$(PORT)
	@echo "Accord is at http://127.0.0.1:$(PORT)/demo and http://127.0.0.1:$(PORT)/admin/"
	@echo "Scans run in a worker (accord worker), started beside the server and stopped with it."
	$(BIN)/accord worker & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	  GUNICORN_BIND=$(HOST):$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Tests run on TEST_WORKERS pytest-xdist workers, each file on one worker (pyproject addopts);
# `make test TEST_WORKERS=0` runs them one by one in this process.
TEST_WORKERS ?= 2

test: $(STAMP) snippet-check lint typecheck
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser" -x -q

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) snippet/node_modules test-artifacts .pytest_cache .ruff_cache
