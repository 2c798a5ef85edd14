"""The process's in-process DuckDB database, and a session on it for each check.

Opening a DuckDB database takes 15-30 ms, as long as checking 100,000 rows, so a process
opens one per set of settings and keeps it: a CLI call over many files, a worker that
runs gate after gate, and the test suite pay for it once. Each check works in a session
of its own: a connection (a DuckDB cursor: the database is shared, the session is not)
whose views are temporary, seen by it alone and dropped when it closes. Connections for
queries that run beside the session's replay its views and register its in-memory data
again (DuckDB scans the same buffers from every connection).

DuckDB's threads do not survive a fork, so the databases no session is using are closed
before the process forks, and a child never uses one its parent opened.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from airflow_opsguard.errors import DataSourceError

MEMORY_LIMIT_ENV = "OPSGUARD_DUCKDB_MEMORY_LIMIT"
THREADS_ENV = "OPSGUARD_DUCKDB_THREADS"
DEFAULT_MEMORY_LIMIT = "2GB"
# One perfect-hash slot of a GROUP BY key with its count, as DuckDB lays it out.
PERFECT_HASH_SLOT_BYTES = 13
# duckdb_engine's dialect with SQLAlchemy's statement cache on (engines/duckdb_dialect.py).
CACHING_DRIVER = "opsguard"
sa.dialects.registry.register(
    f"duckdb.{CACHING_DRIVER}", "airflow_opsguard.engines.duckdb_dialect", "CachingDialect"
)


@dataclass(frozen=True)
class Settings:
    """What a database is opened with; a change (a test, a task's environment) opens
    another database rather than changing one that other sessions may be using."""

    pid: int
    memory: str
    threads: int | None
    spill: str

    @classmethod
    def from_environment(cls) -> Settings:
        memory = os.environ.get(MEMORY_LIMIT_ENV, DEFAULT_MEMORY_LIMIT)
        threads = os.environ.get(THREADS_ENV)
        count = int(threads) if threads and threads.strip().isdigit() else None
        if threads and not count:
            raise DataSourceError(f"{THREADS_ENV}={threads!r}: expected a number of threads")
        # One folder per process: parallel gate tasks on one machine never share spill files.
        spill = Path(tempfile.gettempdir()) / "opsguard-duckdb" / str(os.getpid())
        return cls(os.getpid(), memory, count, str(spill))


class Session:
    """One check's connection to the process's database, with views of its own."""

    def __init__(self, database: _Database, connection: sa.Connection) -> None:
        self.connection = connection
        self.raw: Any = connection.connection.driver_connection  # DuckDB's own API
        self._database = database
        self._replayed: list[str] = []  # views and settings, for side connections
        self._registered: list[tuple[str, Any]] = []  # in-memory data, for side connections
        self._sides: list[Any] = []  # side connections open now

    @property
    def threads(self) -> int:
        """How many threads the session's queries run on."""
        return self._database.threads

    def memory_limit(self) -> int | None:
        """The database's memory limit in bytes (None: a size this module cannot read)."""
        return parse_bytes(self._database.settings.memory)

    def register(self, name: str, data: Any) -> None:
        """In-memory data (a pandas DataFrame, an Arrow table) as a view of this session
        and of its side connections. DuckDB reads it where it is: each connection that
        registers it scans the same buffers, so several queries read it at once."""
        self.raw.register(name, data)
        self._registered.append((name, data))

    def create_view(self, name: str, select: str) -> None:
        """A temporary view: this session's (and its side connections') alone."""
        self._run(f"CREATE OR REPLACE TEMP VIEW {name} AS {select}")

    def track_progress(self) -> None:
        """Let :meth:`progress` follow the session's queries. DuckDB tracks progress only
        with its progress bar on; it is told not to print it."""
        self._run("SET enable_progress_bar = true")
        self._run("SET enable_progress_bar_print = false")

    def progress(self) -> float | None:
        """How far the session's running queries are, 0-100 (the least advanced of them,
        side connections included), or None when none is running or tracked."""
        found = []
        for raw in [self.raw, *self._sides]:
            try:
                found.append(float(raw.query_progress()))
            except Exception:  # a side connection closing meanwhile: it has finished
                continue
        running = [value for value in found if value >= 0]
        return min(running) if running else None

    def _run(self, statement: str) -> None:
        self.raw.execute(statement)
        self._replayed.append(statement)

    @contextmanager
    def side_connection(self) -> Iterator[sa.Connection]:
        """Another connection with this session's views, for a query that runs beside
        the others on a thread of its own."""
        with self._database.engine.connect() as connection:
            raw: Any = connection.connection.driver_connection
            try:
                for name, data in self._registered:
                    raw.register(name, data)
                for statement in self._replayed:
                    raw.execute(statement)
            except Exception as exc:  # duckdb raises several unrelated types here
                raise DataSourceError(f"cannot open another connection: {exc}") from exc
            self._sides.append(raw)
            try:
                yield connection
            finally:
                self._sides.remove(raw)


@contextmanager
def session() -> Iterator[Session]:
    """A session on the database for the current settings, opened if need be."""
    database = _database(Settings.from_environment())
    try:
        with database.engine.connect() as connection:
            yield Session(database, connection)
    finally:
        with _lock:
            database.sessions -= 1


class _Database:
    def __init__(self, settings: Settings) -> None:
        import duckdb

        Path(settings.spill).parent.mkdir(parents=True, exist_ok=True)  # DuckDB makes the last
        self.raw = duckdb.connect()
        try:
            _configure(self.raw, settings)
            self.threads = threads_of(self.raw)  # set once, for the database's life
        except Exception:
            self.raw.close()
            raise
        self.engine = sa.create_engine(
            f"duckdb+{CACHING_DRIVER}:///:memory:", creator=self._cursor, poolclass=sa.pool.NullPool
        )
        self.settings = settings
        self.sessions = 0  # open on it now; changed under the lock

    def _cursor(self) -> Any:
        import duckdb_engine

        return duckdb_engine.ConnectionWrapper(self.raw.cursor())

    def close(self) -> None:
        self.engine.dispose()
        self.raw.close()


def _configure(raw: Any, settings: Settings) -> None:
    # GLOBAL: every cursor of the database starts with these.
    raw.execute("SET GLOBAL TimeZone = 'UTC'")
    try:
        raw.execute(f"SET GLOBAL memory_limit = '{_safe_setting(settings.memory)}'")
    except DataSourceError:
        raise
    except Exception as exc:  # duckdb raises several unrelated types here
        raise DataSourceError(
            f"{MEMORY_LIMIT_ENV}={settings.memory!r}: not a size DuckDB reads (say 2GB)"
        ) from exc
    raw.execute(f"SET GLOBAL temp_directory = '{_safe_setting(settings.spill)}'")
    if settings.threads:
        raw.execute(f"SET GLOBAL threads = {settings.threads}")
    _size_perfect_hash(raw, settings.memory)


def _size_perfect_hash(raw: Any, memory: str) -> None:
    """Let uniqueness GROUP BYs on integer keys use a perfect hash table.

    DuckDB groups integers whose min/max range fits ``2**perfect_ht_threshold`` slots by
    direct indexing, several times faster than hashing; its default (12 bits) is tiny.
    Size it so the tables of all threads take at most half the memory limit.
    """
    limit = parse_bytes(memory)
    if limit is None:
        return
    threads = threads_of(raw)
    slots = limit / 2 / (max(threads, 1) * PERFECT_HASH_SLOT_BYTES)
    bits = min(max(int(math.log2(slots)) if slots >= 1 else 0, 12), 30)
    raw.execute(f"SET GLOBAL perfect_ht_threshold = {bits}")


def threads_of(raw: Any) -> int:
    """How many threads a DuckDB connection's queries run on."""
    # fetchall: DuckDB refuses other work on a connection with rows left to fetch.
    return int(raw.execute("SELECT current_setting('threads')").fetchall()[0][0])


def parse_bytes(size: str) -> int | None:
    """``'2GB'``, ``'512 MiB'`` -> bytes, as DuckDB reads its memory limit; None if unknown."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*", size, re.IGNORECASE)
    if match is None:
        return None
    unit = (match.group(2) or "B").upper()
    power = "BKMGT".index(unit[0])
    base = 1024 if "I" in unit else 1000
    return int(float(match.group(1)) * base**power)


def _safe_setting(value: str) -> str:
    # DuckDB's SET takes no bound parameters; refuse anything that could end the string.
    if "'" in value or "\\" in value:
        raise DataSourceError(f"invalid DuckDB setting value {value!r}")
    return value


_lock = threading.Lock()
_databases: dict[Settings, _Database] = {}


def _database(settings: Settings) -> _Database:
    """The database for ``settings``, counted as used by one more session."""
    with _lock:
        found = _databases.get(settings)
        if found is None:
            found = _databases[settings] = _Database(settings)
        found.sessions += 1
        return found


def _close_idle() -> None:
    # Before a fork. A database in use stays open for its sessions; the child never
    # uses it, because its settings name the parent's process.
    with _lock:
        for settings, database in list(_databases.items()):
            if database.sessions == 0:
                database.close()
                del _databases[settings]


def _fresh_lock() -> None:
    # In the child: a thread of the parent may have held the lock at the fork.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(before=_close_idle, after_in_child=_fresh_lock)
