"""Plain records of what the read API returns besides whole results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_opsguard.checks.results import JsonScalar, Status, to_json_value

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime


@dataclass(frozen=True)
class DatasetSummary:
    """Where one dataset stands: its latest verdict and how many runs the store holds."""

    dataset: str
    status: Status
    checked_at: datetime
    runs: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "status": self.status,
            "checked_at": to_json_value(self.checked_at),
            "runs": self.runs,
        }


@dataclass(frozen=True)
class CheckHistoryEntry:
    """One past outcome of one check: a point of its history for charts and anomaly rules."""

    run_id: str
    checked_at: datetime
    status: Status
    observed: JsonScalar
    expected: JsonScalar
    failing_count: int | None
    metrics: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "checked_at": to_json_value(self.checked_at),
            "status": self.status,
            "observed": self.observed,
            "expected": self.expected,
            "failing_count": self.failing_count,
            "metrics": to_json_value(self.metrics),
        }
