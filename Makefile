# The two commands of the README: `make demo` and `make test`.
# Both create .venv at the repo root on first use and reuse it afterwards.

PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.opsguard-installed
# dbt for tests/dbt, in a venv of its own: dbt-core pins protobuf, python-dateutil,
# pathspec and more-itertools below what Airflow installs (docs/dbt.md). Its DuckDB is
# ours, so that each reads the files the other writes.
DBT_VENV := .venv-dbt
DBT_STAMP := $(DBT_VENV)/.opsguard-dbt-installed

.PHONY: demo test dashboard lint typecheck pytest bench bench-sql clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "airflow-opsguard needs Python 3.11 or newer on PATH" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	@touch $(STAMP)

$(DBT_STAMP): $(STAMP)
	@test -x $(DBT_VENV)/bin/python || $(BIN)/uv venv --quiet --python $(BIN)/python $(DBT_VENV)
	$(BIN)/uv pip install --quiet --python $(DBT_VENV)/bin/python 'dbt-core>=1.8,<1.12' \
		'dbt-duckdb>=1.8,<1.12' "duckdb==$$($(BIN)/python -c 'import duckdb; print(duckdb.__version__)')"
	@touch $(DBT_STAMP)

demo: $(STAMP) $(DBT_STAMP)
	@$(BIN)/python dags_examples/demo.py

# After `make demo`: its dashboard at http://127.0.0.1:8080/opsguard/, login admin / admin.
DASHBOARD_PORT ?= 8080
dashboard: $(STAMP)
	@$(BIN)/python dags_examples/dashboard.py --port $(DASHBOARD_PORT)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(DBT_STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# PostgreSQL on 127.0.0.1:5432 (user postgres); tables kept in database opsguard_bench.
bench-sql: $(STAMP)
	$(BIN)/python benchmarks/sql_run.py --rows 1000000 10000000 --out benchmarks/RESULTS_SQL.md

clean:
	rm -rf $(VENV) $(DBT_VENV) .pytest_cache .mypy_cache .ruff_cache
