# Accord: `make run` serves the demo on http://127.0.0.1:5000; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ACCORD_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run install snippet snippet-check lint format test test-fast bench clean

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

run: $(STAMP)
	$(BIN)/accord db upgrade
	$(BIN)/accord demo --origin http://127.0.0.1:5000 --origin http://localhost:5000
	@echo "Accord is at http://127.0.0.1:5000/demo and http://127.0.0.1:5000/admin/"
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) snippet-check lint
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser" -x -q

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) snippet/node_modules test-artifacts .pytest_cache .ruff_cache
