"""Database URLs and engines for the SQL engine: as users paste them, never with secrets shown.

``postgresql://``, ``postgres://``, ``mysql://`` and ``mariadb://`` URLs mean the drivers
of airflow-opsguard's extras (psycopg 3: ``[postgres]``, PyMySQL: ``[mysql]``); without
the extra, the error says what to install. An Airflow connection (``conn_id``)
becomes an engine, the fsspec filesystem of an object-storage URL, or the Spark session a
Spark source names, through the resolver the caller hands in (:func:`using_connections`):
the engines never import Airflow.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

import sqlalchemy as sa

from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.extras import (
    DIALECT_MODULES,
    extra_for,
    install_hint,
    missing_extra_message,
)
from airflow_opsguard.urls import database_url, mask_text, mask_url, with_installed_driver

CONNECT_TIMEOUT = 30  # seconds to wait for a server that does not answer

# An Airflow connection id in, an engine out (the Airflow layer provides one).
ConnectionResolver = Callable[[str], sa.Engine]
# A context variable, not a global: the resolver is in force only within the entry point
# that handed it in (engines are made there, before any worker thread starts).
_resolver: ContextVar[ConnectionResolver | None] = ContextVar("opsguard_connections", default=None)
# Dialects that ship with SQLAlchemy; others register through entry points.
_BUILTIN_DIALECTS = frozenset(
    {"postgresql", "postgres", "mysql", "mariadb", "sqlite", "mssql", "oracle"}
)


@runtime_checkable
class StorageResolver(Protocol):
    """A connection resolver that also gives the fsspec filesystem an Airflow connection
    opens for an object-storage URL (``s3://bucket/prefix``), credentials included."""

    def filesystem(self, conn_id: str, location: str) -> Any: ...


@runtime_checkable
class SparkResolver(Protocol):
    """A connection resolver that also names the Spark session an Airflow ``spark`` or
    ``spark_connect`` connection points at: ``{"master": ...}`` or ``{"remote": "sc://..."}``."""

    def spark_endpoint(self, conn_id: str) -> dict[str, str]: ...


_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*)://")


def is_database_url(text: str) -> bool:
    """Whether ``text`` is a SQLAlchemy database URL (not a path or an fsspec URL)."""
    match = _SCHEME.match(text.strip())
    if match is None:
        return False
    scheme = match.group(1).lower()
    if "+" in scheme:  # dialect+driver: only SQLAlchemy spells URLs so
        return True
    return scheme in _BUILTIN_DIALECTS or scheme in _registered_dialects()


@functools.cache
def _registered_dialects() -> frozenset[str]:
    """Third-party dialects (snowflake, bigquery, trino, databricks, duckdb, ...)."""
    names = {
        ep.name.split(".")[0].split("+")[0] for ep in entry_points(group="sqlalchemy.dialects")
    }
    return frozenset(n.lower() for n in names)


def normalise_url(url: str | sa.URL) -> sa.URL:
    """Parse a database URL and map bare dialect names onto the installed drivers."""
    if isinstance(url, sa.URL):
        return with_installed_driver(url)
    try:
        # Read as a user means it: the password runs to the last "@" before the host.
        return database_url(url.strip())
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise DataSourceError(f"invalid database URL {mask_text(url)!r}: {exc}") from None


def create_engine(url: sa.URL) -> sa.Engine:
    """An engine for one check: no pool (each check opens and closes its connection)."""
    connect_args: dict[str, Any] = {}
    try:
        driver = url.get_driver_name()  # loads the URL's dialect
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        why = _no_dialect(url, exc)
        raise DataSourceError(f"cannot use database URL {mask_url(url)}: {why}") from None
    if driver in ("psycopg", "psycopg2", "pymysql") and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    if driver == "pymysql" and "charset" not in url.query:
        connect_args["charset"] = "utf8mb4"  # all of Unicode, not MySQL's 3-byte utf8
    if url.get_backend_name() == "sqlite":
        _require_sqlite_file(url)
    try:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)
    except ImportError as exc:  # SQLAlchemy imports the URL's driver here
        reason = missing_extra_message(exc) or str(exc)
        raise DataSourceError(f"cannot use database URL {mask_url(url)}: {reason}") from None
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as exc:
        raise DataSourceError(f"cannot use database URL {mask_url(url)}: {exc}") from None
    if url.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _linear_regexp)
    return engine


def _no_dialect(url: sa.URL, exc: Exception) -> str:
    """Why the URL's dialect did not load: the extra that installs it, when one does."""
    if isinstance(exc, ImportError) and (hint := missing_extra_message(exc)):
        return hint
    extra = extra_for(DIALECT_MODULES.get(url.get_backend_name(), ""))
    return install_hint(extra) if extra is not None else str(exc)


def _linear_regexp(dbapi_connection: Any, _record: Any) -> None:
    # SQLite has no regular expressions of its own: SQLAlchemy gives it Python's re,
    # which a pattern such as ^(a+)+$ keeps busy for hours on one value, and no statement
    # timeout can stop a function call. RE2 (what DuckDB uses for files) matches in
    # linear time. Contracts refuse look-arounds and back-references; a pattern RE2
    # still cannot read keeps Python's re.
    dbapi_connection.create_function("regexp", 2, regexp_search, deterministic=True)


def regexp_search(pattern: str, value: Any) -> bool | None:
    """``value REGEXP pattern`` as SQLite calls it: ``re.search`` semantics, in RE2."""
    if value is None:
        return None
    return _compiled(pattern).search(value if isinstance(value, str) else str(value)) is not None


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print to stderr what it cannot read
    try:
        return re2.compile(pattern, options=options)
    except re2.error:
        return re.compile(pattern)


def _require_sqlite_file(url: sa.URL) -> None:
    # SQLite creates a missing file on connect: a typo would check an empty database.
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("uri"):
        return
    if not os.path.isfile(database):
        raise DataSourceError(f"{mask_url(url)}: no such SQLite database file")


def resolve_conn_id(conn_id: str) -> sa.Engine:
    """An engine for an Airflow connection id, through the resolver in force (see
    :func:`using_connections`). Raises :class:`DataSourceError` when none is."""
    resolver = _resolver.get()
    if resolver is None:
        raise _unresolved(conn_id, "is an Airflow connection", "source.url (a SQLAlchemy URL)")
    return resolver(conn_id)


def resolve_filesystem(conn_id: str, location: str) -> Any:
    """The fsspec filesystem that the Airflow connection ``conn_id`` opens for the
    object-storage URL ``location``, through the resolver in force (see
    :func:`using_connections`). Raises :class:`DataSourceError` when none resolves one."""
    resolver: object = _resolver.get()
    if not isinstance(resolver, StorageResolver):
        raise _unresolved(
            conn_id,
            f"is the Airflow connection of {mask_text(location)}",
            "the URL alone (fsspec's own credentials)",
        )
    return resolver.filesystem(conn_id, location)


def resolve_spark_endpoint(conn_id: str) -> dict[str, str]:
    """The Spark session the Airflow connection ``conn_id`` names (``{"master": ...}`` or
    ``{"remote": ...}``), through the resolver in force (see :func:`using_connections`).
    Raises :class:`DataSourceError` when none resolves one."""
    resolver: object = _resolver.get()
    if not isinstance(resolver, SparkResolver):
        raise _unresolved(
            conn_id, "names an Airflow Spark connection", "source.master or source.remote"
        )
    return resolver.spark_endpoint(conn_id)


def _unresolved(conn_id: str, what: str, instead: str) -> DataSourceError:
    return DataSourceError(
        f"source.conn_id {conn_id!r} {what}, and nothing resolves one here: run the gate "
        f"from Airflow, validate() or opsguard check, or give {instead}"
    )


@contextmanager
def using_connections(resolver: ConnectionResolver | None) -> Iterator[None]:
    """Resolve Airflow connection ids with ``resolver`` within the block, wherever the
    work reaches (the engines, GX, quarantine's moves); None keeps the one in force.

    The engines do not import Airflow: the Airflow layer's resolver
    (:func:`airflow_opsguard.connections.engine_for_conn_id`) is handed in by the entry
    points (``run_gate(connections=...)``, the operators, the CLI, ``validate()``)."""
    if resolver is None:
        yield
        return
    token = _resolver.set(resolver)
    try:
        yield
    finally:
        _resolver.reset(token)
