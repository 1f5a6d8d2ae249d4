# The two set-up commands (see README): `make demo` and `make test`.
# Both bootstrap uv if it is missing and install the locked environment into .venv.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")

.PHONY: setup demo test lint bench-smoke dev

$(UV):
	python3 -m pip install --user --quiet "uv>=0.9"

setup: $(UV)
	$(UV) sync --frozen

demo: setup
	$(UV) run python -m sync_pipeline.demo

dev: setup
	$(UV) run dagster dev

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

test: lint
	$(UV) run pytest $(PYTEST_ARGS)

# The benchmark of issue 5 at smoke size (see benchmarks/README.md for 100k and 1M).
bench-smoke: setup
	$(UV) run python -m benchmarks.run --rows 2000 --repeat 3 --skip dlt,dlt_indexed --out artifacts/bench-smoke --no-md
