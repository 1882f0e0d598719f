# The project's commands. `make demo` and `make test` work on a fresh machine with
# only Python 3.11+ and pip: everything else is installed into .venv by `setup`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck format browser

setup: $(STAMP)

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/bridgehub demo

lint: setup
	$(BIN)/ruff check src tests bench examples conftest.py
	$(BIN)/ruff format --check src tests bench examples conftest.py

typecheck: setup
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format src tests bench examples conftest.py
	$(BIN)/ruff check --fix src tests bench examples conftest.py

# The UI tests drive Debian's Chromium (never a browser downloaded by Playwright).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:
	test -x $(CHROMIUM) || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

test: lint typecheck browser
	BRIDGEHUB_REQUIRE_BROWSER=1 $(BIN)/pytest
