"""Write-audit-publish and quarantine in databases, each step one transaction.

The upstream task writes a batch into a staging table (the contract's ``source.table``).
After the verdict, one transaction either publishes the batch (moves every staged row
into ``publish_to``), quarantines it (moves every row into the quarantine table, with the
batch id, run id and reasons), or splits it (bad rows to quarantine, clean rows to the
target). Each transaction first writes the batch's entry in ``opsguard_quarantine_log``
(in the same database), whose primary key makes the step happen once: a gate that died
before the commit left nothing behind, one that died after finds the entry on retry.
Moved rows are counted on both sides; a mismatch rolls the transaction back.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event

from airflow_opsguard.engines.sql_errors import is_retryable, sqlstate
from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.quarantine.crash import crash_point
from airflow_opsguard.store.quarantine import QuarantineRecord
from airflow_opsguard.urls import MASK, database_url, mask_text, mask_url

if TYPE_CHECKING:
    from pathlib import Path

LEDGER = "opsguard_quarantine_log"
BATCH_COLUMN = "_opsguard_batch_id"
RUN_COLUMN = "_opsguard_run_id"
REASONS_COLUMN = "_opsguard_reasons"
AT_COLUMN = "_opsguard_quarantined_at"
META_COLUMNS = (BATCH_COLUMN, RUN_COLUMN, REASONS_COLUMN, AT_COLUMN)

_ledger_meta = sa.MetaData()
ledger = sa.Table(
    LEDGER,
    _ledger_meta,
    sa.Column("entry", sa.String(100), primary_key=True),
    sa.Column("batch_id", sa.String(64), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("rows", sa.BigInteger()),
    sa.Column("clean_rows", sa.BigInteger()),
    sa.Column("record", sa.Text()),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


class AlreadyDone(Exception):
    """The ledger holds this step already: it happened (maybe in a try that crashed)."""


@dataclass(frozen=True)
class Database:
    """Where the tables are: a SQLAlchemy URL, an Airflow connection, or an engine."""

    url: str | None = None
    conn_id: str | None = None
    engine: sa.Engine | None = None

    def describe(self) -> dict[str, Any]:
        """What a record keeps to find the database again (the URL masked)."""
        if self.conn_id is not None:
            return {"conn_id": self.conn_id}
        url = self.engine.url if self.engine is not None else self.url
        return {"url": mask_url(url or "")}

    @property
    def name(self) -> str:
        if self.conn_id is not None:
            return f"Airflow connection {self.conn_id!r}"
        url = self.engine.url if self.engine is not None else self.url
        return mask_url(url or "")

    @contextmanager
    def open(self) -> Iterator[sa.Engine]:
        """An engine whose SQLite transactions take the write lock when they begin."""
        if self.engine is not None:
            yield self.engine
            return
        from airflow_opsguard.engines.connections import create_engine, resolve_conn_id

        if self.conn_id is not None:
            engine = resolve_conn_id(self.conn_id)
        else:
            try:  # the password read whole, whatever it holds
                url = database_url(self.url or "")
            except ValueError as exc:
                raise DataSourceError(str(exc)) from None
            engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
        try:
            yield engine
        finally:
            engine.dispose()


# How long a try of a batch waits for another try of it to settle (seconds): the other
# is checking the batch, which may take long; it lets go the moment it ends or dies.
CLAIM_WAIT_S = 3600
_CLAIM_PREFIX = "opsguard_batch"
_local_claims: dict[str, threading.Lock] = {}
_local_claims_guard = threading.Lock()


@contextmanager
def claim_batch(database: Database, batch_id: str, wait_s: float = CLAIM_WAIT_S) -> Iterator[None]:
    """Hold the batch while this try resumes, checks and settles it: tries of one batch
    (a retry started while the first still runs, a task run twice) take turns, and a
    later one finds the earlier one's ledger entry instead of checking a staging table
    that the earlier one has emptied.

    The lock lives in the data database and ends with the session that holds it, so a
    try that dies lets go at once: a PostgreSQL advisory lock, a MySQL/MariaDB named
    lock (``GET_LOCK``), and for a SQLite file an exclusive ``flock`` on a file next to
    it (``<file>.opsguard-batches.lock``: the gates that move data in one SQLite file
    take turns, whatever their batch). Raises :class:`DataSourceError` (retryable) when
    the database cannot be reached or another try held the batch for ``wait_s``.
    """
    with database.open() as engine:
        backend = engine.dialect.name
        if backend == "sqlite":
            from airflow_opsguard.store.engine import sqlite_path

            path = sqlite_path(engine.url)
            if path is not None:
                with _file_claim(path.with_name(path.name + ".opsguard-batches.lock"), wait_s):
                    yield
                return
        if backend not in ("postgresql", "mysql", "mariadb"):
            # In memory, or a database without locks of its own: one process uses it.
            with _local_claim(f"{engine.url}\x1f{batch_id}", wait_s):
                yield
            return
        key = hashlib.sha256(f"{engine.url.database or ''}\x1f{batch_id}".encode()).digest()
        try:
            connection = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise _claim_error(batch_id, exc) from None
        with connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            if backend == "postgresql":
                release = _pg_claim(connection, int.from_bytes(key[:8], "big", signed=True), wait_s)
            else:
                release = _mysql_claim(connection, f"{_CLAIM_PREFIX}:{key.hex()[:40]}", wait_s)
            if release is None:
                raise DataSourceError(
                    f"batch {batch_id}: another try of it held it for {wait_s:.0f}s; retry later",
                    retryable=True,
                )
            try:
                yield
            finally:
                try:
                    connection.execute(release)
                except sa.exc.SQLAlchemyError:
                    connection.invalidate()  # the lock ends with the session


def _pg_claim(connection: sa.Connection, key: int, wait_s: float) -> Any:
    """Take the advisory lock; its release statement, or None after ``wait_s``."""
    lock_key = sa.cast(sa.literal(key), sa.BigInteger())
    try:
        connection.exec_driver_sql(f"SET lock_timeout = {max(1, int(wait_s * 1000))}")
        connection.execute(sa.select(sa.func.pg_advisory_lock(lock_key)))
    except sa.exc.DBAPIError as exc:
        if sqlstate(exc) == "55P03":  # lock_not_available: the wait ran out
            return None
        raise _claim_error("", exc) from None
    finally:
        with suppress(sa.exc.SQLAlchemyError):  # the connection is gone: so is the lock
            connection.exec_driver_sql("RESET lock_timeout")
    return sa.select(sa.func.pg_advisory_unlock(lock_key))


def _mysql_claim(connection: sa.Connection, name: str, wait_s: float) -> Any:
    """Take the named lock (server-wide: the name holds the database's); its release
    statement, or None after ``wait_s``."""
    try:
        won = connection.execute(sa.select(sa.func.get_lock(name, max(1, int(wait_s))))).scalar()
    except sa.exc.DBAPIError as exc:
        raise _claim_error("", exc) from None
    return sa.select(sa.func.release_lock(name)) if won == 1 else None


@contextmanager
def _file_claim(path: Path, wait_s: float) -> Iterator[None]:
    from airflow_opsguard.store.locks import file_lock

    deadline = time.monotonic() + wait_s
    pause = 0.02
    while True:
        with file_lock(path, blocking=False) as won:
            if won:
                yield
                return
        if time.monotonic() >= deadline:
            raise DataSourceError(
                f"{path}: another gate held it for {wait_s:.0f}s; retry later", retryable=True
            )
        time.sleep(pause)
        pause = min(pause * 2, 0.5)


@contextmanager
def _local_claim(key: str, wait_s: float) -> Iterator[None]:
    with _local_claims_guard:
        lock = _local_claims.setdefault(key, threading.Lock())
    if not lock.acquire(timeout=wait_s):
        raise DataSourceError(
            "another try of the batch held it too long; retry later", retryable=True
        )
    try:
        yield
    finally:
        lock.release()


def _claim_error(batch_id: str, exc: sa.exc.DBAPIError) -> DataSourceError:
    what = f"batch {batch_id}" if batch_id else "the batch"
    return DataSourceError(
        f"cannot claim {what} in the database: {_reason(exc)}", retryable=is_retryable(exc)
    )


def database_from(details: dict[str, Any], override: str | None = None) -> Database:
    """The database a record names, or ``override`` (a URL with its password, when the
    stored one is masked)."""
    if override is not None:
        return Database(url=override)
    if details.get("conn_id"):
        return Database(conn_id=str(details["conn_id"]))
    url = str(details.get("url") or "")
    if stored_masked(details):
        raise DataSourceError(
            f"the database {url} was stored with its password masked (records keep no "
            "secret); give its URL again (--data URL, or database= in Python)"
        )
    return Database(url=url)


def stored_masked(details: dict[str, Any]) -> bool:
    """Whether a record's database is a URL whose password (or a secret parameter) was
    masked, so that reopening it needs the URL again."""
    return not details.get("conn_id") and MASK in str(details.get("url") or "")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy says when a transaction begins
    dbapi_connection.execute("PRAGMA busy_timeout = 60000")


def _sqlite_begin(connection: sa.Connection) -> None:
    # Writers queue for the lock at BEGIN; a deferred transaction that read first would
    # fail at once when another writer committed in between.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def split_name(name: str) -> tuple[str | None, str]:
    schema, dot, table = name.strip().rpartition(".")
    return (schema, table) if dot and schema and table else (None, name.strip())


def reflect(connection: sa.Connection, name: str) -> sa.Table:
    from airflow_opsguard.engines.sql_columns import reflected_name

    def named(_inspector: Any, _table: sa.Table, column: dict[str, Any]) -> None:
        # MySQL/MariaDB reflection doubles a backtick in a column name.
        column["name"] = reflected_name(column["name"], connection.dialect)

    schema, table = split_name(name)
    try:
        return sa.Table(
            table,
            sa.MetaData(),
            schema=schema,
            autoload_with=connection,
            listeners=[("column_reflect", named)],
        )
    except sa.exc.NoSuchTableError:
        raise DataSourceError(f"table {name!r} does not exist") from None


def has_table(connection: sa.Connection, name: str) -> bool:
    schema, table = split_name(name)
    return sa.inspect(connection).has_table(table, schema=schema)


def ensure_tables(engine: sa.Engine, staging: str, quarantine_table: str | None) -> None:
    """Create the ledger, and the quarantine table (the staging table's columns, all
    nullable, plus the batch id, run id, reasons and time), when missing. Two gates may
    race to create them: the loser finds them made."""
    for attempt in range(2):
        try:
            with engine.connect() as connection, connection.begin():
                if not has_table(connection, LEDGER):
                    ledger.create(connection)
                if quarantine_table and not has_table(connection, quarantine_table):
                    _quarantine_table(connection, staging, quarantine_table).create(connection)
            return
        except (sa.exc.ProgrammingError, sa.exc.IntegrityError, sa.exc.OperationalError):
            if attempt:
                raise


def _quarantine_table(connection: sa.Connection, staging: str, name: str) -> sa.Table:
    source = reflect(connection, staging)
    schema, table = split_name(name)
    return sa.Table(
        table,
        sa.MetaData(),
        *(sa.Column(c.name, c.type, nullable=True) for c in source.columns),
        sa.Column(BATCH_COLUMN, sa.String(64), nullable=False, index=True),
        sa.Column(RUN_COLUMN, sa.String(255)),
        sa.Column(REASONS_COLUMN, sa.Text()),
        sa.Column(AT_COLUMN, sa.DateTime(timezone=True)),
        schema=schema,
    )


def ledger_entry(engine: sa.Engine, entry: str) -> sa.Row[Any] | None:
    """The ledger's entry, or None (also when there is no ledger yet)."""
    with engine.connect() as connection:
        if not has_table(connection, LEDGER):
            return None
        return connection.execute(sa.select(ledger).where(ledger.c.entry == entry)).first()


def record_of(entry: sa.Row[Any]) -> QuarantineRecord | None:
    return None if entry.record is None else QuarantineRecord.from_json(json.loads(entry.record))


@contextmanager
def _step(
    engine: sa.Engine,
    entry: str,
    batch_id: str,
    action: str,
    record: QuarantineRecord | None,
    lock: sa.Table | None = None,
) -> Iterator[tuple[sa.Connection, dict[str, Any]]]:
    """One transaction that starts by claiming its ledger entry; the body fills in the
    counts, which the ledger keeps. Raises AlreadyDone when the entry exists."""
    counts: dict[str, Any] = {}
    with engine.connect() as connection:
        try:
            with connection.begin():
                connection.execute(
                    ledger.insert(),
                    {
                        "entry": entry,
                        "batch_id": batch_id,
                        "action": action,
                        "record": None if record is None else json.dumps(record.to_json()),
                        "at": datetime.now(UTC),
                    },
                )
                if lock is not None and connection.dialect.name == "postgresql":
                    # No writer may add rows to the table between our copy and our delete.
                    preparer = connection.dialect.identifier_preparer
                    connection.exec_driver_sql(
                        f"LOCK TABLE {preparer.format_table(lock)} IN SHARE ROW EXCLUSIVE MODE"
                    )
                yield connection, counts
                connection.execute(
                    ledger.update()
                    .where(ledger.c.entry == entry)
                    .values(rows=counts.get("rows"), clean_rows=counts.get("clean_rows"))
                )
                crash_point("sql:before-commit")
        except sa.exc.IntegrityError as exc:
            if ledger_entry(engine, entry) is not None:
                raise AlreadyDone(entry) from None
            raise DataSourceError(f"cannot move the batch: {_reason(exc)}") from None
    crash_point("sql:after-commit")


def publish(engine: sa.Engine, staging: str, target: str, batch_id: str) -> int:
    """Move every staged row into ``target``; the number of rows moved."""
    with engine.connect() as connection:
        source = reflect(connection, staging)
        destination = reflect(connection, target)
    names = [c.name for c in source.columns]
    _require_columns(destination, names, target)
    with _step(engine, batch_id, batch_id, "published", None, lock=source) as (conn, counts):
        copied = _insert(conn, destination, names, sa.select(*source.columns))
        crash_point("sql:between-copy-and-delete")
        deleted = conn.execute(source.delete()).rowcount
        _same(copied, deleted, staging)
        counts["rows"] = deleted
    return int(counts["rows"])


def quarantine_batch(
    engine: sa.Engine, staging: str, quarantine_table: str, record: QuarantineRecord
) -> int:
    """Move every staged row into the quarantine table; the number of rows moved."""
    reasons = "; ".join(str(r.get("check")) for r in record.reasons)
    with engine.connect() as connection:
        source = reflect(connection, staging)
        target = reflect(connection, quarantine_table)
    names = [c.name for c in source.columns]
    _require_columns(target, names, quarantine_table)
    select = sa.select(*source.columns, *_meta(record, sa.literal(reasons)))
    with _step(engine, record.batch_id, record.batch_id, "quarantined", record, source) as (
        conn,
        counts,
    ):
        copied = _insert(conn, target, [*names, *META_COLUMNS], select)
        crash_point("sql:between-copy-and-delete")
        deleted = conn.execute(source.delete()).rowcount
        _same(copied, deleted, staging)
        counts["rows"] = deleted
    return int(counts["rows"])


def split_batch(
    engine: sa.Engine,
    target: str | None,
    quarantine_table: str,
    record: QuarantineRecord,
    split: Any,
) -> tuple[int, int]:
    """Bad rows to quarantine (with the checks each fails), clean rows to ``target`` (or
    left in the staging table when there is none): (bad rows, clean rows)."""
    source = split.relation
    with engine.connect() as connection:
        quarantined = reflect(connection, quarantine_table)
        destination = reflect(connection, target) if target else None
    names = [c.name for c in source.columns]
    _require_columns(quarantined, names, quarantine_table)
    if destination is not None:
        _require_columns(destination, names, str(target))
    bad = split.bad == 1
    with _step(engine, record.batch_id, record.batch_id, "split", record, source) as (
        conn,
        counts,
    ):
        moved_bad = _insert(
            conn,
            quarantined,
            [*names, *META_COLUMNS],
            sa.select(*source.columns, *_meta(record, split.reasons)).where(bad),
        )
        crash_point("sql:between-copy-and-delete")
        if destination is not None:
            moved_clean = _insert(
                conn, destination, names, sa.select(*source.columns).where(split.bad == 0)
            )
            deleted = conn.execute(source.delete()).rowcount
            _same(moved_bad + moved_clean, deleted, source.name)
        else:
            deleted = conn.execute(source.delete().where(bad)).rowcount
            _same(moved_bad, deleted, source.name)
            moved_clean = conn.execute(sa.select(sa.func.count()).select_from(source)).scalar_one()
        counts["rows"], counts["clean_rows"] = moved_bad, moved_clean
    return int(counts["rows"]), int(counts["clean_rows"])


def release_batch(engine: sa.Engine, quarantine_table: str, destination: str, batch_id: str) -> int:
    """Move a quarantined batch's rows (without the quarantine columns) into
    ``destination``; the number of rows moved."""
    with engine.connect() as connection:
        quarantined = reflect(connection, quarantine_table)
        target = reflect(connection, destination)
    names = [c.name for c in quarantined.columns if c.name not in META_COLUMNS]
    _require_columns(target, names, destination)
    mine = quarantined.c[BATCH_COLUMN] == batch_id
    entry = f"release:{batch_id}"
    with _step(engine, entry, batch_id, "released", None, quarantined) as (conn, counts):
        copied = _insert(
            conn, target, names, sa.select(*(quarantined.c[n] for n in names)).where(mine)
        )
        crash_point("sql:between-copy-and-delete")
        deleted = conn.execute(quarantined.delete().where(mine)).rowcount
        _same(copied, deleted, quarantine_table)
        counts["rows"] = deleted
    return int(counts["rows"])


def drop_batch(engine: sa.Engine, quarantine_table: str, batch_id: str) -> int:
    """Delete a quarantined batch's rows; the number of rows deleted."""
    with engine.connect() as connection:
        quarantined = reflect(connection, quarantine_table)
    entry = f"drop:{batch_id}"
    with _step(engine, entry, batch_id, "dropped", None) as (conn, counts):
        counts["rows"] = conn.execute(
            quarantined.delete().where(quarantined.c[BATCH_COLUMN] == batch_id)
        ).rowcount
    return int(counts["rows"])


def batch_query(engine: sa.Engine, quarantine_table: str, batch_id: str) -> str:
    """A SELECT of a quarantined batch's rows as they were staged, for checking again."""
    with engine.connect() as connection:
        quarantined = reflect(connection, quarantine_table)
    names = [c for c in quarantined.columns if c.name not in META_COLUMNS]
    query = sa.select(*names).where(quarantined.c[BATCH_COLUMN] == sa.literal(batch_id))
    return literal_sql(query, engine)


def literal_sql(query: sa.Select[Any], engine: sa.Engine) -> str:
    return str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def columns_of(engine: sa.Engine, name: str) -> Any:
    """The observed columns of a table (for planning the row split)."""
    from airflow_opsguard.engines.sql_columns import table_columns

    schema, table = split_name(name)
    with engine.connect() as connection:
        return table_columns(connection, table, schema)


def _insert(connection: sa.Connection, table: sa.Table, names: list[str], select: Any) -> int:
    """INSERT ... SELECT; the rows it copied, counted first (the source is locked), as
    drivers do not all report a row count for it (psycopg with bound parameters)."""
    count = connection.execute(
        sa.select(sa.func.count()).select_from(select.subquery())
    ).scalar_one()
    connection.execute(table.insert().from_select(names, select))
    return int(count)


def _meta(record: QuarantineRecord, reasons: Any) -> list[Any]:
    return [
        sa.literal(record.batch_id, sa.String()),
        sa.literal(record.run_id, sa.String()),
        sa.cast(reasons, sa.Text()),
        sa.literal(record.created_at, sa.DateTime(timezone=True)),
    ]


def _require_columns(table: sa.Table, names: list[str], shown: str) -> None:
    missing = [n for n in names if n not in table.c]
    if missing:
        raise DataSourceError(
            f"table {shown!r} has no column {missing[0]!r} that the batch has; "
            "give it the staging table's columns"
        )


def _same(copied: int, deleted: int, table: str) -> None:
    if copied != deleted:
        raise DataSourceError(
            f"{table}: copied {copied} rows but removed {deleted}: the table changed "
            "while it was moved; nothing was moved"
        )


def _reason(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return mask_text(lines[0] if lines else type(cause).__name__)[:300]
