"""The HTML pages: server-rendered Jinja2 (autoescaped), shown in Airflow's UI.

Nothing from the network and no inline script: forms post back to the server (with a
CSRF token), filters and search are links and GET forms, charts are inline SVG; the
one script (static/theme.js) only follows Airflow's colour mode.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from airflow_opsguard.plugin import formatting
from airflow_opsguard.plugin.actions import (
    IncidentAction,
    Refused,
    Unreachable,
    change_incident,
    drop_batch,
    release_batch,
)
from airflow_opsguard.plugin.auth import csrf_token, may, require
from airflow_opsguard.plugin.deps import (
    Limit,
    Offset,
    Reader,
    ReaderDep,
    WriterDep,
    forbidden,
    not_found,
)
from airflow_opsguard.plugin.incident_stats import DEFAULT_DAYS, MAX_DAYS, incident_stats
from airflow_opsguard.plugin.models import Page, RunReport
from airflow_opsguard.plugin.triage import SHOW_LABELS, SHOWS, describe, triage

PAGE_SIZE = 25
TEMPLATES = Path(__file__).with_name("templates")

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,  # every value on every page is escaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(
    when=formatting.when,
    duration=formatting.duration,
    value=formatting.value,
    short=formatting.short,
)
environment.globals.update(quote=quote, describe=describe)
templates = Jinja2Templates(env=environment)
log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _render(request: Request, reader: Reader, name: str, **values: Any) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    now = datetime.now(UTC)
    context = {
        "root": root,
        "airflow": root.rsplit("/", 1)[0] if root.endswith("/opsguard") else "",
        "now": now,
        "ago": lambda value: formatting.ago(value, now),
        "user": reader.user.get_name(),
        "csrf": csrf_token(reader.user),
        **values,
    }
    return templates.TemplateResponse(request, name, context)


def _pages(page: Page[Any], request: Request) -> dict[str, str | None]:
    """Links to the previous and next page, keeping the other query parameters."""

    def link(offset: int) -> str:
        query = {k: v for k, v in request.query_params.items() if k != "offset"}
        query["offset"] = str(offset)
        return "?" + urlencode(query)

    before = page.offset - page.limit
    after = page.offset + page.limit
    return {
        "previous": link(max(before, 0)) if page.offset > 0 else None,
        "next": link(after) if after < page.total else None,
    }


@router.get("/")
def overview(
    request: Request, reader: ReaderDep, limit: Limit = PAGE_SIZE, offset: Offset = 0
) -> HTMLResponse:
    page = reader.dashboard.overview(
        reader.scope, limit=limit, offset=offset, failing_first=True, count_runs=False
    )
    summary = reader.dashboard.summary(reader.scope)
    return _render(
        request,
        reader,
        "overview.html",
        page=page,
        summary=summary,
        pages=_pages(page, request),
        nav="overview",
    )


@router.get("/datasets/{dataset}")
def dataset(
    request: Request, reader: ReaderDep, dataset: str, limit: Limit = PAGE_SIZE, offset: Offset = 0
) -> HTMLResponse:
    view = reader.dashboard.dataset_page(reader.scope, dataset)
    if view is None:
        raise forbidden() if reader.dashboard.dataset_known(dataset) else not_found("Dataset")
    runs = reader.dashboard.runs(reader.scope, dataset=dataset, limit=limit, offset=offset)
    incidents = reader.dashboard.incidents(
        reader.scope, state="open", dataset=dataset, limit=50, offset=0
    )
    return _render(
        request,
        reader,
        "dataset.html",
        detail=view.detail,
        grid=view.grid,
        panels=view.panels,
        runs=runs,
        pages=_pages(runs, request),
        incidents=incidents,
        nav="overview",
    )


Show = Annotated[str | None, Query(max_length=16)]
Search = Annotated[str, Query(max_length=200)]


def _triage(
    request: Request, reader: Reader, report: RunReport, show: str | None, q: str
) -> dict[str, Any]:
    """The report's checks for on-call: grouped, marked, filtered; the chips' links."""
    context = reader.dashboard.run_context(reader.scope, report)
    view = triage(report.checks, error=report.error, previous=context.previous, show=show, query=q)
    keep = {k: v for k, v in request.query_params.items() if k not in ("show", "q")}

    def chip(key: str) -> str:
        return "?" + urlencode({**keep, "show": key, **({"q": view.query} if view.query else {})})

    return {
        "report": report,
        "view": view,
        "context": context,
        "chips": [(key, SHOW_LABELS[key], view.counts[key], chip(key)) for key in SHOWS],
        "keep": keep,
    }


@router.get("/runs/{run_id}")
def run(
    request: Request, reader: ReaderDep, run_id: str, show: Show = None, q: Search = ""
) -> HTMLResponse:
    found = reader.dashboard.run(run_id)
    if found is None:
        raise not_found("Run")
    report, dag_id = found
    require(reader.user, dag_id, "GET")
    values = _triage(request, reader, report, show, q)
    return _render(request, reader, "run.html", nav="overview", attempts=[], **values)


@router.get("/task")
def task_instance(
    request: Request,
    reader: ReaderDep,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: str = "-1",
    show: Show = None,
    q: Search = "",
) -> HTMLResponse:
    """The task-instance tab: the verdict of this task's latest stored attempt."""
    require(reader.user, dag_id, "GET")
    index = int(map_index) if map_index.lstrip("-").isdigit() else -1
    attempts = reader.dashboard.task_attempts(dag_id, run_id, task_id, index)
    found = reader.dashboard.run(attempts[0]) if attempts else None
    values = _triage(request, reader, found[0], show, q) if found else {"report": None}
    return _render(
        request,
        reader,
        "task.html",
        attempts=attempts,
        task={"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": index},
        nav="task",
        **values,
    )


@router.get("/incidents")
def incidents(
    request: Request,
    reader: ReaderDep,
    state: Literal["open", "resolved", "all"] = "open",
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = DEFAULT_DAYS,
) -> HTMLResponse:
    page = reader.dashboard.incidents(
        reader.scope, state=state, dataset=None, limit=limit, offset=offset
    )
    editable = {i.id for i in page.items if may(reader.user, i.dag_id, "PUT")}
    stats = incident_stats(reader.dashboard.store, reader.scope, days=days)
    return _render(
        request,
        reader,
        "incidents.html",
        page=page,
        pages=_pages(page, request),
        state=state,
        editable=editable,
        stats=stats,
        days=days,
        nav="incidents",
    )


@router.post("/incidents/{incident_id}/{action}")
def incident_action(
    request: Request, reader: WriterDep, incident_id: int, action: IncidentAction
) -> RedirectResponse:
    change_incident(reader, incident_id, action)
    root = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{root}/incidents", status_code=303)


@router.get("/quarantine")
def quarantine(
    request: Request,
    reader: ReaderDep,
    status: Literal["quarantined", "released", "dropped", "all"] = "quarantined",
    refused: str | None = None,
    check: str | None = None,
    unreachable: str | None = None,
    dataset: Annotated[str, Query(max_length=255)] = "",
    limit: Limit = PAGE_SIZE,
    offset: Offset = 0,
) -> HTMLResponse:
    page = reader.dashboard.quarantine(
        reader.scope,
        status=None if status == "all" else status,
        dataset=dataset.strip() or None,
        limit=limit,
        offset=offset,
    )
    editable = {b.batch_id for b in page.items if may(reader.user, b.dag_id, "PUT")}
    return _render(
        request,
        reader,
        "quarantine.html",
        page=page,
        pages=_pages(page, request),
        status=status,
        editable=editable,
        refused=refused,
        check=check,
        unreachable=unreachable,
        dataset=dataset.strip(),
        nav="quarantine",
    )


Reason = Annotated[str, Form(max_length=2000)]


@router.post("/quarantine/{batch_id}/release")
def release_action(
    request: Request,
    reader: WriterDep,
    batch_id: str,
    reason: Reason = "",
    force: Annotated[bool, Form()] = False,
) -> RedirectResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    try:
        release_batch(reader, batch_id, reason=reason, force=force)
    except Refused as exc:
        # Back to the list, which says why and links the re-check's report.
        query = urlencode({"refused": batch_id, "check": exc.run_id or ""})
        return RedirectResponse(f"{root}/quarantine?{query}", status_code=303)
    except Unreachable as exc:
        return _unreachable(root, batch_id, exc)
    return RedirectResponse(f"{root}/quarantine", status_code=303)


@router.post("/quarantine/{batch_id}/drop")
def drop_action(
    request: Request, reader: WriterDep, batch_id: str, reason: Reason = ""
) -> RedirectResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    try:
        drop_batch(reader, batch_id, reason=reason)
    except Unreachable as exc:
        return _unreachable(root, batch_id, exc)
    return RedirectResponse(f"{root}/quarantine", status_code=303)


def _unreachable(root: str, batch_id: str, exc: Unreachable) -> RedirectResponse:
    # The reason goes to the log, not into a URL that anyone could craft a page from.
    log.warning("quarantine %s: %s", batch_id, exc.detail)
    query = urlencode({"unreachable": batch_id})
    return RedirectResponse(f"{root}/quarantine?{query}", status_code=303)
