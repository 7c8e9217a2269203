# The two commands of the README: `make up` and `make test`. Both build the
# virtual environment on first use, and again whenever a requirements file changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt requirements-dev.txt $(wildcard functions/*/requirements.txt)

.PHONY: up test lint bench policy

$(STAMP): $(REQUIREMENTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/python -m emulator up --stack $(or $(STACK),dev)

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

policy: $(STAMP)
	$(BIN)/python -m policies check __main__.py --stack dev
	$(BIN)/python -m policies check __main__.py --stack prod
