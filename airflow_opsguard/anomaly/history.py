"""What history a contract's history checks need, and the history itself, as plain data.

The validate step asks the results store for these series (I/O) and hands them to the
evaluation inside the observations; the evaluation only reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

from airflow_opsguard.contract.models import AnomalyCheck, RowCountChangeCheck

if TYPE_CHECKING:
    from airflow_opsguard.contract.models import Contract

# The verdicts that let a run's data go on: the reference of ``previous_pass``.
PASSING: tuple[str, ...] = ("pass", "warn")


class MetricPoint(NamedTuple):
    """One stored value of a metric: when its run was checked (UTC), the value, and the
    run's verdict."""

    checked_at: datetime
    value: float
    status: str


@dataclass(frozen=True)
class HistoryKey:
    """One series to read: a metric, of every run or of passing runs only."""

    metric: str
    passing_only: bool = False


@dataclass(frozen=True)
class MetricHistory:
    """Series read from the results store, newest first, each up to the length asked.

    ``error`` says why the store could not be read; the history checks then report it.
    """

    series: Mapping[HistoryKey, tuple[MetricPoint, ...]] = field(default_factory=dict)
    error: str | None = None

    def get(self, key: HistoryKey) -> tuple[MetricPoint, ...]:
        return self.series.get(key, ())


def history_key(check: AnomalyCheck | RowCountChangeCheck) -> HistoryKey:
    if isinstance(check, AnomalyCheck):
        return HistoryKey(check.metric_name)
    return HistoryKey("rows", passing_only=check.relative_to == "previous_pass")


def history_length(check: AnomalyCheck | RowCountChangeCheck) -> int:
    """How many past points the check reads at most.

    An anomaly check judges this run against ``window`` runs, and each of the earlier
    runs that its sustained rules look back on against the ``window`` runs before it; with
    ``weekly`` a window holds same-weekday runs, found among seven times as many runs.
    """
    if isinstance(check, RowCountChangeCheck):
        if check.relative_to == "previous_pass":
            return check.min_history
        return check.window
    looking_back = max(check.warn_after.within, check.fail_after.within if check.fail_after else 1)
    return check.window * (7 if check.weekly else 1) + looking_back - 1


def history_requests(contract: Contract) -> dict[HistoryKey, int]:
    """The series the contract's history checks read, each with the length needed."""
    needed: dict[HistoryKey, int] = {}
    for check in contract.all_checks:
        if isinstance(check, AnomalyCheck | RowCountChangeCheck):
            key = history_key(check)
            needed[key] = max(needed.get(key, 0), history_length(check))
    return needed
