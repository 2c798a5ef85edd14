"""Checks the database proves: NOT NULL constraints, primary keys and unique indexes stand
in for scans on real SQLite, PostgreSQL and MariaDB tables, say so in their messages,
and prove nothing they do not guarantee (nullable compound keys, partial indexes)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from airflow_opsguard import validate

CONTRACT: dict[str, Any] = {
    "dataset": "proofs",
    "schema": {
        "columns": [
            {"name": "id", "type": "integer", "nullable": False, "unique": True},
            {"name": "code", "type": "string", "nullable": False, "unique": True},
            {"name": "a", "type": "integer", "nullable": False},
            {"name": "b", "type": "integer"},
        ]
    },
    "checks": [{"type": "unique", "columns": ["a", "b"]}],
}
# Rows legal under the constraints below: (a, b) repeats with a null b, which a unique
# index allows and a unique check counts as duplicated rows.
ROWS = [
    {"id": 1, "code": "x1", "a": 1, "b": None},
    {"id": 2, "code": "x2", "a": 1, "b": None},
    {"id": 3, "code": "x3", "a": 2, "b": 5},
]


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'proofs.db'}"
    fixture = "postgres_url" if request.param == "postgresql" else "mariadb_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement any engine runs during the test."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def make_table(url: str, *, constrained: bool) -> str:
    name = f"proofs_{uuid.uuid4().hex[:8]}"
    metadata = sa.MetaData()
    if constrained:
        table = sa.Table(
            name,
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False, nullable=False),
            sa.Column("code", sa.String(10), nullable=False, unique=True),
            sa.Column("a", sa.Integer, nullable=False),
            sa.Column("b", sa.Integer),
            sa.UniqueConstraint("a", "b", name=f"{name}_ab"),
        )
    else:
        table = sa.Table(
            name,
            metadata,
            sa.Column("id", sa.Integer),
            sa.Column("code", sa.String(10)),
            sa.Column("a", sa.Integer),
            sa.Column("b", sa.Integer),
        )
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(table.insert(), ROWS)
    finally:
        engine.dispose()
    return name


def by_name(result: Any) -> dict[str, Any]:
    return {c.name: c for c in result.checks}


def test_constraints_prove_checks_without_a_scan(url: str, statements: list[str]) -> None:
    table = make_table(url, constrained=True)
    statements.clear()
    checks = by_name(validate(CONTRACT, data=url, table=table))
    for name in ("unique(id)", "unique(code)", "not_null(id)", "not_null(code)", "not_null(a)"):
        assert checks[name].status == "pass", name
        assert "proven by the" in checks[name].message, name
        assert checks[name].message.endswith("(3 rows), not scanned"), checks[name].message
        assert checks[name].metrics["proven_by"], name
    assert "primary key" in checks["unique(id)"].message
    assert "unique" in checks["unique(code)"].metrics["proven_by"]
    assert "NOT NULL constraint" in checks["not_null(a)"].message
    # (a, b) is a unique constraint over a nullable column: no proof, and the rows
    # with a null b share their (a, b).
    compound = checks["unique(a, b)"]
    assert (compound.status, compound.failing_count) == ("fail", 2)
    assert "proven" not in compound.message
    # The uniqueness GROUP BYs (HAVING count(*) > 1): the compound check's alone.
    grouped = [s for s in statements if "HAVING COUNT(*) >" in s.upper()]
    assert len(grouped) == 1, grouped
    assert all('"id"' not in s and "`id`" not in s for s in grouped)


def test_unconstrained_table_is_scanned(url: str) -> None:
    table = make_table(url, constrained=False)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.table(table, sa.column("id"), sa.column("code"), sa.column("a")).insert(),
            [{"id": 1, "code": "x1", "a": None}],
        )
    engine.dispose()
    checks = by_name(validate(CONTRACT, data=url, table=table))
    assert all("proven" not in c.message for c in checks.values())
    assert (checks["unique(id)"].status, checks["unique(id)"].failing_count) == ("fail", 2)
    assert (checks["unique(code)"].failing_count, checks["not_null(a)"].failing_count) == (2, 1)
    assert checks["not_null(id)"].status == "pass"
    assert "checked" in checks["not_null(id)"].message


def test_partial_unique_index_proves_nothing(postgres_url: str) -> None:
    table = make_table(postgres_url, constrained=False)
    engine = sa.create_engine(postgres_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f'CREATE UNIQUE INDEX "{table}_partial" ON "{table}" (id) WHERE id > 100'
        )
        connection.exec_driver_sql(f'CREATE UNIQUE INDEX "{table}_expr" ON "{table}" ((b + 0))')
        connection.exec_driver_sql(f"INSERT INTO \"{table}\" VALUES (1, 'x9', 7, 1)")
    engine.dispose()
    contract = {
        "dataset": "partial",
        "schema": {
            "columns": [
                {"name": "id", "type": "integer", "unique": True},
                {"name": "b", "type": "integer", "unique": True},
            ]
        },
    }
    checks = by_name(validate(contract, data=postgres_url, table=table))
    assert (checks["unique(id)"].status, checks["unique(id)"].failing_count) == ("fail", 2)
    assert "proven" not in checks["unique(b)"].message


def test_a_query_source_is_never_proven(postgres_url: str) -> None:
    table = make_table(postgres_url, constrained=True)
    result = validate(
        {**CONTRACT, "source": {"url": postgres_url, "query": f'SELECT * FROM "{table}"'}}
    )
    assert all("proven" not in c.message for c in result.checks)
    assert by_name(result)["unique(id)"].status == "pass"
