# The project's commands. `make demo` and `make test` work on a fresh machine with
# only Python 3.11+ and pip: everything else is installed into .venv by `setup`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup lock check-lock demo test lint typecheck format browser postgres

# Installs are reproducible: uv.lock pins every package the project, its dev tools and the
# example bridges use (versions and hashes), so that a new release of a dependency cannot
# break a fresh `make test`. With only python3 and pip to start from, pip puts uv into .venv
# at the version uv.lock names; uv then makes .venv hold exactly what the lock says, with the
# project installed editable (it also removes what the lock does not name).
# After changing dependencies in pyproject.toml, run `make lock` and commit uv.lock.
#
# Modules are compiled to bytecode as they are installed, as pip does: uv leaves it to the
# first import otherwise, and where PYTHONDONTWRITEBYTECODE is set every process compiles
# every module it imports again (up to a fifth more CPU per action in bench/actions.py).
#
# uv never downloads a Python (.venv's, made by python3, is the one), and it trusts the
# system's certificates, not only the ones it bundles: some networks re-sign TLS.
UV_VERSION = $(shell $(PYTHON) -c 'import tomllib; print(next(p["version"] for p in \
	tomllib.load(open("uv.lock", "rb"))["package"] if p["name"] == "uv"))')
UV = UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never UV_SYSTEM_CERTS=1 $(BIN)/uv
UV_PYTHON := --python $(BIN)/python

setup: $(STAMP)

# Reinstall only when the project's dependencies change.
$(STAMP): pyproject.toml uv.lock | $(BIN)/uv
	$(CHECK_LOCK)
	$(UV) sync --frozen --all-extras --compile-bytecode $(UV_PYTHON)
	touch $@

# Only to start: once .venv has it, uv is kept at uv.lock's version by `uv sync`.
$(BIN)/uv:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'uv==$(UV_VERSION)'

# Resolve again after a change to pyproject.toml (versions already locked are kept where they
# still fit; `make lock LOCK_ARGS=--upgrade` moves everything to the newest releases).
lock: | $(BIN)/uv
	$(UV) lock $(UV_PYTHON) $(LOCK_ARGS)

CHECK_LOCK = @$(UV) lock --check --offline --quiet $(UV_PYTHON) || { \
	echo 'uv.lock does not match pyproject.toml: run `make lock` and commit uv.lock' >&2; \
	exit 1; }

check-lock: | $(BIN)/uv
	$(CHECK_LOCK)

demo: setup
	$(BIN)/bridgehub demo

lint: setup check-lock
	$(BIN)/ruff check src tests bench examples conftest.py
	$(BIN)/ruff format --check src tests bench examples conftest.py
	$(BIN)/lint-imports

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

# The UI tests inject axe-core, from npm, into every page they scan (npm comes with the
# machine's Node.js; the lock file pins the version and its checksum).
AXE := tests/web/node_modules/axe-core/axe.min.js

$(AXE): tests/web/package.json tests/web/package-lock.json
	npm ci --prefix tests/web --ignore-scripts --no-audit --no-fund
	touch $@

# Tests of the production shape run a standalone server from Debian's postgresql package
# beside the embedded one (they start and stop their own clusters; none is left running).
postgres:
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql; }

# Each test process starts its own embedded PostgreSQL, standalone server and Chromium when
# its tests need them: two halve the suite's time on a 2-core machine (docs/development.md).
TEST_PROCESSES ?= 2

test: lint typecheck browser postgres $(AXE)
	BRIDGEHUB_REQUIRE_BROWSER=1 BRIDGEHUB_REQUIRE_POSTGRES=1 $(BIN)/pytest -n $(TEST_PROCESSES)
