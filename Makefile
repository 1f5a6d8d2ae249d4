# The two set-up commands (see README): `make demo` and `make test`.
# Both bootstrap uv if it is missing and install the locked environment into .venv.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")

# One Dagster instance for the demo, the UI and launched runs, so `make demo` then `make dev`
# shows the demo's runs. Override with DAGSTER_HOME=/abs/path (e.g. one using Postgres storage).
# (Only these targets get it: the tests make their own instances.)
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
WITH_HOME := DAGSTER_HOME="$(DAGSTER_HOME)"

.PHONY: setup instance demo dev launch check test lint bench-smoke

$(UV):
	python3 -m pip install --user --quiet "uv>=0.9"

setup: $(UV)
	$(UV) sync --frozen

# The instance directory with this checkout's dagster.yaml linked in (an existing one is kept).
instance:
	mkdir -p "$(DAGSTER_HOME)"
	[ -e "$(DAGSTER_HOME)/dagster.yaml" ] || ln -s "$(CURDIR)/dagster.yaml" "$(DAGSTER_HOME)/dagster.yaml"

demo: setup instance
	$(WITH_HOME) $(UV) run python -m sync_pipeline.demo

dev: setup instance
	$(WITH_HOME) $(UV) run dg dev

# make launch JOB=orders_sync PARTITION=2026-01-02: one run, in this process, recorded in the instance.
launch: setup instance
	$(WITH_HOME) $(UV) run dg launch --job $(JOB) $(if $(PARTITION),--partition $(PARTITION))

check: setup
	$(UV) run dg check defs

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

test: lint
	$(UV) run pytest $(PYTEST_ARGS)

# The benchmark of issue 5 at smoke size (see benchmarks/README.md for 100k and 1M).
bench-smoke: setup
	$(UV) run python -m benchmarks.run --rows 2000 --repeat 3 --skip dlt,dlt_indexed --out artifacts/bench-smoke --no-md
