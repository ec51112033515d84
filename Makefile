# DoorPass: `make run` sets up and serves; `make test` runs every test.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.installed
PWA_STAMP := pwa/node_modules/.installed

.PHONY: run install pwa pwa-deps init seed serve test lint bench bench-deps soak run-pg pg-db clean

run: install init pwa seed serve

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

pwa-deps:
	@if [ -f pwa/package.json ]; then \
	  if [ ! -f $(PWA_STAMP) ] || [ pwa/package-lock.json -nt $(PWA_STAMP) ]; then \
	    (cd pwa && npm ci --no-audit --no-fund) && touch $(PWA_STAMP); fi; \
	fi

# The build pins this server's root key (DOORPASS_ROOT_PUB), so it needs `init` first.
pwa: init pwa-deps
	@if [ -f pwa/package.json ]; then \
	  DOORPASS_ROOT_PUB=$$($(PY) -m server root-pub) && export DOORPASS_ROOT_PUB && cd pwa && npm run build; \
	else echo "no pwa/ app to build"; fi

init: install
	$(PY) -m server init

seed: init
	$(PY) -m server seed-demo

serve: install
	$(PY) -m server serve

# ruff (lint) and mypy (types) first: a finding stops the run before the tests.
lint: install
	.venv/bin/ruff check .
	.venv/bin/mypy

test: install pwa-deps lint
	$(PY) -m pytest -q -p no:cacheprovider

# `make bench`: every benchmark, then bench/out/results.json, bench/out/REPORT.md and its PNG plots
# (`$(PY) -m bench.report` redraws them from results.json). The plots need the `bench` extra (matplotlib).
BENCH_STAMP := .venv/.bench-installed
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PIP) install -q -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench-deps: $(BENCH_STAMP)

bench: install pwa-deps bench-deps
	$(PY) -m bench

# `make soak`: two server processes on a scratch PostgreSQL database, phones verifying, enrolling, pushing and
# pulling, a process killed and the database connections dropped; fails if anything is lost or doubled.
# SOAK_SECONDS=600 make soak for a longer one.
soak: install
	$(PY) -m bench.soak --seconds $${SOAK_SECONDS:-180}

# `make run-pg`: two server processes (ports 8000 and 8001) on one local PostgreSQL database, for anyone to try
# several processes. Set DATABASE_URL for another database; the first run creates it, migrates and seeds it.
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/doorpass_run
RUN_PG_VAR ?= var/pg
RUN_PG_PORT ?= 8000
RUN_PG_PORT2 ?= 8001

pg-db: install
	@DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} $(PY) -m server create-db

run-pg: install pg-db pwa-deps
	@set -e; export DATABASE_URL=$${DATABASE_URL:-$(PG_URL)} DOORPASS_VAR=$(RUN_PG_VAR) DOORPASS_PWA_DIST=$(RUN_PG_VAR)/dist; \
	$(PY) -m server init; \
	DOORPASS_ROOT_PUB=$$($(PY) -m server root-pub) && export DOORPASS_ROOT_PUB; \
	(cd pwa && npx vite build --outDir ../$(RUN_PG_VAR)/dist --emptyOutDir --logLevel warn); \
	if [ ! -f $(RUN_PG_VAR)/seed.json ]; then \
	  $(PY) -m server seed-demo --base-url http://127.0.0.1:$(RUN_PG_PORT) > $(RUN_PG_VAR)/seed.json.tmp && mv $(RUN_PG_VAR)/seed.json.tmp $(RUN_PG_VAR)/seed.json; fi; \
	echo "demo codes and staff passwords: $(RUN_PG_VAR)/seed.json (python -m server seed-demo prints fresh ones)"; \
	$(PY) -m server serve --port $(RUN_PG_PORT2) & second=$$!; trap "kill $$second 2>/dev/null" EXIT INT TERM; \
	echo "second process on http://127.0.0.1:$(RUN_PG_PORT2)"; \
	$(PY) -m server serve --port $(RUN_PG_PORT)

clean:
	rm -rf .venv var pwa/node_modules pwa/dist pwa/tools/dist
