# Every target bootstraps what it needs: .venv (Python packages) and node_modules
# (solc, OpenZeppelin Contracts, anvil) are created when missing or out of date.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.installed
STAMP_NODE := node_modules/.installed

.PHONY: run test test-national lint bench bench-instructions compile deps clean lock

deps: $(STAMP_PY) $(STAMP_NODE)

$(STAMP_PY): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[server,dev]'
	@touch $@

# Resolve the newest versions pyproject.toml allows, in a scratch environment, and pin them.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install -q --upgrade pip
	.venv-lock/bin/pip install -q -e '.[server,dev]'
	(echo "# Versions the test suite last passed with (make lock rewrites it from a fresh resolve)."; \
	 .venv-lock/bin/pip freeze --exclude-editable) > constraints.txt
	rm -rf .venv-lock

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

compile: deps
	$(PY) -m scripts.compile

# make run PORT=8001 CHAIN_PORT=8546 for other ports; rm -rf var to start afresh
PORT ?= 8000
CHAIN_PORT ?= 8545
run: deps
	$(PY) -m scripts.run --port $(PORT) --chain-port $(CHAIN_PORT) $(RUN_ARGS)

test: deps
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The end-to-end suite again with every service it starts in the national profile (SM2, SM3, SM4)
test-national: deps
	$(PY) -m pytest -n 2 --dist loadgroup --crypto-profile national tests/e2e $(PYTEST_ARGS)

lint: deps
	$(VENV)/bin/ruff check node_adapter credential_service wallet_sdk scripts tests
	$(VENV)/bin/ruff format --check node_adapter credential_service wallet_sdk scripts tests
	$(VENV)/bin/mypy

bench: deps
	$(PY) -m scripts.bench

# Instructions per call of the credential and signature rows (callgrind), this tree against a
# git ref: repeatable where wall-clock rates on a shared machine are not. AGAINST=<ref> (required)
bench-instructions: deps
	$(PY) -m scripts.bench_instructions --against $(AGAINST) --limit 0.05

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache
