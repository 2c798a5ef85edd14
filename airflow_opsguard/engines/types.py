"""Map the types that sources report onto the contract's column types."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from airflow_opsguard.checks.observations import ObservedColumn

_DUCKDB_TYPES: tuple[tuple[str, str], ...] = (
    (
        r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$",
        "integer",
    ),
    (r"^(FLOAT|DOUBLE|REAL)$", "float"),
    (r"^DECIMAL", "decimal"),
    (r"^(VARCHAR|STRING|TEXT|UUID)", "string"),
    (r"^BOOLEAN$", "boolean"),
    (r"^DATE$", "date"),
    (r"^TIMESTAMP", "timestamp"),
)


def from_duckdb(name: str, native: str) -> ObservedColumn:
    """A column as DuckDB describes it (``BIGINT``, ``TIMESTAMP WITH TIME ZONE``, ...)."""
    upper = native.upper()
    for pattern, kind in _DUCKDB_TYPES:
        if re.match(pattern, upper):
            return ObservedColumn(name, native, kind, timezone_aware="TIME ZONE" in upper)
    return ObservedColumn(name, native, None)


def from_sqlalchemy(name: str, type_: sa.types.TypeEngine[object]) -> ObservedColumn:
    """A column as a database catalogue describes it, through SQLAlchemy's inspector."""
    native = str(type_)
    kind: str | None = None
    aware = False
    if isinstance(type_, sa.Boolean):
        kind = "boolean"
    elif isinstance(type_, sa.Integer):
        kind = "integer"
    elif isinstance(type_, sa.Float):
        kind = "float"
    elif isinstance(type_, sa.Numeric):
        kind = "integer" if (type_.scale == 0 and type_.precision) else "decimal"
    elif isinstance(type_, sa.DateTime):
        kind = "timestamp"
        aware = bool(type_.timezone)
    elif isinstance(type_, sa.Date):
        kind = "date"
    elif isinstance(type_, sa.String | sa.Enum | sa.Uuid):
        kind = "string"
    return ObservedColumn(name, native, kind, timezone_aware=aware)


def sqlalchemy_type(column: ObservedColumn) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type to bind values against a column of this kind."""
    types: dict[str | None, sa.types.TypeEngine[Any]] = {
        "integer": sa.BigInteger(),
        "float": sa.Float(),
        "decimal": sa.Numeric(),
        "string": sa.String(),
        "boolean": sa.Boolean(),
        "date": sa.Date(),
        "timestamp": sa.DateTime(timezone=column.timezone_aware),
    }
    return types.get(column.type, sa.types.NullType())
