# Two commands do everything: `make run` (the whole app on the embedded default, with
# demo data, in demo mode) and `make test` (every test, on PostgreSQL and memcached).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MEMCACHED ?= 127.0.0.1:11211
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run test deps test-deps lint format bench screenshots catalogs clean

$(BIN)/python:
	scripts/install-system-packages python3 gcc:build-essential:gcc krb5-config:libkrb5-dev:krb5-devel
	$(PYTHON) -m venv $(VENV) || { scripts/install-system-packages virtualenv:python3-venv:python3-virtualenv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.deps: requirements.txt setup.py | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt -e .
	touch $@

$(VENV)/.test-deps: test-requirements.txt $(VENV)/.deps
	$(BIN)/pip install -q -r test-requirements.txt
	touch $@

deps: $(VENV)/.deps
test-deps: $(VENV)/.test-deps

# The demo: the external widgets read recorded answers (hubs/demo/services/), offline.
run: export HUBS_DEMO_MODE = 1
run: deps
	$(BIN)/python populate.py
	@echo "==> Fedora Hubs on http://localhost:5000/ (Ctrl-C stops it)"
	$(BIN)/fedora-hubs run

test: test-deps
	scripts/install-system-packages memcached chromium node:nodejs npm systemd-analyze:systemd rabbitmq-server rabbitmqctl:rabbitmq-server
	scripts/start-memcached $(MEMCACHED)
	scripts/start-rabbitmq
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd hubs/static/client && npm test
	HUBS_TEST_MEMCACHED=$(MEMCACHED) $(BIN)/python -m pytest

# The README's pictures (docs/screenshots/): the demo hubs in demo mode, in Chromium, by the
# browser tests' harness (PostgreSQL and memcached, as for `make test`).
screenshots: test-deps
	scripts/install-system-packages memcached chromium
	scripts/start-memcached $(MEMCACHED)
	HUBS_TEST_MEMCACHED=$(MEMCACHED) $(BIN)/python -m pytest -q -p no:cacheprovider tests/browser/screenshots.py

# Translations: extract every marked string into messages.pot, bring each language's
# messages.po up to date with it, and compile the .mo files the app reads (committed, so a
# clone runs in every language without this step). A translator edits one .po file.
catalogs: deps
	$(BIN)/pybabel extract -F babel.cfg --project "Fedora Hubs" --copyright-holder "the Fedora Hubs developers" --no-location --sort-output -k _l -k lazy_ngettext:1,2 -o hubs/translations/messages.pot .
	for po in hubs/translations/*/LC_MESSAGES/messages.po; do \
	  $(BIN)/pybabel update -w 100 --no-fuzzy-matching -i hubs/translations/messages.pot -o $$po -l $$(basename $$(dirname $$(dirname $$po))) || exit 1; \
	done
	$(BIN)/pybabel compile -d hubs/translations

lint: test-deps
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: test-deps
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

bench: test-deps
	scripts/install-system-packages memcached chromium wrk
	scripts/start-memcached $(MEMCACHED)
	$(BIN)/python bench/page.py --memcached $(MEMCACHED) --widgets 5 10 20 40
	$(BIN)/python bench/load.py --memcached $(MEMCACHED)
	$(BIN)/python bench/triage.py
	$(BIN)/python bench/feed.py --history 2000 20000 200000
	$(BIN)/python bench/sse.py
	$(BIN)/python bench/e2e.py --memcached $(MEMCACHED)
	scripts/start-rabbitmq
	$(BIN)/python bench/backends.py --memcached $(MEMCACHED)
	$(BIN)/python bench/chaos.py

clean:
	rm -rf var/hubs.db var/widget-cache.dbm*
