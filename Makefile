# Two commands for a fresh Debian/Ubuntu machine with Python 3.11+:
#   make run    set up and run the platform with simulated devices (http://127.0.0.1:8000)
#   make test   set up and run every test against real services (what CI runs)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Exact versions with hashes (requirements/*.lock, made by `make lock`): the test lock has the extras `test`
# and `embedded` (amqtt, the development broker of `make run`); the production image uses production.lock.
TEST_LOCK := requirements/test.lock
UV_VERSION := 0.13.9
LOCK_TOOLS := /tmp/aftercare-lock-tools

.PHONY: run test setup services lint unit integration bench clean lock

$(STAMP): pyproject.toml $(TEST_LOCK)
	@# Debian ships venv's pip bootstrap separately (python3-venv)
	@$(PY) -c 'import ensurepip' 2>/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolve the lock files after a change of pyproject.toml's dependencies (versions already pinned are kept;
# add --upgrade-package NAME to move one). uv runs from a throwaway venv, never from .venv.
lock:
	$(PY) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)
	$(LOCK_TOOLS)/bin/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements/production.lock --quiet
	$(LOCK_TOOLS)/bin/uv pip compile pyproject.toml --extra test --extra embedded --python-version 3.11 --generate-hashes -o requirements/test.lock --quiet

setup: $(STAMP)

run: setup
	$(BIN)/aftercare up --simulate

services:
	bash .ci/services

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup services lint
	$(BIN)/python -m pytest -q --durations=15

unit: setup
	$(BIN)/python -m pytest -q -m "not integration and not reliability and not browser"

bench: setup
	$(BIN)/aftercare bench --quick

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
