"""Retention: old history leaves the results store, what is still in use stays.

:func:`prune` removes, older than a cut-off:

- runs (checked before it) with their check results, metrics and profiles;
- SLA misses, alerts that were sent, and incidents that were resolved, before it.

It keeps whatever something still refers to: the runs of incidents that are open or
acknowledged, the runs a baseline version was promoted from, the runs of batches still in
quarantine; alerts not yet sent; every baseline and quarantine record.

It deletes in batches, each in a short transaction of its own, so that gates writing at
the same time wait for one batch at most, never for the whole prune.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.store.tables import (
    alerts,
    baselines,
    check_results,
    incidents,
    metrics,
    quarantine,
    run_profiles,
    runs,
    sla_misses,
)

if TYPE_CHECKING:
    from airflow_opsguard.store.store import ResultStore

DEFAULT_BATCH = 500
OPEN_INCIDENT = ("open", "acknowledged")


@dataclass(frozen=True)
class PruneReport:
    """How many rows of each kind were removed (or would be, with ``dry_run``)."""

    cutoff: datetime
    dry_run: bool
    removed: dict[str, int] = field(default_factory=dict)
    kept_runs: int = 0  # old runs kept because something still refers to them

    def describe(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        counts = ", ".join(f"{n:,} {kind}" for kind, n in self.removed.items()) or "nothing"
        kept = f"; kept {self.kept_runs:,} older runs still in use" if self.kept_runs else ""
        return f"{verb} {counts} from before {self.cutoff.isoformat()}{kept}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "removed": dict(self.removed),
            "kept_runs": self.kept_runs,
        }


def prune(
    store: ResultStore,
    older_than: timedelta,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
) -> PruneReport:
    """Remove the history older than ``older_than`` (see the module's docstring).

    Raises :class:`~airflow_opsguard.errors.StoreError` when the store cannot be reached;
    what earlier batches removed stays removed."""
    if older_than <= timedelta(0):
        raise ValueError("older_than: give a positive duration (90d keeps three months)")
    if batch_size < 1:
        raise ValueError("batch_size: give at least 1")
    cutoff = (now or datetime.now(UTC)) - older_than
    removed: dict[str, int] = {}
    old_runs = runs.c.checked_at < cutoff
    with store.connection() as connection:
        kept = int(
            connection.execute(
                sa.select(sa.func.count()).where(old_runs, runs.c.run_id.in_(_in_use()))
            ).scalar_one()
        )
        if dry_run:
            removed["runs"] = int(
                connection.execute(
                    sa.select(sa.func.count()).where(old_runs, runs.c.run_id.not_in(_in_use()))
                ).scalar_one()
            )
            for kind, table, where in _other_rows(cutoff):
                count = sa.select(sa.func.count()).select_from(table).where(where)
                removed[kind] = int(connection.execute(count).scalar_one())
            return PruneReport(cutoff, True, removed, kept)
    removed["runs"] = _prune_runs(store, cutoff, batch_size)
    for kind, table, where in _other_rows(cutoff):
        removed[kind] = _delete_in_batches(store, table, where, batch_size)
    return PruneReport(cutoff, False, removed, kept)


def _in_use() -> sa.CompoundSelect[Any]:
    """The run ids that something still refers to."""
    open_incidents = incidents.c.status.in_(OPEN_INCIDENT)
    held = quarantine.c.status == "quarantined"
    return sa.union(
        sa.select(incidents.c.opened_run_id).where(
            open_incidents, incidents.c.opened_run_id.is_not(None)
        ),
        sa.select(incidents.c.last_run_id).where(
            open_incidents, incidents.c.last_run_id.is_not(None)
        ),
        sa.select(baselines.c.run_id).where(baselines.c.run_id.is_not(None)),
        sa.select(quarantine.c.run_id).where(held, quarantine.c.run_id.is_not(None)),
    )


def _prune_runs(store: ResultStore, cutoff: datetime, batch_size: int) -> int:
    total = 0
    while True:
        with store.connection(write=True) as connection, connection.begin():
            batch = (
                connection.execute(
                    sa.select(runs.c.run_id)
                    .where(runs.c.checked_at < cutoff, runs.c.run_id.not_in(_in_use()))
                    .order_by(runs.c.checked_at)
                    .limit(batch_size)
                )
                .scalars()
                .all()
            )
            if not batch:
                return total
            # The children first, by name: not every backend cascades (SQLite only with
            # its foreign keys on).
            for child in (check_results, metrics, run_profiles):
                connection.execute(sa.delete(child).where(child.c.run_id.in_(batch)))
            connection.execute(sa.delete(runs).where(runs.c.run_id.in_(batch)))
        total += len(batch)


def _other_rows(cutoff: datetime) -> list[tuple[str, sa.Table, sa.ColumnElement[bool]]]:
    return [
        ("SLA misses", sla_misses, sla_misses.c.missed_at < cutoff),
        ("sent alerts", alerts, sa.and_(alerts.c.status == "sent", alerts.c.sent_at < cutoff)),
        (
            "resolved incidents",
            incidents,
            sa.and_(incidents.c.status == "resolved", incidents.c.resolved_at < cutoff),
        ),
    ]


def _delete_in_batches(
    store: ResultStore, table: sa.Table, where: sa.ColumnElement[bool], batch_size: int
) -> int:
    key = list(table.primary_key.columns)
    total = 0
    while True:
        with store.connection(write=True) as connection, connection.begin():
            batch = connection.execute(sa.select(*key).where(where).limit(batch_size)).all()
            if not batch:
                return total
            if len(key) == 1:
                matches: sa.ColumnElement[bool] = key[0].in_([row[0] for row in batch])
            else:
                matches = sa.tuple_(*key).in_([tuple(row) for row in batch])
            connection.execute(sa.delete(table).where(matches))
        total += len(batch)
