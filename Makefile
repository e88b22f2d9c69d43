# gpw: two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DB ?= gpw-demo.db

.PHONY: run test fuzz lint typecheck unit bench install clean postgres browser wrk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the project's dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The main job: one process, the dashboard and the worker on a SQLite file, seeded with the
## demo projects and logins on its first start (inbox and log channels; Ctrl-C stops it).
HOST ?= 127.0.0.1
PORT ?= 8000
run: $(STAMP)
	GPW_CHANNELS=inbox,log $(BIN)/gpw --db $(DEMO_DB) serve --with-worker --demo \
		--host $(HOST) --port $(PORT) --tick-seconds 30 --relay-seconds 5

## The PostgreSQL server the tests start and stop themselves (tests/pg.py): installed from the
## distribution's packages when missing.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "installing postgresql (apt-get)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }

## The browser the tests drive (tests/browser.py): Debian's chromium, run by Playwright for Python
## (never `playwright install`: its own download cannot work here), and a CJK font so Chinese pages
## render glyphs, not boxes (fonts-wqy-microhei: 1.6 MB against fonts-noto-cjk's 57 MB).
BROWSER_PACKAGES := chromium fonts-wqy-microhei
browser:
	@missing=$$(for p in $(BROWSER_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	[ -z "$$missing" ] || { \
		echo "installing" $$missing "(apt-get)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
			$$missing >/dev/null; }

## Every test, plus lint and type checks, on SQLite and on a real PostgreSQL server that the suite
## starts and stops. Hypothesis is derandomized: the same examples each run.
test: $(STAMP) postgres browser lint typecheck
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q

## The property and stateful tests with random seeds and many more examples (slower; run it
## now and then, or with FUZZ_ARGS="--hypothesis-seed=N" to replay one run).
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q $(FUZZ_ARGS) \
		$$(grep -rl --include='test_*.py' hypothesis tests)

lint: $(STAMP)
	$(BIN)/ruff check states workflow notifications tests benchmarks
	$(BIN)/ruff format --check states workflow notifications tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

## wrk, the HTTP load generator bench_web drives the servers with: installed from the
## distribution's packages when missing.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		echo "installing wrk (apt-get)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

bench: $(STAMP) postgres wrk
	cd benchmarks && ../$(BIN)/python bench_calendar.py
	cd benchmarks && ../$(BIN)/python bench_fire.py
	cd benchmarks && ../$(BIN)/python bench_memory.py
	cd benchmarks && ../$(BIN)/python bench_tick.py
	cd benchmarks && ../$(BIN)/python bench_relay.py
	cd benchmarks && ../$(BIN)/python bench_workers.py
	cd benchmarks && ../$(BIN)/python bench_web.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
