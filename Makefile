# Đồng Hành — the two commands: `make run` (app on SQLite with demo data) and `make test`.
# Every target installs what it needs, idempotently, into this folder (.venv, .tools).

SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
PORT ?= 3000
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test setup setup-test test-pg bench clean .chromium-check

run: setup
	$(BIN)/python -m app.cli migrate
	$(BIN)/python -m app.cli seed-demo
	$(BIN)/python -m app.cli banner --port $(PORT)
	$(BIN)/reflex run --env prod --single-port --backend-port $(PORT) --loglevel warning

test: setup-test
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(TOOLS)/node_modules/.bin/node --import ./tests/device/resolve.mjs --test tests/device/*.test.mjs
	$(BIN)/pytest -m "not pg and not e2e" -n 2
	$(BIN)/pytest tests/e2e --reruns 1 -rR

# The PostgreSQL + Redis lane (needs both services on 127.0.0.1): see .ci/run.
test-pg: setup-test
	$(BIN)/pytest -m pg

bench: setup-test
	$(BIN)/python -m bench.run

setup: $(VENV)/.deps $(TOOLS)/.stamp $(TOOLS)/device/.stamp

setup-test: setup $(VENV)/.dev-deps .chromium-check

$(VENV)/.deps: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet .
	@touch $@

$(VENV)/.dev-deps: pyproject.toml $(VENV)/.deps
	$(BIN)/python -m pip install --quiet ".[dev]"
	@touch $@

# bun and Node 22 from the npm registry: Reflex's own downloader needs the open internet.
$(TOOLS)/.stamp:
	mkdir -p $(TOOLS)
	npm install --prefix $(TOOLS) --no-audit --no-fund --loglevel=error bun@1.4.4 node@22 axe-core@4.14.1 lighthouse@13.5.0
	$(TOOLS)/node_modules/.bin/bun --version
	$(TOOLS)/node_modules/.bin/node --version
	@touch $@

# The device code's libraries (idb, Workbox; fake-indexeddb for its tests), pinned by
# assets/device/package-lock.json; bundled by bun at every Reflex compile (app/device_build.py).
$(TOOLS)/device/.stamp: assets/device/package.json assets/device/package-lock.json
	mkdir -p $(TOOLS)/device
	cp assets/device/package.json assets/device/package-lock.json $(TOOLS)/device/
	npm install --prefix $(TOOLS)/device --include=dev --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's Chromium for the browser tests (never a downloaded browser build).
.chromium-check:
	@command -v chromium >/dev/null || { \
	  echo "Installing Chromium from Debian packages…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium ffmpeg >/dev/null; }

clean:
	rm -rf .web .web-* .states data test-artifacts
