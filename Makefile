# DoorPass: `make run` sets up and serves; `make test` runs every test.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip
STAMP := .venv/.installed
PWA_STAMP := pwa/node_modules/.installed

.PHONY: run install pwa init seed serve test test-fast bench clean

run: install pwa init seed serve

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(PWA_STAMP): pwa/package.json
	if [ -f pwa/package.json ]; then cd pwa && npm ci --no-audit --no-fund; fi
	mkdir -p pwa/node_modules && touch $(PWA_STAMP)

pwa: $(PWA_STAMP)
	@if [ -f pwa/package.json ]; then cd pwa && npm run build; else echo "no pwa/ app to build"; fi

init: install
	$(PY) -m server init

seed: init
	$(PY) -m server seed-demo

serve: install
	@echo "DoorPass on http://127.0.0.1:8000  (admin token: var/admin.token)"
	$(PY) -m server serve

test: install pwa
	$(PY) -m pytest -q -p no:cacheprovider

bench: install pwa
	$(PY) -m bench

clean:
	rm -rf .venv var pwa/node_modules pwa/dist pwa/tools/dist
