"""Incidents and the alert outbox in the results store (tables of revisions 0006, 0009,
0010).

A run's incident changes and the alerts they call for are written in one transaction,
so an alert is never decided without being kept: a process that dies before sending
leaves it ``pending``, and the next run sends it. Every function raises
:class:`~airflow_opsguard.errors.StoreError` when the store cannot be reached.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.checks.incidents import Incident, Member, Transition, open_key
from airflow_opsguard.checks.results import to_json_value
from airflow_opsguard.engines.sql_errors import is_conflict
from airflow_opsguard.store.tables import alerts as alert_rows
from airflow_opsguard.store.tables import as_utc
from airflow_opsguard.store.tables import incidents as incident_rows

if TYPE_CHECKING:
    from airflow_opsguard.store.dashboard import Scope
    from airflow_opsguard.store.store import ResultStore

# A claimed alert whose sender went quiet this long may be claimed again.
CLAIM_TIMEOUT = timedelta(minutes=10)
# Tries of a run's transaction that lost a race with another gate's, and the longest
# pause before the first retry (doubled for each next one; seconds).
_ATTEMPTS = 8
_BACKOFF_S = 0.02
PENDING, SENT = "pending", "sent"


@dataclass(frozen=True)
class OutboxAlert:
    """One alert for one route, as kept in the store."""

    dedup_key: str
    dataset: str
    event: str
    route_key: str
    route_label: str
    payload: dict[str, Any]
    id: int = 0
    status: str = PENDING
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dedup_key": self.dedup_key,
            "dataset": self.dataset,
            "event": self.event,
            "route_key": self.route_key,
            "route_label": self.route_label,
            "payload": self.payload,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "created_at": to_json_value(self.created_at),
            "sent_at": to_json_value(self.sent_at),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutboxAlert:
        return cls(
            dedup_key=data["dedup_key"],
            dataset=data["dataset"],
            event=data["event"],
            route_key=data["route_key"],
            route_label=data["route_label"],
            payload=dict(data["payload"]),
            attempts=int(data.get("attempts") or 0),
            last_error=data.get("last_error"),
            created_at=_parse(data.get("created_at")),
        )


@dataclass(frozen=True)
class IncidentStats:
    """Counts and means over incidents (seconds; None without any to average)."""

    total: int
    open: int
    acknowledged: int
    resolved: int
    escalated: int
    mean_time_to_detect: float | None
    mean_time_to_acknowledge: float | None
    mean_time_to_resolve: float | None
    pending_alerts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "open": self.open,
            "acknowledged": self.acknowledged,
            "resolved": self.resolved,
            "escalated": self.escalated,
            "mean_time_to_detect_seconds": self.mean_time_to_detect,
            "mean_time_to_acknowledge_seconds": self.mean_time_to_acknowledge,
            "mean_time_to_resolve_seconds": self.mean_time_to_resolve,
            "pending_alerts": self.pending_alerts,
        }


Compose = Callable[[list[Transition]], list[OutboxAlert]]
Plan = Callable[[dict[str, Incident]], list[Transition]]


class IncidentStore:
    """Incidents and the alert outbox of one results store."""

    def __init__(self, store: ResultStore) -> None:
        self.store = store

    # -- a run ---------------------------------------------------------------------

    def record_run(
        self, dataset: str, plan: Plan, compose: Compose
    ) -> tuple[list[Transition], list[OutboxAlert]]:
        """In one transaction: read (and lock) the dataset's open incidents, apply
        ``plan`` to them, and keep the alerts ``compose`` makes of the changes (ids
        filled in). Gates of one dataset take turns here, so no count is lost.
        Returns the changes and the alerts this call added to the outbox (an alert kept
        before, by an earlier attempt, is not added again)."""
        with self.store.connection(write=True) as connection:
            for attempt in range(_ATTEMPTS):
                try:
                    with connection.begin():
                        current = _open_incidents(connection, dataset)
                        changes = [_apply(connection, t) for t in plan(current)]
                        kept = (_insert_alert(connection, a) for a in compose(changes))
                        added = [a for a in kept if a is not None]
                    return changes, added
                except sa.exc.DBAPIError as exc:
                    # Another gate opened the same incident (or kept the same alert) at
                    # the same moment, or the database chose this transaction as a
                    # deadlock's victim: read again, and find the other's work there.
                    lost = isinstance(exc, sa.exc.IntegrityError) or is_conflict(exc)
                    if not lost or attempt == _ATTEMPTS - 1:
                        raise
                    # Gates that collided once would collide again at once: spread them.
                    time.sleep(random.uniform(0, _BACKOFF_S * 2**attempt))
        raise AssertionError("unreachable")

    # -- the outbox -----------------------------------------------------------------

    def keep(self, alert: OutboxAlert) -> OutboxAlert | None:
        """Add an alert to the outbox (None when one with its dedup key is there)."""
        with self.store.connection(write=True) as connection:
            try:
                with connection.begin():
                    return _insert_alert(connection, alert)
            except sa.exc.IntegrityError:
                return None  # kept at the same moment by another process

    def pending(self, route_keys: Collection[str], limit: int = 100) -> list[OutboxAlert]:
        """Pending alerts for these routes, oldest first."""
        if not route_keys:
            return []
        query = (
            sa.select(alert_rows)
            .where(alert_rows.c.status == PENDING, alert_rows.c.route_key.in_(list(route_keys)))
            .order_by(alert_rows.c.id)
            .limit(limit)
        )
        with self.store.connection() as connection:
            return [_alert(row) for row in connection.execute(query).all()]

    def claim(self, alert_id: int, now: datetime) -> bool:
        """Take a pending alert for sending; False when another process has it."""
        stale = as_utc(now) - CLAIM_TIMEOUT
        statement = (
            alert_rows.update()
            .where(
                alert_rows.c.id == alert_id,
                alert_rows.c.status == PENDING,
                sa.or_(alert_rows.c.claimed_at.is_(None), alert_rows.c.claimed_at < stale),
            )
            .values(claimed_at=as_utc(now), attempts=alert_rows.c.attempts + 1)
        )
        with self.store.connection(write=True) as connection, connection.begin():
            return connection.execute(statement).rowcount == 1

    def sent(self, alert_id: int, now: datetime) -> None:
        statement = (
            alert_rows.update()
            .where(alert_rows.c.id == alert_id)
            .values(status=SENT, sent_at=as_utc(now), last_error=None)
        )
        with self.store.connection(write=True) as connection, connection.begin():
            connection.execute(statement)

    def failed(self, alert_id: int, error: str) -> None:
        """Leave the alert pending, for the next run, with the reason it failed."""
        statement = (
            alert_rows.update()
            .where(alert_rows.c.id == alert_id)
            .values(claimed_at=None, last_error=error[:2000])
        )
        with self.store.connection(write=True) as connection, connection.begin():
            connection.execute(statement)

    def alerts(
        self, dataset: str | None = None, status: str | None = None, limit: int = 50
    ) -> list[OutboxAlert]:
        """Kept alerts, newest first."""
        query = sa.select(alert_rows).order_by(alert_rows.c.id.desc()).limit(limit)
        if dataset is not None:
            query = query.where(alert_rows.c.dataset == dataset)
        if status is not None:
            query = query.where(alert_rows.c.status == status)
        with self.store.connection() as connection:
            return [_alert(row) for row in connection.execute(query).all()]

    # -- people ---------------------------------------------------------------------

    def incidents(
        self,
        dataset: str | None = None,
        statuses: Collection[str] | None = None,
        limit: int = 50,
    ) -> list[Incident]:
        """Incidents, newest first."""
        query = sa.select(incident_rows).order_by(incident_rows.c.id.desc()).limit(limit)
        if dataset is not None:
            query = query.where(incident_rows.c.dataset == dataset)
        if statuses:
            query = query.where(incident_rows.c.status.in_(list(statuses)))
        with self.store.connection() as connection:
            return [incident_from_row(row) for row in connection.execute(query).all()]

    def openings(self, dataset: str, since: datetime) -> dict[str, list[tuple[int, datetime]]]:
        """(id, opened_at) of the dataset's incidents opened at or after ``since``, by
        severity, oldest first (those 0009 folded into another are left out): what the
        flapping mark counts."""
        query = (
            sa.select(incident_rows.c.id, incident_rows.c.severity, incident_rows.c.opened_at)
            .where(
                incident_rows.c.dataset == dataset,
                incident_rows.c.opened_at >= as_utc(since),
                incident_rows.c.merged_into.is_(None),
            )
            .order_by(incident_rows.c.opened_at, incident_rows.c.id)
        )
        found: dict[str, list[tuple[int, datetime]]] = {}
        with self.store.connection() as connection:
            for number, severity, opened_at in connection.execute(query).all():
                found.setdefault(str(severity), []).append((int(number), as_utc(opened_at)))
        return found

    def get(self, incident_id: int) -> Incident | None:
        with self.store.connection() as connection:
            row = connection.execute(
                sa.select(incident_rows).where(incident_rows.c.id == incident_id)
            ).first()
        return None if row is None else incident_from_row(row)

    def acknowledge(self, incident_id: int, by: str, now: datetime) -> Incident | None:
        """Acknowledge an open incident: it stops escalating. None when there is none."""
        statement = (
            incident_rows.update()
            .where(incident_rows.c.id == incident_id, incident_rows.c.status == "open")
            .values(status="acknowledged", acknowledged_at=as_utc(now), acknowledged_by=by)
        )
        with self.store.connection(write=True) as connection, connection.begin():
            connection.execute(statement)
        return self.get(incident_id)

    def resolve(self, incident_id: int, by: str, now: datetime) -> Incident | None:
        """Resolve an incident by hand (the next failing run opens a new one)."""
        statement = (
            incident_rows.update()
            .where(incident_rows.c.id == incident_id, incident_rows.c.status != "resolved")
            .values(status="resolved", resolved_at=as_utc(now), resolved_by=by, open_key=None)
        )
        with self.store.connection(write=True) as connection, connection.begin():
            connection.execute(statement)
        return self.get(incident_id)

    def stats(
        self,
        dataset: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> IncidentStats:
        """Counts, and the mean times to detect, acknowledge and resolve, of the
        incidents opened in ``[since, until)`` (see :func:`summarize`)."""
        overall, _ = self.stats_by_dataset(since, until, dataset=dataset)
        return overall

    def stats_by_dataset(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        dataset: str | None = None,
        scope: Scope | None = None,
    ) -> tuple[IncidentStats, dict[str, IncidentStats]]:
        """The same figures over every dataset, and per dataset (by name), for the
        incidents opened in ``[since, until)``; ``scope``: only those of the DAGs a user
        may see. Per-check incidents that 0009 folded into an episode are left out."""
        where: list[sa.ColumnElement[bool]] = [incident_rows.c.merged_into.is_(None)]
        waiting: list[sa.ColumnElement[bool]] = [alert_rows.c.status == PENDING]
        if dataset is not None:
            where.append(incident_rows.c.dataset == dataset)
            waiting.append(alert_rows.c.dataset == dataset)
        if since is not None:
            where.append(incident_rows.c.opened_at >= as_utc(since))
        if until is not None:
            where.append(incident_rows.c.opened_at < as_utc(until))
        if scope is not None:
            from airflow_opsguard.store.dashboard import allowed

            where.append(allowed(scope, incident_rows.c.dag_id))
        pending = sa.select(alert_rows.c.dataset, sa.func.count()).where(*waiting)
        with self.store.connection() as connection:
            rows = connection.execute(sa.select(incident_rows).where(*where)).all()
            found = [incident_from_row(row) for row in rows]
            grouped = connection.execute(pending.group_by(alert_rows.c.dataset)).all()
            counts: dict[str, int] = {str(name): int(n) for name, n in grouped}
        by_dataset: dict[str, list[Incident]] = {}
        for incident in found:
            by_dataset.setdefault(incident.dataset, []).append(incident)
        if scope is not None:  # alerts carry no DAG: count those of the datasets shown
            counts = {name: n for name, n in counts.items() if name in by_dataset}
        per_dataset = {
            name: summarize(items, int(counts.get(name, 0)))
            for name, items in sorted(by_dataset.items())
        }
        return summarize(found, int(sum(counts.values()))), per_dataset


def summarize(found: Sequence[Incident], pending_alerts: int = 0) -> IncidentStats:
    """Counts and mean times over ``found``.

    Time to detect: from the newest timestamp in the data of the run that opened the
    incident to the moment it was opened (incidents without a known timestamp are left
    out). Time to acknowledge: opened to acknowledged. Time to resolve: opened to
    resolved (incidents still open are left out).
    """

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    detect = [
        (i.opened_at - i.data_newest).total_seconds() for i in found if i.data_newest is not None
    ]
    ack = [
        (i.acknowledged_at - i.opened_at).total_seconds()
        for i in found
        if i.acknowledged_at is not None
    ]
    resolve = [
        (i.resolved_at - i.opened_at).total_seconds() for i in found if i.resolved_at is not None
    ]
    return IncidentStats(
        total=len(found),
        open=sum(i.status == "open" for i in found),
        acknowledged=sum(i.status == "acknowledged" for i in found),
        resolved=sum(i.status == "resolved" for i in found),
        escalated=sum(i.escalated_at is not None for i in found),
        mean_time_to_detect=mean(detect),
        mean_time_to_acknowledge=mean(ack),
        mean_time_to_resolve=mean(resolve),
        pending_alerts=pending_alerts,
    )


# -- rows ------------------------------------------------------------------------------


def _open_incidents(connection: sa.Connection, dataset: str) -> dict[str, Incident]:
    """The dataset's open incidents, locked until the transaction ends.

    The run's plan counts on them (``failures + 1``, escalation after N failing runs):
    without the lock, two gates of the same dataset under READ COMMITTED (PostgreSQL) or
    REPEATABLE READ (MySQL/MariaDB, whose plain reads are a snapshot) both read count N
    and both write N+1, and a failing run is lost. ``FOR UPDATE`` makes the second wait
    for the first's commit and read its count; SQLite has no row locks and needs none
    (the write transaction began IMMEDIATE: one writer at a time).
    """
    query = (
        sa.select(incident_rows)
        .where(incident_rows.c.dataset == dataset, incident_rows.c.open_key.is_not(None))
        .order_by(incident_rows.c.id)  # the same lock order in every gate
        .with_for_update()
    )
    found: dict[str, Incident] = {}
    for row in connection.execute(query).all():
        incident = incident_from_row(row)
        found.setdefault(incident.severity, incident)  # one per severity (0009's key)
    return found


def _apply(connection: sa.Connection, transition: Transition) -> Transition:
    incident = transition.incident
    values = _row(incident)
    if incident.id == 0:
        inserted = connection.execute(incident_rows.insert().values(**values))
        (new_id,) = inserted.inserted_primary_key or (0,)
        return replace(transition, incident=replace(incident, id=int(new_id)))
    update = incident_rows.update().where(incident_rows.c.id == incident.id).values(**values)
    connection.execute(update)
    return transition


def _row(incident: Incident) -> dict[str, Any]:
    return {
        "dataset": incident.dataset,
        "check_name": incident.check[:255],
        "check_type": incident.check_type[:64],
        "column_name": None if incident.column is None else incident.column[:255],
        "open_key": open_key(incident.dataset, incident.severity) if incident.is_open else None,
        "status": incident.status,
        "severity": incident.severity,
        "last_status": incident.last_status,
        "failures": incident.failures,
        "opened_at": as_utc(incident.opened_at),
        "last_failed_at": as_utc(incident.last_failed_at),
        "escalated_at": _utc_or_none(incident.escalated_at),
        "acknowledged_at": _utc_or_none(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": _utc_or_none(incident.resolved_at),
        "resolved_by": incident.resolved_by,
        "data_newest": _utc_or_none(incident.data_newest),
        "opened_run_id": incident.opened_run_id,
        "last_run_id": incident.last_run_id,
        "resolved_run_id": incident.resolved_run_id,
        "last_run_key": incident.last_run_key,
        "dag_id": incident.dag_id,
        "task_id": incident.task_id,
        "observed": incident.observed,
        "expected": incident.expected,
        "message": incident.message,
        "incident_key": incident.incident_key or None,
        "members": [m.to_dict() for m in incident.members] or None,
        "merged_into": incident.merged_into,
        "passing_runs": incident.passing_runs,
        "returns": [as_utc(moment).isoformat() for moment in incident.returns] or None,
        "flapping": incident.flapping,
    }


def incident_from_row(row: sa.Row[Any]) -> Incident:
    """An incident as stored, from a row of the incidents table (a row stored before
    0009, without members, is an episode of its one check; one stored before 0010 has
    no passing runs, returns or flapping mark)."""
    incident = Incident(
        id=row.id,
        dataset=row.dataset,
        check=row.check_name,
        check_type=row.check_type,
        column=row.column_name,
        status=row.status,
        severity=row.severity,
        last_status=row.last_status,
        failures=row.failures,
        opened_at=row.opened_at,
        last_failed_at=row.last_failed_at,
        message=row.message,
        escalated_at=row.escalated_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        data_newest=row.data_newest,
        opened_run_id=row.opened_run_id,
        last_run_id=row.last_run_id,
        resolved_run_id=row.resolved_run_id,
        last_run_key=row.last_run_key,
        dag_id=row.dag_id,
        task_id=row.task_id,
        observed=row.observed,
        expected=row.expected,
        incident_key=row.incident_key or f"opsguard-incident-{row.id}",
        members=tuple(Member.from_dict(m) for m in row.members or ()),
        merged_into=row.merged_into,
        passing_runs=row.passing_runs or 0,
        returns=tuple(as_utc(datetime.fromisoformat(str(m))) for m in row.returns or ()),
        flapping=bool(row.flapping),
    )
    if incident.members:
        return incident
    only = Member(
        name=incident.check,
        type=incident.check_type,
        column=incident.column,
        status=incident.last_status,
        message=incident.message,
        first_failed_at=incident.opened_at,
        last_failed_at=incident.last_failed_at,
        failures=incident.failures,
        observed=incident.observed,
        expected=incident.expected,
        recovered_at=incident.resolved_at,
    )
    return replace(incident, members=(only,))


def _insert_alert(connection: sa.Connection, alert: OutboxAlert) -> OutboxAlert | None:
    exists = sa.select(alert_rows.c.id).where(alert_rows.c.dedup_key == alert.dedup_key)
    if connection.execute(exists).first() is not None:
        return None
    created = as_utc(alert.created_at or datetime.now(UTC))
    inserted = connection.execute(
        alert_rows.insert().values(
            dedup_key=alert.dedup_key,
            dataset=alert.dataset,
            event=alert.event,
            route_key=alert.route_key,
            route_label=alert.route_label[:500],
            payload=to_json_value(alert.payload),
            status=PENDING,
            attempts=alert.attempts,
            last_error=alert.last_error,
            created_at=created,
        )
    )
    (new_id,) = inserted.inserted_primary_key or (0,)
    return replace(alert, id=int(new_id), created_at=created)


def _alert(row: sa.Row[Any]) -> OutboxAlert:
    return OutboxAlert(
        id=row.id,
        dedup_key=row.dedup_key,
        dataset=row.dataset,
        event=row.event,
        route_key=row.route_key,
        route_label=row.route_label,
        payload=dict(row.payload or {}),
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _parse(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None
