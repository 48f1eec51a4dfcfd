# The few commands people type. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format

$(VENV)/.runtime: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime  ## the game in one process on SQLite (instance/martingale.db): one gunicorn worker, engine inside
	$(BIN)/flask --app martingale db upgrade
	HOST=$${HOST:-127.0.0.1} WEB_CONCURRENCY=1 PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/gunicorn --config gunicorn.conf.py "martingale:create_app()"

test: $(VENV)/.dev  ## the whole suite: SQLite always, PostgreSQL too when reachable
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev  ## ruff (lint and format check) and mypy (types) on martingale/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.dev  ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
