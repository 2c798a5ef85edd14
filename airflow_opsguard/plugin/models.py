"""The typed responses of the JSON API (``/opsguard/api/v1``), shared by the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field

StatusName = Literal["pass", "warn", "fail", "error"]
T = TypeVar("T")


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Page(Model, Generic[T]):
    """One page of a list: ``items``, and ``total`` items across all pages."""

    items: list[T]
    total: int = Field(description="How many items all pages hold together.")
    limit: int
    offset: int


class Verdict(Model):
    run_id: str
    status: StatusName
    checked_at: datetime


class DatasetOverview(Model):
    """Where one dataset stands."""

    dataset: str
    status: StatusName = Field(description="The latest verdict.")
    checked_at: datetime = Field(description="When the latest verdict was given.")
    runs: int = Field(description="Stored runs of this dataset that you may see.")
    last_run_id: str
    dag_id: str | None
    task_id: str | None
    data_newest: datetime | None = Field(
        description="The newest timestamp in the data at the latest freshness check."
    )
    freshness_lag_seconds: float | None = Field(
        description="Seconds from data_newest to now; None without a freshness check."
    )
    open_incidents: int
    recent: list[Verdict] = Field(description="The latest verdicts, oldest first.")
    failing_checks: list[str] = Field(
        default_factory=list, description="The checks that did not pass in the latest run."
    )
    pass_rate: float | None = Field(
        default=None, description="The share of ``recent`` verdicts that passed (0..1)."
    )
    quarantined_batches: int = Field(default=0, description="Batches awaiting review.")


class RunSummary(Model):
    """One gate run: the verdict and where it came from."""

    run_id: str = Field(description="The stored result's id (one per gate attempt).")
    dataset: str
    status: StatusName
    checked_at: datetime
    rows: int | None
    duration_ms: int | None
    contract_fingerprint: str | None
    would_be: StatusName | None = Field(description="The verdict in shadow mode, if enforced.")
    dag_id: str | None
    dag_run_id: str | None
    task_id: str | None
    map_index: int | None
    try_number: int | None


class CheckOut(Model):
    """One check of a run: observed against expected, and failing samples."""

    name: str
    type: str
    column: str | None
    status: StatusName
    severity: str
    observed: Any
    expected: Any
    message: str
    failing_count: int | None
    failing_fraction: float | None
    samples: list[Any]
    mostly: float | None
    metrics: dict[str, Any]
    would_be: StatusName | None


class RunReport(RunSummary):
    """A run with every check."""

    source: str | None
    error: str | None
    retryable: bool
    data_fingerprint: dict[str, Any]
    metrics: dict[str, Any]
    checks: list[CheckOut]


class ContractVersion(Model):
    fingerprint: str | None
    first_seen: datetime
    last_seen: datetime
    runs: int


class SeriesPoint(Model):
    run_id: str
    checked_at: datetime
    status: StatusName
    value: float | None
    observed: Any = Field(default=None, description="A check's observed value as stored.")
    expected: Any = Field(default=None, description="What a check expected, as stored.")


class Series(Model):
    """A value over time: a check's observed value (or drift score) or a run metric."""

    name: str
    kind: Literal["check", "metric"]
    type: str | None = None
    column: str | None = None
    unit: Literal["seconds"] | None = Field(
        default=None, description="``seconds`` for a freshness check's data age."
    )
    points: list[SeriesPoint]


class DatasetDetail(Model):
    dataset: str
    status: StatusName
    checked_at: datetime
    runs: int
    contract_versions: list[ContractVersion]
    checks: list[Series] = Field(description="Each check's numeric observed value over time.")
    metrics: list[Series] = Field(description="Each run metric over time.")


class IncidentMemberOut(Model):
    """A check of an incident; ``recovered_at`` is set once it passes again."""

    name: str
    type: str
    column: str | None
    status: str
    message: str
    failures: int
    first_failed_at: datetime
    last_failed_at: datetime
    recovered_at: datetime | None
    consequence_of: str | None = Field(description="The member whose failure explains it.")
    observed: Any
    expected: Any

    model_config = ConfigDict(frozen=True, from_attributes=True)


class IncidentOut(Model):
    """An incident: a failure episode of a dataset at one severity (``check``,
    ``observed``, ``expected`` and ``message`` are those of its headline check)."""

    id: int
    dataset: str
    check: str
    check_type: str
    column: str | None
    status: Literal["open", "acknowledged", "resolved"]
    severity: str
    failures: int
    opened_at: datetime
    last_failed_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    dag_id: str | None
    task_id: str | None
    opened_run_id: str | None
    last_run_id: str | None
    observed: Any
    expected: Any
    message: str
    incident_key: str = Field(description="The episode's stable id, as alerts carry it.")
    members: list[IncidentMemberOut] = Field(
        default_factory=list,
        description="Its checks: the cause first, each followed by its consequences.",
    )
    recovering: bool = Field(
        default=False,
        description="Open, every check passing again, waiting for more passing runs.",
    )
    passing_runs: int = Field(default=0, description="Passing runs in a row while open.")
    flapping: bool = Field(
        default=False,
        description="Its failure started resolution.flapping_after times within "
        "resolution.flapping_within (it then holds longer before resolving).",
    )

    model_config = ConfigDict(frozen=True, from_attributes=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def time_to_resolve_seconds(self) -> float | None:
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.opened_at).total_seconds()


class QuarantineOut(Model):
    """A batch (or the bad rows of one) that a gate set aside, and its review."""

    batch_id: str
    dataset: str
    kind: Literal["file", "table", "rows"]
    status: Literal["quarantined", "released", "dropped"]
    location: str = Field(description="Where the quarantined data is (secrets masked).")
    source: str | None
    publish_to: str | None
    rows: int | None
    clean_rows: int | None
    reasons: list[dict[str, Any]] = Field(description="The checks that did not pass.")
    run_id: str | None = Field(description="The verdict that set the batch aside.")
    dag_id: str | None
    task_id: str | None
    dag_run_id: str | None
    created_at: datetime
    reviewed_at: datetime | None
    reviewed_by: str | None
    review_reason: str | None
    review_run_id: str | None = Field(description="The re-check's verdict at release.")
    forced: bool | None


class ReleaseBody(Model):
    """A release: why, and whether to skip the re-check of the data."""

    reason: str | None = Field(default=None, max_length=2000)
    force: bool = Field(
        default=False, description="Release without checking the data again (after review)."
    )


class DropBody(Model):
    reason: str | None = Field(default=None, max_length=2000)
