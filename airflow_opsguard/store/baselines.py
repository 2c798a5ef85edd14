"""Baselines in the results store (tables of revision 0008): SQL only.

A baseline is a named series of versions, each a drift reference profile as JSON. A new
version takes the next number in one transaction; two writers racing for the same
number meet the primary key, and the loser takes the next one. Every function raises
:class:`~airflow_opsguard.errors.StoreError` when the store cannot be reached (through
:meth:`ResultStore.connection`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from airflow_opsguard.store.tables import baselines, run_profiles, runs

# Each retry is one lost race, so another writer's version landed: with N writers at
# once a writer loses at most N - 1 times. The cap only stops a store gone wrong.
_ATTEMPTS = 100


@dataclass(frozen=True)
class StoredBaseline:
    """One version of a named baseline; ``profile`` is its JSON text."""

    name: str
    version: int
    dataset: str
    profile: str
    run_id: str | None
    created_at: datetime
    created_by: str | None
    reason: str | None


@dataclass(frozen=True)
class RunProfile:
    """The profile a run kept of its data, with the run's verdict and time."""

    run_id: str
    dataset: str
    status: str
    checked_at: datetime
    profile: str


def insert_baseline(
    connection: sa.Connection,
    *,
    name: str,
    dataset: str,
    profile: str,
    run_id: str | None,
    created_by: str | None,
    reason: str | None,
) -> StoredBaseline:
    """Store ``profile`` as the next version of ``name``."""
    for attempt in range(_ATTEMPTS):
        try:
            with connection.begin():
                newest = sa.select(sa.func.max(baselines.c.version)).where(baselines.c.name == name)
                version = (connection.execute(newest).scalar() or 0) + 1
                row: dict[str, Any] = {
                    "name": name,
                    "version": version,
                    "dataset": dataset,
                    "profile": profile,
                    "run_id": run_id,
                    "created_at": datetime.now(UTC),
                    "created_by": created_by,
                    "reason": reason,
                }
                connection.execute(baselines.insert(), row)
            return StoredBaseline(**row)
        except sa.exc.IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def select_baseline(
    connection: sa.Connection, name: str, version: int | None = None
) -> StoredBaseline | None:
    """A version of ``name`` (default: the newest), or None."""
    query = sa.select(baselines).where(baselines.c.name == name)
    if version is None:
        query = query.order_by(baselines.c.version.desc()).limit(1)
    else:
        query = query.where(baselines.c.version == version)
    row = connection.execute(query).first()
    return None if row is None else _baseline(row)


def select_baselines(
    connection: sa.Connection, *, name: str | None = None, dataset: str | None = None
) -> list[StoredBaseline]:
    """Every version (of one name, or of one dataset's baselines), newest first."""
    query = sa.select(baselines)
    if name is not None:
        query = query.where(baselines.c.name == name)
    if dataset is not None:
        query = query.where(baselines.c.dataset == dataset)
    query = query.order_by(baselines.c.name, baselines.c.version.desc())
    return [_baseline(row) for row in connection.execute(query)]


def select_run_profile(
    connection: sa.Connection,
    *,
    dataset: str,
    run_id: str | None = None,
    statuses: tuple[str, ...] = ("pass",),
) -> RunProfile | None:
    """The kept profile of run ``run_id`` of ``dataset`` (whatever its verdict), or of
    the newest run with one of ``statuses`` that kept a profile."""
    query = (
        sa.select(runs.c.run_id, runs.c.dataset, runs.c.status, runs.c.checked_at)
        .add_columns(run_profiles.c.profile)
        .join(run_profiles, run_profiles.c.run_id == runs.c.run_id)
        .where(runs.c.dataset == dataset)
    )
    if run_id is not None:
        query = query.where(runs.c.run_id == run_id)
    else:
        query = query.where(runs.c.status.in_(statuses))
    row = connection.execute(query.order_by(runs.c.checked_at.desc()).limit(1)).first()
    if row is None:
        return None
    return RunProfile(
        run_id=row.run_id,
        dataset=row.dataset,
        status=row.status,
        checked_at=row.checked_at,
        profile=row.profile,
    )


def _baseline(row: Any) -> StoredBaseline:
    return StoredBaseline(
        name=row.name,
        version=row.version,
        dataset=row.dataset,
        profile=row.profile,
        run_id=row.run_id,
        created_at=row.created_at,
        created_by=row.created_by,
        reason=row.reason,
    )
