"""Incidents: what a run's failures mean for on-call. Pure: no I/O, no clock.

A failing (dataset, check) opens an incident; the next failing runs update it instead of
alerting again; it escalates once, after N failing runs in a row or T open; a passing
run resolves it. A retry of the same run (same DAG run and task) is the same run: it
neither counts again nor alerts again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from airflow_opsguard.checks.results import (
    CheckResult,
    GateResult,
    JsonScalar,
    Status,
    to_json_value,
)
from airflow_opsguard.contract.alerts import Escalation

IncidentStatus = Literal["open", "acknowledged", "resolved"]
Severity = Literal["fail", "warn"]
State = Literal["new", "worse", "ongoing", "resolved"]
GATE_CHECK = "gate"  # the incident of a gate that could not measure at all


@dataclass(frozen=True)
class Finding:
    """One enforced check of a run, under the key its incident is filed by (the check's
    name, with ``#2``, ``#3`` for a name that repeats within a contract)."""

    key: str
    check: CheckResult

    @property
    def status(self) -> Status:
        return self.check.status

    @property
    def failing(self) -> bool:
        return self.check.status != "pass"

    @property
    def severity(self) -> Severity:
        return "warn" if self.check.status == "warn" else "fail"


@dataclass(frozen=True)
class Incident:
    """An incident as stored: one failing (dataset, check), from its first failing run
    to the run that passed again (or someone resolved it)."""

    id: int
    dataset: str
    check: str
    check_type: str
    column: str | None
    status: IncidentStatus
    severity: Severity
    last_status: Status
    failures: int
    opened_at: datetime
    last_failed_at: datetime
    message: str
    escalated_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    data_newest: datetime | None = None
    opened_run_id: str | None = None
    last_run_id: str | None = None
    resolved_run_id: str | None = None
    last_run_key: str | None = None
    dag_id: str | None = None
    task_id: str | None = None
    observed: JsonScalar = None
    expected: JsonScalar = None

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    @property
    def open_key(self) -> str:
        return open_key(self.dataset, self.check)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "dataset": self.dataset,
            "check": self.check,
            "check_type": self.check_type,
            "column": self.column,
            "status": self.status,
            "severity": self.severity,
            "last_status": self.last_status,
            "failures": self.failures,
            "opened_at": self.opened_at,
            "last_failed_at": self.last_failed_at,
            "escalated_at": self.escalated_at,
            "acknowledged_at": self.acknowledged_at,
            "acknowledged_by": self.acknowledged_by,
            "resolved_at": self.resolved_at,
            "resolved_by": self.resolved_by,
            "data_newest": self.data_newest,
            "opened_run_id": self.opened_run_id,
            "last_run_id": self.last_run_id,
            "resolved_run_id": self.resolved_run_id,
            "dag_id": self.dag_id,
            "task_id": self.task_id,
            "observed": self.observed,
            "expected": self.expected,
            "message": self.message,
        }
        return {k: to_json_value(v) for k, v in out.items()}


@dataclass(frozen=True)
class Transition:
    """What one run did to one incident: ``incident`` is its state after the run (id 0
    for one the store has yet to insert)."""

    state: State
    incident: Incident
    finding: Finding | None
    escalated: bool = False  # escalated by this run


def open_key(dataset: str, check: str) -> str:
    """The key that keeps one incident per (dataset, check) open at a time."""
    return hashlib.sha256(f"{dataset}\x1f{check}".encode()).hexdigest()


def findings(result: GateResult) -> list[Finding]:
    """The enforced checks of a run (shadow checks never open incidents), and the gate
    itself when it could not measure anything."""
    out: list[Finding] = []
    seen: dict[str, int] = {}
    for check in result.checks:
        seen[check.name] = seen.get(check.name, 0) + 1
        if check.would_be is not None:
            continue  # shadow mode
        key = check.name if seen[check.name] == 1 else f"{check.name}#{seen[check.name]}"
        out.append(Finding(key, check))
    if result.error is not None and result.status == "error":
        gate = CheckResult(
            name=GATE_CHECK,
            type="error",
            status="error",
            severity="fail",
            message=f"the data could not be checked: {result.error}",
        )
        out.append(Finding(GATE_CHECK, gate))
    return out


def measured(result: GateResult) -> bool:
    """Whether the run measured the data (so a gate-level incident is over)."""
    return result.error is None


def data_newest(result: GateResult) -> datetime | None:
    """The newest timestamp of the data, from the freshness check or the metrics."""
    for check in result.checks:
        newest = check.metrics.get("newest") if check.type == "freshness" else None
        if isinstance(newest, str):
            try:
                return _utc(datetime.fromisoformat(newest))
            except ValueError:
                continue
    for name, value in result.metrics.items():
        if name.startswith("freshness_lag_seconds(") and isinstance(value, int | float):
            from datetime import timedelta

            return _utc(result.checked_at) - timedelta(seconds=float(value))
    return None


def plan(
    result: GateResult,
    open_incidents: Mapping[str, Incident],
    *,
    run_key: str,
    now: datetime,
    escalation: Escalation,
) -> list[Transition]:
    """Every incident this run opens, updates, worsens, escalates or resolves.

    ``open_incidents`` are the dataset's open (or acknowledged) incidents by check key;
    ``run_key`` says which run this is: a retry of the same run has the same key.
    """
    now = _utc(now)
    transitions: list[Transition] = []
    newest = data_newest(result)
    identity = _identity(result)
    for finding in findings(result):
        current = open_incidents.get(finding.key)
        if finding.failing:
            if current is None:
                incident = _opened(result, finding, run_key, now, newest, identity)
                transitions.append(_maybe_escalate("new", incident, finding, now, escalation))
            else:
                transitions.append(
                    _continued(result, current, finding, run_key, now, identity, escalation)
                )
        elif current is not None:
            transitions.append(_resolved(result, current, finding, now))
    gate = open_incidents.get(GATE_CHECK)
    if gate is not None and measured(result):
        transitions.append(_resolved(result, gate, None, now))
    return transitions


def events(transitions: Iterable[Transition]) -> set[str]:
    """The alert events of a run: fail, warn, escalate, recover."""
    found: set[str] = set()
    for t in transitions:
        if t.state in ("new", "worse"):
            found.add(t.incident.severity)
        if t.escalated:
            found.add("escalate")
        if t.state == "resolved":
            found.add("recover")
    return found


def _identity(result: GateResult) -> dict[str, Any]:
    return {"dag_id": result.context.get("dag_id"), "task_id": result.context.get("task_id")}


def _opened(
    result: GateResult,
    finding: Finding,
    run_key: str,
    now: datetime,
    newest: datetime | None,
    identity: Mapping[str, Any],
) -> Incident:
    check = finding.check
    return Incident(
        id=0,
        dataset=result.dataset,
        check=finding.key,
        check_type=check.type,
        column=check.column,
        status="open",
        severity=finding.severity,
        last_status=check.status,
        failures=1,
        opened_at=now,
        last_failed_at=now,
        message=check.message,
        data_newest=newest,
        opened_run_id=result.run_id,
        last_run_id=result.run_id,
        last_run_key=run_key,
        observed=_scalar(check.observed),
        expected=_scalar(check.expected),
        **identity,
    )


def _continued(
    result: GateResult,
    current: Incident,
    finding: Finding,
    run_key: str,
    now: datetime,
    identity: Mapping[str, Any],
    escalation: Escalation,
) -> Transition:
    check = finding.check
    same_run = current.last_run_key == run_key
    worse = current.severity == "warn" and finding.severity == "fail"
    incident = replace(
        current,
        severity="fail" if worse else current.severity,
        last_status=check.status,
        failures=current.failures if same_run else current.failures + 1,
        last_failed_at=now,
        message=check.message,
        last_run_id=result.run_id,
        last_run_key=run_key,
        observed=_scalar(check.observed),
        expected=_scalar(check.expected),
        **identity,
    )
    return _maybe_escalate("worse" if worse else "ongoing", incident, finding, now, escalation)


def _maybe_escalate(
    state: State, incident: Incident, finding: Finding, now: datetime, escalation: Escalation
) -> Transition:
    due = incident.escalated_at is None and incident.status == "open"
    by_count = (
        escalation.after_failures is not None and incident.failures >= escalation.after_failures
    )
    by_age = escalation.after_open is not None and now - incident.opened_at >= escalation.after_open
    if due and (by_count or by_age):
        return Transition(state, replace(incident, escalated_at=now), finding, escalated=True)
    return Transition(state, incident, finding)


def _resolved(
    result: GateResult, current: Incident, finding: Finding | None, now: datetime
) -> Transition:
    incident = replace(
        current,
        status="resolved",
        resolved_at=now,
        resolved_by="run",
        resolved_run_id=result.run_id,
    )
    if finding is not None:
        incident = replace(
            incident,
            observed=_scalar(finding.check.observed),
            expected=_scalar(finding.check.expected),
        )
    return Transition("resolved", incident, finding)


def _scalar(value: Any) -> JsonScalar:
    converted = to_json_value(value)
    if converted is None or isinstance(converted, str | int | float | bool):
        return converted
    return str(converted)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
