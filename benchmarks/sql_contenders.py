"""Three ways of checking the same PostgreSQL table, each returning the same numbers.

- **opsguard**: ``opsguard check CONTRACT --format json`` (the CLI's own ``main()``, in
  the measuring process), the contract naming the table by URL.
- **Great Expectations 1.x**: a SQL datasource (``context.data_sources.add_postgres``), a
  table asset, a whole-table batch and the equivalent suite; GX pushes each expectation
  down as SQL queries of its own.
- **hand-written SQL**: one statement with psycopg: every aggregate in one scan, and the
  duplicated ids as a scalar subquery over a GROUP BY.

The numbers (row count, nulls, duplicated rows, out-of-range, out-of-set, bad lengths,
bad emails, newest timestamp) are compared after every run, so a fast but wrong
contender cannot win. Heavy imports stay inside the functions: each contender runs in
a process of its own, whose memory is measured.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import time
from contextlib import redirect_stdout
from datetime import datetime
from decimal import Decimal
from typing import Any

from benchmarks.agreement import (
    AMOUNT_MAX,
    AMOUNT_MIN,
    COLUMNS,
    COUNTRIES,
    EMAIL_PATTERN,
    FAIL_AFTER,
    MAX_ROWS,
    MIN_ROWS,
    NOW,
    OUR_COUNTS,
    STATUSES,
    Numbers,
    gx_numbers,
    orders_contract,
)


def contract(url: str, table: str, unique: bool = True) -> dict[str, Any]:
    """The file benchmark's contract (contenders.CONTRACT), on a PostgreSQL table;
    ``unique=False`` leaves out the uniqueness of order_id."""
    return {
        **orders_contract(unique=unique),
        "dataset": "orders_benchmark_sql",
        "source": {"url": url, "table": table},
    }


# --------------------------------------------------------------------------- ours


def run_opsguard(url: str, table: str, unique: bool = True) -> tuple[float, Numbers]:
    """`opsguard check` as a user runs it, its JSON parsed for the numbers."""
    from airflow_opsguard.cli import main

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "orders.json")  # JSON is YAML
        with open(path, "w") as out:
            json.dump(contract(url, table, unique), out)
        argv = ["check", path, "--format", "json", "--no-store", "--no-alerts"]
        argv += ["--now", NOW.isoformat()]
        captured = io.StringIO()
        started = time.perf_counter()
        with redirect_stdout(captured):
            code = main(argv)
        elapsed = time.perf_counter() - started
    if code not in (0, 1):
        raise RuntimeError(f"opsguard check exited {code}")
    return elapsed, opsguard_numbers(json.loads(captured.getvalue()))


def opsguard_numbers(result: dict[str, Any]) -> Numbers:
    checks = {c["name"]: c for c in result["checks"]}
    errors = [f"{c['name']}: {c['message']}" for c in result["checks"] if c["status"] == "error"]
    if errors:
        raise RuntimeError("opsguard could not measure: " + "; ".join(errors))
    numbers: Numbers = {"rows": result["rows"]}
    for name, key in OUR_COUNTS.items():
        if name in checks:
            numbers[key] = checks[name]["failing_count"]
    newest = checks["freshness(created_at)"]["metrics"]["newest"]
    numbers["newest(created_at)"] = datetime.fromisoformat(newest).replace(tzinfo=None)
    numbers["schema_ok"] = all(
        c["status"] == "pass" for c in result["checks"] if c["type"] == "schema"
    )
    return numbers


# --------------------------------------------------------------------------- by hand


HAND_SQL = """
SELECT
  count(*),
  count(*) - count(order_id),
  count(*) - count(amount),
  count(*) - count(created_at),
  {duplicates},
  count(*) FILTER (WHERE amount < %(low)s OR amount > %(high)s),
  count(*) FILTER (WHERE country <> ALL(%(countries)s)),
  count(*) FILTER (WHERE char_length(country) NOT BETWEEN 2 AND 2),
  count(*) FILTER (WHERE email !~ %(pattern)s),
  count(*) FILTER (WHERE status <> ALL(%(statuses)s)),
  max(created_at)
FROM {table}
"""

HAND_DUPLICATES = """(SELECT coalesce(sum(n), 0) FROM
     (SELECT count(*) AS n FROM {table} WHERE order_id IS NOT NULL
      GROUP BY order_id HAVING count(*) > 1) AS d)"""

HAND_KEYS = (
    "rows",
    "nulls(order_id)",
    "nulls(amount)",
    "nulls(created_at)",
    "duplicated_rows(order_id)",
    "out_of_range(amount)",
    "not_in_set(country)",
    "bad_length(country)",
    "no_match(email)",
    "not_in_set(status)",
    "newest(created_at)",
)


def run_hand(dsn: str, table: str, unique: bool = True) -> tuple[float, Numbers]:
    """One hand-written statement through psycopg, and the column types from the
    catalogue (the schema check)."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(dsn) as connection:
        row = connection.execute(
            # The benchmark's own table name, no input from outside.
            HAND_SQL.format(
                table=table,
                duplicates=HAND_DUPLICATES.format(table=table) if unique else "NULL",
            ),
            {
                "low": AMOUNT_MIN,
                "high": AMOUNT_MAX,
                "countries": list(COUNTRIES),
                "pattern": EMAIL_PATTERN,
                "statuses": list(STATUSES),
            },
        ).fetchone()
        types = connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
    elapsed = time.perf_counter() - started
    assert row is not None
    numbers = {
        key: (int(v) if isinstance(v, int | Decimal) else v)
        for key, v in zip(HAND_KEYS, row, strict=True)
    }
    if not unique:
        del numbers["duplicated_rows(order_id)"]
    numbers["schema_ok"] = [name for name, _ in types] == list(COLUMNS) and dict(types) == {
        "order_id": "bigint",
        "amount": "double precision",
        "country": "text",
        "email": "text",
        "created_at": "timestamp without time zone",
        "status": "text",
    }
    return elapsed, numbers


# --------------------------------------------------------------------------- GX


class GreatExpectations:
    """GX 1.x on PostgreSQL: an ephemeral context, a postgres datasource, a table asset,
    a whole-table batch and the suite, set up once (not timed); each run validates."""

    def __init__(self, url: str, table: str, unique: bool = True) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        started = time.perf_counter()
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = context.data_sources.add_postgres("bench", connection_string=url)
        asset = source.add_table_asset("orders", table_name=table)
        batch = asset.add_batch_definition_whole_table("whole")
        suite = context.suites.add(
            gx.ExpectationSuite(name="orders", expectations=suite_of(unique))
        )
        self.definition = context.validation_definitions.add(
            gx.ValidationDefinition(name="orders", data=batch, suite=suite)
        )
        self.setup_seconds = time.perf_counter() - started

    def run(self) -> tuple[float, Numbers]:
        started = time.perf_counter()
        result = self.definition.run()
        elapsed = time.perf_counter() - started
        return elapsed, gx_numbers(result)


def suite_of(unique: bool = True) -> list[Any]:
    """The expectations equivalent to the contract, one per check of ours."""
    import great_expectations.expectations as gxe

    types = {
        "order_id": "BIGINT",
        "amount": "DOUBLE PRECISION",
        "country": "TEXT",
        "email": "TEXT",
        "created_at": "TIMESTAMP WITHOUT TIME ZONE",
        "status": "TEXT",
    }
    return [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(COLUMNS), exact_match=True),
        *(gxe.ExpectColumnValuesToBeOfType(column=c, type_=t) for c, t in types.items()),
        gxe.ExpectTableRowCountToBeBetween(min_value=MIN_ROWS, max_value=MAX_ROWS),
        gxe.ExpectColumnValuesToNotBeNull(column="order_id"),
        *([gxe.ExpectColumnValuesToBeUnique(column="order_id")] if unique else []),
        gxe.ExpectColumnValuesToNotBeNull(column="amount"),
        gxe.ExpectColumnValuesToBeBetween(
            column="amount", min_value=AMOUNT_MIN, max_value=AMOUNT_MAX
        ),
        gxe.ExpectColumnValuesToBeInSet(column="country", value_set=list(COUNTRIES)),
        gxe.ExpectColumnValueLengthsToBeBetween(column="country", min_value=2, max_value=2),
        gxe.ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL_PATTERN),
        gxe.ExpectColumnValuesToNotBeNull(column="created_at"),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUSES)),
        gxe.ExpectColumnMaxToBeBetween(column="created_at", min_value=NOW - FAIL_AFTER),
    ]
