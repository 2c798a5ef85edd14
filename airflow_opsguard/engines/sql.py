"""The SQL pushdown engine: the contract's plan of aggregates runs inside the database.

The plan is the one every engine runs (:mod:`airflow_opsguard.engines.plan`), compiled
for the database's dialect: one aggregate scan, a GROUP BY per unique check, and a few
LIMITed sample queries for checks that fail. Only those aggregates and samples cross
the wire, so a check on a billion rows costs the client what one on a thousand does.

The source (:class:`~airflow_opsguard.engines.sources.DatabaseSource`) is a table
(``schema.table`` allowed; names are looked up in the catalogue and quoted by SQLAlchemy,
never formatted into SQL) or a query, wrapped as a subquery.

Each check runs on a connection of its own with, where the database supports them,

- a statement timeout: ``$OPSGUARD_STATEMENT_TIMEOUT`` seconds (default 300; ``0``
  turns it off). PostgreSQL ``statement_timeout``; MariaDB ``max_statement_time``;
  MySQL ``max_execution_time``; Snowflake ``STATEMENT_TIMEOUT_IN_SECONDS``; Databricks
  SQL ``STATEMENT_TIMEOUT``; Trino ``query_max_execution_time``. SQLite, BigQuery and
  other dialects: not supported.
- read-only transactions (PostgreSQL, MySQL and MariaDB), so a query cannot write;
- the UTC time zone (PostgreSQL, MySQL and MariaDB), so naive timestamps read as UTC.

Snowflake and Databricks SQL are set to UTC too (:func:`warehouse_session`); no
warehouse has read-only sessions: docs/warehouses.md says what a gate's role needs.

A table's NOT NULL constraints, primary key and unique indexes prove the checks they
guarantee, which then scan nothing (:mod:`airflow_opsguard.engines.proofs`).

The connection is discarded afterwards, so these settings never reach a pool.
"""

from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.engines.connections import (
    create_engine,
    normalise_url,
    resolve_conn_id,
)
from airflow_opsguard.engines.executor import DEFAULT_SAMPLE_SIZE, Parallel, run_plan
from airflow_opsguard.engines.opened import OpenedSource
from airflow_opsguard.engines.proofs import NO_PROOFS, Proofs, read_proofs
from airflow_opsguard.engines.relations import OTHER_ALIAS, OtherNotFound, OtherRelation
from airflow_opsguard.engines.sources import DatabaseSource
from airflow_opsguard.engines.sql_columns import query_source, table_columns
from airflow_opsguard.engines.sql_errors import is_retryable, is_timeout, reason
from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.urls import mask_text, mask_url

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.selectable import FromClause

    from airflow_opsguard.checks.observations import Observations, ObservedColumn
    from airflow_opsguard.contract.models import Contract, ReconcileTarget, ReferenceTarget
    from airflow_opsguard.drift.reference import Reference
    from airflow_opsguard.engines.opened import AfterMeasuring
    from airflow_opsguard.engines.relations import OtherResolver

STATEMENT_TIMEOUT_ENV = "OPSGUARD_STATEMENT_TIMEOUT"
DEFAULT_STATEMENT_TIMEOUT = 300.0  # seconds
QUERY_ALIAS = "opsguard_query"


def statement_timeout() -> float | None:
    """``$OPSGUARD_STATEMENT_TIMEOUT`` in seconds (default 300); None when turned off."""
    text = os.environ.get(STATEMENT_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_STATEMENT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        raise DataSourceError(
            f"{STATEMENT_TIMEOUT_ENV}={text!r}: give a number of seconds (0 turns it off)"
        ) from None
    if seconds != seconds or seconds < 0:
        raise DataSourceError(f"{STATEMENT_TIMEOUT_ENV}={text!r}: give a number of seconds")
    return seconds or None


def measure_database(
    contract: Contract,
    source: DatabaseSource,
    *,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    timeout: float | None = None,
    reference: Reference | None = None,
    then: AfterMeasuring | None = None,
) -> Observations:
    """Measure every check of ``contract`` on a database table or query; ``reference``
    is the distribution reference, loaded by the caller. ``then`` is handed the table or
    query on the same checking connection once it is measured (a profile reads it there).

    ``timeout`` is the statement timeout in seconds (default: ``$OPSGUARD_STATEMENT_TIMEOUT``,
    else 300; 0 turns it off). Raises :class:`DataSourceError`, with ``retryable=True``
    when the database failed (unreachable, wrong password, timeout) rather than the
    request (a missing table, a query that does not parse).
    """
    timeout = statement_timeout() if timeout is None else (timeout or None)
    engine = _engine(source)
    failure = _Failure(source, engine.url, timeout)
    try:
        with _checking_connection(engine, failure) as connection:
            relation, columns, fingerprint = _relation(connection, source, failure)
            observations = run_plan(
                connection,
                contract,
                relation,
                columns,
                source_name=source.name,
                fingerprint=fingerprint,
                sample_size=sample_size,
                classify_error=failure.infrastructure,
                others=_other_tables(connection, source),
                reference=reference,
                parallel=_beside_the_scan(engine, failure),
                proofs=_proofs(connection, relation, contract, failure),
            )
            if then is not None:
                explain = partial(_explain, source, failure)
                then(OpenedSource(connection, relation, tuple(columns), source.name, explain))
            return observations
    finally:
        if source.engine is None:  # ours: close it; a caller's engine stays theirs
            engine.dispose()


def _proofs(
    connection: Connection, relation: FromClause, contract: Contract, failure: _Failure
) -> Proofs:
    """The table's constraints that prove checks (none for a query)."""
    if not isinstance(relation, sa.TableClause):
        return NO_PROOFS
    try:
        return read_proofs(connection, relation.name, relation.schema, contract)
    except sa.exc.DBAPIError:
        # A proof only saves work: a catalogue a dialect cannot read (DuckDB's has no
        # pg_catalog.pg_collation for duckdb_engine's constraint queries) proves nothing,
        # and the checks scan.
        _rollback(connection)
        return NO_PROOFS


def _beside_the_scan(engine: sa.Engine, failure: _Failure) -> Parallel | None:
    """A server runs the uniqueness GROUP BYs beside the main scan, each on a checking
    connection of its own (at most two more); SQLite's in-memory databases are one per
    connection, so it runs them one after the other."""
    if engine.dialect.name == "sqlite":
        return None
    return Parallel(partial(_checking_connection, engine, failure), workers=2)


@contextmanager
def open_database(
    source: DatabaseSource, *, timeout: float | None = None
) -> Iterator[OpenedSource]:
    """A table or query opened for work other than a contract's checks (profiles), on a
    checking connection: read-only, UTC, with the statement timeout."""
    timeout = statement_timeout() if timeout is None else (timeout or None)
    engine = _engine(source)
    failure = _Failure(source, engine.url, timeout)
    explain = partial(_explain, source, failure)
    try:
        with _checking_connection(engine, failure) as connection:
            relation, columns, _ = _relation(connection, source, failure)
            yield OpenedSource(connection, relation, columns, source.name, explain)
    finally:
        if source.engine is None:
            engine.dispose()


def _explain(source: DatabaseSource, failure: _Failure, exc: BaseException) -> DataSourceError:
    """A failed query on an opened source, as one line that names the source."""
    if isinstance(exc, sa.exc.DBAPIError):
        return failure.error(exc, "a query failed")
    return DataSourceError(f"{source.name}: {exc}")


def _engine(source: DatabaseSource) -> sa.Engine:
    if source.engine is not None:
        return source.engine
    if source.conn_id is not None:
        return resolve_conn_id(source.conn_id)
    return create_engine(normalise_url(source.url or ""))


@contextmanager
def _checking_connection(engine: sa.Engine, failure: _Failure) -> Iterator[Connection]:
    """A connection prepared for checking, discarded (never pooled) afterwards."""
    try:
        connection = engine.connect()
    except sa.exc.DBAPIError as exc:
        raise failure.connecting(exc) from None
    try:
        try:
            _prepare_session(connection, failure.timeout)
        except sa.exc.DBAPIError as exc:
            raise failure.error(exc, "cannot prepare the session") from None
        yield connection
    finally:
        try:
            connection.invalidate()  # close the DB-API connection: no setting reaches a pool
        finally:
            connection.close()


def _prepare_session(connection: Connection, timeout: float | None) -> None:
    backend = connection.dialect.name
    if backend == "postgresql":
        settings = (
            "SELECT set_config('default_transaction_read_only', 'on', false),"
            " set_config('TimeZone', 'UTC', false)"
        )
        values: dict[str, str] = {}
        if timeout is not None:
            settings += ", set_config('statement_timeout', :milliseconds, false)"
            values["milliseconds"] = str(max(1, round(timeout * 1000)))
        connection.execute(sa.text(settings), values)
    elif backend in ("mysql", "mariadb"):
        connection.execute(sa.text("SET SESSION time_zone = '+00:00'"))
        connection.execute(sa.text("SET SESSION TRANSACTION READ ONLY"))
        if timeout is not None:
            if getattr(connection.dialect, "is_mariadb", False):
                statement = "SET SESSION max_statement_time = :seconds"
                connection.execute(sa.text(statement), {"seconds": max(0.001, round(timeout, 3))})
            else:
                statement = "SET SESSION max_execution_time = :ms"
                connection.execute(sa.text(statement), {"ms": max(1, round(timeout * 1000))})
    elif backend in WAREHOUSES:
        for statement in warehouse_session(backend, timeout):
            connection.execute(sa.text(statement))
    else:
        return
    # Commit, so that the settings hold for the session, whatever is rolled back later.
    connection.commit()


# Dialects whose sessions take settings by statements of their own (docs/warehouses.md).
WAREHOUSES = ("snowflake", "databricks", "trino")


def warehouse_session(backend: str, timeout: float | None) -> list[str]:
    """The statements that prepare a warehouse session: UTC where the session has a time
    zone, and the statement timeout (whole seconds, at least one). None of these
    warehouses has a read-only session: a gate's role grants SELECT only (see
    docs/warehouses.md). BigQuery has no session settings (a job cap is its URL's
    ``maximum_bytes_billed``)."""
    seconds = None if timeout is None else max(1, round(timeout))
    if backend == "snowflake":
        statements = [
            "ALTER SESSION SET TIMEZONE = 'UTC'",
            "ALTER SESSION SET QUERY_TAG = 'airflow-opsguard'",
        ]
        if seconds is not None:
            statements.append(f"ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = {seconds}")
        return statements
    if backend == "databricks":
        statements = ["SET TIME ZONE 'UTC'"]
        if seconds is not None:
            statements.append(f"SET STATEMENT_TIMEOUT = {seconds}")
        return statements
    if backend == "trino":
        # Trino's naive timestamps are read as UTC whatever the session's zone; its
        # client keeps SET SESSION properties for the connection's later queries.
        if seconds is None:
            return []
        return [f"SET SESSION query_max_execution_time = '{seconds}s'"]
    return []


def _relation(
    connection: Connection, source: DatabaseSource, failure: _Failure
) -> tuple[FromClause, tuple[ObservedColumn, ...], dict[str, Any]]:
    """The table or the wrapped query, its columns, and what identifies it."""
    fingerprint: dict[str, Any] = {"dialect": connection.dialect.name}
    if source.query is not None:
        text = _clean_query(source.query)
        try:
            query, columns = query_source(connection, text, QUERY_ALIAS)
        except sa.exc.DBAPIError as exc:
            _rollback(connection)
            raise failure.error(exc, "the query failed") from None
        fingerprint["query_sha256"] = hashlib.sha256(text.encode()).hexdigest()[:16]
        return query, columns, fingerprint
    schema, name = _split_table(source.table or "")
    try:
        schema, name = _find_table(connection, schema, name, source)
        columns = table_columns(connection, name, schema)
    except sa.exc.DBAPIError as exc:
        _rollback(connection)
        raise failure.error(exc, "cannot read the catalogue") from None
    fingerprint["table"] = f"{schema}.{name}" if schema else name
    return sa.table(name, schema=schema), columns, fingerprint


def _other_tables(connection: Connection, source: DatabaseSource) -> OtherResolver:
    """Finds the tables that reference and reconcile checks name, in the same database.

    Only the catalogue's own names reach the SQL (quoted by SQLAlchemy), so a name that
    is no table, whatever it holds, is a missing table."""

    def resolve(target: ReferenceTarget | ReconcileTarget) -> OtherRelation:
        if target.table is None:
            raise OtherNotFound(
                f"to.path {target.path!r} names files; a database source compares with a "
                "table of the same database (to.table)"
            )
        try:
            schema, name = _split_table(target.table)
            # Its message names the checked source; ours names the other table.
            schema, name = _find_table(connection, schema, name, source)
            columns = table_columns(connection, name, schema)
        except DataSourceError:
            raise OtherNotFound(
                f"table {target.table!r} does not exist in {source.where}"
            ) from None
        except sa.exc.DBAPIError as exc:
            _rollback(connection)
            why = mask_text(reason(exc), connection.engine.url)
            raise OtherNotFound(f"cannot read table {target.table!r}: {why}") from None
        relation = sa.table(name, schema=schema).alias(OTHER_ALIAS)
        return OtherRelation(relation, columns, f"table {target.table!r}")

    return resolve


def _split_table(table: str) -> tuple[str | None, str]:
    """``schema.table`` (the last dot separates them) or ``table``."""
    text = table.strip()
    if not text:
        raise DataSourceError("the table name is empty")
    schema, dot, name = text.rpartition(".")
    if dot and schema and name:
        return schema, name
    return None, text


def _find_table(
    connection: Connection, schema: str | None, name: str, source: DatabaseSource
) -> tuple[str | None, str]:
    """The table as the catalogue spells it (``Orders`` finds PostgreSQL's ``orders``)."""
    inspector = sa.inspect(connection)
    schemas = inspector.get_schema_names() if schema is not None else []
    if schema is not None and schema not in schemas:
        match = [s for s in schemas if s.lower() == schema.lower()]
        if len(match) != 1:
            raise DataSourceError(
                f"{source.what} does not exist in {source.where}: no schema {schema!r}"
            )
        schema = match[0]
    if inspector.has_table(name, schema=schema):
        return schema, name
    known = [*inspector.get_table_names(schema=schema), *inspector.get_view_names(schema=schema)]
    match = [t for t in known if t.lower() == name.lower()]
    if len(match) == 1:
        return schema, match[0]
    raise DataSourceError(f"{source.what} does not exist in {source.where}")


def _clean_query(query: str) -> str:
    """The query without trailing semicolons: it is wrapped as a subquery."""
    text = query.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise DataSourceError("the query is empty")
    return text


def _rollback(connection: Connection) -> None:
    try:
        if connection.in_transaction():
            connection.rollback()
    except sa.exc.DBAPIError:
        pass  # the connection is discarded anyway


class _Failure:
    """Turns database errors into one-line :class:`DataSourceError` s that name the
    source and never its password."""

    def __init__(self, source: DatabaseSource, url: sa.URL, timeout: float | None) -> None:
        self.source = source
        self.url = url
        self.timeout = timeout

    def connecting(self, exc: sa.exc.DBAPIError) -> DataSourceError:
        # Whatever stops a connection (refused, unknown host, wrong password) is the
        # database's state, not the contract's: a retry may find it fixed.
        where = mask_url(self.url)
        return DataSourceError(f"cannot connect to {where}: {self._reason(exc)}", retryable=True)

    def infrastructure(self, exc: BaseException) -> DataSourceError | None:
        """For the executor: a failure of the database (retryable), or None for an error
        in one check's SQL, which the executor reports on that check alone."""
        if isinstance(exc, sa.exc.DBAPIError) and is_retryable(exc):
            return self.error(exc, "the check failed")
        return None

    def error(self, exc: sa.exc.DBAPIError, doing: str) -> DataSourceError:
        if is_timeout(exc):
            limit = f"{self.timeout:g}s" if self.timeout is not None else "its time limit"
            return DataSourceError(
                f"{self.source.name}: a statement ran longer than {limit} and was cancelled "
                f"(timed out; {STATEMENT_TIMEOUT_ENV} sets the limit)",
                retryable=True,
            )
        message = f"{self.source.name}: {doing}: {self._reason(exc)}"
        return DataSourceError(message, retryable=is_retryable(exc))

    def _reason(self, exc: sa.exc.DBAPIError) -> str:
        return mask_text(reason(exc), self.url)
