"""Locks that let several processes open, migrate and spool to one store safely.

Each backend has its own: a PostgreSQL advisory lock held by the migrating
transaction, a MySQL/MariaDB named lock, and for SQLite (and the spool files) an
exclusive ``flock`` on a file next to the one it guards. The operating system drops a
file lock when its process dies, so a crash never leaves a store locked.
"""

from __future__ import annotations

import os
import sys
import zlib
from contextlib import contextmanager
from typing import TYPE_CHECKING

import sqlalchemy as sa

from airflow_opsguard.errors import StoreError
from airflow_opsguard.store.engine import sqlite_path
from airflow_opsguard.store.urls import mask_url

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

if sys.platform != "win32":
    import fcntl

# How long a process waits for another one's migration (seconds).
MIGRATION_LOCK_TIMEOUT_S = 300
_LOCK_NAME = "opsguard_store_migrate"
_PG_LOCK_KEY = zlib.crc32(_LOCK_NAME.encode())


@contextmanager
def file_lock(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` (created if missing); yields whether it was won.

    With ``blocking=False`` it yields False at once when another process holds the lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform == "win32":  # no flock; Airflow does not run there anyway
            yield True
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def migration_lock(connection: sa.Connection) -> Iterator[None]:
    """Let one process at a time migrate the store that ``connection`` points at.

    On PostgreSQL the lock belongs to the connection's current transaction and ends with
    it, so migrate and commit inside this block.
    """
    url = connection.engine.url
    backend = connection.dialect.name
    if backend == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_TIMEOUT_S}s'")
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
        yield
    elif backend in ("mysql", "mariadb"):
        # Named locks are server-wide: the database name keeps stores apart.
        name = f"{_LOCK_NAME}:{url.database or ''}"[:64]
        won = connection.execute(
            sa.select(sa.func.get_lock(name, MIGRATION_LOCK_TIMEOUT_S))
        ).scalar()
        if won != 1:
            raise StoreError(
                f"results store {mask_url(url)}: another process held the migration lock "
                f"for {MIGRATION_LOCK_TIMEOUT_S}s"
            )
        try:
            yield
        finally:
            try:
                connection.execute(sa.select(sa.func.release_lock(name)))
            except sa.exc.SQLAlchemyError:
                connection.invalidate()  # the lock ends with the session
    else:
        path = sqlite_path(url) if backend == "sqlite" else None
        if path is None:  # in-memory SQLite: one process only
            yield
            return
        with file_lock(path.with_name(path.name + ".lock")):
            yield
