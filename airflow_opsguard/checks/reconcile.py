"""Pure evaluation of a reconcile check: our aggregate against another table's. No I/O."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from airflow_opsguard.checks.observations import CheckObservation
from airflow_opsguard.checks.results import CheckResult, to_json_value
from airflow_opsguard.contract.models import ReconcileCheck


def allowed_difference(check: ReconcileCheck, other: float) -> float:
    """The largest difference the check allows against ``other``: the larger of
    ``abs_tolerance`` and ``tolerance`` times ``|other|`` (0 when neither is given)."""
    relative = (check.tolerance or 0.0) * abs(other)
    return max(relative, check.abs_tolerance or 0.0)


def tolerance_text(check: ReconcileCheck) -> str:
    parts = []
    if check.tolerance is not None:
        parts.append(f"{check.tolerance:.4g} relative")
    if check.abs_tolerance is not None:
        parts.append(f"{check.abs_tolerance:.6g} absolute")
    return " or ".join(parts) if parts else "exactly"


def evaluate_reconcile(check: ReconcileCheck, observation: CheckObservation) -> CheckResult:
    """Pass when our aggregate equals the other table's within the tolerance.

    Both undefined (a sum, min, max or mean of no values on both sides) is equal; one
    undefined is a difference. Non-numbers (dates, text) must be equal.
    """
    what = check.metric if check.column is None else f"{check.metric}({check.column})"
    other_column = check.other_column
    theirs = (
        f"{check.metric}({other_column})" if other_column is not None else check.metric
    ) + f" of {check.to.shown}"
    base: dict[str, Any] = {
        "name": check.display_name,
        "type": "reconcile",
        "column": check.column,
        "severity": check.severity,
    }
    if observation.error:
        return CheckResult(**base, status="error", message=observation.error)
    ours, other = observation.value, observation.compared
    metrics: dict[str, Any] = {
        "value": to_json_value(ours),
        "other": to_json_value(other),
        "tolerance": check.tolerance,
        "abs_tolerance": check.abs_tolerance,
    }
    ok, difference = _matches(check, ours, other)
    if difference is not None:
        metrics["difference"] = difference
    shown_ours, shown_other = _show(ours), _show(other)
    if ok:
        message = f"{what} is {shown_ours}; {theirs} is {shown_other}"
        if difference:
            message += f" (difference {difference:.6g}, within {tolerance_text(check)})"
    else:
        message = f"{what} is {shown_ours} but {theirs} is {shown_other}"
        if difference is not None:
            allowed = tolerance_text(check)
            bound = "they must be equal" if allowed == "exactly" else f"beyond {allowed}"
            message += f": a difference of {difference:.6g}; {bound}"
    return CheckResult(
        **base,
        status="pass" if ok else ("warn" if check.severity == "warn" else "fail"),
        observed=to_json_value(ours),
        expected=to_json_value(other),
        message=message,
        metrics=metrics,
    )


def _matches(check: ReconcileCheck, ours: Any, other: Any) -> tuple[bool, float | None]:
    if ours is None or other is None:
        return ours is None and other is None, None
    if _is_number(ours) and _is_number(other):
        difference = abs(float(Decimal(str(ours)) - Decimal(str(other))))
        return difference <= allowed_difference(check, float(other)), difference
    return ours == other, None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _show(value: Any) -> str:
    if value is None:
        return "undefined (no values)"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return f"{float(value):,.6g}" if abs(float(value)) >= 1e6 else f"{value}"
    if isinstance(value, int):
        return f"{value:,}"
    return repr(value)
