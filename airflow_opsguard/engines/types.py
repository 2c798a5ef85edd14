"""Map the types that sources report onto the contract's column types."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.checks.observations import ObservedColumn

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

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


def from_sqlalchemy(
    name: str, type_: sa.types.TypeEngine[Any], dialect: Dialect | None = None
) -> ObservedColumn:
    """A column as a database catalogue describes it, through SQLAlchemy's inspector.

    With ``dialect``, the native type reads as that database spells it (``TIMESTAMP WITH
    TIME ZONE``, ``TINYINT(1)``) rather than in SQLAlchemy's generic spelling.
    """
    native = _native(type_, dialect)
    warehouse = _warehouse_timestamp(type_, dialect)
    if warehouse is not None:
        return ObservedColumn(name, native, "timestamp", timezone_aware=warehouse)
    if isinstance(type_, sa.types.TypeDecorator):  # a dialect's wrapper of a generic type
        type_ = type_.impl_instance
    kind: str | None = None
    aware = False
    if isinstance(type_, sa.Boolean) or _is_mysql_boolean(type_):
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


# Warehouse timestamps that SQLAlchemy's generic types miss: Snowflake's are types of
# their own, and a bare TIMESTAMP is an instant in BigQuery and Databricks (DATETIME and
# TIMESTAMP_NTZ are the naive ones).
_AWARE_BY_NAME = {"TIMESTAMP_TZ": True, "TIMESTAMP_LTZ": True, "TIMESTAMP_NTZ": False}
_INSTANT_TIMESTAMP_DIALECTS = ("bigquery", "databricks")


def _warehouse_timestamp(type_: sa.types.TypeEngine[Any], dialect: Dialect | None) -> bool | None:
    """Whether a warehouse timestamp type holds an instant; None for other types."""
    aware = _AWARE_BY_NAME.get(type(type_).__name__.upper())
    if aware is not None:
        return aware
    if (
        dialect is not None
        and dialect.name in _INSTANT_TIMESTAMP_DIALECTS
        and type(type_).__name__.upper() == "TIMESTAMP"
    ):
        return True
    return None


def _native(type_: sa.types.TypeEngine[Any], dialect: Dialect | None) -> str:
    if dialect is not None and not isinstance(type_, sa.types.NullType):
        try:
            return str(type_.compile(dialect=dialect))
        except sa.exc.SQLAlchemyError:
            pass
    return str(type_)


def _is_mysql_boolean(type_: sa.types.TypeEngine[Any]) -> bool:
    """MySQL and MariaDB spell BOOLEAN as TINYINT(1); the inspector reports the TINYINT."""
    from sqlalchemy.dialects.mysql import TINYINT

    return isinstance(type_, TINYINT) and type_.display_width == 1


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
