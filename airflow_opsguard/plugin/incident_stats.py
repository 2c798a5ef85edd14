"""Mean times to detect, acknowledge and resolve incidents, per dataset and overall, over
a window: the ``/api/v1/incidents/stats`` response and the incidents page's table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from airflow_opsguard.store.dashboard import Scope
from airflow_opsguard.store.incidents import IncidentStats, IncidentStore
from airflow_opsguard.store.store import ResultStore

DEFAULT_DAYS = 30
MAX_DAYS = 3660


class IncidentTimes(BaseModel):
    """Counts and mean times (seconds; null with no incident to average)."""

    model_config = ConfigDict(frozen=True)

    incidents: int = Field(description="Incidents opened in the window.")
    open: int
    acknowledged: int
    resolved: int
    escalated: int
    mttd_seconds: float | None = Field(
        description="Mean time to detect: the newest row of the failing data to the "
        "incident's opening (incidents whose data has no timestamp are left out)."
    )
    mtta_seconds: float | None = Field(
        description="Mean time to acknowledge: opened to acknowledged."
    )
    mttr_seconds: float | None = Field(
        description="Mean time to resolve: opened to resolved (open ones left out)."
    )
    pending_alerts: int = Field(description="Alerts waiting to be sent.")

    @classmethod
    def of(cls, stats: IncidentStats) -> IncidentTimes:
        return cls(
            incidents=stats.total,
            open=stats.open,
            acknowledged=stats.acknowledged,
            resolved=stats.resolved,
            escalated=stats.escalated,
            mttd_seconds=stats.mean_time_to_detect,
            mtta_seconds=stats.mean_time_to_acknowledge,
            mttr_seconds=stats.mean_time_to_resolve,
            pending_alerts=stats.pending_alerts,
        )


class DatasetIncidentTimes(IncidentTimes):
    dataset: str


class IncidentStatsOut(BaseModel):
    """The figures over ``[since, until)``: every dataset together, then each one."""

    model_config = ConfigDict(frozen=True)

    since: datetime
    until: datetime
    overall: IncidentTimes
    datasets: list[DatasetIncidentTimes]


def incident_stats(
    store: ResultStore,
    scope: Scope,
    *,
    days: int = DEFAULT_DAYS,
    until: datetime | None = None,
    dataset: str | None = None,
) -> IncidentStatsOut:
    """The incidents opened in the ``days`` before ``until`` (default: now) that come
    from DAGs ``scope`` allows."""
    end = until or datetime.now(UTC)
    end = end.replace(tzinfo=UTC) if end.tzinfo is None else end.astimezone(UTC)
    start = end - timedelta(days=days)
    overall, per_dataset = IncidentStore(store).stats_by_dataset(
        start, end, dataset=dataset, scope=scope
    )
    return IncidentStatsOut(
        since=start,
        until=end,
        overall=IncidentTimes.of(overall),
        datasets=[
            DatasetIncidentTimes(dataset=name, **IncidentTimes.of(stats).model_dump())
            for name, stats in per_dataset.items()
        ],
    )
