# Development tasks for django-longcallbacks. `make` lists the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
# Updated after each successful install, so `make venv` reinstalls only when a file
# that lists dependencies is newer than the last install.
INSTALL_STAMP := $(VENV)/.install-stamp

# Interpreter that creates the virtual environment. The recipe rejects versions below 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
# Extra pytest arguments, for example: make test PYTEST_ARGS="-k notify -x"
PYTEST_ARGS ?=
# Address and port of `make demo`, for example: make demo DEMO_PORT=8001
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
# PostgreSQL database for `make test-postgres` when DATABASE_URL is not set.
POSTGRES_TEST_URL := postgres://postgres@127.0.0.1:5432/test

.PHONY: help venv demo test test-postgres test-soak docs clean test-package lint

help:
	@echo "Targets:"
	@echo "  venv           create $(VENV) and install requirements.txt and this package (editable)"
	@echo "  demo           migrate and run the demo at http://$(DEMO_HOST):$(DEMO_PORT)/ (Redis if it responds, else embedded)"
	@echo "  test           run the test suite on SQLite, starting a local Redis if it is down"
	@echo "  test-postgres  run the integration tests on PostgreSQL (DATABASE_URL, default $(POSTGRES_TEST_URL))"
	@echo "  test-soak      run the soak tests (marked soak) on PostgreSQL; they print their counts"
	@echo "  test-package   build the wheel and use it from a fresh virtual environment"
	@echo "  lint           ruff and strict mypy over longcallbacks/"
	@echo "  docs           build the HTML docs into docs/_build/html; any Sphinx warning fails the build"
	@echo "  clean          remove build, test and cache output (keeps $(VENV))"
	@echo "Variables: PYTEST_ARGS (extra pytest arguments), PYTHON (interpreter for venv),"
	@echo "           DEMO_HOST, DEMO_PORT (where the demo listens)"

venv: $(INSTALL_STAMP)

$(VENV_PYTHON):
	@if [ -z "$(PYTHON)" ]; then \
		echo "make venv: no python3.11 or python3 on PATH. Install Python 3.11 or set PYTHON=/path/to/python3.11." >&2; \
		exit 1; \
	fi
	@if ! "$(PYTHON)" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
		echo "make venv: $(PYTHON) is not Python 3.11 or newer. Set PYTHON=/path/to/python3.11." >&2; \
		exit 1; \
	fi
	"$(PYTHON)" -m venv $(VENV)

$(INSTALL_STAMP): requirements.txt setup.cfg pyproject.toml | $(VENV_PYTHON)
	$(VENV_PYTHON) -m pip install -r requirements.txt -e .
	@touch $@

# The demo picks its mode itself: distributed when Redis responds at REDIS_URL, else
# embedded. Ctrl-C stops every process it started.
demo: venv
	$(VENV_PYTHON) -m demo_project.run --host "$(DEMO_HOST)" --port "$(DEMO_PORT)"

# Outside CI a missing Redis is not an error here, because the test suite skips the
# tests that need it. Under CI=true, services.sh fails and so does this target.
# Pytest's exit status 5 (no tests collected) fails the target like any other error.
test: venv
	@bash scripts/services.sh redis || [ "$${CI:-}" != true ]
	$(VENV_PYTHON) -m pytest $(PYTEST_ARGS)

# A -m option in PYTEST_ARGS replaces "-m integration", because pytest keeps the last one.
test-postgres: venv
	@bash scripts/services.sh redis || [ "$${CI:-}" != true ]
	@DATABASE_URL="$${DATABASE_URL:-$(POSTGRES_TEST_URL)}" bash scripts/services.sh postgres
	DATABASE_URL="$${DATABASE_URL:-$(POSTGRES_TEST_URL)}" $(VENV_PYTHON) -m pytest -m "integration and not soak" $(PYTEST_ARGS)

# Soak tests (marked soak, left out of the other targets) run on PostgreSQL, which inserts
# and deletes the million-row cases several times faster than SQLite.
test-soak: venv
	@bash scripts/services.sh redis || [ "$${CI:-}" != true ]
	@DATABASE_URL="$${DATABASE_URL:-$(POSTGRES_TEST_URL)}" bash scripts/services.sh postgres
	DATABASE_URL="$${DATABASE_URL:-$(POSTGRES_TEST_URL)}" $(VENV_PYTHON) -m pytest -m soak -s $(PYTEST_ARGS)

# -W turns warnings into errors; --keep-going reports all of them before failing.
test-package: venv
	$(VENV_PYTHON) -m pytest -m packaging $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check longcallbacks
	$(VENV)/bin/ruff format --check longcallbacks
	$(VENV)/bin/mypy

docs: venv
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf build dist *.egg-info .pytest_cache htmlcov test-output .coverage .coverage.* docs/_build
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
