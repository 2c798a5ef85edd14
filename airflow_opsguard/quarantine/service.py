"""The quarantine's public API: list, show, release and drop quarantined batches.

Stable entry points for the CLI and the web UI. Every function takes a
:class:`~airflow_opsguard.store.ResultStore` (or a store URL, or None for the default
store) and raises :class:`~airflow_opsguard.errors.StoreError` when the store cannot be
read, :class:`QuarantineNotFound` for an unknown batch, :class:`QuarantineConflict`
for a batch that is no longer quarantined, and :class:`ReleaseRefused` when the data
still fails its contract (release again with ``force=True`` to override).

- :func:`list_batches` (``dataset``, ``status``, ``run_id``, ``limit``, ``offset``) and
  :func:`count_batches`: records, newest first.
- :func:`get_batch`: one record by its batch id.
- :func:`release` (``batch_id``, ``by``, ``reason``, ``force``): check the data again,
  then publish it (files move back, rows go into the target table); recorded with who,
  why and when, and the re-check's run id.
- :func:`drop` (``batch_id``, ``by``, ``reason``): delete the quarantined data; recorded.

Records keep no secret (the contract's URLs masked, no alert routes; the database as a
masked URL or a connection id). To reopen a database whose password was masked, release
and drop read the contract file the gate read (``details["origin"]``) when it still says
the same, else take ``database=`` (``--data URL``), else fail with one line saying so.
Files read through an Airflow connection (object storage) are moved back or deleted
through the same connection (the record's ``conn_id``), resolved by ``connections=``.
"""

from __future__ import annotations

import contextlib
import getpass
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_opsguard.contract.models import Contract, Source
from airflow_opsguard.engines.connections import using_connections
from airflow_opsguard.errors import ContractError, OpsGuardError
from airflow_opsguard.quarantine import STATUSES
from airflow_opsguard.quarantine import files as qfiles
from airflow_opsguard.quarantine import sql as qsql
from airflow_opsguard.quarantine.rows import ROW_CHECKS
from airflow_opsguard.store.quarantine import (
    QuarantineRecord,
    close_record,
    closed,
    contract_details,
    count_records,
    select_record,
    select_records,
)
from airflow_opsguard.store.store import using_store
from airflow_opsguard.urls import mask_url

if TYPE_CHECKING:
    from airflow_opsguard.checks.results import GateResult
    from airflow_opsguard.engines.connections import ConnectionResolver
    from airflow_opsguard.store.store import ResultStore


class QuarantineNotFound(OpsGuardError):
    """No quarantined batch has this id."""


class QuarantineConflict(OpsGuardError):
    """The batch is no longer quarantined (released or dropped already)."""


class ReleaseRefused(OpsGuardError):
    """The quarantined data still fails its contract; ``result`` is the new verdict."""

    def __init__(self, message: str, result: GateResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Released:
    """A release: the updated record, where the data went, how many rows, and the
    verdict of the re-check (None with ``force``)."""

    record: QuarantineRecord
    destination: str
    rows: int | None
    check: GateResult | None

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.record.to_dict(),
            "destination": self.destination,
            "released_rows": self.rows,
            "check": None if self.check is None else self.check.to_dict(),
        }


def list_batches(
    store: ResultStore | str | None = None,
    *,
    dataset: str | None = None,
    status: str | None = None,
    run_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[QuarantineRecord]:
    """Quarantine records, newest first: of one dataset, one status (``quarantined``,
    ``released``, ``dropped``) or one gate run (``run_id``, the verdict's run id)."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset must not be negative (got {limit}, {offset})")
    _check_status(status)
    with using_store(store) as opened, opened.connection() as connection:
        return select_records(
            connection, dataset=dataset, status=status, run_id=run_id, limit=limit, offset=offset
        )


def count_batches(
    store: ResultStore | str | None = None,
    *,
    dataset: str | None = None,
    status: str | None = None,
) -> int:
    """How many records :func:`list_batches` would page through."""
    _check_status(status)
    with using_store(store) as opened, opened.connection() as connection:
        return count_records(connection, dataset=dataset, status=status)


def get_batch(batch_id: str, store: ResultStore | str | None = None) -> QuarantineRecord:
    """One quarantine record; raises QuarantineNotFound."""
    with using_store(store) as opened, opened.connection() as connection:
        found = select_record(connection, batch_id)
    if found is None:
        raise QuarantineNotFound(f"no quarantined batch {batch_id!r}")
    return found


def release(
    batch_id: str,
    *,
    by: str | None = None,
    reason: str | None = None,
    force: bool = False,
    store: ResultStore | str | None = None,
    database: str | None = None,
    now: datetime | None = None,
    connections: ConnectionResolver | None = None,
) -> Released:
    """Publish a quarantined batch after review.

    Unless ``force``, the data is checked again first (a batch against its whole
    contract; quarantined rows against its row checks) and the release is refused
    (:class:`ReleaseRefused`) if it does not pass. Files move back where they came from
    (bad rows of a split: ``<name>.released.parquet`` next to ``<name>.clean.parquet``);
    table rows move into the target table (or back into the staging table when the
    contract publishes nowhere), in one transaction. ``database``: the database URL
    when the stored one had its password masked and the contract file the gate read
    does not give it (it is gone, changed, or the gate was given another URL).
    ``connections`` resolves an Airflow connection id the batch was read through
    (:func:`airflow_opsguard.connections.engine_for_conn_id`, as the CLI passes).
    """
    who, moment = by or _user(), now or datetime.now(UTC)
    with using_connections(connections), using_store(store) as opened:
        record = _open_record(opened, batch_id)
        original = _original_contract(record)
        contract = original or _contract(record)
        check: GateResult | None = None
        rows: int | None
        if record.kind in ("file", "rows") and not record.details.get("database"):
            if record.kind == "rows":
                with qfiles.released_rows(record) as temporary:
                    if not force:
                        written = Source(path=temporary, format="parquet")
                        judged = _row_checks(contract).model_copy(update={"source": written})
                        check = _recheck(judged, None, opened, moment)
                    destination = qfiles.release_rows_file(record, temporary)
            else:
                fs = qfiles.filesystem_of(record)  # the batch's connection, once
                if not force:
                    check = _recheck(*held_files(contract, record), opened, moment)
                destination = qfiles.release_files(record, fs)
            rows = record.rows
        else:
            target = _database(record, database, original)
            table = str(record.details.get("quarantine_table") or record.location)
            destination = record.publish_to or str(record.details.get("staging") or "")
            with target.open() as engine:
                if not force:
                    query = qsql.batch_query(engine, table, batch_id)
                    judged = contract if record.kind == "table" else _row_checks(contract)
                    source = Source(url=target.url, conn_id=target.conn_id, query=query)
                    check = _recheck(
                        judged.model_copy(update={"source": source}), None, opened, moment
                    )
                try:
                    rows = qsql.release_batch(engine, table, destination, batch_id)
                except qsql.AlreadyDone:
                    rows = None
        review_run = check.run_id if check is not None else None
        with opened.connection(write=True) as connection:
            if not close_record(
                connection,
                record,
                "released",
                by=who,
                reason=reason,
                at=moment,
                review_run_id=review_run,
                forced=force,
            ):
                connection.rollback()
                raise QuarantineConflict(f"batch {batch_id!r} was closed by someone else")
            connection.commit()
    done = closed(
        record,
        "released",
        by=who,
        reason=reason,
        at=moment,
        review_run_id=review_run,
        forced=force,
    )
    return Released(done, destination, rows, check)


def drop(
    batch_id: str,
    *,
    by: str | None = None,
    reason: str | None = None,
    store: ResultStore | str | None = None,
    database: str | None = None,
    now: datetime | None = None,
    connections: ConnectionResolver | None = None,
) -> QuarantineRecord:
    """Delete a quarantined batch's data for good, recording who, why and when
    (``connections``: as for :func:`release`)."""
    who, moment = by or _user(), now or datetime.now(UTC)
    with using_connections(connections), using_store(store) as opened:
        record = _open_record(opened, batch_id)
        if record.details.get("database"):
            target = _database(record, database, _original_contract(record))
            table = str(record.details.get("quarantine_table") or record.location)
            # AlreadyDone: a drop that crashed before it was recorded.
            with target.open() as engine, contextlib.suppress(qsql.AlreadyDone):
                qsql.drop_batch(engine, table, batch_id)
        else:
            qfiles.drop_files(record, qfiles.filesystem_of(record))
        with opened.connection(write=True) as connection:
            if not close_record(connection, record, "dropped", by=who, reason=reason, at=moment):
                connection.rollback()
                raise QuarantineConflict(f"batch {batch_id!r} was closed by someone else")
            connection.commit()
    return closed(record, "dropped", by=who, reason=reason, at=moment)


# ------------------------------------------------------------------ helpers


def held_files(contract: Contract, record: QuarantineRecord) -> tuple[Contract, str | None]:
    """The contract and data that read a quarantined file batch where it is held: the
    moved files, through the Airflow connection they were read through (the record's
    ``conn_id``, also when the gate was given an ``ObjectStoragePath``)."""
    held = qfiles.quarantined_data(record)
    conn_id = record.details.get("conn_id")
    if not conn_id:
        return contract, held
    file_format = contract.source.format if contract.source is not None else None
    source = Source(path=held, conn_id=str(conn_id), format=file_format)
    return contract.model_copy(update={"source": source}), None


def _check_status(status: str | None) -> None:
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")


def _open_record(store: ResultStore, batch_id: str) -> QuarantineRecord:
    with store.connection() as connection:
        record = select_record(connection, batch_id)
    if record is None:
        raise QuarantineNotFound(f"no quarantined batch {batch_id!r}")
    if record.status != "quarantined":
        raise QuarantineConflict(
            f"batch {batch_id!r} is {record.status} already "
            f"(by {record.reviewed_by or '?'}, {record.reviewed_at})"
        )
    return record


def _contract(record: QuarantineRecord) -> Contract:
    """The contract as the record keeps it (its URLs masked)."""
    contract = Contract.model_validate(record.details.get("contract") or {})
    origin = record.details.get("origin")
    return contract.with_origin(origin) if origin else contract


def _original_contract(record: QuarantineRecord) -> Contract | None:
    """The contract file the gate read, with its credentials, when it is still there
    and says what the record keeps (secrets aside); None otherwise."""
    from airflow_opsguard.formats import load_contract

    origin = record.details.get("origin")
    if not isinstance(origin, str) or not os.path.isfile(origin):
        return None
    try:
        loaded = load_contract(origin)
    except ContractError:
        return None
    return loaded if contract_details(loaded) == record.details.get("contract") else None


def _database(
    record: QuarantineRecord, override: str | None, original: Contract | None
) -> qsql.Database:
    """The database of a record: ``override``, else the connection id or the stored
    URL, else (the stored URL masked) the same URL in the contract file the gate read."""
    details = dict(record.details.get("database") or {})
    if override is None and qsql.stored_masked(details) and original is not None:
        url = original.source.url if original.source is not None else None
        if url and mask_url(url) == details.get("url"):
            override = url
    return qsql.database_from(details, override)


def _row_checks(contract: Contract) -> Contract:
    """Only the row checks (and the schema): quarantined rows are judged one by one,
    never as a batch (volume, uniqueness and the like say nothing about them)."""
    schema = contract.schema_
    if schema is not None:
        columns = tuple(c.model_copy(update={"unique": False}) for c in schema.columns)
        schema = schema.model_copy(update={"columns": columns})
    return contract.model_copy(
        update={
            "schema_": schema,
            "checks": tuple(c for c in contract.checks if isinstance(c, ROW_CHECKS)),
            "volume": None,
            "freshness": None,
            "distribution": None,
        }
    )


def _recheck(contract: Contract, data: Any, store: ResultStore, now: datetime) -> GateResult:
    from airflow_opsguard.decision import summarize
    from airflow_opsguard.validation import judge

    result = judge(contract, data, now, store=store)
    store.record(result)
    if result.status not in ("pass", "warn"):
        raise ReleaseRefused(
            f"release refused: {summarize(result)} (use --force to release anyway)", result
        )
    return result


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (a container without one)
        return "unknown"
