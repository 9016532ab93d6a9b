# The two commands: `make run` (demo on SQLite) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: run test e2e-deps install install-dev assets migrate demo lint format check lock worker beat serve bench-data bench

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) install -q -r requirements.txt -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

install: $(VENV)/.runtime node_modules/.installed
install-dev: $(VENV)/.dev node_modules/.installed

migrate: install
	$(PY) manage.py migrate --noinput -v 0

demo: migrate
	$(PY) manage.py demo_data

run: demo
	@echo ""
	@echo "  CRM ready at http://$(HOST):$(PORT)/"
	@echo "  Demo logins (password for all: Demo@2026):"
	@echo "    admin           system administrator (everything)"
	@echo "    ceo             executive, sees the whole company"
	@echo "    manager         sales manager, 华东销售有限公司 and below"
	@echo "    rep             sales rep, own records only"
	@echo "    product         product manager (catalogue, price lists, cost)"
	@echo "    channel         channel manager, own partners only"
	@echo "    channel_director channel director, every partner, scores and promotions"
	@echo "    dealer          partner portal (/portal/): administrator of a demo dealer"
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

# The end-to-end tests drive Debian's Chromium; install it when missing (root only).
e2e-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); \
	  else echo "The end-to-end tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; fi

test: install-dev e2e-deps
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: install-dev
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=check-only-$$(date +%s)-a-long-random-production-secret-key-value \
		ALLOWED_HOSTS=crm.example.com $(PY) manage.py check --deploy --fail-level WARNING

lock: $(VENV)/.dev
	$(VENV)/bin/pip install -q pip-tools  # the lock tool only, not pinned into the product
	$(VENV)/bin/pip-compile -q --strip-extras --no-emit-index-url -o requirements.txt requirements.in
	$(VENV)/bin/pip-compile -q --strip-extras --no-emit-index-url -o requirements-dev.txt requirements-dev.in

worker: install
	$(VENV)/bin/celery -A config worker -l info

beat: install
	$(VENV)/bin/celery -A config beat -l info

serve: install
	$(PY) manage.py collectstatic --noinput -v 0
	DJANGO_SETTINGS_MODULE=config.settings.production $(VENV)/bin/gunicorn config.wsgi -w 2 -b $(HOST):$(PORT)

# X6 benchmark (PostgreSQL; BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/crm_bench).
SCALE ?= 1000000
bench-data: install-dev
	$(PY) -m bench.generate --scale $(SCALE)

bench: install-dev
	$(PY) -m bench.run $(BENCH_ARGS)
