"""Quarantine records: what a gate set aside, where, why, and what a reviewer decided.

One row per batch in the store's ``opsguard_quarantine`` table, keyed by the batch id,
which stays the same across retries of a gate task: recording a batch twice keeps the
first record, so a retried gate never records its batch again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from airflow_opsguard.store.tables import as_utc, quarantine
from airflow_opsguard.urls import SecretURL

if TYPE_CHECKING:
    from airflow_opsguard.contract.models import Contract

Kind = Literal["file", "table", "rows"]
Status = Literal["quarantined", "released", "dropped"]
KINDS: tuple[str, ...] = ("file", "table", "rows")


@dataclass(frozen=True)
class QuarantineRecord:
    """One quarantined batch (``kind`` ``file`` or ``table``) or the bad rows of one
    (``rows``). ``location`` is where the quarantined data is: a folder (path or URL) or
    a table; ``source`` where it came from; ``publish_to`` the target of a database
    batch. ``reasons`` are the checks that did not pass, as the verdict states them.
    ``details`` holds what release needs (the moved files, the contract, the database),
    never a secret: the contract without its alert routes and with every URL masked
    (:func:`contract_details`), the database as a masked URL or a connection id.
    """

    batch_id: str
    dataset: str
    kind: Kind
    location: str
    run_id: str | None = None
    status: Status = "quarantined"
    source: str | None = None
    publish_to: str | None = None
    rows: int | None = None
    clean_rows: int | None = None
    reasons: tuple[dict[str, Any], ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    dag_id: str | None = None
    task_id: str | None = None
    dag_run_id: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    review_reason: str | None = None
    review_run_id: str | None = None
    forced: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times in ISO 8601); ``details`` left out: it is internal."""
        data = asdict(self)
        data.pop("details")
        data["reasons"] = list(self.reasons)
        for key in ("created_at", "reviewed_at"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data

    def to_json(self) -> dict[str, Any]:
        """Everything, details included, for a sidecar or a ledger (``from_json`` reads it)."""
        return {**self.to_dict(), "details": self.details}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuarantineRecord:
        values = dict(data)
        values["reasons"] = tuple(values.get("reasons") or ())
        values["details"] = dict(values.get("details") or {})
        for key in ("created_at", "reviewed_at"):
            if values.get(key) is not None:
                values[key] = datetime.fromisoformat(values[key])
        return cls(**values)


def contract_details(contract: Contract) -> dict[str, Any]:
    """The contract as a quarantine record keeps it (in the store, the sidecar and the
    data database's ledger): what release checks the data against, and no secret.

    Alert routes are left out (webhook URLs, headers and notifier arguments carry
    tokens; release sends no alert); every URL (``source.url``, fsspec paths, the
    reference, the runbook) keeps its place with its password and secret parameters
    masked. Release takes the credentials from the contract file or the caller.
    """
    dumped = contract.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    dumped.pop("alerts", None)
    # A check's type is its default, and also the tag it is read back by: keep it.
    for check, kept in zip(contract.checks, dumped.get("checks") or [], strict=True):
        kept["type"] = check.type
    masked: dict[str, Any] = _masked(dumped)
    return masked


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return SecretURL.parse(value.strip()).masked  # a URL: shown masked
        except ValueError:
            return value  # not a URL (a path, a query, an expression): as it is
    if isinstance(value, Mapping):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


def batch_id_for(dataset: str, identity: Mapping[str, Any]) -> str:
    """The id of the batch a gate task checks: the same for every try of the task, so a
    retried gate finds the work of the try that crashed."""
    parts = [dataset, *(str(identity.get(k, "")) for k in ("dag_id", "run_id", "task_id"))]
    parts.append(str(identity.get("map_index", -1)))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def insert_record(connection: sa.Connection, record: QuarantineRecord) -> QuarantineRecord:
    """Insert ``record`` unless its batch is recorded already; return the stored one."""
    existing = select_record(connection, record.batch_id)
    if existing is not None:
        connection.rollback()
        return existing
    try:
        connection.execute(quarantine.insert(), _row(record))
        connection.commit()
    except sa.exc.IntegrityError:
        connection.rollback()  # another process recorded it in between: keep theirs
        found = select_record(connection, record.batch_id)
        connection.rollback()
        if found is None:
            raise
        return found
    return record


def select_record(connection: sa.Connection, batch_id: str) -> QuarantineRecord | None:
    row = connection.execute(sa.select(quarantine).where(quarantine.c.batch_id == batch_id)).first()
    return None if row is None else _record(row)


def select_records(
    connection: sa.Connection,
    *,
    dataset: str | None = None,
    status: str | None = None,
    run_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[QuarantineRecord]:
    query = sa.select(quarantine).order_by(
        quarantine.c.created_at.desc(), quarantine.c.batch_id.desc()
    )
    if dataset is not None:
        query = query.where(quarantine.c.dataset == dataset)
    if status is not None:
        query = query.where(quarantine.c.status == status)
    if run_id is not None:
        query = query.where(quarantine.c.run_id == run_id)
    rows = connection.execute(query.limit(limit).offset(offset)).all()
    return [_record(row) for row in rows]


def count_records(
    connection: sa.Connection, *, dataset: str | None = None, status: str | None = None
) -> int:
    query = sa.select(sa.func.count()).select_from(quarantine)
    if dataset is not None:
        query = query.where(quarantine.c.dataset == dataset)
    if status is not None:
        query = query.where(quarantine.c.status == status)
    return int(connection.execute(query).scalar_one())


def close_record(
    connection: sa.Connection,
    record: QuarantineRecord,
    status: Status,
    *,
    by: str,
    reason: str | None,
    at: datetime,
    review_run_id: str | None = None,
    forced: bool | None = None,
) -> bool:
    """Mark a quarantined batch released or dropped; False when it was no longer
    quarantined (another reviewer was first). The caller commits."""
    result = connection.execute(
        quarantine.update()
        .where(quarantine.c.batch_id == record.batch_id, quarantine.c.status == "quarantined")
        .values(
            status=status,
            reviewed_at=at,
            reviewed_by=by,
            review_reason=reason,
            review_run_id=review_run_id,
            forced=forced,
        )
    )
    return result.rowcount == 1


def closed(
    record: QuarantineRecord,
    status: Status,
    *,
    by: str,
    reason: str | None,
    at: datetime,
    review_run_id: str | None = None,
    forced: bool | None = None,
) -> QuarantineRecord:
    return replace(
        record,
        status=status,
        reviewed_at=at,
        reviewed_by=by,
        review_reason=reason,
        review_run_id=review_run_id,
        forced=forced,
    )


def _row(record: QuarantineRecord) -> dict[str, Any]:
    row = asdict(record)
    row["reasons"] = list(record.reasons)
    return row


def _record(row: sa.Row[Any]) -> QuarantineRecord:
    values = dict(row._mapping)
    values["reasons"] = tuple(values.get("reasons") or ())
    values["details"] = dict(values.get("details") or {})
    values["created_at"] = as_utc(values["created_at"])
    return QuarantineRecord(**values)
