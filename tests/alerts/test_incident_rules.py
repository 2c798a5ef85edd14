"""The incident rules, pure: open, update, worsen, escalate, resolve; one run is one run."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from airflow_opsguard.checks.incidents import (
    GATE_CHECK,
    Incident,
    Transition,
    data_newest,
    events,
    findings,
    plan,
)
from airflow_opsguard.checks.results import CheckResult, GateResult, Status
from airflow_opsguard.contract.alerts import Escalation

T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)
NEVER = Escalation(after_failures=None)


def check(name: str, status: Status, observed: object = 2, **extra: object) -> CheckResult:
    return CheckResult(
        name=name,
        type=name.partition("(")[0],
        status=status,
        severity="warn" if status == "warn" else "fail",
        message=f"{name} is {status}",
        observed=observed,  # type: ignore[arg-type]
        expected=0,
        **extra,  # type: ignore[arg-type]
    )


def run(*checks: CheckResult, error: str | None = None, run_id: str = "r1") -> GateResult:
    statuses = [c.status for c in checks]
    status: Status = "error" if error else ("fail" if "fail" in statuses else "pass")
    return GateResult(
        dataset="orders",
        status=status,
        checked_at=T0,
        rows=3,
        checks=checks,
        run_id=run_id,
        error=error,
    )


def apply(
    transitions: list[Transition], incidents: dict[str, Incident] | None = None
) -> dict[str, Incident]:
    """What the store keeps: the open incidents after the transitions (ids by check)."""
    current = dict(incidents or {})
    for number, t in enumerate(transitions, start=len(current) + 1):
        incident = t.incident if t.incident.id else replace(t.incident, id=number)
        if incident.is_open:
            current[incident.check] = incident
        else:
            current.pop(incident.check, None)
    return current


def test_a_failing_check_opens_an_incident_and_the_run_alerts_fail() -> None:
    transitions = plan(
        run(check("unique(id)", "fail"), check("volume", "pass")),
        {},
        run_key="run-1",
        now=T0,
        escalation=NEVER,
    )
    (opened,) = transitions
    assert opened.state == "new"
    assert opened.incident.check == "unique(id)"
    assert opened.incident.failures == 1
    assert opened.incident.opened_at == T0
    assert events(transitions) == {"fail"}


def test_the_next_failing_run_updates_it_and_alerts_nothing() -> None:
    first = apply(plan(run(check("unique(id)", "fail")), {}, run_key="a", now=T0, escalation=NEVER))
    later = T0 + timedelta(days=1)
    (t,) = plan(
        run(check("unique(id)", "fail", observed=7), run_id="r2"),
        first,
        run_key="b",
        now=later,
        escalation=NEVER,
    )
    assert (t.state, t.incident.failures, t.incident.observed) == ("ongoing", 2, 7)
    assert t.incident.last_failed_at == later
    assert events([t]) == set()


def test_a_retry_of_the_same_run_does_not_count_again() -> None:
    first = apply(plan(run(check("unique(id)", "fail")), {}, run_key="a", now=T0, escalation=NEVER))
    (t,) = plan(run(check("unique(id)", "fail")), first, run_key="a", now=T0, escalation=NEVER)
    assert (t.state, t.incident.failures) == ("ongoing", 1)


def test_escalation_after_n_failing_runs_happens_once() -> None:
    policy = Escalation(after_failures=3)
    incidents: dict[str, Incident] = {}
    seen = []
    for number in range(5):
        transitions = plan(
            run(check("unique(id)", "fail")),
            incidents,
            run_key=f"run-{number}",
            now=T0 + timedelta(hours=number),
            escalation=policy,
        )
        seen.append(events(transitions))
        incidents = apply(transitions, incidents)
    assert seen == [{"fail"}, set(), {"escalate"}, set(), set()]
    assert incidents["unique(id)"].escalated_at == T0 + timedelta(hours=2)


def test_escalation_after_time_open() -> None:
    policy = Escalation(after_failures=None, after_open=timedelta(hours=4))
    incidents = apply(
        plan(run(check("volume", "fail")), {}, run_key="a", now=T0, escalation=policy)
    )
    (early,) = plan(
        run(check("volume", "fail")),
        incidents,
        run_key="b",
        now=T0 + timedelta(hours=3),
        escalation=policy,
    )
    assert not early.escalated
    (late,) = plan(
        run(check("volume", "fail")),
        incidents,
        run_key="c",
        now=T0 + timedelta(hours=4),
        escalation=policy,
    )
    assert late.escalated


def test_an_acknowledged_incident_does_not_escalate() -> None:
    incidents = apply(plan(run(check("volume", "fail")), {}, run_key="a", now=T0, escalation=NEVER))
    acked = {k: replace(v, status="acknowledged") for k, v in incidents.items()}
    (t,) = plan(
        run(check("volume", "fail")),
        acked,
        run_key="b",
        now=T0,
        escalation=Escalation(after_failures=1),
    )
    assert not t.escalated and t.state == "ongoing"


def test_a_warning_that_becomes_a_failure_alerts_again() -> None:
    incidents = apply(plan(run(check("volume", "warn")), {}, run_key="a", now=T0, escalation=NEVER))
    assert incidents["volume"].severity == "warn"
    (t,) = plan(run(check("volume", "fail")), incidents, run_key="b", now=T0, escalation=NEVER)
    assert (t.state, t.incident.severity) == ("worse", "fail")
    assert events([t]) == {"fail"}


def test_a_passing_run_resolves_and_recovers() -> None:
    incidents = apply(plan(run(check("volume", "fail")), {}, run_key="a", now=T0, escalation=NEVER))
    later = T0 + timedelta(hours=2)
    (t,) = plan(
        run(check("volume", "pass", observed=9)),
        incidents,
        run_key="b",
        now=later,
        escalation=NEVER,
    )
    assert t.state == "resolved"
    assert (t.incident.status, t.incident.resolved_at, t.incident.resolved_by) == (
        "resolved",
        later,
        "run",
    )
    assert t.incident.observed == 9
    assert events([t]) == {"recover"}


def test_a_gate_that_cannot_measure_opens_a_gate_incident_resolved_by_a_measured_run() -> None:
    transitions = plan(run(error="connection refused"), {}, run_key="a", now=T0, escalation=NEVER)
    (t,) = transitions
    assert (t.incident.check, t.incident.last_status) == (GATE_CHECK, "error")
    assert "could not be checked" in t.incident.message
    assert events(transitions) == {"fail"}
    incidents = apply(transitions)
    (resolved,) = plan(
        run(check("volume", "pass")), incidents, run_key="b", now=T0, escalation=NEVER
    )
    assert (resolved.state, resolved.incident.check) == ("resolved", GATE_CHECK)


def test_a_check_that_errors_is_a_failure_and_shadow_checks_are_left_out() -> None:
    found = findings(
        run(
            check("range(a)", "error"),
            check("unique(a)", "pass", would_be="fail"),
            check("range(a)", "fail"),
        )
    )
    assert [(f.key, f.severity) for f in found] == [("range(a)", "fail"), ("range(a)#2", "fail")]


def test_data_newest_comes_from_the_freshness_check_or_the_metrics() -> None:
    fresh = check("freshness(ts)", "fail", metrics={"newest": "2026-11-25T09:00:00+00:00"})
    assert data_newest(run(fresh)) == datetime(2026, 11, 25, 9, tzinfo=UTC)
    by_lag = replace(run(), metrics={"freshness_lag_seconds(ts)": 3600.0})
    assert data_newest(by_lag) == T0 - timedelta(hours=1)
    assert data_newest(run()) is None


@given(st.lists(st.booleans(), min_size=1, max_size=30))
def test_one_fail_alert_per_failing_streak_and_one_recovery_per_streak_end(
    outcomes: list[bool],
) -> None:
    """Whatever the sequence of failing (True) and passing runs, each streak of failures
    alerts once when it starts and recovers once when it ends."""
    incidents: dict[str, Incident] = {}
    alerts: list[str] = []
    for number, failing in enumerate(outcomes):
        transitions = plan(
            run(check("volume", "fail" if failing else "pass")),
            incidents,
            run_key=f"run-{number}",
            now=T0 + timedelta(hours=number),
            escalation=NEVER,
        )
        alerts.extend(sorted(events(transitions)))
        incidents = apply(transitions, incidents)
        assert len(incidents) == (1 if failing else 0)
    starts = sum(1 for i, f in enumerate(outcomes) if f and (i == 0 or not outcomes[i - 1]))
    ends = sum(1 for i, f in enumerate(outcomes) if not f and i > 0 and outcomes[i - 1])
    assert alerts.count("fail") == starts
    assert alerts.count("recover") == ends
