"""Engines for the results store, tuned for many writers at once.

SQLite gets WAL mode (readers never block the writer) and a busy timeout (writers wait
for each other instead of failing), on every connection. PostgreSQL and MySQL get a
small pool that checks connections before use, because a gate may run hours after the
last one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool, StaticPool

from airflow_opsguard.errors import StoreError
from airflow_opsguard.extras import missing_extra_message
from airflow_opsguard.store.urls import mask_url

# How long a SQLite writer waits for the others before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 60_000
_CONNECT_TIMEOUT_S = 10
# Execution option: how a SQLite transaction begins ("IMMEDIATE" for writers).
SQLITE_BEGIN = "opsguard_sqlite_begin"


def sqlite_path(url: sa.URL) -> Path | None:
    """The file of a SQLite URL, or None for an in-memory database or another backend."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    if database.startswith("file:"):  # a URI filename: sqlite:///file:path?uri=true
        database = database[len("file:") :]
    return Path(database).expanduser().absolute()


def create_store_engine(url: sa.URL) -> sa.Engine:
    """An engine for ``url``; no connection is made yet."""
    try:
        engine = sa.create_engine(url, **_engine_options(url))
    except (sa.exc.ArgumentError, ImportError, TypeError) as exc:
        missing = missing_extra_message(exc) if isinstance(exc, ImportError) else None
        raise StoreError(
            f"cannot use results store {mask_url(url)}: {missing or mask_url(str(exc))}"
        ) from None
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
    return engine


def _engine_options(url: sa.URL) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        connect_args: dict[str, Any] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        if sqlite_path(url) is None:
            # In memory (tests, demos): one connection, or each would see its own empty
            # database. Use it from one thread at a time.
            connect_args["check_same_thread"] = False
            return {"connect_args": connect_args, "poolclass": StaticPool}
        # A connection per operation: cheap for SQLite, safe across fork, and no idle
        # connection keeps the file open.
        return {"connect_args": connect_args, "poolclass": NullPool}
    options: dict[str, Any] = {"pool_pre_ping": True, "pool_size": 2, "max_overflow": 4}
    if url.get_driver_name() in ("psycopg", "psycopg2", "pymysql"):
        options["connect_args"] = {"connect_timeout": _CONNECT_TIMEOUT_S}
    return options


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy, not the sqlite3 module, says when a transaction begins (see
    # _begin_sqlite), so that DDL is transactional and a migration is all or nothing.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _begin_sqlite(connection: sa.Connection) -> None:
    # A writer takes the write lock up front (BEGIN IMMEDIATE), waiting for it under the
    # busy timeout. A deferred transaction that reads first would fail at once with
    # "database is locked" when another process wrote in between.
    immediate = connection.get_execution_options().get(SQLITE_BEGIN) == "IMMEDIATE"
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def prepare_location(url: sa.URL) -> None:
    """Create the folder of a SQLite file, so a fresh machine needs no set-up."""
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
