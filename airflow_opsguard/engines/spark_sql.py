"""Spark SQL as a SQLAlchemy dialect, over a SparkSession, so that the one plan runs on Spark.

The plan (:mod:`airflow_opsguard.engines.plan`) is SQLAlchemy Core and the executor
(:mod:`airflow_opsguard.engines.executor`) runs it on a SQLAlchemy connection. This
module gives it one on Spark: a small dialect (backtick quoting, ``RLIKE``, typed
date and timestamp literals, ``LIMIT n``) and a DB-API connection whose cursor runs each
statement with ``spark.sql(text, args=...)`` and collects its rows. The executor only
sends aggregates and LIMITed samples, so only those reach the driver.

Values are bound as Spark's named parameters (strings reach Spark as they are, whatever
``spark.sql.parser.escapedStringLiterals`` says); dates and timestamps are written as
typed literals (``TIMESTAMP '...+00:00'``, ``TIMESTAMP_NTZ '...'``), whose meaning does
not depend on the session's or the driver's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import registry
from sqlalchemy.engine import default
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import compiler
from sqlalchemy.sql.compiler import SQLCompiler

from airflow_opsguard.engines.dialects import regex_search

DIALECT_NAME = "spark"
_URL_SCHEME = "opsguard_spark"

# ------------------------------------------------------------------------- the dialect


@compiles(regex_search, DIALECT_NAME)
def _regex_spark(element: regex_search, compiler: SQLCompiler, **kw: Any) -> str:
    # RLIKE finds a match anywhere in the value (Java's Matcher.find), as re.search does.
    value, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{value} RLIKE {pattern}"


class SparkCompiler(compiler.SQLCompiler):
    """Spark SQL: ``LIMIT n`` written out, dates and timestamps as typed literals."""

    def visit_bindparam(self, bindparam: Any, **kw: Any) -> str:  # type: ignore[override]
        value = bindparam.effective_value if not bindparam.expanding else None
        if isinstance(value, date) or _temporal_list(bindparam):
            kw["literal_execute"] = True  # rendered by render_literal_value below
        return str(super().visit_bindparam(bindparam, **kw))  # type: ignore[no-untyped-call]

    def render_literal_value(self, value: Any, type_: Any) -> str:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                return f"TIMESTAMP_NTZ '{value.isoformat(sep=' ')}'"
            return f"TIMESTAMP '{value.astimezone(UTC).isoformat(sep=' ')}'"
        if isinstance(value, date):
            return f"DATE '{value.isoformat()}'"
        return str(super().render_literal_value(value, type_))

    def limit_clause(self, select: Any, **kw: Any) -> str:
        text = ""
        if select._limit_clause is not None:
            text += f"\n LIMIT {int(select._limit)}"
        if select._offset_clause is not None:
            text += f"\n OFFSET {int(select._offset)}"
        return text


def _temporal_list(bindparam: Any) -> bool:
    if not bindparam.expanding or not bindparam.value:
        return False
    return all(isinstance(v, date) for v in bindparam.value)


class SparkIdentifierPreparer(compiler.IdentifierPreparer):
    """Backticks around every name: Spark folds nothing, so names are kept as written."""

    def __init__(self, dialect: default.DefaultDialect) -> None:
        super().__init__(dialect, initial_quote="`", escape_quote="`")

    def _requires_quotes(self, value: str) -> bool:
        return True


class SparkDialect(default.DefaultDialect):
    """Just enough of a dialect to compile and run the plan's SELECTs on Spark SQL."""

    name = DIALECT_NAME
    driver = "pyspark"
    paramstyle = "named"
    statement_compiler = SparkCompiler
    preparer = SparkIdentifierPreparer  # type: ignore[assignment]
    supports_statement_cache = True
    supports_native_boolean = True
    supports_native_decimal = True
    supports_multivalues_insert = False
    supports_sane_rowcount = False
    supports_server_side_cursors = False
    default_paramstyle = "named"
    max_identifier_length = 1024
    div_is_floordiv = False

    @classmethod
    def import_dbapi(cls) -> Any:
        import airflow_opsguard.engines.spark_sql as module

        return module

    def do_rollback(self, dbapi_connection: Any) -> None:
        """Spark has no transactions: nothing to roll back."""

    def do_commit(self, dbapi_connection: Any) -> None:
        """Spark has no transactions: nothing to commit."""

    def get_isolation_level(self, dbapi_connection: Any) -> Any:
        raise NotImplementedError

    def do_ping(self, dbapi_connection: Any) -> bool:
        return True


registry.register(_URL_SCHEME, __name__, "SparkDialect")


def spark_engine(session: Any, classify: Callable[[BaseException], type[Error]]) -> sa.Engine:
    """A SQLAlchemy engine whose connections run statements on ``session``.

    ``classify`` picks the DB-API error class of a Spark exception (an
    :class:`OperationalError` for a session that is gone, which makes the gate retry)."""
    return sa.create_engine(
        f"{_URL_SCHEME}://",
        creator=lambda: Connection(session, classify),
        poolclass=sa.pool.NullPool,
    )


# ---------------------------------------------------------------- the DB-API (PEP 249)

apilevel = "2.0"
threadsafety = 2  # connections may be shared: they are views of one SparkSession
paramstyle = "named"


class Error(Exception):
    """A Spark error (PEP 249's base class)."""


class Warning(Exception):  # PEP 249 names it so
    pass


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class DataError(DatabaseError):
    pass


class OperationalError(DatabaseError):
    """The session or the cluster failed (gone, unreachable), not the statement."""


class IntegrityError(DatabaseError):
    pass


class InternalError(DatabaseError):
    pass


class ProgrammingError(DatabaseError):
    """The statement is wrong for this data (a column, a type, a function)."""


class NotSupportedError(DatabaseError):
    pass


class Connection:
    """A DB-API connection on a SparkSession; closing it leaves the session alone."""

    def __init__(self, session: Any, classify: Callable[[BaseException], type[Error]]) -> None:
        self.session = session
        self.classify = classify

    def cursor(self) -> Cursor:
        return Cursor(self)

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


class Cursor:
    """Runs a statement on Spark and holds its (few) rows."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.description: list[tuple[Any, ...]] | None = None
        self.rowcount = -1
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, operation: str, parameters: Mapping[str, Any] | None = None) -> None:
        session = self.connection.session
        try:
            frame = session.sql(operation, args=dict(parameters) if parameters else None)
            fields = frame.schema.fields
            rows = frame.collect()
        except Exception as exc:  # pyspark's and py4j's errors share no base class
            raise self.connection.classify(exc)(spark_message(exc)) from exc
        converters = [_converter(f.dataType) for f in fields]
        self.description = [(f.name, f.dataType.simpleString(), *[None] * 5) for f in fields]
        self._rows = [
            tuple(convert(value) for convert, value in zip(converters, row, strict=True))
            for row in rows
        ]
        self.rowcount = len(self._rows)

    def executemany(self, operation: str, seq: Sequence[Mapping[str, Any]]) -> None:
        for parameters in seq:
            self.execute(operation, parameters)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        count = size or self.arraysize
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    def fetchall(self) -> list[tuple[Any, ...]]:
        taken, self._rows = self._rows, []
        return taken

    def close(self) -> None:
        self._rows = []

    def setinputsizes(self, sizes: Any) -> None:
        pass

    def setoutputsize(self, size: Any, column: Any = None) -> None:
        pass


def _converter(data_type: Any) -> Callable[[Any], Any]:
    """Python values as the other engines give them: a Spark TIMESTAMP (an instant) as
    an aware UTC datetime. PySpark hands it over naive, in the driver's local time."""
    if type(data_type).__name__ == "TimestampType":
        return _as_utc
    return _same


def _same(value: Any) -> Any:
    return value


def _as_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)  # a naive value is read as the driver's local time
    return value


def spark_message(exc: BaseException) -> str:
    """Spark's message in one line, without the JVM's stack trace and the plan it
    appends; for a py4j error, the Java exception rather than py4j's "An error
    occurred while calling o32.sql"."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].startswith("An error occurred while calling") and len(lines) > 1:
        return lines[1].removeprefix(": ")
    return lines[0]
