"""What a user may change from the dashboard (edit access to the DAG concerned)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import HTTPException, status

from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.plugin.auth import require, user_name
from airflow_opsguard.plugin.deps import Reader, not_found
from airflow_opsguard.plugin.models import IncidentOut, QuarantineOut
from airflow_opsguard.store.incidents import IncidentStore

IncidentAction = Literal["acknowledge", "resolve"]


def change_incident(reader: Reader, incident_id: int, action: IncidentAction) -> IncidentOut:
    """Acknowledge or resolve an incident; 404 if unknown or unseen, 403 without edit."""
    found = reader.dashboard.incident(incident_id)
    if found is None or not reader.scope.allows(found.dag_id):
        raise not_found("Incident")
    require(reader.user, found.dag_id, "PUT")
    incidents = IncidentStore(reader.dashboard.store)
    now = datetime.now(UTC)
    by = user_name(reader.user)
    if action == "acknowledge":
        incidents.acknowledge(incident_id, by, now)
    else:
        incidents.resolve(incident_id, by, now)
    changed = reader.dashboard.incident(incident_id)
    assert changed is not None  # incidents are never deleted
    return changed


class Refused(HTTPException):
    """A release refused because the data still fails its contract (422)."""

    def __init__(self, message: str, run_id: str | None) -> None:
        super().__init__(422, {"message": message, "run_id": run_id})
        self.message = message
        self.run_id = run_id


def _held(reader: Reader, batch_id: str) -> QuarantineOut:
    found = reader.dashboard.batch(batch_id)
    if found is None or not reader.scope.allows(found.dag_id):
        raise not_found("Quarantined batch")
    require(reader.user, found.dag_id, "PUT")
    return found


def release_batch(
    reader: Reader, batch_id: str, *, reason: str | None, force: bool
) -> QuarantineOut:
    """Release a quarantined batch (checked again unless ``force``): 404, 403, 409 when
    it was released or dropped already, 422 when the data still fails."""
    from airflow_opsguard.connections import engine_for_conn_id
    from airflow_opsguard.quarantine import service

    _held(reader, batch_id)
    try:
        service.release(
            batch_id,
            by=user_name(reader.user),
            reason=reason or None,
            force=force,
            store=reader.dashboard.store,
            connections=engine_for_conn_id,  # the batch's database or storage connection
        )
    except service.QuarantineConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except service.ReleaseRefused as exc:
        raise Refused(str(exc), exc.result.run_id) from None
    except DataSourceError as exc:
        raise Unreachable(exc) from None
    return _reloaded(reader, batch_id)


def drop_batch(reader: Reader, batch_id: str, *, reason: str | None) -> QuarantineOut:
    """Delete a quarantined batch's data for good: 404, 403, or 409 when closed already."""
    from airflow_opsguard.connections import engine_for_conn_id
    from airflow_opsguard.quarantine import service

    _held(reader, batch_id)
    try:
        service.drop(
            batch_id,
            by=user_name(reader.user),
            reason=reason or None,
            store=reader.dashboard.store,
            connections=engine_for_conn_id,
        )
    except service.QuarantineConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    except DataSourceError as exc:
        raise Unreachable(exc) from None
    return _reloaded(reader, batch_id)


class Unreachable(HTTPException):
    """The batch's data could not be reached (502): the batch stays held, as it was,
    and the reviewer may try again once the data answers."""

    def __init__(self, exc: DataSourceError) -> None:
        super().__init__(status.HTTP_502_BAD_GATEWAY, f"the batch's data: {exc}")


def _reloaded(reader: Reader, batch_id: str) -> QuarantineOut:
    found = reader.dashboard.batch(batch_id)
    assert found is not None  # records are never deleted
    return found
