"""The JSON API under ``/opsguard/api/v1``: typed responses, paginated lists.

Every route needs an authenticated Airflow user; lists hold only what comes from DAGs
the user may read; changes need edit access and pass the cross-site request checks.
Blocking store reads run in plain ``def`` endpoints (FastAPI's thread pool).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from airflow_opsguard.contract.base import INT64_MAX
from airflow_opsguard.plugin.actions import (
    IncidentAction,
    change_incident,
    drop_batch,
    release_batch,
)
from airflow_opsguard.plugin.auth import CurrentUser, require
from airflow_opsguard.plugin.deps import Limit, ReaderDep, WriterDep, forbidden, not_found
from airflow_opsguard.plugin.incident_stats import (
    DEFAULT_DAYS,
    MAX_DAYS,
    IncidentStatsOut,
    incident_stats,
)
from airflow_opsguard.plugin.models import (
    DatasetDetail,
    DatasetOverview,
    DropBody,
    IncidentOut,
    Page,
    QuarantineOut,
    ReleaseBody,
    RunReport,
    RunSummary,
    StatusName,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid Airflow token (Authorization: Bearer, or the _token cookie)."},
    403: {"description": "The user may not read (or change) what comes from this DAG."},
}
router = APIRouter(prefix="/api/v1", responses=ERRORS)

# Numbers in a request are bounded where they are read: one SQL's BIGINT cannot hold is
# a 422 naming the parameter, never a 500 from an OverflowError in the query.
Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="Items to skip.")]
MapIndex = Annotated[int, Query(ge=-1, le=INT64_MAX, description="-1: not mapped.")]
IncidentId = Annotated[int, Path(ge=1, le=INT64_MAX, description="The incident's number.")]


@router.get("/datasets", tags=["datasets"])
def list_datasets(
    reader: ReaderDep, limit: Limit = 50, offset: Offset = 0
) -> Page[DatasetOverview]:
    """Every dataset with a visible result: latest verdict, freshness, incidents."""
    return reader.dashboard.overview(reader.scope, limit=limit, offset=offset)


@router.get("/datasets/{dataset}", tags=["datasets"], responses={404: {}})
def get_dataset(reader: ReaderDep, dataset: str) -> DatasetDetail:
    """A dataset's contract versions and its checks and metrics over time."""
    detail = reader.dashboard.dataset(reader.scope, dataset)
    if detail is None:
        raise forbidden() if reader.dashboard.dataset_known(dataset) else not_found("Dataset")
    return detail


@router.get("/datasets/{dataset}/runs", tags=["datasets"])
def list_dataset_runs(
    reader: ReaderDep, dataset: str, limit: Limit = 50, offset: Offset = 0
) -> Page[RunSummary]:
    """A dataset's visible runs, newest first."""
    return reader.dashboard.runs(reader.scope, dataset=dataset, limit=limit, offset=offset)


@router.get("/runs", tags=["runs"])
def list_runs(
    reader: ReaderDep,
    dataset: str | None = None,
    status: StatusName | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[RunSummary]:
    """Visible runs, newest first, optionally of one dataset and one verdict."""
    return reader.dashboard.runs(
        reader.scope, dataset=dataset, status=status, limit=limit, offset=offset
    )


@router.get("/runs/{run_id}", tags=["runs"], responses={404: {}})
def get_run(reader: ReaderDep, run_id: str) -> RunReport:
    """A run's report: every check, observed against expected, failing samples."""
    found = reader.dashboard.run(run_id)
    if found is None:
        raise not_found("Run")
    report, dag_id = found
    require(reader.user, dag_id, "GET")
    return report


@router.get("/task-report", tags=["runs"], responses={404: {}})
def get_task_report(
    reader: ReaderDep,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: MapIndex = -1,
) -> RunReport:
    """The verdict of a gate task instance's latest stored attempt."""
    require(reader.user, dag_id, "GET")
    attempts = reader.dashboard.task_attempts(dag_id, dag_run_id, task_id, map_index)
    found = reader.dashboard.run(attempts[0]) if attempts else None
    if found is None:
        raise not_found("Verdict")
    return found[0]


@router.get("/incidents", tags=["incidents"])
def list_incidents(
    reader: ReaderDep,
    state: Literal["open", "resolved", "all"] = "open",
    dataset: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[IncidentOut]:
    """Incidents, newest first: ``open`` (open or acknowledged), ``resolved`` or ``all``."""
    return reader.dashboard.incidents(
        reader.scope, state=state, dataset=dataset, limit=limit, offset=offset
    )


@router.get("/incidents/stats", tags=["incidents"])
def get_incident_stats(
    reader: ReaderDep,
    days: Annotated[
        int, Query(ge=1, le=MAX_DAYS, description="The window: incidents opened in these days.")
    ] = DEFAULT_DAYS,
    until: Annotated[datetime | None, Query(description="The window's end (default: now).")] = None,
    dataset: str | None = None,
) -> IncidentStatsOut:
    """Mean times to detect, acknowledge and resolve (MTTD, MTTA, MTTR) and counts of the
    incidents opened in the window, over every dataset you may see and per dataset."""
    return incident_stats(
        reader.dashboard.store, reader.scope, days=days, until=until, dataset=dataset
    )


@router.post("/incidents/{incident_id}/{action}", tags=["incidents"], responses={404: {}})
def post_incident_action(
    reader: WriterDep, incident_id: IncidentId, action: IncidentAction
) -> IncidentOut:
    """Acknowledge (stop escalating) or resolve an incident. Needs edit access to its
    DAG; with the cookie instead of a Bearer token, also the ``X-OpsGuard-CSRF`` header."""
    return change_incident(reader, incident_id, action)


@router.get("/quarantine", tags=["quarantine"])
def list_quarantine(
    reader: ReaderDep,
    status: Literal["quarantined", "released", "dropped", "all"] = "quarantined",
    dataset: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[QuarantineOut]:
    """Batches that gates set aside, newest first (``quarantined``: awaiting review)."""
    return reader.dashboard.quarantine(
        reader.scope,
        status=None if status == "all" else status,
        dataset=dataset,
        limit=limit,
        offset=offset,
    )


@router.get("/quarantine/{batch_id}", tags=["quarantine"], responses={404: {}})
def get_quarantined(reader: ReaderDep, batch_id: str) -> QuarantineOut:
    found = reader.dashboard.batch(batch_id)
    if found is None:
        raise not_found("Quarantined batch")
    require(reader.user, found.dag_id, "GET")
    return found


QUARANTINE_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such batch (or not one you may see)."},
    409: {"description": "The batch was released or dropped already."},
    502: {"description": "The batch's data could not be reached (its database or storage)."},
}


@router.post(
    "/quarantine/{batch_id}/release",
    tags=["quarantine"],
    responses={
        **QUARANTINE_ERRORS,
        422: {"description": "The data still fails its contract: {message, run_id}."},
    },
)
def post_release(reader: WriterDep, batch_id: str, body: ReleaseBody) -> QuarantineOut:
    """Check the batch again and publish it; ``force`` skips the check. Needs edit
    access to the gate's DAG (and ``X-OpsGuard-CSRF`` with the cookie)."""
    return release_batch(reader, batch_id, reason=body.reason, force=body.force)


@router.post("/quarantine/{batch_id}/drop", tags=["quarantine"], responses=QUARANTINE_ERRORS)
def post_drop(reader: WriterDep, batch_id: str, body: DropBody) -> QuarantineOut:
    """Delete the quarantined data for good (the record stays)."""
    return drop_batch(reader, batch_id, reason=body.reason)


def openapi_route(app_openapi: Any) -> APIRouter:
    """``GET /api/v1/openapi.json``: the API's OpenAPI document, for signed-in users."""
    docs = APIRouter(prefix="/api/v1")

    @docs.get("/openapi.json", include_in_schema=False)
    def openapi(_user: CurrentUser) -> dict[str, Any]:
        document: dict[str, Any] = app_openapi()
        return document

    return docs
