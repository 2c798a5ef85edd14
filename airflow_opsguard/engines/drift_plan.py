"""Plan a column's distribution into the scan, over the reference's cells.

For a number column the current data's histogram is taken over the **reference's** bin
edges; for a category column its counts over the reference's values, the rest being
"other". These are aggregates of the one scan every check shares (files and databases
alike). Only when "other" is not empty does a small GROUP BY fetch the most frequent
values that the reference does not list, so that new categories are reported by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Select

from airflow_opsguard.checks.observations import CheckObservation, ObservedColumn
from airflow_opsguard.drift.observations import CurrentColumn, DriftObservation
from airflow_opsguard.drift.profile import Category, ColumnProfile, kind_of
from airflow_opsguard.drift.reference import LEARNING, Reference
from airflow_opsguard.engines.drift_sql import (
    as_float,
    below_counts,
    bin_counts,
    category_value,
    equal_counts,
    number,
    unseen_values,
)

UNSEEN_LIMIT = 10  # the most frequent values not in the reference, fetched by name

Run = Callable[[Select[Any]], Sequence[Any]]
Collect = Callable[[Mapping[str, Any], Run], CheckObservation]


@dataclass
class DriftPlan:
    aggregates: dict[str, ColumnElement[Any]]
    collect: Collect


def plan_distribution(
    source: FromClause,
    col: ColumnElement[Any],
    column: ObservedColumn,
    reference: Reference | None,
) -> DriftPlan | str:
    """The aggregates that measure ``column`` against the reference, or why it cannot be
    measured (a message starting with "not measured")."""
    if reference is None:
        return "not measured: the reference was not loaded"
    if reference.error is not None:
        return f"not measured: {reference.error}"
    if reference.learning is not None:
        return f"{LEARNING}{reference.learning}"
    kind = kind_of(column.type)
    if kind is None:
        what = column.type or f"of type {column.native_type}"
        return (
            f"not measured: {column.name!r} is {what}; distributions compare numbers, "
            "strings and booleans"
        )
    found = reference.column(column.name)
    if isinstance(found, str):
        return f"not measured: {found}"
    if found.kind != kind or (kind == "categorical" and found.type != column.type):
        return (
            f"not measured: {column.name!r} is {column.type} in the data but "
            f"{found.type} in the reference {reference.location!r}"
        )
    aggregates: dict[str, ColumnElement[Any]] = {
        "rows": sa.func.count(),
        "count": sa.func.count(col),
    }
    if found.numeric is not None:
        edges = found.numeric.edges
        centre = number(_finite(found.numeric.mean))
        aggregates.update(
            minimum=sa.func.min(col),
            maximum=sa.func.max(col),
            mean=sa.func.avg(col),
            squares=sa.func.sum((col - centre) * (col - centre)),
        )
        aggregates.update({f"below{j}": e for j, e in enumerate(below_counts(col, edges))})
        return DriftPlan(aggregates, _numeric_collector(found, reference.location, len(edges)))
    if found.categorical is not None:
        values = found.categorical.values
        equal = equal_counts(col, values, column.type)
        aggregates.update({f"value{j}": e for j, e in enumerate(equal)})
        unseen = unseen_values(source, col, values, column.type, UNSEEN_LIMIT)
        collect = _categorical_collector(found, reference.location, len(values), unseen, column)
        return DriftPlan(aggregates, collect)
    return f"not measured: the reference {reference.location!r} has no values of {column.name!r}"


def _numeric_collector(reference: ColumnProfile, location: str, edges: int) -> Collect:
    assert reference.numeric is not None
    centre = _finite(reference.numeric.mean)

    def collect(found: Mapping[str, Any], run: Run) -> CheckObservation:
        count = int(found["count"] or 0)
        below = [found[f"below{j}"] for j in range(edges)]
        mean = as_float(found["mean"])
        std = None
        squares = as_float(found["squares"])
        if count > 1 and mean is not None and squares is not None:
            # Deviations were summed around the reference's mean: shift to the current one.
            variance = (squares - count * (mean - centre) ** 2) / (count - 1)
            std = math.sqrt(max(variance, 0.0))
        current = CurrentColumn(
            count=count,
            nulls=int(found["rows"] or 0) - count,
            cells=bin_counts(below, count),
            minimum=as_float(found["minimum"]),
            maximum=as_float(found["maximum"]),
            mean=mean,
            std=std,
        )
        return CheckObservation(
            considered=count, value=DriftObservation(reference, current, location)
        )

    return collect


def _finite(value: float | None) -> float:
    """A reference mean to centre squared deviations on (0 when it is not finite)."""
    return value if value is not None and math.isfinite(value) else 0.0


def _categorical_collector(
    reference: ColumnProfile,
    location: str,
    values: int,
    unseen: Select[Any],
    column: ObservedColumn,
) -> Collect:
    def collect(found: Mapping[str, Any], run: Run) -> CheckObservation:
        count = int(found["count"] or 0)
        counts = [int(found[f"value{j}"] or 0) for j in range(values)]
        other = count - sum(counts)
        names: tuple[tuple[Category, int], ...] = ()
        if other > 0:
            names = tuple((category_value(v, column.type), int(n)) for v, n in run(unseen))
        current = CurrentColumn(
            count=count,
            nulls=int(found["rows"] or 0) - count,
            cells=(*counts, other),
            unseen=names,
        )
        return CheckObservation(
            considered=count, value=DriftObservation(reference, current, location)
        )

    return collect
