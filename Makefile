# DoorPass: `make run` sets up and serves; `make test` runs every test.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.installed
PWA_STAMP := pwa/node_modules/.installed

.PHONY: run install pwa pwa-deps init seed serve test lint bench clean

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

bench: install pwa-deps
	$(PY) -m bench

clean:
	rm -rf .venv var pwa/node_modules pwa/dist pwa/tools/dist
