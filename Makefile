# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The PostgreSQL the second test pass runs against (trust auth on the development machines).
GVRS_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
export GVRS_TEST_POSTGRES_URL

CHROMIUM := /usr/bin/chromium

.PHONY: install demo test test-sqlite test-postgres lint bench clean browser messages cluster-test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# axe-core, which the browser tests inject into each page to check it against WCAG 2.1 AA
# (tests/a11y.py), from the npm registry at the version package-lock.json pins; never served
# to users. Without npm the accessibility checks are skipped.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --silent && touch $(AXE); \
	else echo "npm not found: the accessibility checks (axe-core) will be skipped"; fi

install: $(STAMP) $(AXE)

# The browser tests drive Debian's Chromium (never a browser downloaded by a test tool).
browser: $(AXE)
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  elif command -v sudo >/dev/null; then sudo -n apt-get update -qq && sudo -n apt-get install -y -qq chromium; \
	  fi; } || echo "Could not install chromium: the browser tests will be skipped"

# The Spanish catalogue of the public pages (docs/public.md): gather the English messages
# into gvrs/locale/es/LC_MESSAGES/django.po, then compile the .mo that is committed beside it
# (so `make install` needs no gettext tools). Needs GNU gettext (apt-get install gettext).
messages: install
	cd gvrs && DJANGO_SETTINGS_MODULE=gvrs.settings ../$(BIN)/python -m django makemessages \
		-l es --no-location --no-wrap
	cd gvrs && DJANGO_SETTINGS_MODULE=gvrs.settings ../$(BIN)/python -m django compilemessages -l es

demo: install
	$(BIN)/gvrs demo

lint: install
	$(BIN)/ruff check gvrs tests bench
	$(BIN)/ruff format --check gvrs tests bench

# The suite runs twice: everything on SQLite, and every database test on PostgreSQL. The two
# passes run side by side (a pytest keeps one core busy, and the machines have two), each with
# a GVRS_HOME of its own; each pass's output is printed whole when it ends.
test: lint browser
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: install
	GVRS_HOME=$(CURDIR)/.test-home $(BIN)/python -m pytest

test-postgres: install
	GVRS_HOME=$(CURDIR)/.test-home-pg GVRS_DATABASE_URL=$(GVRS_TEST_POSTGRES_URL) \
		$(BIN)/python -m pytest -m django_db

bench: install
	$(BIN)/python bench/import_bench.py
	$(BIN)/python bench/stats_bench.py
	$(BIN)/python bench/simulate_bench.py
	$(BIN)/python bench/risk_bench.py
	$(BIN)/python bench/web_bench.py
	$(BIN)/python bench/public_bench.py
	$(BIN)/python bench/first_visit_bench.py
	$(BIN)/python bench/outcome_bench.py
	$(BIN)/python bench/evaluation_bench.py
	$(BIN)/python bench/alerts_bench.py
	$(BIN)/python bench/contagion_coverage.py
	$(BIN)/python bench/report_bench.py

clean:
	rm -rf $(VENV) .test-home .test-home-pg .pytest_cache .ruff_cache

# Two app servers behind nginx, two workers, PostgreSQL, under load and faults (issue 29;
# bench/cluster_test.py, docs/deploy.md). Not part of `make test`: it takes many minutes.
cluster-test: install
	@command -v nginx >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx-light; \
	  elif command -v sudo >/dev/null; then sudo -n apt-get update -qq && sudo -n apt-get install -y -qq nginx-light; \
	  fi; } || echo "Could not install nginx: the cluster test needs it"
	$(BIN)/python bench/cluster_test.py
