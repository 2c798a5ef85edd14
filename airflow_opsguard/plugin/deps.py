"""Request dependencies shared by the API and the pages: the store and what a user sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from fastapi import Depends, HTTPException, Query, status

from airflow_opsguard.plugin.auth import CheckedUser, CurrentUser, scope_for
from airflow_opsguard.plugin.service import Dashboard, current_store
from airflow_opsguard.store.dashboard import Scope

Limit = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, description="Items to skip.")]


@dataclass(frozen=True)
class Reader:
    """A user, the dashboard, and the DAGs whose results the user may read."""

    user: BaseUser
    dashboard: Dashboard
    scope: Scope


def reader(user: CurrentUser) -> Reader:
    dashboard = Dashboard(current_store())
    return Reader(user, dashboard, scope_for(user, dashboard.dag_ids, "GET"))


def writer(user: CheckedUser) -> Reader:
    """As :func:`reader`, for a POST that passed the cross-site request checks."""
    return reader(user)


ReaderDep = Annotated[Reader, Depends(reader)]
WriterDep = Annotated[Reader, Depends(writer)]


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")


def forbidden() -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, "Forbidden")
