"""The dataset metrics as aggregates of the plan's single scan.

Which metrics a run measures is decided in :mod:`airflow_opsguard.anomaly.metrics`;
here each becomes one cheap aggregate over the source: ``count(col)`` for the null
fraction, ``avg(col)``, ``count(DISTINCT col)`` (only where the contract asks for it) and
``max(col)`` for the freshness lag. They join the checks' aggregates in the main SELECT,
so measuring them adds no scan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from airflow_opsguard.anomaly.metrics import planned_metrics
from airflow_opsguard.checks.observations import ObservedColumn
from airflow_opsguard.contract.models import NUMERIC_TYPES, AnomalyCheck, Contract
from airflow_opsguard.engines.dialects import exact_text
from airflow_opsguard.engines.types import sqlalchemy_type

# Planned metrics have keys of their own, apart from the checks' keys.
METRIC_KEY_PREFIX = "metric:"


def metric_aggregates(
    contract: Contract, observed: Mapping[str, ObservedColumn], source: FromClause
) -> list[tuple[str, dict[str, ColumnElement[Any]], dict[str, tuple[str, str | None]]]]:
    """Each metric the contract measures on these columns, with its aggregates by role
    (``considered`` for a null fraction, ``value`` otherwise) and which of them are plain
    counts (:attr:`~airflow_opsguard.engines.plan.PlannedCheck.counts`)."""
    planned: list[tuple[str, dict[str, ColumnElement[Any]], dict[str, tuple[str, str | None]]]] = []
    for spec in planned_metrics(contract, observed):
        column = observed[spec.column]
        raw = sa.column(spec.column, sqlalchemy_type(column), _selectable=source)
        aggregate: dict[str, ColumnElement[Any]]
        counts: dict[str, tuple[str, str | None]] = {}
        if spec.kind == "null_fraction":
            aggregate = {"considered": sa.func.count(raw)}
            counts = {"considered": ("values", spec.column)}
        elif spec.kind == "mean":
            aggregate = {"value": sa.func.avg(raw)}
        elif spec.kind == "distinct_count":
            # Case and trailing spaces count, as in Python and the unique check.
            compared = exact_text(raw) if column.type == "string" else raw
            aggregate = {"value": sa.func.count(sa.distinct(compared))}
        else:  # freshness_lag_seconds: the newest value; the lag needs the run's `now`
            aggregate = {"value": sa.func.max(raw)}
        planned.append((spec.name, aggregate, counts))
    return planned


def history_check_problem(check: Any, observed: Mapping[str, ObservedColumn]) -> str | None:
    """Why a history check's metric cannot be measured on the data (None when it can).
    History checks have no aggregates of their own: their metric is measured above."""
    if not isinstance(check, AnomalyCheck) or check.column is None:
        return None
    column = observed[check.column]
    if column.type is None:
        return None  # a typeless column: its metric has no value, which the check reports
    kind = column.type
    if check.metric == "mean" and kind not in NUMERIC_TYPES:
        return f"not measured: {check.column!r} is {kind}; mean needs numbers"
    if check.metric == "freshness_lag_seconds" and kind not in ("date", "timestamp"):
        return (
            f"not measured: {check.column!r} is {kind}; "
            "freshness_lag_seconds needs a date or timestamp"
        )
    return None
