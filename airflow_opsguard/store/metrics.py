"""Run metrics in the results store: written with each run, read as a metric's history.

One row per metric of a run (``opsguard_metrics``, revision 0005), with the run's
dataset, time and verdict copied onto it, so that a metric's history is one range of
the (dataset, name, checked_at) index and "the previous passing run" needs no join.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.anomaly.history import (
    PASSING,
    HistoryKey,
    MetricHistory,
    MetricPoint,
    history_requests,
)
from airflow_opsguard.anomaly.metrics import COUNT_METRICS, MetricValue, metric_kind
from airflow_opsguard.errors import StoreError
from airflow_opsguard.store.tables import METRIC_NAME_LENGTH, as_utc, metrics

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from airflow_opsguard.checks.results import GateResult
    from airflow_opsguard.contract.models import Contract
    from airflow_opsguard.store.store import ResultStore

log = logging.getLogger(__name__)

_CHUNK = 500  # run ids per query (SQLite caps bound parameters)


def metric_rows(result: GateResult) -> list[dict[str, Any]]:
    """The rows of a run's metrics; a value that is not a finite number is stored as
    NULL (and left out of histories), a name too long for the table is left out."""
    rows = []
    for name, value in result.metrics.items():
        if len(name) > METRIC_NAME_LENGTH:
            log.warning("metric %.60r... has a name too long to store; left out", name)
            continue
        rows.append(
            {
                "run_id": result.run_id,
                "name": name,
                "dataset": result.dataset,
                "checked_at": as_utc(result.checked_at),
                "status": result.status,
                "value": _stored(value),
            }
        )
    return rows


def _stored(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _read(name: str, value: float | None) -> MetricValue:
    if value is None:
        return None
    return int(value) if metric_kind(name) in COUNT_METRICS else float(value)


def run_metrics(
    connection: sa.Connection, run_ids: Sequence[str]
) -> dict[str, dict[str, MetricValue]]:
    """The metrics of the given runs, by run id, in the order they were measured."""
    found: dict[str, dict[str, MetricValue]] = {}
    rows: list[sa.Row[Any]] = []
    for start in range(0, len(run_ids), _CHUNK):
        chunk = list(run_ids[start : start + _CHUNK])
        rows.extend(connection.execute(sa.select(metrics).where(metrics.c.run_id.in_(chunk))))
    for row in rows:
        found.setdefault(row.run_id, {})[row.name] = _read(row.name, row.value)
    return {run_id: _in_order(values) for run_id, values in found.items()}


def _in_order(values: dict[str, MetricValue]) -> dict[str, MetricValue]:
    """``rows`` first, then by column and kind as a run measures them; rows come back
    from the database in no particular order."""
    order = ("null_fraction", "mean", "distinct_count", "freshness_lag_seconds")

    def key(name: str) -> tuple[int, str, int, str]:
        if name == "rows":
            return (0, "", 0, "")
        kind, _, rest = name.partition("(")
        rank = order.index(kind) if kind in order else len(order)
        return (1, rest, rank, kind)

    return {name: values[name] for name in sorted(values, key=key)}


def select_metric_history(
    connection: sa.Connection,
    dataset: str,
    metric: str,
    *,
    limit: int,
    before: datetime | None = None,
    statuses: Collection[str] | None = None,
) -> list[MetricPoint]:
    """The stored values of one metric of one dataset, newest first: runs checked before
    ``before`` (when given) whose verdict is one of ``statuses`` (when given)."""
    query = (
        sa.select(metrics.c.checked_at, metrics.c.value, metrics.c.status)
        .where(
            metrics.c.dataset == dataset,
            metrics.c.name == metric,
            metrics.c.value.is_not(None),
        )
        .order_by(metrics.c.checked_at.desc(), metrics.c.run_id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(metrics.c.checked_at < as_utc(before))
    if statuses is not None:
        query = query.where(metrics.c.status.in_(sorted(statuses)))
    return [
        MetricPoint(row.checked_at, float(row.value), row.status)
        for row in connection.execute(query)
    ]


def load_history(
    store: ResultStore | None, contract: Contract, before: datetime
) -> MetricHistory | None:
    """Read what the contract's history checks need from ``store``: runs before
    ``before`` (this run's time, so a re-run or a backfill never compares a run with
    itself or with its future). None without a store; a store that cannot be read gives
    a history whose ``error`` says why, which the checks report."""
    if store is None:
        return None
    series: dict[HistoryKey, tuple[MetricPoint, ...]] = {}
    try:
        for key, limit in history_requests(contract).items():
            statuses = PASSING if key.passing_only else None
            points = store.metric_history(
                contract.dataset, key.metric, limit, before=before, statuses=statuses
            )
            series[key] = tuple(points)
    except StoreError as exc:
        return MetricHistory(error=str(exc))
    return MetricHistory(series=series)
