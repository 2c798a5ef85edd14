"""Observations: what an engine measured, handed to the pure evaluation.

Engines (DuckDB for files and DataFrames, SQL databases) return these; nothing here
does I/O or knows which engine produced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_opsguard.checks.results import to_json_value

if TYPE_CHECKING:
    from airflow_opsguard.anomaly.history import MetricHistory


@dataclass(frozen=True)
class ObservedColumn:
    """A column of the data: its name, its type as the source names it, and the
    contract type it maps onto (None when it maps onto none, e.g. a list or a blob)."""

    name: str
    native_type: str
    type: str | None
    timezone_aware: bool = False


@dataclass(frozen=True)
class CheckObservation:
    """What was measured for one check.

    ``considered`` counts the rows the check looks at (all rows for not_null and
    table checks; the non-null values for value checks, as in Great Expectations),
    ``failing`` those that break the rule, and ``samples`` a few failing values.
    ``value`` holds a measured statistic (a newest timestamp, a mean), ``compared`` the
    other table's aggregate of a reconcile check; ``error`` says why nothing could be
    measured.
    """

    considered: int | None = None
    failing: int | None = None
    value: Any = None
    minimum: Any = None
    maximum: Any = None
    samples: tuple[Any, ...] = ()
    error: str | None = None
    compared: Any = None  # the other table's aggregate, for a reconcile check
    proof: str | None = None  # the database's constraint that proves the check, unscanned


@dataclass(frozen=True)
class Observations:
    """Everything one engine run measured about a dataset."""

    source: str
    rows: int | None
    columns: tuple[ObservedColumn, ...]
    checks: Mapping[str, CheckObservation] = field(default_factory=dict)
    fingerprint: Mapping[str, Any] = field(default_factory=dict)
    # Dataset metrics by name ("null_fraction(email)"), measured in the same scan.
    metrics: Mapping[str, CheckObservation] = field(default_factory=dict)
    # Earlier runs' metrics from the results store, for history checks (None: no store).
    history: MetricHistory | None = None

    def column(self, name: str) -> ObservedColumn | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    def for_check(self, key: str) -> CheckObservation:
        return self.checks.get(key, CheckObservation(error="not measured"))

    def schema_dict(self) -> list[dict[str, Any]]:
        return [to_json_value(c.__dict__) for c in self.columns]
