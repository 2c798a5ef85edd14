"""``ResultStore``: the history of gate verdicts, kept in any SQLAlchemy database.

Writing is best-effort and loses nothing: ``record()`` never raises for database
trouble and never changes a verdict; what cannot be stored now waits in a local spool
and is stored on the next successful write. Reading raises ``StoreError``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.checks.results import STATUSES, GateResult
from airflow_opsguard.errors import StoreError
from airflow_opsguard.store.engine import SQLITE_BEGIN, create_store_engine, prepare_location
from airflow_opsguard.store.metrics import run_metrics, select_metric_history
from airflow_opsguard.store.migrate import (
    HEAD,
    MigrationError,
    auto_migrate,
    is_current,
    store_revision,
    upgrade,
)
from airflow_opsguard.store.rows import check_result, gate_results, insert_result
from airflow_opsguard.store.sla import SlaMiss, insert_sla_miss, select_sla_misses
from airflow_opsguard.store.spool import Spool, SpoolReplay
from airflow_opsguard.store.summaries import CheckHistoryEntry, DatasetSummary
from airflow_opsguard.store.tables import check_results, runs
from airflow_opsguard.store.urls import (
    default_store_url,
    mask_url,
    opsguard_home,
    parse_store_url,
    spool_name,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Sequence
    from datetime import datetime
    from types import TracebackType

    from airflow_opsguard.anomaly.history import MetricPoint

log = logging.getLogger(__name__)

# Check rows are fetched for this many runs per query (SQLite caps bound parameters).
_CHUNK = 500


class ResultStore:
    """Where gate verdicts are kept, for the CLI, the Airflow UI and alerts.

    ``url`` is any SQLAlchemy URL (``postgresql://`` and ``mysql://`` use psycopg 3 and
    PyMySQL) or a SQLite file path; default: :func:`default_store_url`. Creating a store
    does no I/O; the first use checks the schema with one read and, when it is older than
    this release's, migrates it, unless ``migrate`` is False (default:
    :func:`~airflow_opsguard.store.migrate.auto_migrate`, ``$OPSGUARD_AUTO_MIGRATE`` or
    ``[opsguard] auto_migrate`` in Airflow): then an old schema is a StoreError saying to
    run ``opsguard db upgrade``. A current schema needs no right to create tables.
    ``spool_dir`` is where results wait while the store is down (default
    ``$OPSGUARD_HOME/spool``).
    """

    def __init__(
        self,
        url: str | sa.URL | None = None,
        *,
        spool_dir: str | Path | None = None,
        migrate: bool | None = None,
    ):
        self._url = parse_store_url(default_store_url() if url is None else url)
        self.url = mask_url(self._url)
        self._migrate = auto_migrate() if migrate is None else migrate
        self._engine = create_store_engine(self._url)
        folder = Path(spool_dir) if spool_dir is not None else opsguard_home() / "spool"
        self._spool = Spool(folder, spool_name(self._url))
        self._ready = False

    def __repr__(self) -> str:
        return f"ResultStore({self.url!r})"

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the store's connections (it reopens them if used again)."""
        self._engine.dispose()

    @property
    def spool_path(self) -> Path:
        """The file where results wait while this store cannot be written."""
        return self._spool.path

    # -- writing ----------------------------------------------------------------------

    def record(self, result: GateResult) -> bool:
        """Store ``result``; True when it is in the store (now or from an earlier write).

        Never raises for store trouble, so a store outage never changes a gate's verdict:
        the result goes to the spool, one warning is logged, and it returns False. What
        is stored has its secrets (in ``source`` and ``error``) masked, and a ``run_id``
        if it had none; ``result`` itself is left as it is.
        """
        result = _for_storage(result)
        for wait in (*_BUSY_BACKOFF_S, None):
            try:
                self._open()
                self._write(result)
                break
            # Any failure at all: a gate must not fail because its history could not be kept.
            except Exception as exc:
                if wait is not None and _sqlite_busy(exc):
                    time.sleep(wait)
                    continue
                self._keep_for_later(result, exc)
                return False
        if self._spool.pending():
            self._replay_quietly()
        return True

    def flush_spool(self) -> SpoolReplay:
        """Store every result that waits in the spool; raises StoreError if it cannot."""
        try:
            self._open()
            replay = self._spool.replay(self._write)
        except StoreError:
            raise
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise StoreError(
                f"cannot replay the spool {self._spool.path} into {self.url}: {_reason(exc)}"
            ) from None
        return replay or SpoolReplay()  # a replay that may wait always runs

    def claim_sla_miss(self, miss: SlaMiss) -> bool:
        """Record a freshness SLA miss once per sensor task of a DAG run.

        True when this call recorded it (the caller alerts), False when it was recorded
        before (by an earlier poke, reschedule or try: the caller stays quiet). Raises
        :class:`StoreError` when the store cannot be reached.
        """
        try:
            self._open()
            with self._engine.connect() as connection:
                connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
                return insert_sla_miss(connection, miss)
        except StoreError:
            raise
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise StoreError(f"cannot record an SLA miss in {self.url}: {_reason(exc)}") from None

    def _open(self) -> None:
        if self._ready:
            return
        prepare_location(self._url)
        found = store_revision(self._engine)  # a read: workers need no right to DDL
        if not is_current(found):
            needs = (
                f"results store {self.url} needs `opsguard db upgrade`: its schema is "
                f"{found or 'not created yet'}, this release writes {HEAD}"
            )
            if not self._migrate:
                raise StoreError(
                    f"{needs}, and automatic migration is off "
                    "([opsguard] auto_migrate / $OPSGUARD_AUTO_MIGRATE)"
                )
            try:
                upgrade(self._engine)
            except MigrationError as exc:
                raise StoreError(f"{needs}, and migrating it here failed: {exc.reason}") from None
        self._ready = True

    def _write(self, result: GateResult) -> bool:
        with self._engine.connect() as connection:
            connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            return insert_result(connection, result)

    def _keep_for_later(self, result: GateResult, exc: Exception) -> None:
        try:
            self._spool.append(result)
        except Exception as spool_exc:
            # Last resort: the result goes into the log, which the task keeps.
            log.error(
                "results store %s: cannot store result %s (%s) nor spool it to %s (%s); "
                "the result: %s",
                self.url,
                result.run_id,
                _reason(exc),
                self._spool.path,
                _reason(spool_exc),
                json.dumps(result.to_dict(), sort_keys=True),
            )
            return
        log.warning(
            "results store %s: cannot store result %s of %r (%s); kept in %s, "
            "stored on the next successful write",
            self.url,
            result.run_id,
            result.dataset,
            _reason(exc),
            self._spool.path,
        )

    def _replay_quietly(self) -> None:
        try:
            replay = self._spool.replay(self._write, wait=False)
        except Exception as exc:
            log.warning("results store %s: spool replay stopped: %s", self.url, _reason(exc))
            return
        if replay is None:
            return  # another process is replaying it
        if replay.stored:
            log.info("results store %s: stored %d spooled result(s)", self.url, replay.stored)
        if replay.rejected:
            log.warning(
                "results store %s refused %d spooled result(s) for good; they are in %s",
                self.url,
                replay.rejected,
                self._spool.rejected_path,
            )

    # -- reading ----------------------------------------------------------------------

    def results(
        self,
        dataset: str | None = None,
        limit: int = 20,
        offset: int = 0,
        status: str | None = None,
    ) -> list[GateResult]:
        """Stored results, newest first, optionally of one dataset and one status."""
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must not be negative (got {limit}, {offset})")
        if status is not None and status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        query = sa.select(runs).order_by(runs.c.checked_at.desc(), runs.c.run_id.desc())
        if dataset is not None:
            query = query.where(runs.c.dataset == dataset)
        if status is not None:
            query = query.where(runs.c.status == status)
        with self._reading() as connection:
            run_rows = connection.execute(query.limit(limit).offset(offset)).all()
            measured = run_metrics(connection, [row.run_id for row in run_rows])
            return gate_results(run_rows, _check_rows(connection, run_rows), measured)

    def get(self, run_id: str) -> GateResult | None:
        """One stored result by its ``run_id``, or None."""
        with self._reading() as connection:
            run_rows = connection.execute(sa.select(runs).where(runs.c.run_id == run_id)).all()
            measured = run_metrics(connection, [row.run_id for row in run_rows])
            found = gate_results(run_rows, _check_rows(connection, run_rows), measured)
        return found[0] if found else None

    def datasets(self) -> list[DatasetSummary]:
        """Every dataset with a stored result: its latest status and run count, by name."""
        newest_first = (runs.c.checked_at.desc(), runs.c.run_id.desc())
        ranked = sa.select(
            runs.c.dataset,
            runs.c.status,
            runs.c.checked_at,
            sa.func.row_number()
            .over(partition_by=runs.c.dataset, order_by=newest_first)
            .label("newest"),
            sa.func.count().over(partition_by=runs.c.dataset).label("runs"),
        ).subquery()
        query = sa.select(ranked).where(ranked.c.newest == 1).order_by(ranked.c.dataset)
        with self._reading() as connection:
            rows = connection.execute(query).all()
        return [
            DatasetSummary(
                dataset=row.dataset, status=row.status, checked_at=row.checked_at, runs=row.runs
            )
            for row in rows
        ]

    def check_history(
        self, dataset: str, check_name: str, limit: int = 100
    ) -> list[CheckHistoryEntry]:
        """The outcomes of one check of one dataset, newest first (``checked_at`` in UTC)."""
        if limit < 0:
            raise ValueError(f"limit must not be negative (got {limit})")
        query = (
            sa.select(check_results)
            .where(check_results.c.dataset == dataset, check_results.c.name == check_name)
            .order_by(check_results.c.checked_at.desc(), check_results.c.run_id.desc())
            .limit(limit)
        )
        with self._reading() as connection:
            rows = connection.execute(query).all()
        entries = []
        for row in rows:
            check = check_result(row)
            entries.append(
                CheckHistoryEntry(
                    run_id=row.run_id,
                    checked_at=row.checked_at,
                    status=check.status,
                    observed=check.observed,
                    expected=check.expected,
                    failing_count=check.failing_count,
                    metrics=check.metrics,
                )
            )
        return entries

    def metric_history(
        self,
        dataset: str,
        metric: str,
        limit: int = 100,
        before: datetime | None = None,
        *,
        statuses: Collection[str] | None = None,
    ) -> list[MetricPoint]:
        """The stored values of one metric of one dataset, newest first, as
        ``(checked_at, value, status)`` points (``checked_at`` in UTC, ``status`` the run's
        verdict): ``rows``, ``null_fraction(email)``, ``mean(amount)``, ...

        ``before`` keeps the runs checked before that instant; ``statuses`` the runs with
        one of these verdicts. Runs where the metric had no value are left out.
        """
        if limit < 0:
            raise ValueError(f"limit must not be negative (got {limit})")
        if statuses is not None and set(statuses) - set(STATUSES):
            unknown = sorted(set(statuses) - set(STATUSES))
            raise ValueError(f"unknown status {unknown[0]!r}; use one of {', '.join(STATUSES)}")
        with self._reading() as connection:
            return select_metric_history(
                connection, dataset, metric, limit=limit, before=before, statuses=statuses
            )

    def sla_misses(
        self, dataset: str | None = None, *, dag_id: str | None = None, limit: int = 50
    ) -> list[SlaMiss]:
        """Recorded freshness SLA misses, newest first, optionally of one dataset or DAG."""
        if limit < 0:
            raise ValueError(f"limit must not be negative (got {limit})")
        with self._reading() as connection:
            return select_sla_misses(connection, dataset=dataset, dag_id=dag_id, limit=limit)

    @contextmanager
    def connection(self, *, write: bool = False) -> Iterator[sa.Connection]:
        """A connection to the store at this release's schema, for modules that keep
        tables of their own in it (incidents, alerts). With ``write`` a SQLite transaction
        takes the write lock when it begins. Database trouble raises :class:`StoreError`."""
        try:
            self._open()
            with self._engine.connect() as connection:
                if write:
                    connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
                yield connection
        except StoreError:
            raise
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise StoreError(f"results store {self.url}: {_reason(exc)}") from None

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        try:
            self._open()
            with self._engine.connect() as connection:
                yield connection
        except StoreError:
            raise
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            raise StoreError(f"cannot read results store {self.url}: {_reason(exc)}") from None


@contextmanager
def using_store(store: ResultStore | str | sa.URL | None) -> Iterator[ResultStore]:
    """``store`` itself, or a store opened from a URL (or the default) and closed after:
    for functions that take either."""
    if isinstance(store, ResultStore):
        yield store
        return
    opened = ResultStore(store)
    try:
        yield opened
    finally:
        opened.close()


def _check_rows(connection: sa.Connection, run_rows: Sequence[sa.Row[Any]]) -> list[sa.Row[Any]]:
    run_ids = [row.run_id for row in run_rows]
    rows: list[sa.Row[Any]] = []
    for start in range(0, len(run_ids), _CHUNK):
        chunk = run_ids[start : start + _CHUNK]
        query = sa.select(check_results).where(check_results.c.run_id.in_(chunk))
        rows.extend(connection.execute(query).all())
    return rows


def _for_storage(result: GateResult) -> GateResult:
    changes: dict[str, Any] = {}
    if result.run_id is None:
        changes["run_id"] = uuid.uuid4().hex
    for name in ("source", "error"):
        value = getattr(result, name)
        if value is not None and mask_url(str(value)) != value:
            changes[name] = mask_url(str(value))
    return replace(result, **changes) if changes else result


def _reason(exc: BaseException) -> str:
    """A one-line, secret-free reason: the driver's message, without SQL or parameters."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    text = lines[0] if lines else type(cause).__name__
    return mask_url(text)[:300]


# SQLite answers "database is locked" without waiting in a few documented cases (a
# connection that opens while the last one to close cleans up the WAL; a first open
# that recovers it): running the transaction again is the cure.
_BUSY_BACKOFF_S = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6)


def _sqlite_busy(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is SQLite's "database is locked/busy"."""
    seen: BaseException | None = exc
    while seen is not None:
        original = getattr(seen, "orig", seen)
        if isinstance(original, sqlite3.OperationalError):
            text = str(original)
            return "database is locked" in text or "database is busy" in text
        if isinstance(seen, StoreError) and "database is locked" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
