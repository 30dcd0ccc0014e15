# Baogong: the first commands of the README.
#   make run    virtualenv, install, migrate, demo data, serve on http://127.0.0.1:8000 (SQLite, eager Celery)
#   make test   the whole test suite (PYTEST_ARGS='-k order -x' passes options through)
#   make messages  extract and compile translations

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.11 is what the project supports; fall back to whatever python3 is.
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
# Lives inside the virtualenv, so deleting .venv also forgets the install.
STAMP := $(VENV)/.install.stamp
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help venv install run test check lock messages clean

help:
	@echo "make run       install, migrate, seed the demo city and serve on http://$(HOST):$(PORT)"
	@echo "make test      run the test suite (PYTEST_ARGS='...' for pytest options)"
	@echo "make messages  extract and compile translations (zh_Hans, en)"
	@echo "make check     ruff (lint, format), import-linter and mypy, as CI runs them"
	@echo "make lock      pin every dependency again from pyproject.toml (requirements*.lock)"
	@echo "make install   create $(VENV) and install the pinned dependencies and the project"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs exactly the pinned versions (requirements-test.lock, made by `make lock` from
# pyproject.toml's ranges), then the project itself; again only when either file changes.
$(STAMP): pyproject.toml requirements-test.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements-test.lock
	$(BIN)/python -m pip install --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@printf '\n  The demo: http://%s:%s/  sign in as resident / demo12345 (worker, operator, taskforce, volunteer, …: the same password)\n\n' "$(HOST)" "$(PORT)"
	# the demo has no phones: one-time codes are shown on the page (console SMS backend only);
	# no Celery beat either: run_schedule runs the timed jobs beside the web server, and stops with it
	# label QR codes point at this server (SITE_URL, unless set already)
	export SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)}; \
	$(BIN)/python manage.py run_schedule & schedule=$$!; trap 'kill $$schedule 2>/dev/null' EXIT INT TERM; \
	SHOW_SMS_CODES=$${SHOW_SMS_CODES:-true} $(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile -

# pytest's exit code 5 means "no tests collected": a failure, never a quiet success.
test: $(STAMP)
	@status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit code 5)" >&2; fi; \
	exit $$status

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --extra test --strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements-test.lock pyproject.toml

messages: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings $(BIN)/django-admin makemessages -l zh_Hans -l en --no-location \
		--ignore=.venv --ignore=staticfiles --ignore=media --ignore=node_modules
	DJANGO_SETTINGS_MODULE=config.settings $(BIN)/django-admin compilemessages \
		--ignore=.venv --ignore=staticfiles --ignore=media --ignore=node_modules

clean:
	rm -rf staticfiles .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
