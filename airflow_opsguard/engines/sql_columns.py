"""The columns of a table or a query, typed as the database types them.

A table's columns come from the catalogue (SQLAlchemy's inspector). A query's come from
the cursor description of a zero-row probe, ``SELECT * FROM (query) LIMIT 0``, mapped
onto SQLAlchemy types per driver: PostgreSQL type OIDs, MySQL/MariaDB field types. SQLite
describes no types, so a temporary view of the query is reflected instead (the view
carries the declared types of the columns it selects); DuckDB describes them itself.
Columns still untyped (SQLite expressions, drivers we do not know) are typed from the
values of a few rows.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql

from airflow_opsguard.checks.observations import ObservedColumn
from airflow_opsguard.engines.types import from_duckdb, from_sqlalchemy
from airflow_opsguard.errors import DataSourceError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import TextClause
    from sqlalchemy.sql.selectable import FromClause, Subquery

_VALUE_ROWS = 100  # rows read to type columns the database leaves untyped
_UNTYPED = ""  # the native type of a column whose database states none

# PostgreSQL type OIDs (pg_type) of the types a contract can declare.
_PG_OIDS: dict[int, Any] = {
    16: sa.Boolean,
    20: sa.BigInteger,
    21: sa.SmallInteger,
    23: sa.Integer,
    25: sa.Text,
    700: postgresql.REAL,
    701: postgresql.DOUBLE_PRECISION,
    1042: sa.CHAR,
    1043: sa.VARCHAR,
    1082: sa.Date,
    1114: lambda: postgresql.TIMESTAMP(timezone=False),
    1184: lambda: postgresql.TIMESTAMP(timezone=True),
    1700: sa.Numeric,
    2950: sa.Uuid,
    19: sa.String,  # name
}

# MySQL/MariaDB field types (PyMySQL's FIELD_TYPE constants; the protocol's numbers).
_MY_INTEGERS = {2: mysql.SMALLINT, 3: mysql.INTEGER, 8: mysql.BIGINT, 9: mysql.MEDIUMINT}
_MY_OTHERS: dict[int, Any] = {
    4: mysql.FLOAT,
    5: mysql.DOUBLE,
    7: mysql.TIMESTAMP,
    10: mysql.DATE,
    11: mysql.TIME,
    12: mysql.DATETIME,
    13: mysql.YEAR,
    14: mysql.DATE,
    16: mysql.BIT,
    245: mysql.JSON,
}
_MY_TEXT = frozenset({15, 247, 248, 249, 250, 251, 252, 253, 254})
_MY_DECIMALS = frozenset({0, 246})
_MY_BINARY_CHARSET = 63


def table_columns(
    connection: Connection, name: str, schema: str | None
) -> tuple[ObservedColumn, ...]:
    """The columns of a table or view, from the database catalogue."""
    if connection.dialect.name == "duckdb":  # duckdb-engine cannot reflect its columns
        table = sa.table(name, schema=schema)
        return _duckdb(connection, sa.select(sa.literal_column("*")).select_from(table))
    reflected = sa.inspect(connection).get_columns(name, schema=schema)
    columns = [
        _reflected(reflected_name(c["name"], connection.dialect), c["type"], connection)
        for c in reflected
    ]
    if any(c.native_type == _UNTYPED for c in columns):
        table = sa.table(name, *(sa.column(c.name) for c in columns), schema=schema)
        columns = _typed_by_values(connection, table, columns)
    return tuple(columns)


def reflected_name(name: str, dialect: sa.Dialect) -> str:
    """A column's name as the database has it, from the name reflection gave.

    SQLAlchemy's MySQL/MariaDB dialect reads columns out of ``SHOW CREATE TABLE``, where a
    backtick in a name is written twice, and leaves it doubled (``a``b`` for ``a`b``):
    undone here. PostgreSQL and SQLite reflect quotes, spaces and accents as they are.
    """
    if dialect.name in ("mysql", "mariadb"):
        return name.replace("``", "`")
    return name


def _reflected(name: str, type_: Any, connection: Connection) -> ObservedColumn:
    if isinstance(type_, sa.types.NullType):  # no declared type (SQLite allows that)
        return ObservedColumn(name, _UNTYPED, None)
    return from_sqlalchemy(name, type_, connection.dialect)


def query_source(
    connection: Connection, text: str, alias: str
) -> tuple[Subquery, tuple[ObservedColumn, ...]]:
    """A query wrapped as a subquery, and its columns.

    Raises :class:`sqlalchemy.exc.DBAPIError` when the query does not run, and
    :class:`DataSourceError` when two of its columns share a name.
    """
    bare = _textual(text).columns().subquery(alias)
    probe: sa.Select[Any] = sa.select(sa.literal_column("*")).select_from(bare).limit(0)
    result: sa.CursorResult[Any] = connection.execute(probe)
    cursor = result.cursor
    description = list(cursor.description or ()) if cursor is not None else []
    raw_fields = getattr(getattr(cursor, "_result", None), "fields", None) or ()
    result.close()
    names = [str(d[0]) for d in description]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DataSourceError(
            f"the query returns several columns named {twice[0]!r}; name them apart (AS ...)"
        )
    query = _textual(text).columns(*(sa.column(n) for n in names)).subquery(alias)
    backend = connection.dialect.name
    if backend == "postgresql":
        columns = [_postgresql(d, connection) for d in description]
    elif backend in ("mysql", "mariadb"):
        charsets = [getattr(f, "charsetnr", None) for f in raw_fields]
        charsets += [None] * (len(description) - len(charsets))
        columns = [_mysql(d, charsets[i], connection) for i, d in enumerate(description)]
    elif backend == "sqlite":
        columns = _sqlite(connection, text)
    elif backend == "duckdb":
        columns = list(_duckdb(connection, sa.select(sa.literal_column("*")).select_from(query)))
    else:
        columns = [ObservedColumn(n, _UNTYPED, None) for n in names]
    if any(c.native_type == _UNTYPED for c in columns):
        columns = _typed_by_values(connection, query, columns)
    return query, tuple(columns)


def _textual(text: str) -> TextClause:
    # A colon in the user's SQL ('10:30', x::int) is text, never a bound parameter; the
    # line break ends a trailing -- comment before the subquery's closing parenthesis.
    return sa.text(text.replace(":", "\\:") + "\n")


def _postgresql(entry: Any, connection: Connection) -> ObservedColumn:
    name, oid = str(entry[0]), entry[1]
    factory = _PG_OIDS.get(oid)
    display = getattr(entry, "type_display", None) or f"oid {oid}"
    if factory is None:
        return ObservedColumn(name, str(display), None)
    if factory is sa.Numeric:
        precision, scale = entry[4], entry[5]
        type_: Any = sa.Numeric(precision, scale) if precision else sa.Numeric()
    else:
        type_ = factory()
    return from_sqlalchemy(name, type_, connection.dialect)


def _mysql(entry: Any, charset: int | None, connection: Connection) -> ObservedColumn:
    name, code, size, scale = str(entry[0]), entry[1], entry[3], entry[5]
    type_: Any
    if code == 1:  # TINY: TINYINT(1) is MySQL's BOOLEAN
        type_ = mysql.TINYINT(display_width=1) if size == 1 else mysql.TINYINT()
    elif code in _MY_INTEGERS:
        type_ = _MY_INTEGERS[code]()
    elif code in _MY_DECIMALS:
        digits = max(1, int(size or 1) - (1 if not scale else 2))
        type_ = mysql.DECIMAL(precision=digits, scale=int(scale or 0))
    elif code in _MY_OTHERS:
        type_ = _MY_OTHERS[code]()
    elif code in _MY_TEXT:
        binary = charset == _MY_BINARY_CHARSET
        type_ = mysql.VARBINARY(size) if binary else mysql.VARCHAR(size)
    else:
        return ObservedColumn(name, f"field type {code}", None)
    return from_sqlalchemy(name, type_, connection.dialect)


def _sqlite(connection: Connection, text: str) -> list[ObservedColumn]:
    """Reflect a temporary view of the query: it carries the declared column types."""
    view = f"opsguard_probe_{uuid.uuid4().hex[:12]}"
    quoted = connection.dialect.identifier_preparer.quote(view)
    connection.exec_driver_sql(f"CREATE TEMP VIEW {quoted} AS {text}")
    try:
        reflected = sa.inspect(connection).get_columns(view, schema="temp")
    finally:
        connection.exec_driver_sql(f"DROP VIEW IF EXISTS temp.{quoted}")
    return [_reflected(c["name"], c["type"], connection) for c in reflected]


def _duckdb(connection: Connection, select: sa.Select[Any]) -> tuple[ObservedColumn, ...]:
    """DuckDB describes a query's column types itself (``DESCRIBE SELECT ...``)."""
    sql = str(select.compile(dialect=connection.dialect))
    rows = connection.exec_driver_sql(f"DESCRIBE {sql}").all()
    return tuple(from_duckdb(str(row[0]), str(row[1])) for row in rows)


def _typed_by_values(
    connection: Connection, source: FromClause, columns: list[ObservedColumn]
) -> list[ObservedColumn]:
    """Type the columns the database leaves untyped (SQLite expressions and columns
    declared without a type) from the values of a few rows. A column without values
    stays typeless (``NULL``), which the plan measures as DuckDB's NULL columns."""
    untyped = [c.name for c in columns if c.native_type == _UNTYPED]
    statement = sa.select(*(source.c[name] for name in untyped)).limit(_VALUE_ROWS)
    rows = connection.execute(statement).all()
    found: dict[str, ObservedColumn] = {}
    for index, name in enumerate(untyped):
        values = [row[index] for row in rows if row[index] is not None]
        if not values:
            found[name] = ObservedColumn(name, "NULL", None)
            continue
        kind = _kind_of_values(values)
        shown = kind or "/".join(sorted({type(v).__name__ for v in values}))
        aware = kind == "timestamp" and all(v.tzinfo is not None for v in values)
        found[name] = ObservedColumn(name, f"untyped ({shown} values)", kind, aware)
    return [found.get(c.name, c) for c in columns]


def _kind_of_values(values: Sequence[Any]) -> str | None:
    kinds = set()
    for value in values:
        if isinstance(value, bool):
            kinds.add("boolean")
        elif isinstance(value, int):
            kinds.add("integer")
        elif isinstance(value, float):
            kinds.add("float")
        elif isinstance(value, Decimal):
            kinds.add("decimal")
        elif isinstance(value, str):
            kinds.add("string")
        elif isinstance(value, datetime):
            kinds.add("timestamp")
        elif isinstance(value, date):
            kinds.add("date")
        else:
            return None
    if kinds == {"integer", "float"}:
        return "float"
    return kinds.pop() if len(kinds) == 1 else None
