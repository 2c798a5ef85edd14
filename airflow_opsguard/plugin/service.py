"""What the dashboard shows, as typed models: one place for the API and the pages."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from airflow_opsguard.checks.results import GateResult
from airflow_opsguard.plugin.models import (
    CheckOut,
    ContractVersion,
    DatasetDetail,
    DatasetOverview,
    IncidentOut,
    Page,
    QuarantineOut,
    RunReport,
    RunSummary,
    Series,
    SeriesPoint,
    Verdict,
)
from airflow_opsguard.plugin.panels import Panel, panels
from airflow_opsguard.plugin.preview import Preview, preview
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store import dashboard as queries
from airflow_opsguard.store.dashboard import Scope
from airflow_opsguard.store.incidents import incident_from_row
from airflow_opsguard.store.quarantine import select_record
from airflow_opsguard.store.rows import check_result
from airflow_opsguard.store.tables import as_utc
from airflow_opsguard.urls import mask_url


@dataclass(frozen=True)
class RunContext:
    """A run's neighbours: the previous run's check statuses and the held batch."""

    previous_run_id: str | None
    previous: dict[str, str] | None
    batch: QuarantineOut | None
    preview: Preview | None


@dataclass(frozen=True)
class Summary:
    """What the overview's cards say."""

    failing: int
    open_incidents: int
    quarantined: int
    days: int
    mttd_seconds: float | None
    mttr_seconds: float | None
    incidents_in_window: int | None


SUMMARY_DAYS = 30  # the window of the overview's mean times
TRIES = 64  # a task instance's attempts looked up by key before a scan
STRIP = 20  # verdicts in an overview's strip
HISTORY = 60  # runs in a dataset page's charts


@functools.lru_cache(maxsize=4)
def _store(url: str) -> ResultStore:
    return ResultStore(url)


def current_store() -> ResultStore:
    """The store the gates of this Airflow write to (``[opsguard] store_url`` ...)."""
    from airflow_opsguard.runtime import store_url_in_airflow

    return _store(store_url_in_airflow())


class Dashboard:
    """Reads for one request, on one store."""

    def __init__(self, store: ResultStore, now: datetime | None = None) -> None:
        self.store = store
        self.now = now or datetime.now(UTC)

    def dag_ids(self) -> set[str]:
        with self.store.connection() as connection:
            return queries.dag_ids(connection)

    def overview(
        self,
        scope: Scope,
        *,
        limit: int,
        offset: int,
        failing_first: bool = False,
        count_runs: bool = True,
    ) -> Page[DatasetOverview]:
        """Where each dataset stands; ``count_runs=False`` leaves ``runs`` at 0 (the
        page does not show it, and counting reads every run of a dataset)."""
        with self.store.connection() as connection:
            latest, total = queries.latest_runs(
                connection,
                scope,
                limit=limit,
                offset=offset,
                failing_first=failing_first,
                count_runs=count_runs,
            )
            names = [r.dataset for r in latest]
            strips = queries.recent_statuses(connection, scope, names, STRIP)
            newest = queries.freshness_of(connection, [r.run_id for r in latest])
            counts = queries.open_incident_counts(connection, scope, names)
            failing = queries.failing_checks(connection, [r.run_id for r in latest])
            waiting = queries.waiting_batches(connection, scope)
        items = []
        for run in latest:
            recent = strips.get(run.dataset, [])
            data_newest = _instant(newest.get(run.run_id))
            lag = (self.now - data_newest).total_seconds() if data_newest else None
            items.append(
                DatasetOverview(
                    dataset=run.dataset,
                    status=run.status,
                    checked_at=as_utc(run.checked_at),
                    runs=run.runs,
                    last_run_id=run.run_id,
                    dag_id=run.context.get("dag_id"),
                    task_id=run.context.get("task_id"),
                    data_newest=data_newest,
                    freshness_lag_seconds=lag,
                    open_incidents=counts.get(run.dataset, 0),
                    recent=[
                        Verdict(run_id=i, status=s, checked_at=as_utc(t)) for i, s, t in recent
                    ],
                    failing_checks=[name for name, _ in failing.get(run.run_id, [])],
                    pass_rate=(
                        sum(s == "pass" for _, s, _ in recent) / len(recent) if recent else None
                    ),
                    quarantined_batches=waiting.get(run.dataset, 0),
                )
            )
        return Page(items=items, total=total, limit=limit, offset=offset)

    def summary(self, scope: Scope, days: int = SUMMARY_DAYS) -> Summary:
        """The overview's figures: failing datasets, open incidents, batches awaiting
        review, and (for users who see every DAG) mean times to detect and resolve."""
        from airflow_opsguard.store.incidents import IncidentStore

        with self.store.connection() as connection:
            failing = queries.failing_total(connection, scope)
            incidents = queries.open_incident_total(connection, scope)
            waiting = sum(queries.waiting_batches(connection, scope).values())
        stats = None
        if scope.dag_ids is None and scope.dagless:  # the store's figures are not per DAG
            stats = IncidentStore(self.store).stats(since=self.now - timedelta(days=days))
        return Summary(
            failing=failing,
            open_incidents=incidents,
            quarantined=waiting,
            days=days,
            mttd_seconds=stats.mean_time_to_detect if stats else None,
            mttr_seconds=stats.mean_time_to_resolve if stats else None,
            incidents_in_window=stats.total if stats else None,
        )

    def runs(
        self,
        scope: Scope,
        *,
        dataset: str | None = None,
        status: str | None = None,
        limit: int,
        offset: int,
    ) -> Page[RunSummary]:
        with self.store.connection() as connection:
            rows, total = queries.run_rows(
                connection, scope, dataset=dataset, status=status, limit=limit, offset=offset
            )
        return Page(items=[summary(r) for r in rows], total=total, limit=limit, offset=offset)

    def dataset_known(self, dataset: str) -> bool:
        with self.store.connection() as connection:
            return queries.dataset_exists(connection, dataset)

    def dataset(self, scope: Scope, dataset: str) -> DatasetDetail | None:
        """A dataset's history; None when the user may see none of its runs."""
        found = self._dataset(scope, dataset)
        return None if found is None else found[0]

    def dataset_page(self, scope: Scope, dataset: str) -> DatasetPage | None:
        """A dataset's history as its page shows it: the status grid and the charts."""
        found = self._dataset(scope, dataset)
        if found is None:
            return None
        detail, latest, verdicts = found
        return DatasetPage(
            detail=detail,
            grid=status_grid(detail.checks, verdicts),
            panels=panels(detail.checks, detail.metrics, latest),
        )

    def _dataset(
        self, scope: Scope, dataset: str
    ) -> tuple[DatasetDetail, dict[str, dict[str, Any]], list[Verdict]] | None:
        with self.store.connection() as connection:
            rows, total = queries.run_rows(
                connection, scope, dataset=dataset, limit=HISTORY, offset=0
            )
            if not rows:
                return None
            ids = [r.run_id for r in rows]
            versions = queries.contract_versions(connection, scope, dataset)
            checks = queries.check_history(connection, scope, dataset, ids)
            measured = queries.metric_history(connection, dataset, ids)
        latest = rows[0]
        status_of = {r.run_id: r.status for r in rows}
        newest = {
            row.name: dict(row.metrics or {}) for row in checks if row.run_id == latest.run_id
        }
        detail = DatasetDetail(
            dataset=dataset,
            status=latest.status,
            checked_at=as_utc(latest.checked_at),
            runs=total,
            contract_versions=[
                ContractVersion(
                    fingerprint=v.fingerprint,
                    first_seen=as_utc(v.first_seen),
                    last_seen=as_utc(v.last_seen),
                    runs=v.runs,
                )
                for v in versions
            ],
            checks=_check_series(checks),
            metrics=_metric_series(measured, status_of),
        )
        verdicts = [
            Verdict(run_id=r.run_id, status=r.status, checked_at=as_utc(r.checked_at))
            for r in reversed(rows)
        ]
        return detail, newest, verdicts

    def run_context(self, scope: Scope, report: RunReport) -> RunContext:
        """What the run report shows beside the checks: the previous run of the dataset
        (for new / still failing / recovered) and the batch the verdict set aside."""
        with self.store.connection() as connection:
            before = queries.previous_run(
                connection, scope, report.dataset, report.checked_at, report.run_id
            )
            statuses = queries.check_statuses(connection, before) if before else None
            row = queries.batch_of_run(connection, report.run_id)
            record = select_record(connection, row.batch_id) if row is not None else None
        batch = held(row) if row is not None and scope.allows(row.dag_id) else None
        shown = preview(record) if record is not None and batch is not None else None
        return RunContext(previous_run_id=before, previous=statuses, batch=batch, preview=shown)

    def run(self, run_id: str) -> tuple[RunReport, str | None] | None:
        """A run's report and its DAG id (for the caller to authorize), or None."""
        found = self.store.get(run_id)
        if found is None:
            return None
        return report(found), found.context.get("dag_id")

    def task_attempts(
        self, dag_id: str, dag_run_id: str, task_id: str, map_index: int
    ) -> list[str]:
        """The stored run ids of one task instance's attempts, newest first.

        A gate stores each attempt under ``attempt_run_id`` of its identity, so the
        first ``TRIES`` attempts are looked up by key; only when the last of them is
        found (there may be more tries) are the runs' contexts scanned."""
        from airflow_opsguard.runtime import attempt_run_id

        identity = {"dag_id": dag_id, "run_id": dag_run_id, "task_id": task_id}
        ids = [
            attempt_run_id({**identity, "map_index": map_index, "try_number": n})
            for n in range(1, TRIES + 1)
        ]
        with self.store.connection() as connection:
            rows = queries.task_runs(connection, dag_id, dag_run_id, task_id, map_index, ids)
            if rows and ids[-1] in {r.run_id for r in rows}:
                rows = queries.task_runs(connection, dag_id, dag_run_id, task_id, map_index)
        return [r.run_id for r in rows]

    def incidents(
        self, scope: Scope, *, state: str, dataset: str | None, limit: int, offset: int
    ) -> Page[IncidentOut]:
        with self.store.connection() as connection:
            rows, total = queries.incident_rows(
                connection, scope, state=state, dataset=dataset, limit=limit, offset=offset
            )
        return Page(items=[incident(r) for r in rows], total=total, limit=limit, offset=offset)

    def quarantine(
        self, scope: Scope, *, status: str | None, dataset: str | None, limit: int, offset: int
    ) -> Page[QuarantineOut]:
        with self.store.connection() as connection:
            rows, total = queries.quarantine_rows(
                connection, scope, status=status, dataset=dataset, limit=limit, offset=offset
            )
        return Page(items=[held(r) for r in rows], total=total, limit=limit, offset=offset)

    def batch(self, batch_id: str) -> QuarantineOut | None:
        with self.store.connection() as connection:
            row = queries.quarantine_row(connection, batch_id)
        return None if row is None else held(row)

    def incident(self, incident_id: int) -> IncidentOut | None:
        with self.store.connection() as connection:
            row = queries.incident_row(connection, incident_id)
        return None if row is None else incident(row)


def summary(row: sa.Row[Any]) -> RunSummary:
    context = dict(row.context or {})
    return RunSummary(
        run_id=row.run_id,
        dataset=row.dataset,
        status=row.status,
        checked_at=as_utc(row.checked_at),
        rows=row.rows,
        duration_ms=row.duration_ms,
        contract_fingerprint=row.contract_fingerprint,
        would_be=row.would_be,
        **_where(context),
    )


def report(result: GateResult) -> RunReport:
    assert result.run_id is not None  # stored results always have one
    return RunReport(
        run_id=result.run_id,
        dataset=result.dataset,
        status=result.status,
        checked_at=result.checked_at,
        rows=result.rows,
        duration_ms=result.duration_ms,
        contract_fingerprint=result.contract_fingerprint,
        would_be=result.would_be,
        source=result.source,
        error=result.error,
        retryable=result.retryable,
        data_fingerprint=dict(result.data_fingerprint),
        metrics=dict(result.to_dict().get("metrics") or {}),
        checks=[CheckOut.model_validate(_check(c)) for c in result.to_dict()["checks"]],
        **_where(result.context),
    )


def _check(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "failing_count": None,
        "failing_fraction": None,
        "samples": [],
        "mostly": None,
        "metrics": {},
        "would_be": None,
        **{k: v for k, v in data.items() if k != "mode"},
    }


def _where(context: Mapping[str, Any]) -> dict[str, Any]:
    def number(key: str) -> int | None:
        value = context.get(key)
        return (
            int(value)
            if isinstance(value, int | str) and str(value).lstrip("-").isdigit()
            else None
        )

    return {
        "dag_id": context.get("dag_id"),
        "dag_run_id": context.get("run_id"),
        "task_id": context.get("task_id"),
        "map_index": number("map_index"),
        "try_number": number("try_number"),
    }


def incident(row: sa.Row[Any]) -> IncidentOut:
    return IncidentOut.model_validate(incident_from_row(row))


def held(row: sa.Row[Any]) -> QuarantineOut:
    """A quarantine record for people: its internal details left out, secrets masked."""
    return QuarantineOut(
        batch_id=row.batch_id,
        dataset=row.dataset,
        kind=row.kind,
        status=row.status,
        location=mask_url(row.location),
        source=mask_url(row.source) if row.source else None,
        publish_to=mask_url(row.publish_to) if row.publish_to else None,
        rows=row.rows,
        clean_rows=row.clean_rows,
        reasons=list(row.reasons or []),
        run_id=row.run_id,
        dag_id=row.dag_id,
        task_id=row.task_id,
        dag_run_id=row.dag_run_id,
        created_at=as_utc(row.created_at),
        reviewed_at=as_utc(row.reviewed_at) if row.reviewed_at else None,
        reviewed_by=row.reviewed_by,
        review_reason=row.review_reason,
        review_run_id=row.review_run_id,
        forced=row.forced,
    )


def _check_series(rows: list[sa.Row[Any]]) -> list[Series]:
    """Each check's numeric value per run: its observed number, else the data's age
    (freshness) or a score."""
    series: dict[str, tuple[str, str | None, list[SeriesPoint]]] = {}
    for row in rows:
        check = check_result(row)
        value = _number(check.observed)
        for key in ("age_seconds", "score"):  # freshness: the data's age
            if value is None and check.metrics:
                value = _number(check.metrics.get(key))
        point = SeriesPoint(
            run_id=row.run_id,
            checked_at=as_utc(row.checked_at),
            status=check.status,
            value=value,
            observed=check.observed,
            expected=check.expected,
        )
        series.setdefault(check.name, (check.type, check.column, []))[2].append(point)
    return [
        Series(
            name=name,
            kind="check",
            type=kind,
            column=column,
            unit="seconds" if kind == "freshness" else None,
            points=points,
        )
        for name, (kind, column, points) in series.items()
    ]


@dataclass(frozen=True)
class GridRow:
    """One check over the grid's runs: its status in each (None: not in that run)."""

    name: str
    type: str | None
    cells: tuple[SeriesPoint | None, ...]

    @property
    def latest(self) -> str | None:
        last = self.cells[-1] if self.cells else None
        return last.status if last is not None else None


@dataclass(frozen=True)
class StatusGrid:
    """Every check (rows) over the recent runs (columns, oldest first)."""

    runs: tuple[Verdict, ...]
    rows: tuple[GridRow, ...]


def status_grid(checks: list[Series], ordered: list[Verdict]) -> StatusGrid:
    """The checks' statuses run by run (``ordered``: the runs, oldest first), checks
    failing now first (contract order kept)."""
    index = {v.run_id: i for i, v in enumerate(ordered)}
    rows = []
    for series in checks:
        cells: list[SeriesPoint | None] = [None] * len(ordered)
        for p in series.points:
            if p.run_id in index:
                cells[index[p.run_id]] = p
        rows.append(GridRow(series.name, series.type, tuple(cells)))
    rows.sort(key=lambda r: r.latest in (None, "pass"))
    return StatusGrid(tuple(ordered), tuple(rows))


@dataclass(frozen=True)
class DatasetPage:
    detail: DatasetDetail
    grid: StatusGrid
    panels: list[Panel]


def _metric_series(rows: list[sa.Row[Any]], status_of: dict[str, str]) -> list[Series]:
    series: dict[str, list[SeriesPoint]] = {}
    for row in rows:
        point = SeriesPoint(
            run_id=row.run_id,
            checked_at=as_utc(row.checked_at),
            status=status_of.get(row.run_id, row.status),
            value=row.value,
        )
        series.setdefault(row.name, []).append(point)
    return [Series(name=n, kind="metric", points=p) for n, p in sorted(series.items())]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(str(value)))
    except ValueError:
        return None
