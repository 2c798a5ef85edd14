"""The incident rules, pure: an incident is a failure episode of a dataset at one
severity; causes fold their consequences; open, continue, change, escalate, resolve;
one run is one run."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from airflow_opsguard.checks.incidents import (
    GATE_CHECK,
    Incident,
    Member,
    Transition,
    data_newest,
    events,
    explain,
    findings,
    plan,
)
from airflow_opsguard.checks.results import CheckResult, GateResult, Status
from airflow_opsguard.contract.alerts import Escalation

T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)
NEVER = Escalation(after_failures=None)


def check(name: str, status: Status, observed: object = 2, **extra: object) -> CheckResult:
    fields: dict[str, object] = {
        "type": name.partition("(")[0],
        "severity": "warn" if status == "warn" else "fail",
        "message": f"{name} is {status}",
        "observed": observed,
        "expected": 0,
        **extra,
    }
    return CheckResult(name=name, status=status, **fields)  # type: ignore[arg-type]


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
    """What the store keeps: the open incidents after the transitions, by severity."""
    current = dict(incidents or {})
    for number, t in enumerate(transitions, start=len(current) + 1):
        incident = t.incident if t.incident.id else replace(t.incident, id=number)
        if incident.is_open:
            current[incident.severity] = incident
        else:
            current.pop(incident.severity, None)
    return current


def step(
    incidents: dict[str, Incident],
    *checks: CheckResult,
    key: str,
    hours: float = 0,
    escalation: Escalation = NEVER,
    error: str | None = None,
) -> tuple[list[Transition], dict[str, Incident]]:
    transitions = plan(
        run(*checks, error=error, run_id=key),
        incidents,
        run_key=key,
        now=T0 + timedelta(hours=hours),
        escalation=escalation,
    )
    return transitions, apply(transitions, incidents)


def renamed_amount() -> tuple[CheckResult, ...]:
    """What a contract on transactions finds when ``amount`` became ``amount_usd``."""
    not_there = "not measured: column 'amount' is not in the data (see the schema check)"
    return (
        check("schema(id)", "pass", column="id"),
        check(
            "schema(amount)",
            "fail",
            observed="missing",
            expected="float",
            column="amount",
            message="column 'amount' is missing; a column 'amount_usd' of the same type "
            "is new: renamed?",
        ),
        check("schema(extra columns)", "fail", observed="amount_usd", expected="none"),
        check("not_null(amount)", "error", observed=None, column="amount", message=not_there),
        check("range(amount)", "error", observed=None, column="amount", message=not_there),
        check("anomaly(mean(amount))", "error", observed=None, column="amount", message=not_there),
        check("freshness(created_at)", "pass", column="created_at"),
    )


def stale() -> tuple[CheckResult, ...]:
    return (
        check("schema(amount)", "pass", column="amount"),
        check("freshness(created_at)", "fail", observed="6d 3h", column="created_at"),
        check("anomaly(rows)", "fail", observed=0),
        check("row_count_change", "fail", observed=-1.0),
        check("range(amount)", "pass", column="amount"),
    )


def test_failing_checks_open_one_incident_with_every_check_as_a_member() -> None:
    transitions, _ = step(
        {}, check("unique(id)", "fail"), check("volume", "fail"), check("range(a)", "pass"), key="a"
    )
    (opened,) = transitions
    assert opened.state == "new"
    assert [m.name for m in opened.incident.members] == ["unique(id)", "volume"]
    assert opened.added == ("unique(id)", "volume")
    assert (opened.incident.check, opened.incident.failures) == ("unique(id)", 1)
    assert opened.incident.opened_at == T0
    assert opened.incident.incident_key.startswith("opsguard-")
    assert events(transitions) == {"fail"}


def test_the_next_failing_run_continues_it_and_says_nothing() -> None:
    _, incidents = step({}, check("unique(id)", "fail"), key="a")
    (t,), _ = step(incidents, check("unique(id)", "fail", observed=7), key="b", hours=24)
    assert (t.state, t.incident.failures, t.incident.observed) == ("ongoing", 2, 7)
    assert t.incident.last_failed_at == T0 + timedelta(hours=24)
    assert t.incident.incident_key == incidents["fail"].incident_key  # the same episode
    assert not t.changed and events([t]) == set()


def test_a_retry_of_the_same_run_does_not_count_again() -> None:
    _, incidents = step({}, check("unique(id)", "fail"), key="a")
    (t,), _ = step(incidents, check("unique(id)", "fail"), key="a")
    assert (t.state, t.incident.failures, t.incident.members[0].failures) == ("ongoing", 1, 1)


def test_escalation_after_n_failing_runs_happens_once() -> None:
    policy = Escalation(after_failures=3)
    incidents: dict[str, Incident] = {}
    seen = []
    for number in range(5):
        transitions, incidents = step(
            incidents,
            check("unique(id)", "fail"),
            key=f"r{number}",
            hours=number,
            escalation=policy,
        )
        seen.append(events(transitions))
    assert seen == [{"fail"}, set(), {"escalate"}, set(), set()]
    assert incidents["fail"].escalated_at == T0 + timedelta(hours=2)


def test_escalation_after_time_open() -> None:
    policy = Escalation(after_failures=None, after_open=timedelta(hours=4))
    _, incidents = step({}, check("volume", "fail"), key="a", escalation=policy)
    (early,), _ = step(incidents, check("volume", "fail"), key="b", hours=3, escalation=policy)
    (late,), _ = step(incidents, check("volume", "fail"), key="c", hours=4, escalation=policy)
    assert not early.escalated and late.escalated


def test_an_acknowledged_incident_does_not_escalate() -> None:
    _, incidents = step({}, check("volume", "fail"), key="a")
    acked = {k: replace(v, status="acknowledged") for k, v in incidents.items()}
    (t,), _ = step(acked, check("volume", "fail"), key="b", escalation=Escalation(after_failures=1))
    assert not t.escalated and t.state == "ongoing"


def test_a_passing_run_resolves_it_with_its_duration() -> None:
    _, incidents = step({}, check("volume", "fail"), check("unique(id)", "fail"), key="a")
    (t,), after = step(
        incidents,
        check("volume", "pass", observed=9),
        check("unique(id)", "pass"),
        key="b",
        hours=5,
    )
    assert t.state == "resolved" and not t.silent
    assert (t.incident.status, t.incident.resolved_at, t.incident.resolved_by) == (
        "resolved",
        T0 + timedelta(hours=5),
        "run",
    )
    assert t.duration == timedelta(hours=5)
    assert t.recovered == ("volume", "unique(id)")
    assert all(not m.failing for m in t.incident.members)
    assert events([t]) == {"recover"} and after == {}


def test_warnings_and_failures_are_two_incidents_and_a_warning_that_fails_joins_the_failure() -> (
    None
):
    transitions, incidents = step({}, check("volume", "warn"), check("unique(id)", "fail"), key="a")
    assert {t.incident.severity: [m.name for m in t.incident.members] for t in transitions} == {
        "fail": ["unique(id)"],
        "warn": ["volume"],
    }
    assert events(transitions) == {"fail", "warn"}
    transitions, incidents = step(
        incidents, check("volume", "fail"), check("unique(id)", "fail"), key="b"
    )
    by_severity = {t.incident.severity: t for t in transitions}
    assert by_severity["fail"].added == ("volume",) and by_severity["fail"].changed
    assert by_severity["warn"].state == "resolved" and by_severity["warn"].silent
    assert events(transitions) == {"change"}  # never "recover" while the data fails
    assert set(incidents) == {"fail"}


def test_a_gate_that_cannot_measure_is_the_cause_and_the_episode_goes_on_when_it_measures() -> None:
    transitions, incidents = step({}, key="a", error="connection refused")
    (t,) = transitions
    assert (t.incident.check, t.incident.last_status) == (GATE_CHECK, "error")
    assert "could not be checked" in t.incident.message
    assert events(transitions) == {"fail"}
    (later,), incidents = step(incidents, check("volume", "fail"), key="b")
    assert (later.state, later.recovered, later.added) == ("ongoing", (GATE_CHECK,), ("volume",))
    assert later.incident.check == "volume"
    assert events([later]) == {"change"}
    (resolved,), _ = step(incidents, check("volume", "pass"), key="c")
    assert resolved.state == "resolved"


def test_a_renamed_column_is_one_incident_with_the_schema_check_as_its_cause() -> None:
    (t,), _ = step({}, *renamed_amount(), key="a")
    members = {m.name: m.consequence_of for m in t.incident.members}
    assert members == {
        "schema(amount)": None,
        "schema(extra columns)": "schema(amount)",
        "not_null(amount)": "schema(amount)",
        "range(amount)": "schema(amount)",
        "anomaly(mean(amount))": "schema(amount)",
    }
    assert t.incident.members[0].name == "schema(amount)"  # the cause first
    assert t.incident.check == "schema(amount)" and "renamed?" in t.incident.message


def test_stale_data_explains_its_history_checks_and_not_the_others() -> None:
    cause = explain([f for f in findings(run(*stale(), check("unique(id)", "fail"))) if f.failing])
    assert cause == {
        "freshness(created_at)": None,
        "anomaly(rows)": "freshness(created_at)",
        "row_count_change": "freshness(created_at)",
        "unique(id)": None,
    }


def test_stale_then_renamed_is_one_episode_that_changes_and_never_recovers() -> None:
    _, incidents = step({}, *stale(), key="a")
    transitions, incidents = step(incidents, *renamed_amount(), key="b", hours=24)
    (t,) = transitions
    assert t.state == "ongoing"
    assert set(t.recovered) == {"freshness(created_at)", "anomaly(rows)", "row_count_change"}
    assert t.added[0] == "schema(amount)"
    assert t.incident.check == "schema(amount)"
    assert events(transitions) == {"change"}
    assert t.incident.failures == 2


def test_a_cause_takes_its_consequences_into_its_incident_whatever_their_severity() -> None:
    (t,), _ = step(
        {},
        check("freshness(ts)", "fail", column="ts"),
        check("anomaly(rows)", "warn", observed=0),
        key="a",
    )
    assert t.incident.severity == "fail"
    assert [m.name for m in t.incident.members] == ["freshness(ts)", "anomaly(rows)"]


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


def test_a_member_round_trips_through_json() -> None:
    (t,), _ = step({}, *renamed_amount(), key="a")
    for member in t.incident.members:
        assert Member.from_dict(member.to_dict()) == member


NAMES = ("volume", "unique(id)", "range(a)")


@given(st.lists(st.sets(st.sampled_from(NAMES)), min_size=1, max_size=25))
def test_one_open_per_episode_one_resolve_per_episode_end_and_no_recovery_while_failing(
    runs: list[set[str]],
) -> None:
    """Whatever checks fail in each run, an episode (a streak of runs with a failure)
    opens once, resolves once at its end, and a run that fails never recovers."""
    incidents: dict[str, Incident] = {}
    seen: list[set[str]] = []
    for number, failing in enumerate(runs):
        checks = [check(n, "fail" if n in failing else "pass") for n in NAMES]
        transitions, incidents = step(incidents, *checks, key=f"r{number}", hours=number)
        found = events(transitions)
        seen.append(found)
        if failing:
            assert "recover" not in found
            assert set(incidents) == {"fail"}
            assert {m.name for m in incidents["fail"].failing_members} == failing
        else:
            assert incidents == {}
    starts = sum(1 for i, f in enumerate(runs) if f and (i == 0 or not runs[i - 1]))
    ends = sum(1 for i, f in enumerate(runs) if not f and i > 0 and runs[i - 1])
    assert sum("fail" in s for s in seen) == starts
    assert sum("recover" in s for s in seen) == ends


def test_the_failure_ends_while_a_warning_goes_on_the_failure_resolves_with_a_notice() -> None:
    _, incidents = step({}, check("volume", "warn"), check("unique(id)", "fail"), key="a")
    transitions, incidents = step(
        incidents, check("volume", "warn"), check("unique(id)", "pass"), key="b", hours=3
    )
    by_severity = {t.incident.severity: t for t in transitions}
    assert by_severity["fail"].state == "resolved" and not by_severity["fail"].silent
    assert by_severity["warn"].state == "ongoing" and not by_severity["warn"].changed
    assert events(transitions) == {"recover"}  # nothing fails any more: page resolved
    assert set(incidents) == {"warn"}
