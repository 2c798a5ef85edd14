"""Freshness SLA misses in the results store: recorded once per sensor task of a run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from airflow_opsguard.checks.results import to_json_value
from airflow_opsguard.store.tables import as_utc, sla_misses


@dataclass(frozen=True)
class SlaMiss:
    """A freshness SLA that passed while a sensor's data was still stale.

    The key is the sensor task of one DAG run (``dag_id``, ``run_id``, ``task_id``,
    ``map_index``): one miss per run, whatever the number of pokes, reschedules,
    deferrals or retries. ``age`` and ``newest`` are None when the data could not be
    read or holds no timestamp.
    """

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    dataset: str
    sla: timedelta
    due_at: datetime
    missed_at: datetime
    limit: timedelta
    age: timedelta | None
    newest: datetime | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "task_id": self.task_id,
            "map_index": self.map_index,
            "dataset": self.dataset,
            "sla_seconds": self.sla.total_seconds(),
            "due_at": to_json_value(self.due_at),
            "missed_at": to_json_value(self.missed_at),
            "limit_seconds": self.limit.total_seconds(),
            "age_seconds": None if self.age is None else self.age.total_seconds(),
            "newest": to_json_value(self.newest),
            "message": self.message,
        }


def insert_sla_miss(connection: sa.Connection, miss: SlaMiss) -> bool:
    """Record ``miss``; False when a miss of the same sensor task and run is there."""
    try:
        with connection.begin():
            connection.execute(sla_misses.insert(), _row(miss))
    except sa.exc.IntegrityError:
        with connection.begin():
            if connection.execute(sa.select(sa.literal(1)).where(_key(miss))).first():
                return False
        raise
    return True


def select_sla_misses(
    connection: sa.Connection, *, dataset: str | None, dag_id: str | None, limit: int
) -> list[SlaMiss]:
    query = sa.select(sla_misses).order_by(sla_misses.c.missed_at.desc()).limit(limit)
    if dataset is not None:
        query = query.where(sla_misses.c.dataset == dataset)
    if dag_id is not None:
        query = query.where(sla_misses.c.dag_id == dag_id)
    return [_miss(row) for row in connection.execute(query).all()]


def _key(miss: SlaMiss) -> sa.ColumnElement[bool]:
    return sa.and_(
        sla_misses.c.dag_id == miss.dag_id,
        sla_misses.c.run_id == miss.run_id,
        sla_misses.c.task_id == miss.task_id,
        sla_misses.c.map_index == miss.map_index,
    )


def _row(miss: SlaMiss) -> dict[str, Any]:
    return {
        "dag_id": miss.dag_id,
        "run_id": miss.run_id,
        "task_id": miss.task_id,
        "map_index": miss.map_index,
        "dataset": miss.dataset,
        "sla_seconds": miss.sla.total_seconds(),
        "due_at": as_utc(miss.due_at),
        "missed_at": as_utc(miss.missed_at),
        "limit_seconds": miss.limit.total_seconds(),
        "age_seconds": None if miss.age is None else miss.age.total_seconds(),
        "newest": None if miss.newest is None else as_utc(miss.newest),
        "message": miss.message,
    }


def _miss(row: sa.Row[Any]) -> SlaMiss:
    return SlaMiss(
        dag_id=row.dag_id,
        run_id=row.run_id,
        task_id=row.task_id,
        map_index=row.map_index,
        dataset=row.dataset,
        sla=timedelta(seconds=row.sla_seconds),
        due_at=row.due_at,
        missed_at=row.missed_at,
        limit=timedelta(seconds=row.limit_seconds),
        age=None if row.age_seconds is None else timedelta(seconds=row.age_seconds),
        newest=row.newest,
        message=row.message,
    )
