"""Native types map onto the contract's types per dialect, the same way whether the
catalogue describes a table or the cursor describes a query."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from engine_backends import Backend

from airflow_opsguard.checks.observations import ObservedColumn
from airflow_opsguard.engines.measuring import measure
from airflow_opsguard.engines.types import from_sqlalchemy
from airflow_opsguard.formats import load_contract

# column: (DDL type, contract type, timezone-aware); None: no contract type.
POSTGRESQL: dict[str, tuple[str, str | None, bool]] = {
    "n_numeric": ("NUMERIC", "decimal", False),
    "n_numeric_10_2": ("NUMERIC(10, 2)", "decimal", False),
    "n_numeric_10_0": ("NUMERIC(10, 0)", "integer", False),
    "i_integer": ("INTEGER", "integer", False),
    "i_bigint": ("BIGINT", "integer", False),
    "i_smallint": ("SMALLINT", "integer", False),
    "f_double": ("DOUBLE PRECISION", "float", False),
    "f_real": ("REAL", "float", False),
    "s_text": ("TEXT", "string", False),
    "s_varchar": ("VARCHAR(10)", "string", False),
    "s_char": ("CHAR(3)", "string", False),
    "s_uuid": ("UUID", "string", False),
    "b_boolean": ("BOOLEAN", "boolean", False),
    "d_date": ("DATE", "date", False),
    "t_timestamp": ("TIMESTAMP", "timestamp", False),
    "t_timestamptz": ("TIMESTAMPTZ", "timestamp", True),
    "x_jsonb": ("JSONB", None, False),
    "x_interval": ("INTERVAL", None, False),
    "x_bytea": ("BYTEA", None, False),
}
MARIADB: dict[str, tuple[str, str | None, bool]] = {
    "b_tinyint_1": ("TINYINT(1)", "boolean", False),
    "b_boolean": ("BOOLEAN", "boolean", False),
    "i_tinyint": ("TINYINT", "integer", False),
    "i_int": ("INT", "integer", False),
    "i_bigint": ("BIGINT", "integer", False),
    "n_decimal": ("DECIMAL(10, 2)", "decimal", False),
    "n_decimal_10_0": ("DECIMAL(10, 0)", "integer", False),
    "f_double": ("DOUBLE", "float", False),
    "f_float": ("FLOAT", "float", False),
    "s_varchar": ("VARCHAR(10)", "string", False),
    "s_text": ("TEXT", "string", False),
    "s_enum": ("ENUM('a', 'b')", "string", False),
    "d_date": ("DATE", "date", False),
    "t_datetime": ("DATETIME", "timestamp", False),
    "t_timestamp": ("TIMESTAMP NULL", "timestamp", False),
    "x_blob": ("BLOB", None, False),
    "x_year": ("YEAR", None, False),
}
SQLITE: dict[str, tuple[str, str | None, bool]] = {
    "i_int": ("INT", "integer", False),
    "i_integer": ("INTEGER", "integer", False),
    "i_bigint": ("BIGINT", "integer", False),
    "f_real": ("REAL", "float", False),
    "f_double": ("DOUBLE", "float", False),
    "f_double_precision": ("DOUBLE PRECISION", "float", False),
    "f_float": ("FLOAT", "float", False),
    "n_numeric": ("NUMERIC", "decimal", False),
    "n_decimal": ("DECIMAL(10, 2)", "decimal", False),
    "s_text": ("TEXT", "string", False),
    "s_varchar": ("VARCHAR(10)", "string", False),
    "s_nvarchar": ("NVARCHAR(5)", "string", False),
    "s_clob": ("CLOB", "string", False),
    "b_boolean": ("BOOLEAN", "boolean", False),
    "d_date": ("DATE", "date", False),
    "t_datetime": ("DATETIME", "timestamp", False),
    "t_timestamp": ("TIMESTAMP", "timestamp", False),
    "x_blob": ("BLOB", None, False),
    # No declared type: typed from its values.
    "u_untyped": ("", "integer", False),
}
CATALOGUES = {"postgresql": POSTGRESQL, "mariadb": MARIADB, "sqlite": SQLITE}
VALUES = {"u_untyped": "42"}


def _create(
    database: Backend, table: str, columns: dict[str, tuple[str, str | None, bool]]
) -> None:
    ddl = ", ".join(f"{name} {native}" for name, (native, _, _) in columns.items())
    database.execute(f"CREATE TABLE {table} ({ddl})")
    if VALUES.keys() & columns.keys():
        names = ", ".join(VALUES)
        database.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join(VALUES.values())})")


def _observed(database: Backend, **source: Any) -> dict[str, ObservedColumn]:
    contract = load_contract({"dataset": "types", "source": {"url": database.url, **source}})
    return {c.name: c for c in measure(contract).columns}


def test_catalogue_types_map_per_dialect(database: Backend, table_name: str) -> None:
    expected = CATALOGUES[database.name]
    _create(database, table_name, expected)
    from_table = _observed(database, table=table_name)
    from_query = _observed(database, query=f"SELECT * FROM {table_name}")
    for observed in (from_table, from_query):
        assert list(observed) == list(expected)
        found = {n: (c.type, c.timezone_aware) for n, c in observed.items()}
        assert found == {n: (kind, aware) for n, (_, kind, aware) in expected.items()}


@pytest.mark.postgres
def test_native_types_read_as_postgresql_spells_them(
    backend_postgresql: Backend, table_name: str
) -> None:
    _create(backend_postgresql, table_name, POSTGRESQL)
    observed = _observed(backend_postgresql, table=table_name)
    assert observed["t_timestamptz"].native_type == "TIMESTAMP WITH TIME ZONE"
    assert observed["t_timestamp"].native_type == "TIMESTAMP WITHOUT TIME ZONE"
    assert observed["n_numeric_10_2"].native_type == "NUMERIC(10, 2)"
    by_query = _observed(backend_postgresql, query=f"SELECT t_timestamptz FROM {table_name}")
    assert by_query["t_timestamptz"].native_type == "TIMESTAMP WITH TIME ZONE"


@pytest.mark.mariadb
def test_mariadb_booleans_are_tinyint_1(backend_mariadb: Backend, table_name: str) -> None:
    _create(backend_mariadb, table_name, MARIADB)
    observed = _observed(backend_mariadb, table=table_name)
    assert (observed["b_boolean"].native_type, observed["b_boolean"].type) == (
        "TINYINT(1)",
        "boolean",
    )
    assert observed["i_tinyint"].type == "integer"


def test_from_sqlalchemy_without_a_dialect() -> None:
    from sqlalchemy.dialects import mysql, postgresql

    assert from_sqlalchemy("x", mysql.TINYINT(display_width=1)).type == "boolean"
    assert from_sqlalchemy("x", mysql.TINYINT()).type == "integer"
    aware = from_sqlalchemy("x", postgresql.TIMESTAMP(timezone=True))
    assert (aware.type, aware.timezone_aware) == ("timestamp", True)
    assert from_sqlalchemy("x", sa.Numeric(12, 0)).type == "integer"
    assert from_sqlalchemy("x", sa.Numeric()).type == "decimal"
    assert from_sqlalchemy("x", sa.JSON()).type is None
