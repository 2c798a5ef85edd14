"""Hostile input: column names that quoting rules make awkward, on every SQL backend.

A backtick, a double quote, a single quote, a blank and a non-ASCII letter in column
names. MySQL/MariaDB reflection writes a backtick twice (SQLAlchemy reads names out of
``SHOW CREATE TABLE``): the schema check must still find the column, and not_null and
unique must measure it, on SQLite, PostgreSQL and MariaDB alike.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from airflow_opsguard.engines.sql_columns import table_columns
from airflow_opsguard.pipeline import validate

NAMES = ["a`b", 'a"b', "a'b", "a b", "ä"]
BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@pytest.fixture(params=BACKENDS)
def data_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'awkward.db'}"
    return str(request.getfixturevalue(f"{request.param}_url"))


def make_table(url: str, rows: list[dict[str, Any]]) -> str:
    name = f"awkward_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table(name, meta, *(sa.Column(n, sa.Integer()) for n in NAMES))
    meta.create_all(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), rows)
    engine.dispose()
    return name


def contract(url: str, table: str) -> dict[str, Any]:
    return {
        "dataset": "awkward",
        "source": {"url": url, "table": table},
        "schema": {
            "columns": [
                {"name": n, "type": "integer", "nullable": False, "unique": True} for n in NAMES
            ],
            "extra_columns": "fail",
        },
    }


def test_reflection_gives_the_names_as_created(data_url: str) -> None:
    table = make_table(data_url, [dict.fromkeys(NAMES, 1)])
    engine = sa.create_engine(data_url)
    try:
        with engine.connect() as connection:
            found = [c.name for c in table_columns(connection, table, None)]
    finally:
        engine.dispose()
    assert found == NAMES


def test_awkward_column_names_pass_the_schema_check(data_url: str) -> None:
    rows = [{n: i * 10 + k for k, n in enumerate(NAMES)} for i in range(1, 6)]
    table = make_table(data_url, rows)
    result = validate(contract(data_url, table))
    assert result.error is None, result.error
    failing = {c.name: c.message for c in result.checks if c.status != "pass"}
    assert failing == {}
    assert result.status == "pass"
    checked = {c.column for c in result.checks if c.type in ("not_null", "unique")}
    assert checked == set(NAMES)


def test_not_null_and_unique_measure_awkward_columns(data_url: str) -> None:
    rows: list[dict[str, Any]] = [dict.fromkeys(NAMES, i) for i in range(1, 5)]
    rows.append({n: (None if n == "a`b" else 1 if n == 'a"b' else 99) for n in NAMES})
    table = make_table(data_url, rows)
    result = validate(contract(data_url, table))
    assert result.error is None, result.error
    assert result.status == "fail"
    by_kind = {(c.type, c.column): c for c in result.checks if c.type in ("not_null", "unique")}
    assert by_kind[("not_null", "a`b")].status == "fail"
    assert by_kind[("not_null", "a`b")].failing_count == 1
    assert by_kind[("unique", 'a"b')].status == "fail"
    schema = [c for c in result.checks if c.type == "schema"]
    assert schema and all(c.status == "pass" for c in schema)
    others = [
        c
        for (kind, column), c in by_kind.items()
        if (kind, column) not in {("not_null", "a`b"), ("unique", 'a"b')}
    ]
    assert [c.name for c in others if c.status != "pass"] == []
