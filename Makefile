# Callflow: `make run` serves the designer and webhooks; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
FRONTEND := designer_ui/frontend
ASSETS_STAMP := designer_ui/static/designer_ui/build/.built
FRONTEND_SOURCES := $(shell find $(FRONTEND)/src $(FRONTEND)/index.html $(FRONTEND)/vite.config.* -type f 2>/dev/null)

.PHONY: setup run serve test test-fast test-postgres bench lint fmt clean

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

# Development values for the secrets a production start requires (kept in var/dev.env, made
# once per checkout); an environment that sets them wins. No Twilio account: nothing is sent.
DEV_ENV := $${CALLFLOW_VAR_DIR:-var}/dev.env
run: setup
	@mkdir -p $${CALLFLOW_VAR_DIR:-var}; test -s $(DEV_ENV) || $(PY) -c 'import secrets; \
	  print("DEV_SECRET_KEY=" + secrets.token_urlsafe(50)); \
	  print("DEV_TWILIO_AUTH_TOKEN=" + secrets.token_hex(16))' > $(DEV_ENV)
	@set -a; . $(DEV_ENV); set +a; \
	  export SECRET_KEY=$${SECRET_KEY:-$$DEV_SECRET_KEY} TWILIO_AUTH_TOKEN=$${TWILIO_AUTH_TOKEN:-$$DEV_TWILIO_AUTH_TOKEN}; \
	  $(PY) manage.py migrate --no-input && \
	  $(PY) manage.py load_directory && \
	  $(PY) manage.py load_demo --demo-users && \
	  $(MAKE) --no-print-directory serve
# The web server and the embedded worker and beat (needs SECRET_KEY and TWILIO_AUTH_TOKEN),
# each under a supervisor that starts it again if it exits (docs/operations.md), and the
# demo orders service the order-status flow looks orders up in: flows may reach its
# address, and only here (production allows no loopback address unless told to).
SUPERVISE := $(PY) -m callflow.supervise
DEMO_ORDERS_PORT ?= 8010
serve:
	@echo "Starting the embedded Celery worker and beat (filesystem broker, no server needed)"
	@echo "and the demo orders service on http://127.0.0.1:$(DEMO_ORDERS_PORT)..."
	@trap 'trap - EXIT INT TERM; kill 0' EXIT INT TERM; \
	  export HTTP_NODE_ALLOWED_NETWORKS=$${HTTP_NODE_ALLOWED_NETWORKS:+$$HTTP_NODE_ALLOWED_NETWORKS,}127.0.0.1/32; \
	  $(SUPERVISE) demo-orders -- $(PY) -m callflow.demo_orders --port $(DEMO_ORDERS_PORT) & \
	  $(SUPERVISE) worker -- $(PY) -m celery -A callflow worker --pool=solo --loglevel=warning \
	    --without-gossip --without-mingle --without-heartbeat & \
	  $(SUPERVISE) beat -- $(PY) -m celery -A callflow beat --loglevel=warning \
	    --schedule=$${CALLFLOW_VAR_DIR:-var}/celerybeat-schedule & \
	  $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The whole suite on the embedded default (SQLite), lint and migrations included.
test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	cd $(FRONTEND) && npm test --silent
	$(PY) -m pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

# Same suite on PostgreSQL (DATABASE_URL defaults to the local server).
test-postgres: setup
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/callflow} \
	  $(PY) -m pytest -m "not browser" $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -x -q -m "not browser and not worker and not faults" $(PYTEST_ARGS)

bench: setup
	$(PY) -m benchmarks

lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(PY) -m mypy

fmt: setup
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) var $(FRONTEND)/node_modules designer_ui/static/designer_ui/build
