"""Snowflake, BigQuery, Databricks SQL and Trino: the whole plan compiles for each
dialect, and the statements are kept as reviewed snapshots (snapshots/<dialect>.sql).

The snapshots were read against each engine's SQL reference; the tests below pin the
points that reading checked (regular expressions that search rather than match the
whole string, lengths in characters, exact distinct counts, identifier quoting), so a
dialect upgrade that changes them fails here with a name. After a deliberate change,
rewrite the snapshots with ``OPSGUARD_UPDATE_SNAPSHOTS=1`` and review the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from warehouse_plans import compiled_plan

from airflow_opsguard.engines.sql import warehouse_session
from airflow_opsguard.engines.types import from_sqlalchemy

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("OPSGUARD_UPDATE_SNAPSHOTS") == "1"


def dialect_of(name: str) -> sa.engine.Dialect:
    if name == "snowflake":
        module = pytest.importorskip("snowflake.sqlalchemy.snowdialect")
        return module.SnowflakeDialect()  # type: ignore[no-any-return]
    if name == "bigquery":
        return pytest.importorskip("sqlalchemy_bigquery").BigQueryDialect()  # type: ignore[no-any-return]
    if name == "databricks":
        return pytest.importorskip("databricks.sqlalchemy").DatabricksDialect()  # type: ignore[no-any-return]
    return pytest.importorskip("trino.sqlalchemy.dialect").TrinoDialect()  # type: ignore[no-any-return]


# Per warehouse: its schema spelling, and what its SQL reference says each construct is.
DOCUMENTED: dict[str, dict[str, Any]] = {
    "snowflake": {
        "schema": "analytics",
        # REGEXP_LIKE/RLIKE are anchored in Snowflake; REGEXP_INSTR finds a match anywhere.
        "regex": r"NOT REGEXP_INSTR\(COLLATE\(analytics\.orders\.email, 'utf8'\), "
        r"'\^\[\^@\]\+@\[\^@\]\+\$'\) > 0",
        "length": r"length\(COLLATE\(analytics\.orders\.country, 'utf8'\)\) < 2",
        "distinct": r"count\(DISTINCT COLLATE\(analytics\.orders\.email, 'utf8'\)\)",
        "quoted": r'analytics\.orders\."Mixed Case"',
        "table": r"FROM analytics\.orders\b",
        "absent": (r"REGEXP_LIKE", r"RLIKE"),
    },
    "bigquery": {
        "schema": "my-project.analytics",
        # REGEXP_CONTAINS: RE2, true for a partial match.
        "regex": r"NOT REGEXP_CONTAINS\(`orders`\.`email`, '\^\[\^@\]\+@\[\^@\]\+\$'\)",
        "length": r"length\(`orders`\.`country`\) < 2",  # characters for STRING
        "distinct": r"count\(DISTINCT `orders`\.`email`\)",  # exact (APPROX_ is not)
        "quoted": r"`orders`\.`Mixed Case`",
        "table": r"FROM `my-project\.analytics`\.`orders`",
        "absent": (r"REGEXP_LIKE", r"APPROX_COUNT_DISTINCT"),
    },
    "databricks": {
        "schema": "analytics",
        # RLIKE: Java regular expressions, true when the pattern is found anywhere.
        "regex": r"NOT \(analytics\.orders\.email RLIKE '\^\[\^@\]\+@\[\^@\]\+\$'\)",
        "length": r"length\(analytics\.orders\.country\) < 2",  # characters
        "distinct": r"count\(DISTINCT analytics\.orders\.email\)",
        "quoted": r"analytics\.orders\.`Mixed Case`",
        "table": r"FROM analytics\.orders\b",
        "absent": (r"approx_count_distinct",),
    },
    "trino": {
        "schema": "analytics",
        # regexp_like: Java syntax, the pattern need only be contained in the string.
        "regex": r"NOT regexp_like\(analytics\.orders\.email, '\^\[\^@\]\+@\[\^@\]\+\$'\)",
        "length": r"length\(analytics\.orders\.country\) < 2",  # characters
        "distinct": r"count\(DISTINCT analytics\.orders\.email\)",
        "quoted": r'analytics\.orders\."Mixed Case"',
        "table": r"FROM analytics\.orders\b",
        "absent": (r"approx_distinct",),
    },
}


@pytest.fixture(params=sorted(DOCUMENTED))
def warehouse(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_whole_plan_matches_its_reviewed_snapshot(warehouse: str) -> None:
    text = compiled_plan(dialect_of(warehouse), DOCUMENTED[warehouse]["schema"]) + "\n"
    path = SNAPSHOTS / f"{warehouse}.sql"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot for {warehouse}: run with OPSGUARD_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed: review the diff"


def test_every_check_is_expressible_and_spelled_as_documented(warehouse: str) -> None:
    documented = DOCUMENTED[warehouse]
    text = compiled_plan(dialect_of(warehouse), documented["schema"])
    assert ": error" not in text  # every check of the contract compiles for the dialect
    for point in ("regex", "length", "distinct", "quoted", "table"):
        assert re.search(documented[point], text), f"{warehouse}: {point}"
    for absent in documented["absent"]:
        assert not re.search(absent, text, re.IGNORECASE), f"{warehouse}: {absent}"
    # Uniqueness: a GROUP BY with HAVING, and its total by a window over it.
    assert "HAVING count(*) > 1" in text
    assert "OVER ()" in text


@pytest.mark.parametrize(
    ("warehouse", "type_name", "args", "aware"),
    [
        ("snowflake", "TIMESTAMP_TZ", {}, True),
        ("snowflake", "TIMESTAMP_LTZ", {}, True),
        ("snowflake", "TIMESTAMP_NTZ", {}, False),
        ("bigquery", "TIMESTAMP", {}, True),
        ("bigquery", "DATETIME", {}, False),
        ("databricks", "TIMESTAMP", {}, True),
        ("databricks", "TIMESTAMP_NTZ", {}, False),
        ("trino", "TIMESTAMP", {"timezone": True}, True),
        ("trino", "TIMESTAMP", {}, False),
    ],
)
def test_warehouse_timestamps_are_timestamps_with_their_zone(
    warehouse: str, type_name: str, args: dict[str, Any], aware: bool
) -> None:
    dialect = dialect_of(warehouse)
    modules = {
        "snowflake": "snowflake.sqlalchemy",
        "bigquery": "sqlalchemy",
        "databricks": "databricks.sqlalchemy._types",
        "trino": "trino.sqlalchemy.datatype",
    }
    type_ = getattr(pytest.importorskip(modules[warehouse]), type_name)(**args)
    column = from_sqlalchemy("created_at", type_, dialect)
    assert (column.type, column.timezone_aware) == ("timestamp", aware)


def test_session_settings_per_warehouse() -> None:
    assert warehouse_session("snowflake", 300) == [
        "ALTER SESSION SET TIMEZONE = 'UTC'",
        "ALTER SESSION SET QUERY_TAG = 'airflow-opsguard'",
        "ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 300",
    ]
    assert warehouse_session("databricks", 0.2) == [
        "SET TIME ZONE 'UTC'",
        "SET STATEMENT_TIMEOUT = 1",  # whole seconds, at least one
    ]
    assert warehouse_session("trino", 90.4) == ["SET SESSION query_max_execution_time = '90s'"]
    assert warehouse_session("trino", None) == []
    assert warehouse_session("bigquery", 300) == []  # no session: see docs/warehouses.md
    assert (
        warehouse_session("snowflake", None)[-1]
        == "ALTER SESSION SET QUERY_TAG = 'airflow-opsguard'"
    )


def test_a_check_the_dialect_cannot_express_leaves_the_scan_to_the_others() -> None:
    from sqlalchemy.dialects import mssql

    from airflow_opsguard.checks.observations import ObservedColumn
    from airflow_opsguard.contract.loader import parse_contract
    from airflow_opsguard.engines.executor import mark_inexpressible
    from airflow_opsguard.engines.plan import build_plan

    contract = parse_contract(
        {
            "dataset": "orders",
            "checks": [
                {"type": "pattern", "column": "email", "pattern": "^a"},
                {"type": "not_null", "column": "email"},
            ],
        }
    )
    plan = build_plan(contract, [ObservedColumn("email", "NVARCHAR", "string")], sa.table("t"))
    mark_inexpressible(plan, mssql.dialect())  # SQL Server has no regular expressions
    scan = str(plan.main_select().compile(dialect=mssql.dialect()))
    assert "IS NULL" in scan  # not_null(email) is still measured
    assert plan.checks[0].error is not None and "mssql" in plan.checks[0].error


def test_warehouse_keys_prove_no_uniqueness() -> None:
    """Snowflake, BigQuery and Databricks declare primary keys and unique constraints
    without enforcing them; Trino's connectors enforce nothing of the kind."""
    from airflow_opsguard.engines.proofs import ENFORCE_NOT_NULL, ENFORCE_UNIQUE

    assert not {"snowflake", "bigquery", "databricks", "trino"} & ENFORCE_UNIQUE
    assert "trino" not in ENFORCE_NOT_NULL
    assert {"postgresql", "mariadb", "sqlite"} <= ENFORCE_UNIQUE


@pytest.mark.parametrize(
    ("url", "table", "namespace", "name"),
    [
        (
            "snowflake://gate@myorg-acct/analytics/public?warehouse=WH",
            "orders",
            "snowflake://myorg-acct",
            "ANALYTICS.PUBLIC.ORDERS",
        ),
        (
            "snowflake://gate@myorg-acct/analytics",
            "sales.orders",
            "snowflake://myorg-acct",
            "ANALYTICS.SALES.ORDERS",
        ),
        ("bigquery://my-project/analytics", "orders", "bigquery", "my-project.analytics.orders"),
        (
            "bigquery://my-project",
            "other-project.sales.orders",
            "bigquery",
            "other-project.sales.orders",
        ),
        (
            "trino://gate@trino.internal:443/hive/sales",
            "orders",
            "trino://trino.internal:443",
            "hive.sales.orders",
        ),
        (
            "trino://gate@trino.internal/hive",
            "sales.orders",
            "trino://trino.internal:8080",
            "hive.sales.orders",
        ),
        (
            "databricks://token:x@dbc-1.cloud.databricks.com?http_path=/sql/1&catalog=main&schema=sales",
            "orders",
            "databricks://dbc-1.cloud.databricks.com",
            "main.sales.orders",
        ),
    ],
)
def test_lineage_names_warehouse_tables_by_the_openlineage_spec(
    url: str, table: str, namespace: str, name: str
) -> None:
    from airflow_opsguard.formats import load_contract
    from airflow_opsguard.operators.lineage import LineageDataset, dataset_of

    spec = load_contract({"dataset": "orders"})
    assert dataset_of(spec, url, table) == LineageDataset(namespace, name)


@pytest.mark.parametrize(
    ("block", "url"),
    [
        ("trino", "trino://gate:{password}@127.0.0.1:1/hive/sales"),
        ("snowflake", "snowflake://gate:{password}@myorg-acct/db/public"),
        ("sqlalchemy_bigquery", "bigquery://my-project/analytics"),
        ("databricks", "databricks://token:{password}@127.0.0.1?http_path=/sql/1"),
    ],
)
def test_a_warehouse_url_without_its_dialect_is_one_line_naming_the_extra(
    tmp_path: Path, block: str, url: str
) -> None:
    import subprocess
    import sys

    password = "s3cr3t-value"
    contract = tmp_path / "orders.yml"
    contract.write_text(
        "dataset: orders\n"
        f"source: {{url: '{url.format(password=password)}', table: orders}}\n"
        "volume: {min_rows: 1}\n"
    )
    code = (
        "import sys\n"
        f"sys.modules[{block!r}] = None\n"
        "from airflow_opsguard.cli import main\n"
        f"sys.exit(main(['check', {str(contract)!r}, '--no-store', '--no-alerts']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.endswith("is not installed: pip install 'airflow-opsguard[warehouses]'"), line
    assert "cannot use database URL" in line
    assert password not in proc.stdout + proc.stderr


def test_warehouse_timeouts_and_transient_errors_are_retryable() -> None:
    from airflow_opsguard.engines.sql_errors import is_retryable, is_timeout

    snowflake_errors = pytest.importorskip("snowflake.connector.errors")
    trino_exceptions = pytest.importorskip("trino.exceptions")
    timed_out = snowflake_errors.ProgrammingError(
        msg="Statement reached its statement or warehouse timeout of 300 second(s)",
        errno=630,
        sqlstate="57014",
    )
    missing = snowflake_errors.ProgrammingError(msg="Object does not exist", errno=2003)
    limit = trino_exceptions.TrinoQueryError(
        {"errorType": "INSUFFICIENT_RESOURCES", "errorName": "EXCEEDED_TIME_LIMIT"}
    )
    no_table = trino_exceptions.TrinoUserError(
        {"errorType": "USER_ERROR", "errorName": "TABLE_NOT_FOUND"}
    )
    for error, retryable, timeout in (
        (timed_out, True, True),
        (missing, False, False),
        (limit, True, True),
        (no_table, False, False),
    ):
        wrapped = sa.exc.DBAPIError("SELECT 1", {}, error)
        assert (is_retryable(wrapped), is_timeout(wrapped)) == (retryable, timeout), error
