"""After the verdict: publish a passing batch, set a failing one aside, or split it.

The steps a gate takes for ``on_fail: quarantine`` and write-audit-publish, shared by
the Airflow operator and Python callers (no Airflow here):

1. :func:`claim` the batch (databases: tries of one batch take turns until step 3 is
   done), then :func:`resume`: a try of this batch that crashed (or finished) after
   moving data left a sidecar (files) or a ledger entry (databases); the batch is
   finished as that try decided, without checking the (already moved) data again.
2. The caller checks the data and records the verdict.
3. :func:`settle` acts on the verdict, then records the quarantine in the store.

The gate pipeline (:func:`airflow_opsguard.pipeline.run_gate`) runs the three.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from airflow_opsguard.contract.models import Contract, Source
from airflow_opsguard.errors import DataSourceError, StoreError
from airflow_opsguard.quarantine import files as qfiles
from airflow_opsguard.quarantine import sql as qsql
from airflow_opsguard.store.quarantine import QuarantineRecord, insert_record

if TYPE_CHECKING:
    from collections.abc import Iterator

    import sqlalchemy as sa

    from airflow_opsguard.checks.results import GateResult
    from airflow_opsguard.store.store import ResultStore

log = logging.getLogger(__name__)

Action = Literal["none", "published", "quarantined", "split", "released"]


@dataclass(frozen=True)
class SqlTarget:
    """A staging table, the table it publishes into, and its quarantine table."""

    database: qsql.Database
    staging: str
    publish_to: str | None
    quarantine_table: str
    batch_id: str


Target = qfiles.FileBatch | SqlTarget


@dataclass(frozen=True)
class Settlement:
    """What happened to a batch after its verdict.

    ``none``: nothing moved (no publishing configured, or the verdict was an error);
    ``published``: the batch went into the target; ``quarantined``: the whole batch was
    set aside; ``split``: the bad rows were set aside and the clean rows went on
    (``remaining_status`` is the verdict on them); ``released``: an earlier try set the
    batch aside and a reviewer has released it since. ``resumed``: an earlier (maybe
    crashed) try of this gate task had done it.
    ``recorded``: False when the store could not take the record (retry the task: the
    retry records it).
    """

    action: Action
    record: QuarantineRecord | None = None
    published_rows: int | None = None
    clean_path: str | None = None
    remaining_status: str | None = None
    resumed: bool = False
    recorded: bool = True

    @property
    def lets_data_through(self) -> bool:
        return self.action in ("published", "split", "none", "released")

    def to_dict(self) -> dict[str, Any]:
        record = self.record
        return {
            "action": self.action,
            "batch_id": record.batch_id if record else None,
            "kind": record.kind if record else None,
            "location": record.location if record else None,
            "rows": record.rows if record else None,
            "clean_rows": record.clean_rows if record else None,
            "published_rows": self.published_rows,
            "clean_path": self.clean_path,
            "remaining_status": self.remaining_status,
            "resumed": self.resumed,
        }


def target_for(
    contract: Contract, batch_id: str, *, data: Any = None, table: str | None = None
) -> Target:
    """Where the batch is: files (a path, glob or URL) or a staging table."""
    from airflow_opsguard.engines.sources import (
        DatabaseSource,
        FileSource,
        SparkSource,
        resolve_source,
    )

    section = contract.quarantine
    source = resolve_source(contract, data, table)
    if isinstance(source, DatabaseSource):
        if source.table is None:
            raise DataSourceError(
                f"{contract.dataset}: quarantine moves rows out of a table; the source is a "
                "query (give source.table: the staging table)"
            )
        publish_to = section.publish_to if section else None
        home = publish_to or source.table
        return SqlTarget(
            database=qsql.Database(
                url=_connectable(source.url),
                conn_id=source.conn_id,
                engine=source.engine,
            ),
            staging=source.table,
            publish_to=publish_to,
            quarantine_table=(section.location if section and section.location else None)
            or f"{home}_quarantine",
            batch_id=batch_id,
        )
    if isinstance(source, SparkSource):
        raise DataSourceError(
            f"{contract.dataset}: quarantine does not move data on Spark (source.engine: "
            "spark); use on_fail fail, skip or retry"
        )
    if not isinstance(source, FileSource):
        raise DataSourceError(
            f"{contract.dataset}: quarantine moves files or table rows; give a path, a URL "
            "or a table, not an object in memory"
        )
    location = source.location
    if not qfiles.protocol_of(location):
        location = os.path.abspath(location)
    root = section.location if section else None
    _same_filesystem(contract.dataset, location, root)
    if source.storage is not None and source.conn_id is None and _own_options(source.storage):
        raise DataSourceError(
            f"{contract.dataset}: quarantine does not move files of a path object that "
            "carries credentials of its own: release and drop could not reopen them (a "
            "record keeps no secret); give an ObjectStoragePath with conn_id, or "
            "source.path with source.conn_id"
        )
    return qfiles.FileBatch(
        location=location,
        dataset=contract.dataset,
        batch_id=batch_id,
        root=root,
        conn_id=source.conn_id,
        # One filesystem for every move of the batch: the connection's (resolved once,
        # here), the path object's, or None (fsspec's own credentials).
        filesystem=source.filesystem(),
    )


def _same_filesystem(dataset: str, location: str, root: str | None) -> None:
    """A quarantine folder is on the filesystem of the files it takes (one connection,
    one protocol): files are never moved across filesystems."""
    if root is None or qfiles.protocol_of(root) == qfiles.protocol_of(location):
        return
    from airflow_opsguard.urls import mask_text

    protocol = qfiles.protocol_of(location)
    where = f"{protocol}:// (moved with the source's credentials)" if protocol else "the local disk"
    raise DataSourceError(
        f"{dataset}: quarantine.location {mask_text(root)!r} is on another filesystem than "
        f"the source {mask_text(location)!r}: give a folder on {where}, or leave it out "
        "for <parent>/_quarantine"
    )


def _own_options(storage: Any) -> bool:
    """Does a path object without an Airflow connection carry storage options (keys,
    an endpoint) of its own?"""
    options = getattr(storage, "storage_options", None)
    return bool(options)


def _connectable(url: str | sa.URL | None) -> str | None:
    """The URL to connect with: ``str()`` of a SQLAlchemy URL hides its password."""
    if url is None or isinstance(url, str):
        return url
    return str(url.render_as_string(hide_password=False))


@contextmanager
def claim(target: Target) -> Iterator[None]:
    """Hold the batch from :func:`resume` to :func:`settle`: concurrent tries of one SQL
    batch take turns, and the later ones resume the first one's decision (the lock is
    in the data database and ends with the try: see :func:`qsql.claim_batch`). Files
    take no claim."""
    if isinstance(target, qfiles.FileBatch):
        yield
        return
    with qsql.claim_batch(target.database, target.batch_id):
        yield


def resume(target: Target, store: ResultStore | None) -> Settlement | None:
    """Finish what a crashed try of this batch did, as it decided; None when no try got
    as far as moving data."""
    if isinstance(target, qfiles.FileBatch):
        resumed_files = qfiles.resume(target)
        if resumed_files is None:
            return None
        found, state = resumed_files
        clean = found.details.get("clean_path")
        action: Action = "split" if found.kind == "rows" else "quarantined"
        if state == "released":
            action = "released"
        return _recorded(
            Settlement(action, found, clean_path=clean, resumed=True, remaining_status=None),
            store,
        )
    with target.database.open() as engine:
        entry = qsql.ledger_entry(engine, target.batch_id)
    if entry is None:
        return None
    record = qsql.record_of(entry)
    with target.database.open() as engine:
        released = qsql.ledger_entry(engine, f"release:{target.batch_id}") is not None
    if released and record is not None:
        return _recorded(Settlement("released", record, resumed=True), store)
    if entry.action == "published":
        return Settlement("published", published_rows=entry.rows, resumed=True)
    if record is not None:
        record = replace(record, rows=entry.rows, clean_rows=entry.clean_rows)
    settled = Settlement(entry.action, record, resumed=True)
    if entry.action == "split":
        settled = replace(settled, published_rows=entry.clean_rows)
    return _recorded(settled, store)


def settle(
    contract: Contract,
    result: GateResult,
    target: Target,
    *,
    on_fail: str,
    store: ResultStore | None,
    now: datetime | None = None,
) -> Settlement:
    """Act on the verdict: publish what passed (write-audit-publish), set aside what
    failed (``on_fail: quarantine``), and record the quarantine in ``store``."""
    if result.status == "error":
        return Settlement("none")  # could not check: nothing moves, the data stays put
    if result.status in ("pass", "warn") or on_fail == "warn":
        if isinstance(target, SqlTarget) and target.publish_to:
            rows: int | None
            with target.database.open() as engine:
                qsql.ensure_tables(engine, target.staging, None)
                try:
                    rows = qsql.publish(engine, target.staging, target.publish_to, target.batch_id)
                except qsql.AlreadyDone:
                    entry = qsql.ledger_entry(engine, target.batch_id)
                    rows = entry.rows if entry is not None else None
            return Settlement("published", published_rows=rows)
        return Settlement("none")
    if on_fail != "quarantine":
        return Settlement("none")
    record = _new_record(contract, result, target, now)
    level = contract.quarantine.level if contract.quarantine else "batch"
    settled = None
    if level == "rows":
        settled = _split(contract, result, target, record, store, now)
    if settled is None:
        settled = _quarantine(target, record, result)
    return _recorded(settled, store)


def moves_data(contract: Contract, on_fail: str) -> bool:
    """Does this gate move data after its verdict (quarantine, or publish)?"""
    section = contract.quarantine
    return on_fail == "quarantine" or (section is not None and section.publish_to is not None)


def needs_move(contract: Contract, status: str, on_fail: str) -> bool:
    """Does this verdict move the batch (so a batch that cannot move fails the gate)?"""
    if status == "error":
        return False
    section = contract.quarantine
    if status in ("pass", "warn") or on_fail == "warn":
        return section is not None and section.publish_to is not None
    return on_fail == "quarantine"


# ------------------------------------------------------------------ steps


def _new_record(
    contract: Contract, result: GateResult, target: Target, now: datetime | None
) -> QuarantineRecord:
    from airflow_opsguard.store.quarantine import contract_details
    from airflow_opsguard.urls import mask_url

    context = dict(result.context or {})
    # Nothing secret: the contract with its URLs masked and no alert routes, the
    # database as a masked URL or a connection id (release asks for the credentials).
    details: dict[str, Any] = {
        "contract": contract_details(contract),
        "origin": contract.origin,
    }
    if isinstance(target, SqlTarget):
        details.update(
            database=target.database.describe(),
            staging=target.staging,
            quarantine_table=target.quarantine_table,
        )
    elif target.conn_id is not None:
        details["conn_id"] = target.conn_id  # release and drop move the files with it
    return QuarantineRecord(
        batch_id=target.batch_id,
        dataset=result.dataset,
        kind="table" if isinstance(target, SqlTarget) else "file",
        location=target.quarantine_table if isinstance(target, SqlTarget) else target.folder,
        run_id=result.run_id,
        source=target.staging if isinstance(target, SqlTarget) else mask_url(target.location),
        publish_to=target.publish_to if isinstance(target, SqlTarget) else None,
        rows=result.rows,
        reasons=reasons_of(result),
        details=details,
        dag_id=context.get("dag_id"),
        task_id=context.get("task_id"),
        dag_run_id=context.get("run_id"),
        created_at=now or datetime.now(UTC),
    )


def reasons_of(result: GateResult) -> tuple[dict[str, Any], ...]:
    """The checks that did not pass, as a quarantine record keeps them (messages
    without secrets: an error's message may quote a URL)."""
    from airflow_opsguard.urls import mask_text

    return tuple(
        {
            "check": check.name,
            "type": check.type,
            "column": check.column,
            "status": check.status,
            "failing_count": check.failing_count,
            "message": mask_text(check.message),
        }
        for check in result.checks
        if check.status in ("fail", "error")
    )


def _quarantine(target: Target, record: QuarantineRecord, result: GateResult) -> Settlement:
    if isinstance(target, qfiles.FileBatch):
        return Settlement("quarantined", qfiles.quarantine_files(target, record, result.to_dict()))
    rows: int | None
    with target.database.open() as engine:
        qsql.ensure_tables(engine, target.staging, target.quarantine_table)
        try:
            rows = qsql.quarantine_batch(engine, target.staging, target.quarantine_table, record)
        except qsql.AlreadyDone:
            entry = qsql.ledger_entry(engine, target.batch_id)
            rows = entry.rows if entry is not None else None
    return Settlement("quarantined", replace(record, rows=rows))


def _split(
    contract: Contract,
    result: GateResult,
    target: Target,
    record: QuarantineRecord,
    store: ResultStore | None,
    now: datetime | None,
) -> Settlement | None:
    """Bad rows aside, clean rows on, when the clean rows pass the contract; None when
    they do not (the whole batch goes to quarantine) or no row check applies."""
    from airflow_opsguard.validation import judge

    if isinstance(target, qfiles.FileBatch):
        file_format = contract.source.format if contract.source else None
        prepared = qfiles.prepare_split(target, contract, record, file_format)
        if prepared is None:
            return None
        remaining = judge(contract, prepared.clean_tmp, now, store=store)
        if remaining.status not in ("pass", "warn"):
            qfiles.abandon_split(prepared)
            return None
        split_record = qfiles.commit_split(target, prepared, record, result.to_dict())
        return Settlement(
            "split",
            split_record,
            clean_path=prepared.clean_path,
            remaining_status=remaining.status,
        )
    import sqlalchemy as sa

    from airflow_opsguard.quarantine.rows import row_split

    with target.database.open() as engine:
        columns = qsql.columns_of(engine, target.staging)
        with engine.connect() as connection:
            # The reflected table itself, so the split's predicates and the moves that
            # use them read one FROM.
            relation = qsql.reflect(connection, target.staging)
        split = row_split(contract, columns, relation)
        if split is None:
            return None
        clean: Any = sa.select(*(sa.column(c.name, _selectable=relation) for c in columns)).where(
            split.bad == 0
        )
        query = qsql.literal_sql(clean, engine)
        remaining = judge(
            _with_query(contract, target.database, query),
            target.database.engine,
            now,
            store=store,
        )
        if remaining.status not in ("pass", "warn"):
            return None
        qsql.ensure_tables(engine, target.staging, target.quarantine_table)
        rows_record = replace(record, kind="rows")
        bad: int | None
        kept: int | None
        try:
            bad, kept = qsql.split_batch(
                engine,
                target.publish_to,
                target.quarantine_table,
                rows_record,
                split,
            )
        except qsql.AlreadyDone:
            entry = qsql.ledger_entry(engine, target.batch_id)
            bad, kept = (entry.rows, entry.clean_rows) if entry is not None else (None, None)
    return Settlement(
        "split",
        replace(rows_record, rows=bad, clean_rows=kept),
        published_rows=kept if target.publish_to else None,
        remaining_status=remaining.status,
    )


def _with_query(contract: Contract, database: qsql.Database, query: str) -> Contract:
    source = Source(url=database.url, conn_id=database.conn_id, query=query)
    if database.engine is not None:
        source = Source(query=query)
    return contract.model_copy(update={"source": source})


def _recorded(settled: Settlement, store: ResultStore | None) -> Settlement:
    """Keep the quarantine record in the store; a store that is down is logged, and the
    settlement says so (the sidecar or ledger keeps the record for the retry)."""
    if settled.record is None or store is None:
        return settled
    try:
        with store.connection(write=True) as connection:
            stored = insert_record(connection, settled.record)
    except StoreError as exc:
        log.error("quarantine of batch %s not recorded: %s", settled.record.batch_id, exc)
        return replace(settled, recorded=False)
    return replace(settled, record=stored)
