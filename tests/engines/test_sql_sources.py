"""What only a database source has: URLs as users paste them, tables, queries, Airflow
connections, session settings, and the errors a database can raise."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from engine_backends import SQL_TYPES, TABLE, Backend, orders

from airflow_opsguard import DataSourceError, validate
from airflow_opsguard.cli import main
from airflow_opsguard.connections import engine_for_conn_id
from airflow_opsguard.engines.connections import using_connections
from airflow_opsguard.engines.measuring import measure
from airflow_opsguard.formats import load_contract
from airflow_opsguard.pipeline import run_gate

NOT_NULL = {"dataset": "orders", "checks": [{"type": "not_null", "column": "order_id"}]}
AMOUNT_RANGE = {"type": "range", "column": "amount", "min": 0}


def source_error(contract: dict[str, Any], data: Any = None, **kwargs: Any) -> DataSourceError:
    """The DataSourceError that measuring raises, after checking validate() reports it."""
    result = validate(contract, data=data, **kwargs)
    assert result.status == "error"
    assert result.checks == ()
    assert result.error is not None and "\n" not in result.error
    with pytest.raises(DataSourceError) as caught, using_connections(engine_for_conn_id):
        measure(load_contract(contract), data, **kwargs)
    assert str(caught.value) == result.error
    return caught.value


def row_count(backend: Backend, table: str) -> int:
    return int(backend.execute(f"SELECT count(*) FROM {table}")[0][0])


# --------------------------------------------------------------------------- where the data is


@pytest.mark.postgres
def test_plain_postgresql_urls_use_psycopg(postgres_url: str, backend_postgresql: Backend) -> None:
    backend_postgresql.load(orders(), TABLE)
    rest = postgres_url.split("://", 1)[1]
    for scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        result = validate(NOT_NULL, data=f"{scheme}://{rest}", table=TABLE)
        assert (result.status, result.rows) == ("pass", 12), scheme
        assert result.source is not None and "postgresql+psycopg://" in result.source


@pytest.mark.mariadb
def test_plain_mysql_and_mariadb_urls_use_pymysql(
    mariadb_url: str, backend_mariadb: Backend
) -> None:
    backend_mariadb.load(orders(), TABLE)
    rest = mariadb_url.split("://", 1)[1]
    for scheme in ("mysql", "mariadb", "mysql+pymysql"):
        result = validate(NOT_NULL, data=f"{scheme}://{rest}", table=TABLE)
        assert (result.status, result.rows) == ("pass", 12), scheme
        assert result.source is not None and "+pymysql://" in result.source


def test_schema_qualified_and_differently_cased_table_names(database: Backend) -> None:
    database.load(orders(), TABLE)
    for name in (f"{database.schema}.{TABLE}", TABLE.upper(), f"{database.schema}.Eng_Orders"):
        result = validate(NOT_NULL, data=database.url, table=name)
        assert (result.status, result.rows) == ("pass", 12), name


def test_the_contract_source_names_the_database(database: Backend) -> None:
    database.load(orders(), TABLE)
    by_table = {**NOT_NULL, "source": {"url": database.url, "table": TABLE}}
    assert validate(by_table).rows == 12
    by_query = {
        **NOT_NULL,
        "source": {"url": database.url, "query": f"SELECT * FROM {TABLE} WHERE order_id < 5"},
    }
    assert validate(by_query).rows == 4
    # --data and --table (the CLI's) override the contract's url and its query.
    assert validate(by_query, data=database.url, table=TABLE).rows == 12


def test_a_contract_file_with_a_database_source(database: Backend, tmp_path: Path) -> None:
    database.load(orders(), TABLE)
    path = tmp_path / "orders.yml"
    path.write_text(
        f"dataset: orders\nsource:\n  url: {database.url}\n  table: {TABLE}\n"
        "volume: {min_rows: 12, max_rows: 12}\n"
    )
    assert validate(str(path)).status == "pass"


def test_a_database_needs_a_table_or_a_query(database: Backend) -> None:
    error = source_error(NOT_NULL, data=database.url)
    assert "--table" in str(error)
    assert not error.retryable


def test_a_table_needs_a_database(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    orders().to_parquet(path)
    error = source_error(NOT_NULL, data=str(path), table=TABLE)
    assert "database URL" in str(error)


def test_a_caller_engine_is_used_and_left_clean(database: Backend) -> None:
    database.load(orders(), TABLE)
    engine = database.engine()
    try:
        result = validate(NOT_NULL, data=engine, table=TABLE)
        assert (result.status, result.rows) == ("pass", 12)
        # The check's session settings (read-only, timeout) never reach the caller's pool.
        with engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE TABLE {TABLE}_w (x INTEGER)")
            connection.exec_driver_sql(f"DROP TABLE {TABLE}_w")
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- queries


def test_a_query_is_checked_like_a_table(database: Backend) -> None:
    database.load(orders(), TABLE)
    query = (
        f"SELECT order_id, amount, amount * 2 AS doubled, country, created_at, is_active\n"
        f"FROM {TABLE} WHERE order_id <= 6"
    )
    contract = {
        "dataset": "orders",
        "source": {"url": database.url, "query": query},
        "schema": {
            "columns": [
                {"name": "order_id", "type": "integer", "unique": True},
                {"name": "amount", "type": "float", "min": 0},
                {"name": "doubled", "type": "float", "max": 50},
                {"name": "country", "type": "string", "allowed": ["US", "DE", "FR"]},
                {"name": "created_at", "type": "timestamp"},
                {"name": "is_active", "type": "boolean"},
            ]
        },
    }
    result = validate(contract)
    assert result.rows == 6
    statuses = {c.name: (c.status, c.failing_count) for c in result.checks}
    assert statuses == {
        "schema(order_id)": ("pass", None),
        "schema(amount)": ("pass", None),
        "schema(doubled)": ("pass", None),
        "schema(country)": ("pass", None),
        "schema(created_at)": ("pass", None),
        "schema(is_active)": ("pass", None),
        "schema(extra columns)": ("pass", None),
        "unique(order_id)": ("pass", 0),
        "range(amount)": ("fail", 1),
        "range(doubled)": ("fail", 1),  # 30.0 * 2
        "allowed(country)": ("fail", 1),
    }
    assert result.source is not None and result.source.startswith("query 'SELECT order_id")
    assert "query_sha256" in result.data_fingerprint


def test_query_text_is_sent_as_written(database: Backend) -> None:
    database.load(orders(), TABLE)
    # Percent signs, colons and casts are the user's SQL, not parameters; a trailing
    # semicolon is dropped, since the query becomes a subquery.
    query = (
        f"SELECT * FROM {TABLE} WHERE email LIKE '%@example.com' AND '10:30' <> ':x'"
        " AND name <> 'a%%b' ;  "
    )
    result = validate({**NOT_NULL, "source": {"url": database.url, "query": query}})
    assert (result.status, result.rows) == ("pass", 10)


def test_a_query_with_a_syntax_error(database: Backend) -> None:
    database.load(orders(), TABLE)
    contract = {**NOT_NULL, "source": {"url": database.url, "query": f"SELEC * FROM {TABLE}"}}
    error = source_error(contract)
    assert not error.retryable
    assert "query 'SELEC * FROM eng_orders'" in str(error)


def test_a_query_on_a_missing_table(database: Backend) -> None:
    contract = {**NOT_NULL, "source": {"url": database.url, "query": "SELECT * FROM eng_nowhere"}}
    error = source_error(contract)
    assert not error.retryable
    assert "eng_nowhere" in str(error)


def test_a_query_with_two_columns_of_one_name(database: Backend) -> None:
    database.load(orders(), TABLE)
    query = (
        f"SELECT a.order_id, b.order_id FROM {TABLE} a JOIN {TABLE} b ON a.order_id = b.order_id"
    )
    contract = {**NOT_NULL, "source": {"url": database.url, "query": query}}
    if database.name == "sqlite":
        # SQLite names the second column itself ('order_id:1').
        observed = measure(load_contract(contract))
        assert [c.name for c in observed.columns] == ["order_id", "order_id:1"]
        return
    error = source_error(contract)
    # PostgreSQL runs the query and we refuse it; MariaDB refuses it itself.
    assert "columns named 'order_id'" in str(error) or "Duplicate column name" in str(error)
    assert not error.retryable


# --------------------------------------------------------------------------- bad names


def test_a_missing_table(database: Backend) -> None:
    error = source_error(NOT_NULL, data=database.url, table="eng_no_such_table")
    assert not error.retryable
    assert str(error).startswith("table 'eng_no_such_table' does not exist in ")
    schema_error = source_error(NOT_NULL, data=database.url, table=f"eng_no_schema.{TABLE}")
    assert "no schema 'eng_no_schema'" in str(schema_error)


def test_a_missing_column_fails_the_schema_and_errors_its_checks(database: Backend) -> None:
    contract = {
        "dataset": "orders",
        "schema": {
            "columns": [{"name": "discount", "type": "float"}, {"name": "amount"}],
            "extra_columns": "allow",
        },
        "checks": [{"type": "range", "column": "discount", "min": 0}, AMOUNT_RANGE],
    }
    result = database.check(contract)
    statuses = {c.name: c.status for c in result.checks}
    assert statuses == {
        "schema(discount)": "fail",
        "schema(amount)": "pass",
        "range(discount)": "error",
        "range(amount)": "fail",
    }
    assert "'discount' is not in the data" in result.checks[2].message


INJECTIONS = [
    "eng_orders; DROP TABLE {victim}",
    'eng_orders"; DROP TABLE {victim}; --',
    "eng_orders`; DROP TABLE {victim}; -- ",
    "eng_orders' OR '1'='1",
    "{schema}.eng_orders; DROP TABLE {victim}",
    "eng_orders]; DROP TABLE {victim}; --",
]


def test_an_injection_in_a_table_name_is_a_missing_table(
    database: Backend, table_name: str
) -> None:
    database.load(orders(), TABLE)
    database.execute(f"CREATE TABLE {table_name} (x INTEGER)")
    database.execute(f"INSERT INTO {table_name} (x) VALUES (1), (2), (3)")
    for template in INJECTIONS:
        name = template.format(victim=table_name, schema=database.schema)
        error = source_error(NOT_NULL, data=database.url, table=name)
        assert "does not exist" in str(error), name
        assert not error.retryable
    assert row_count(database, table_name) == 3  # the other table survives
    assert row_count(database, TABLE) == 12


def test_an_injection_in_a_column_name_is_a_missing_column(
    database: Backend, table_name: str
) -> None:
    database.load(orders(), TABLE)
    database.execute(f"CREATE TABLE {table_name} (x INTEGER)")
    database.execute(f"INSERT INTO {table_name} (x) VALUES (1)")
    names = [t.format(victim=table_name, schema=database.schema) for t in INJECTIONS]
    names = [n.replace("eng_orders", "amount") for n in names]
    contract = {
        "dataset": "orders",
        "checks": [
            *({"type": "not_null", "column": n} for n in names),
            *({"type": "unique", "column": n} for n in names),
            *({"type": "pattern", "column": n, "pattern": "x"} for n in names),
            AMOUNT_RANGE,
        ],
    }
    result = database.check(contract)
    assert [c.status for c in result.checks] == ["error"] * (3 * len(names)) + ["fail"]
    assert row_count(database, table_name) == 1


# --------------------------------------------------------------------------- servers


def test_an_unreachable_server_is_retryable_and_masks_the_password() -> None:
    error = source_error(NOT_NULL, data="postgresql://postgres@127.0.0.1:1/x", table=TABLE)
    assert error.retryable
    assert str(error).startswith("cannot connect to postgresql+psycopg://postgres@127.0.0.1:1/x")

    secret = "s3cr3t-Pa55"
    url = f"postgresql://postgres:{secret}@127.0.0.1:1/x"
    error = source_error(NOT_NULL, data=url, table=TABLE)
    assert error.retryable
    assert secret not in str(error) and "postgres:***@127.0.0.1:1" in str(error)
    result = validate(NOT_NULL, data=url, table=TABLE)
    assert secret not in json.dumps(result.to_dict())
    assert result.source == "table 'eng_orders' in postgresql+psycopg://postgres:***@127.0.0.1:1/x"


@pytest.mark.mariadb
def test_a_wrong_password_is_retryable_and_masked(mariadb_url: str) -> None:
    secret = "n0t-the-Pa55word"
    url = sa.make_url(mariadb_url)
    plain = f"mysql://{url.username}:{secret}@{url.host}:{url.port}/{url.database}"
    error = source_error(NOT_NULL, data=plain, table=TABLE)
    assert error.retryable
    assert "Access denied" in str(error)
    assert secret not in str(error) and f"{url.username}:***@" in str(error)


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    error = source_error(NOT_NULL, data=f"sqlite:///{path}", table=TABLE)
    assert "no such SQLite database file" in str(error)
    assert not path.exists()


def test_an_invalid_url() -> None:
    error = source_error(NOT_NULL, data="postgresql://user:pw@host:notaport/db", table=TABLE)
    assert "pw" not in str(error).replace("postgresql", "")


# --------------------------------------------------------------------------- sessions


SESSION_QUERIES = {
    "postgresql": "SELECT current_setting('statement_timeout') AS timeout,"
    " current_setting('transaction_read_only') AS read_only,"
    " current_setting('TimeZone') AS zone",
    "mariadb": "SELECT CAST(@@max_statement_time AS CHAR) AS timeout,"
    " CASE WHEN @@tx_read_only = 1 THEN 'on' ELSE 'off' END AS read_only,"
    " @@session.time_zone AS zone",
}
EXPECTED = {
    "postgresql": {"timeout": "2500ms", "read_only": "on", "zone": "UTC"},
    "mariadb": {"timeout": "2.500000", "read_only": "on", "zone": "+00:00"},
}


def _session_check(database: Backend) -> dict[str, Any]:
    expected = EXPECTED[database.name]
    return {
        "dataset": "session",
        "source": {"url": database.url, "query": SESSION_QUERIES[database.name]},
        "checks": [
            {"type": "allowed", "column": column, "values": [value]}
            for column, value in expected.items()
        ],
    }


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_each_check_runs_read_only_in_utc_with_the_statement_timeout(
    name: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    database: Backend = request.getfixturevalue(f"backend_{name}")
    monkeypatch.setenv("OPSGUARD_STATEMENT_TIMEOUT", "2.5")
    result = validate(_session_check(database))
    assert [(c.name, c.status) for c in result.checks] == [
        (f"allowed({column})", "pass") for column in EXPECTED[name]
    ], [c.message for c in result.checks]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_a_statement_timeout_is_retryable(
    name: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    database: Backend = request.getfixturevalue(f"backend_{name}")
    database.load(orders(), TABLE)
    # 12^6 (three million) rows to join: far more than a millisecond of work.
    joined = ", ".join(f"{TABLE} t{i}" for i in range(6))
    contract = {
        **NOT_NULL,
        "source": {"url": database.url, "query": f"SELECT t0.order_id FROM {joined}"},
    }
    monkeypatch.setenv("OPSGUARD_STATEMENT_TIMEOUT", "0.001")
    error = source_error(contract)
    assert error.retryable
    assert "timed out" in str(error) and "OPSGUARD_STATEMENT_TIMEOUT" in str(error)


def test_an_invalid_statement_timeout(database: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGUARD_STATEMENT_TIMEOUT", "soon")
    error = source_error(NOT_NULL, data=database.url, table=TABLE)
    assert "OPSGUARD_STATEMENT_TIMEOUT='soon'" in str(error)


@pytest.mark.postgres
def test_a_query_cannot_write(backend_postgresql: Backend, table_name: str) -> None:
    database = backend_postgresql
    database.execute(f"CREATE SEQUENCE {table_name}")
    contract = {
        **NOT_NULL,
        "source": {"url": database.url, "query": f"SELECT nextval('{table_name}') AS order_id"},
    }
    error = source_error(contract)
    assert "read-only transaction" in str(error)
    assert database.execute(f"SELECT last_value, is_called FROM {table_name}") == [(1, False)]


# --------------------------------------------------------------------------- Airflow connections


@pytest.mark.postgres
def test_an_airflow_connection_through_airflow(
    backend_postgresql: Backend, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend_postgresql.load(orders(), TABLE)
    url = sa.make_url(postgres_url)
    connection = {
        "conn_type": "postgres",
        "host": url.host,
        "port": url.port,
        "login": url.username,
        "password": "ignored-by-trust-auth",
        "schema": url.database,
    }
    monkeypatch.setenv("AIRFLOW_CONN_OPSGUARD_WAREHOUSE", json.dumps(connection))
    contract = {**NOT_NULL, "source": {"conn_id": "opsguard_warehouse", "table": TABLE}}
    result = validate(contract)
    assert (result.status, result.rows) == ("pass", 12)
    assert result.source == "table 'eng_orders' in Airflow connection 'opsguard_warehouse'"

    missing = {**NOT_NULL, "source": {"conn_id": "opsguard_nowhere", "table": TABLE}}
    error = source_error(missing)
    assert "opsguard_nowhere" in str(error)
    assert not error.retryable


def test_an_airflow_connection_without_airflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "airflow", None)
    monkeypatch.setitem(sys.modules, "airflow.sdk", None)
    contract = {**NOT_NULL, "source": {"conn_id": "warehouse", "table": TABLE}}
    error = source_error(contract)
    assert "Airflow is not installed" in str(error) and "source.url" in str(error)
    assert not error.retryable


def test_an_airflow_connection_from_validate_and_opsguard_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The entry points above the pipeline hand in Airflow's connection resolver.
    database = tmp_path / "shop.db"
    engine = sa.create_engine(f"sqlite:///{database}")
    orders().to_sql(TABLE, engine, index=False, dtype=SQL_TYPES)
    engine.dispose()
    connection = {"conn_type": "sqlite", "host": str(database)}
    monkeypatch.setenv("AIRFLOW_CONN_OPSGUARD_SHOP", json.dumps(connection))
    contract = {**NOT_NULL, "source": {"conn_id": "opsguard_shop", "table": TABLE}}
    result = validate(contract)
    assert (result.status, result.rows) == ("pass", 12)
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(contract))
    assert main(["check", str(path), "--no-store", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 12


def _sqlite_connection(
    monkeypatch: pytest.MonkeyPatch, path: Path, conn_id: str, rows: int
) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    orders().head(rows).to_sql(TABLE, engine, index=False, dtype=SQL_TYPES)
    orders().head(rows).to_sql("other_orders", engine, index=False, dtype=SQL_TYPES)
    engine.dispose()
    connection = {"conn_type": "sqlite", "host": str(path)}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(connection))


def test_a_connection_override_keeps_what_the_contract_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's conn_id= replaces the contract's connection, not its table or
    query: a contract written against a development database runs on production."""
    _sqlite_connection(monkeypatch, tmp_path / "dev.db", "opsguard_dev", 3)
    _sqlite_connection(monkeypatch, tmp_path / "prod.db", "opsguard_prod", 12)
    by_table = {**NOT_NULL, "source": {"url": f"sqlite:///{tmp_path / 'dev.db'}", "table": TABLE}}
    by_query = {
        **NOT_NULL,
        "source": {"conn_id": "opsguard_dev", "query": f"SELECT * FROM {TABLE} LIMIT 5"},
    }

    def rows(contract: dict[str, Any], **override: Any) -> tuple[int | None, str]:
        result = run_gate(contract, connections=engine_for_conn_id, **override).result
        assert result is not None and result.status == "pass", result and result.error
        return result.rows, result.source

    assert rows(by_table)[0] == 3
    assert rows(by_table, conn_id="opsguard_prod") == (
        12,
        f"table '{TABLE}' in Airflow connection 'opsguard_prod'",
    )
    assert rows(by_query, conn_id="opsguard_prod")[0] == 5  # the query, on production
    assert rows(by_query, conn_id="opsguard_prod", table="other_orders")[0] == 12


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (None, "give table= as well"),
        ({"path": "orders.parquet"}, "give table= as well"),  # a local file
    ],
)
def test_a_connection_override_with_nothing_to_read_names_the_connection(
    source: dict[str, Any] | None, message: str
) -> None:
    from airflow_opsguard import ContractError

    contract = {**NOT_NULL, **({"source": source} if source else {})}
    with pytest.raises(ContractError, match=message) as raised:
        run_gate(contract, conn_id="opsguard_prod")
    assert "conn_id='opsguard_prod'" in str(raised.value)


def test_a_connection_id_without_a_resolver_is_a_one_line_error() -> None:
    # The pipeline below the Airflow layer resolves no connection id by itself: only
    # the entry points (validate(), the operators, the CLI) hand in Airflow's resolver.
    contract = {**NOT_NULL, "source": {"conn_id": "warehouse", "table": TABLE}}
    run = run_gate(contract)
    assert run.result is not None and run.result.status == "error"
    error = run.result.error or ""
    assert "'warehouse'" in error and "source.url" in error and "\n" not in error
    with pytest.raises(DataSourceError, match="nothing resolves one here"):
        measure(load_contract(contract))


def test_a_relative_sqlite_file_is_read_from_the_contract_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    engine = sa.create_engine(f"sqlite:///{folder / 'orders.db'}")
    orders().to_sql(TABLE, engine, index=False, dtype=SQL_TYPES)
    engine.dispose()
    path = folder / "orders.yml"
    path.write_text(
        f"dataset: orders\nsource:\n  url: sqlite:///orders.db\n  table: {TABLE}\n"
        "volume: {min_rows: 12, max_rows: 12}\n"
    )
    monkeypatch.chdir(tmp_path)
    result = validate(str(path))
    assert (result.status, result.rows) == ("pass", 12)
    assert not (tmp_path / "orders.db").exists()


def test_a_query_ending_in_a_comment(database: Backend) -> None:
    database.load(orders(), TABLE)
    query = f"SELECT * FROM {TABLE} -- every order"
    result = validate({**NOT_NULL, "source": {"url": database.url, "query": query}})
    assert (result.status, result.rows) == ("pass", 12)


def test_a_view_is_checked_like_a_table(database: Backend, table_name: str) -> None:
    database.load(orders(), TABLE)
    database.execute(f"CREATE VIEW {table_name} AS SELECT * FROM {TABLE} WHERE order_id < 4")
    result = validate(NOT_NULL, data=database.url, table=table_name)
    assert (result.status, result.rows) == ("pass", 3)


def test_a_duckdb_database_file(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "orders.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.register("frame", orders())
        connection.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM frame")
    contract = {
        "dataset": "orders",
        "schema": {
            "columns": [{"name": "amount", "type": "float", "min": 0}],
            "extra_columns": "allow",
        },
    }
    by_table = validate(contract, data=f"duckdb:///{path}", table=TABLE)
    assert [(c.name, c.status, c.failing_count) for c in by_table.checks] == [
        ("schema(amount)", "pass", None),
        ("range(amount)", "fail", 1),
    ]
    query = f"SELECT amount FROM {TABLE} WHERE amount >= 0"
    by_query = validate({**contract, "source": {"url": f"duckdb:///{path}", "query": query}})
    assert (by_query.status, by_query.rows) == ("pass", 10)


@pytest.mark.parametrize(
    ("fixture", "wait_briefly"),
    [
        ("postgres_url", "SET lock_timeout = '50ms'"),
        ("mariadb_url", "SET SESSION innodb_lock_wait_timeout = 1"),
    ],
)
def test_a_lock_another_transaction_holds_is_a_conflict_to_run_again(
    fixture: str, wait_briefly: str, request: pytest.FixtureRequest
) -> None:
    """What a gate's store transaction meets when another gate's holds the same rows:
    a conflict (run it again), not a broken database."""
    from airflow_opsguard.engines.sql_errors import is_conflict

    engine = sa.create_engine(request.getfixturevalue(fixture))
    table = f"locked_{uuid.uuid4().hex[:8]}"
    try:
        with engine.begin() as setup:
            setup.exec_driver_sql(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, n INTEGER)")
            setup.exec_driver_sql(f"INSERT INTO {table} VALUES (1, 0)")
        with engine.connect() as holder, engine.connect() as waiter:
            holder.exec_driver_sql(f"UPDATE {table} SET n = 1 WHERE id = 1")  # not committed
            waiter.exec_driver_sql(wait_briefly)
            with pytest.raises(sa.exc.DBAPIError) as raised:
                waiter.exec_driver_sql(f"UPDATE {table} SET n = 2 WHERE id = 1")
            holder.rollback()
        assert is_conflict(raised.value)
        with engine.connect() as other, pytest.raises(sa.exc.DBAPIError) as missing:
            other.exec_driver_sql(f"SELECT * FROM no_such_{table}")
        assert not is_conflict(missing.value)  # a missing table is no race
    finally:
        with engine.begin() as cleanup:
            cleanup.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        engine.dispose()
