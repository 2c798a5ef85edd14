"""GateResults to table rows and back, losslessly: a stored run reads back equal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.checks.results import CheckResult, GateResult, to_json_value
from airflow_opsguard.store.metrics import metric_rows
from airflow_opsguard.store.tables import as_utc, check_results, metrics, run_profiles, runs

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


def insert_result(connection: sa.Connection, result: GateResult) -> bool:
    """Insert one run and its checks; False when the run is stored already.

    One transaction: a run is stored with all of its checks or not at all. The run row
    goes first, so a duplicate run_id stops it before any check row is written.
    """
    if result.run_id is None:
        raise ValueError("a result needs a run_id to be stored")
    try:
        with connection.begin():
            connection.execute(runs.insert(), run_row(result))
            rows = check_rows(result)
            if rows:
                connection.execute(check_results.insert(), rows)
            measured = metric_rows(result)
            if measured:
                connection.execute(metrics.insert(), measured)
            if result.profile is not None:
                profile = json.dumps(to_json_value(result.profile), sort_keys=True)
                connection.execute(
                    run_profiles.insert(), {"run_id": result.run_id, "profile": profile}
                )
    except sa.exc.IntegrityError:
        if _exists(connection, result.run_id):
            return False
        raise
    return True


def _exists(connection: sa.Connection, run_id: str) -> bool:
    with connection.begin():
        query = sa.select(runs.c.run_id).where(runs.c.run_id == run_id)
        return connection.execute(query).first() is not None


def run_row(result: GateResult) -> dict[str, Any]:
    offset = result.checked_at.utcoffset()
    shadow = {} if result.would_be is None else {"would_be": result.would_be}  # since 0006
    return {
        **shadow,
        "run_id": result.run_id,
        "dataset": result.dataset,
        "status": result.status,
        "checked_at": as_utc(result.checked_at),
        "checked_at_utcoffset": int(offset.total_seconds()) if offset else 0,
        "duration_ms": result.duration_ms,
        "rows": result.rows,
        "contract_fingerprint": result.contract_fingerprint,
        "data_fingerprint": _json_or_none(result.data_fingerprint),
        "source": result.source,
        "error": result.error,
        "retryable": result.retryable,
        "context": _json_or_none(result.context),
        "created_at": datetime.now(UTC),
    }


def check_rows(result: GateResult) -> list[dict[str, Any]]:
    checked_at = as_utc(result.checked_at)
    # Shadow checks (0006): the key only when some check has it, so every row has one shape.
    shadow = any(check.would_be is not None for check in result.checks)
    return [
        {
            **({"would_be": check.would_be} if shadow else {}),
            "run_id": result.run_id,
            "position": position,
            "dataset": result.dataset,
            "checked_at": checked_at,
            "name": check.name,
            "type": check.type,
            "column_name": check.column,
            "status": check.status,
            "severity": check.severity,
            "observed": to_json_value(check.observed),
            "expected": to_json_value(check.expected),
            "message": check.message,
            "failing_count": check.failing_count,
            "failing_fraction": check.failing_fraction,
            "samples": to_json_value(list(check.samples)) if check.samples else None,
            "mostly": check.mostly,
            "metrics": _json_or_none(check.metrics),
        }
        for position, check in enumerate(result.checks)
    ]


def _json_or_none(value: Mapping[str, Any]) -> Any:
    return to_json_value(value) if value else None


def local_time(utc: datetime, offset_seconds: int) -> datetime:
    """A stored instant in the UTC offset it was recorded in."""
    if not offset_seconds:
        return as_utc(utc)
    return as_utc(utc).astimezone(timezone(timedelta(seconds=offset_seconds)))


def gate_results(
    run_rows: Sequence[sa.Row[Any]],
    checks: Iterable[sa.Row[Any]],
    run_metrics: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[GateResult]:
    """Rebuild results from their run rows (in order), all of their check rows and
    their metrics by run id."""
    by_run: dict[str, list[CheckResult]] = {row.run_id: [] for row in run_rows}
    for row in sorted(checks, key=lambda r: (r.run_id, r.position)):
        by_run[row.run_id].append(check_result(row))
    measured = run_metrics or {}
    return [gate_result(row, by_run[row.run_id], measured.get(row.run_id)) for row in run_rows]


def gate_result(
    row: sa.Row[Any],
    checks: Iterable[CheckResult],
    run_metrics: Mapping[str, Any] | None = None,
) -> GateResult:
    return GateResult(
        dataset=row.dataset,
        status=row.status,
        checked_at=local_time(row.checked_at, row.checked_at_utcoffset),
        rows=row.rows,
        checks=tuple(checks),
        contract_fingerprint=row.contract_fingerprint,
        data_fingerprint=dict(row.data_fingerprint or {}),
        source=row.source,
        duration_ms=row.duration_ms,
        error=row.error,
        retryable=bool(row.retryable),
        run_id=row.run_id,
        context=dict(row.context or {}),
        metrics=dict(run_metrics or {}),
        would_be=getattr(row, "would_be", None),
    )


def check_result(row: sa.Row[Any]) -> CheckResult:
    return CheckResult(
        name=row.name,
        type=row.type,
        status=row.status,
        severity=row.severity,
        message=row.message,
        column=row.column_name,
        observed=row.observed,
        expected=row.expected,
        failing_count=row.failing_count,
        failing_fraction=row.failing_fraction,
        samples=tuple(row.samples or ()),
        mostly=row.mostly,
        metrics=dict(row.metrics or {}),
        would_be=getattr(row, "would_be", None),
    )
