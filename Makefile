# tongban — two commands set everything up: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell scripts/find-python)
VENV := .venv
BIN := $(VENV)/bin
TB := $(BIN)/tongban
PG_URL ?= postgres://postgres@127.0.0.1:5432/tongban
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-sqlite test-postgres lint bench fuzz model clean

$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,bench]'
	touch $(BIN)/activate

# Local secrets, never committed: the Django secret key and a certificate signing key.
var/local.env: | $(BIN)/activate
	mkdir -p var
	umask 077 && { \
	  echo "TONGBAN_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')"; \
	  TONGBAN_DEBUG=1 $(TB) cert keygen 2>/dev/null | grep '^TONGBAN_'; \
	} > var/local.env.tmp && mv var/local.env.tmp var/local.env

install: $(BIN)/activate var/local.env

model: install
	$(TB) routing train --if-missing

# A local demo site: demo accounts on the login page, certificate QR codes pointing here.
run: export TONGBAN_DEMO = 1
run: install model
	$(TB) migrate --no-input
	$(TB) catalog load catalog
	$(TB) demo
	$(TB) collectstatic --no-input -v0
	TONGBAN_PUBLIC_URL=$${TONGBAN_PUBLIC_URL:-http://$(HOST):$(PORT)} \
		$(TB) serve --host $(HOST) --port $(PORT) --with-worker

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(TB) makemigrations --check --dry-run
	$(TB) catalog check catalog

test: lint test-sqlite test-postgres

# Browser tests run in their own pytest process: Playwright keeps threads and a driver
# process alive, and the concurrency tests fork; forking beside those threads can hang.
test-sqlite: install model
	$(BIN)/pytest -p no:cacheprovider -n 2 -m "not browser" $(PYTEST_ARGS)
	$(BIN)/pytest -p no:cacheprovider -m browser $(PYTEST_ARGS)

test-postgres: install model
	TONGBAN_DATABASE_URL=$(PG_URL) $(BIN)/pytest -p no:cacheprovider -n 2 -m "not browser" $(PYTEST_ARGS)
	TONGBAN_DATABASE_URL=$(PG_URL) $(BIN)/pytest -p no:cacheprovider -m browser $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/engine.py --quick

# The API fuzzed against its OpenAPI schema with 10× the suite's examples, plus the
# YAML loader, Excel reader and field fuzzers (the suite runs a bounded form of all).
fuzz: install model
	TONGBAN_FUZZ_EXAMPLES=400 $(BIN)/pytest -p no:cacheprovider -q tests/fuzz

clean:
	rm -rf $(VENV) var
