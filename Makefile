# Two commands for a fresh Debian/Ubuntu machine with Python 3.11+:
#   make run    set up and run the platform with simulated devices (http://127.0.0.1:8000)
#   make test   set up and run every test against real services (what CI runs)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test setup services lint unit integration bench clean

$(STAMP): pyproject.toml
	@# Debian ships venv's pip bootstrap separately (python3-venv)
	@$(PY) -c 'import ensurepip' 2>/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

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
