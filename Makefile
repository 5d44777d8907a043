# Callflow: `make run` serves the designer and webhooks; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
FRONTEND := designer_ui/frontend
ASSETS_STAMP := designer_ui/static/designer_ui/build/.built
FRONTEND_SOURCES := $(shell find $(FRONTEND)/src $(FRONTEND)/index.html $(FRONTEND)/vite.config.* -type f 2>/dev/null)

.PHONY: setup run test test-fast test-postgres bench lint fmt clean

setup: $(VENV)/.installed $(if $(wildcard $(FRONTEND)/package.json),$(ASSETS_STAMP))

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

$(FRONTEND)/node_modules/.installed: $(FRONTEND)/package.json $(wildcard $(FRONTEND)/package-lock.json)
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(ASSETS_STAMP): $(FRONTEND)/node_modules/.installed $(FRONTEND_SOURCES)
	cd $(FRONTEND) && npm run build --silent
	@mkdir -p $(dir $@) && touch $@

run: setup
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_directory
	$(PY) manage.py load_demo
	@echo "Starting the embedded Celery worker and beat (filesystem broker, no server needed)..."
	@trap 'trap - EXIT INT TERM; kill 0' EXIT INT TERM; \
	  $(PY) -m celery -A callflow worker --pool=solo --loglevel=warning --beat \
	    --schedule=$${CALLFLOW_VAR_DIR:-var}/celerybeat-schedule & \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The whole suite on the embedded default (SQLite), lint and migrations included.
test: setup
	$(PY) -m ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

# Same suite on PostgreSQL (DATABASE_URL defaults to the local server).
test-postgres: setup
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/callflow} \
	  $(PY) -m pytest -m "not browser" $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -x -q -m "not browser and not worker" $(PYTEST_ARGS)

bench: setup
	$(PY) -m benchmarks

lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(PY) -m mypy

fmt: setup
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) var $(FRONTEND)/node_modules designer_ui/static/designer_ui/build
