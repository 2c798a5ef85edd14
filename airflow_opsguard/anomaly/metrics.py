"""Dataset metrics: a compact, stable set of numbers measured in every run and stored.

``rows``; for every column the contract names, ``null_fraction(col)`` and, for number
columns, ``mean(col)``; ``distinct_count(col)`` where the contract measures it (a
``distinct_count`` statistic, or an anomaly check on it: counting distinct values costs
memory, so it is not taken for every column); and ``freshness_lag_seconds(col)`` for the
freshness column (and any column an anomaly check watches the lag of); and the drift
score of each distribution check, ``drift(col)`` (in the units of the column's method).

The engines measure them with cheap aggregates in the same scan as the checks; this
module decides which, names them, and turns what was measured into numbers. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_opsguard.contract.models import (
    NUMERIC_TYPES,
    AnomalyCheck,
    Contract,
    StatisticCheck,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_opsguard.checks.observations import Observations, ObservedColumn
    from airflow_opsguard.checks.results import CheckResult

MetricValue = float | int | None
# Metrics whose values are whole numbers (stored as doubles, read back as ints).
COUNT_METRICS = frozenset({"rows", "distinct_count"})


@dataclass(frozen=True)
class MetricSpec:
    """One metric to measure: its name, its kind and its column."""

    name: str
    kind: str
    column: str


def metric_name(kind: str, column: str | None = None) -> str:
    """``rows``, or ``kind(column)``: ``null_fraction(email)``."""
    return kind if column is None else f"{kind}({column})"


def metric_kind(name: str) -> str:
    """The kind of a metric name: ``mean(amount)`` -> ``mean``."""
    return name.partition("(")[0]


def planned_metrics(contract: Contract, columns: Mapping[str, ObservedColumn]) -> list[MetricSpec]:
    """The metrics a run of ``contract`` measures on data with these ``columns``, beyond
    ``rows``, in a stable order (by column, in the contract's order)."""
    named: dict[str, None] = {}
    if contract.schema_ is not None:
        named.update(dict.fromkeys(c.name for c in contract.schema_.columns))
    named.update(dict.fromkeys(contract.columns_used))
    distinct: set[str] = set()
    lag: set[str] = set()
    if contract.freshness is not None:
        lag.add(contract.freshness.column)
    for check in contract.all_checks:
        if isinstance(check, StatisticCheck) and check.statistic == "distinct_count":
            distinct.add(check.column)
        if isinstance(check, AnomalyCheck) and check.column is not None:
            if check.metric == "distinct_count":
                distinct.add(check.column)
            if check.metric == "freshness_lag_seconds":
                lag.add(check.column)
    specs: list[MetricSpec] = []
    for name in named:
        column = columns.get(name)
        if column is None:
            continue  # the schema check reports it
        kinds = ["null_fraction"]
        if column.type in NUMERIC_TYPES:
            kinds.append("mean")
        if name in distinct:
            kinds.append("distinct_count")
        if name in lag and column.type in ("date", "timestamp"):
            kinds.append("freshness_lag_seconds")
        specs.extend(MetricSpec(metric_name(kind, name), kind, name) for kind in kinds)
    return specs


def dataset_metrics(observations: Observations, now: datetime) -> dict[str, MetricValue]:
    """The run's metrics from what the engine measured: ``rows`` first, then the
    measured metrics in plan order. A metric without a value (the mean of a column with
    no values, any metric that could not be measured) is None."""
    metrics: dict[str, MetricValue] = {"rows": observations.rows}
    rows = observations.rows
    for name, observation in observations.metrics.items():
        if observation.error is not None:
            metrics[name] = None
            continue
        kind = metric_kind(name)
        if kind == "null_fraction":
            considered = observation.considered
            metrics[name] = (rows - considered) / rows if rows and considered is not None else None
        elif kind == "freshness_lag_seconds":
            metrics[name] = _lag(observation.value, now)
        elif kind in COUNT_METRICS:
            metrics[name] = None if observation.value is None else int(observation.value)
        else:
            metrics[name] = _number(observation.value)
    return metrics


def drift_metrics(results: Sequence[CheckResult]) -> dict[str, MetricValue]:
    """The drift scores of a run's distribution checks, ``drift(amount)``: the statistic
    of the column's method (a column keeps its method from run to run, so its history
    is on one scale; the check's metrics name the method)."""
    scores: dict[str, MetricValue] = {}
    for result in results:
        if result.type != "distribution" or not result.column:
            continue
        value = _number(result.metrics.get("statistic"))
        if value is not None:
            scores[metric_name("drift", result.column)] = value
    return scores


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _lag(newest: Any, now: datetime) -> float | None:
    if not isinstance(newest, date):
        return None
    if not isinstance(newest, datetime):
        newest = datetime(newest.year, newest.month, newest.day, tzinfo=UTC)
    elif newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    lag: float = (moment - newest).total_seconds()
    return lag
