# The two commands of the README: `make up` and `make test`. Both build the
# virtual environment on first use, and again whenever a requirements file changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt requirements-dev.txt pyproject.toml setup.py $(wildcard functions/*/requirements.txt)
# The page (web/): npm ci when the lock file changes, a build when a source does.
WEB_DEPS := web/node_modules/.package-lock.json
WEB_DIST := web/dist/index.html
# Templates bring their page modules, and the page bundles the contract.
WEB_SOURCES := web/build.mjs $(shell find web/src workflow_templates/page -type f) functions/common/contract.json

.PHONY: up test lint bench policy web

$(STAMP): $(REQUIREMENTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	# The repository imports itself as a consumer does, `approvals`, through an editable install.
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

$(WEB_DIST): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run build

web: $(WEB_DIST)

# The benchmarks' baseline, PyPI's workflows-emulator, installed once beside the venv as set-up,
# before the suite runs (tests/benchmarks runs every benchmark) rather than inside a test.
BASELINE := .bench/workflows-emulator
$(BASELINE): | $(STAMP)
	$(BIN)/python -c "from benchmarks.engine import install_baseline; install_baseline()"

up: $(STAMP) web
	$(BIN)/python -m emulator up --stack $(or $(STACK),dev)

lint: $(STAMP)
	$(BIN)/ruff check .

# Two workers: much of the suite waits on emulators, browsers and subprocesses, so two
# cores run it in about three quarters of the time (each worker starts its own emulators).
test: lint web $(BASELINE)
	$(BIN)/python -m pytest --numprocesses 2 --dist loadscope

bench: $(STAMP) web $(BASELINE)
	$(BIN)/python -m benchmarks $(if $(QUICK),--quick)

policy: $(STAMP) web
	$(BIN)/python -m policies check __main__.py --stack dev
	$(BIN)/python -m policies check __main__.py --stack prod
