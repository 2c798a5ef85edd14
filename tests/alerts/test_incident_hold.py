"""The hold before an incident resolves, pure: with resolution.after_passes N, a passing
run leaves the incident recovering (open, silent) until N pass in a row; a failure that
comes back meanwhile re-joins the episode (no new page), and is news only when the set
of failing checks differs; an incident whose failure keeps starting is marked flapping."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from airflow_opsguard.checks.incidents import Incident, Transition, events, plan
from airflow_opsguard.checks.results import CheckResult, GateResult, Status
from airflow_opsguard.contract.alerts import Escalation, Resolution

T0 = datetime(2026, 11, 26, 6, tzinfo=UTC)
NEVER = Escalation(after_failures=None)
HOLD2 = Resolution(after_passes=2)
NO_MARK = Resolution(after_passes=2, flapping_after=None)


def check(name: str, status: Status) -> CheckResult:
    return CheckResult(
        name=name,
        type=name.partition("(")[0],
        status=status,
        severity="fail",
        message=f"{name} is {status}",
        observed=1 if status == "pass" else -7,
        expected=0,
    )


class Days:
    """A dataset's daily runs through plan(), keeping what the store would keep."""

    def __init__(self, resolution: Resolution, escalation: Escalation = NEVER) -> None:
        self.resolution = resolution
        self.escalation = escalation
        self.open: dict[str, Incident] = {}
        self.openings: dict[str, list[tuple[int, datetime]]] = {}
        self.numbers = 0

    def run(self, day: float, *checks: CheckResult, key: str | None = None) -> list[Transition]:
        statuses = [c.status for c in checks]
        now = T0 + timedelta(days=day)
        result = GateResult(
            dataset="orders",
            status="fail" if "fail" in statuses else "pass",
            checked_at=now,
            rows=10,
            checks=checks,
            run_id=f"run-{day}",
        )
        transitions = plan(
            result,
            self.open,
            run_key=key or f"day-{day}",
            now=now,
            escalation=self.escalation,
            resolution=self.resolution,
            openings=self.openings,
        )
        for t in transitions:
            incident = t.incident
            if not incident.id:
                self.numbers += 1
                incident = replace(incident, id=self.numbers)
                self.openings.setdefault(incident.severity, []).append((incident.id, now))
            if incident.is_open:
                self.open[incident.severity] = incident
            else:
                self.open.pop(incident.severity, None)
        return transitions


def negative(status: Status) -> CheckResult:
    return check("range(amount)", status)


def test_the_default_resolves_on_the_first_passing_run_as_before() -> None:
    days = Days(Resolution())
    days.run(0, negative("fail"))
    (t,) = days.run(1, negative("pass"))
    assert t.state == "resolved" and events([t]) == {"recover"}
    assert t.incident.passing_runs == 1 and not t.incident.recovering


def test_a_passing_run_within_the_hold_leaves_it_recovering_and_silent() -> None:
    days = Days(HOLD2)
    days.run(0, negative("fail"))
    (held,) = days.run(1, negative("pass"))
    assert held.state == "recovering" and events([held]) == set()
    assert not held.changed and held.recovered == ("range(amount)",)
    incident = held.incident
    assert (incident.status, incident.recovering, incident.passing_runs) == ("open", True, 1)
    assert incident.failing_members == () and incident.resolved_at is None
    assert incident.members[0].recovered_at == T0 + timedelta(days=1)
    assert incident.to_dict()["recovering"] is True
    (resolved,) = days.run(2, negative("pass"))
    assert resolved.state == "resolved" and events([resolved]) == {"recover"}
    assert resolved.recovered == ()  # it recovered on day 1; nothing new passes
    assert resolved.duration == timedelta(days=2)
    assert (resolved.incident.passing_runs, resolved.incident.failures) == (2, 1)


def test_a_failure_that_comes_back_within_the_hold_rejoins_the_episode_silently() -> None:
    days = Days(NO_MARK)
    first = days.run(0, negative("fail"))
    days.run(1, negative("pass"))
    (back,) = days.run(2, negative("fail"))
    assert back.state == "ongoing" and back.returned
    assert (back.added, back.recovered, back.changed) == ((), (), False)
    assert events([back]) == set()  # no "fail": the page of day 0 stands
    incident = back.incident
    assert incident.key == first[0].incident.key and incident.id == 1
    assert (incident.failures, incident.passing_runs, incident.recovering) == (2, 0, False)
    assert incident.returns == (T0 + timedelta(days=2),)
    (member,) = incident.members
    assert (member.failing, member.failures, member.first_failed_at) == (True, 2, T0)


def test_the_flapping_month_pages_once_and_resolves_once() -> None:
    days = Days(HOLD2)
    seen: list[set[str]] = []
    for day in range(30):
        status: Status = "fail" if day in (10, 12, 14, 16, 18) else "pass"
        seen.append(events(days.run(day, negative(status))))
    assert [(day, e) for day, e in enumerate(seen) if e] == [(10, {"fail"}), (20, {"recover"})]
    assert days.numbers == 1 and days.open == {}


def test_a_return_with_other_checks_is_a_change_against_the_set_that_failed_last() -> None:
    days = Days(NO_MARK)
    days.run(0, negative("fail"), check("volume", "pass"))
    days.run(1, negative("pass"), check("volume", "pass"))
    (back,) = days.run(2, negative("pass"), check("volume", "fail"))
    assert back.returned and back.changed and events([back]) == {"change"}
    assert (back.added, back.recovered) == (("volume",), ("range(amount)",))
    assert [m.name for m in back.incident.failing_members] == ["volume"]


def test_a_retry_of_a_passing_run_counts_once() -> None:
    days = Days(HOLD2)
    days.run(0, negative("fail"))
    days.run(1, negative("pass"), key="day-1")
    (again,) = days.run(1.1, negative("pass"), key="day-1")  # Airflow retried the task
    assert again.state == "recovering" and again.incident.passing_runs == 1
    (resolved,) = days.run(2, negative("pass"))
    assert resolved.state == "resolved"


def test_no_escalation_by_age_while_recovering_but_returns_are_failing_runs() -> None:
    aged = Days(NO_MARK, Escalation(after_failures=None, after_open=timedelta(days=1)))
    aged.run(0, negative("fail"))
    (held,) = aged.run(1, negative("pass"))
    assert held.state == "recovering" and not held.escalated
    counted = Days(NO_MARK, Escalation(after_failures=3))
    seen = [
        events(counted.run(day, negative("fail" if day % 2 == 0 else "pass"))) for day in range(5)
    ]
    assert seen == [{"fail"}, set(), set(), set(), {"escalate"}]  # the 3rd failing run


def test_a_failure_that_keeps_opening_incidents_is_marked_flapping() -> None:
    days = Days(Resolution(flapping_after_passes=None))  # each flap resolves at once
    marks = []
    for day in (0, 2, 4, 12):
        (opened,) = days.run(day, negative("fail"))
        days.run(day + 1, negative("pass"))
        marks.append(opened.incident.flapping)
    # The third opening within 7 days is flapping; day 12 sees only itself in its window.
    assert marks == [False, False, True, False]


def test_by_default_an_incident_marked_flapping_holds_for_two_passing_runs() -> None:
    days = Days(Resolution())
    seen: list[set[str]] = []
    states = []
    for day in range(10):
        transitions = days.run(day, negative("fail" if day in (0, 2, 4, 6) else "pass"))
        seen.append(events(transitions))
        states.append(transitions[0].state if transitions else None)
    # Days 0 and 2 open and resolve at once; day 4 is the third start within a week:
    # flapping, so day 5 only holds it, day 6 re-joins it, and day 8 resolves it.
    assert states == [
        "new",
        "resolved",
        "new",
        "resolved",
        "new",
        "recovering",
        "ongoing",
        "recovering",
        "resolved",
        None,
    ]
    assert [e for e in seen if e] == [{"fail"}, {"recover"}] * 3
    assert days.numbers == 3


def test_returns_inside_the_hold_count_towards_flapping_and_the_mark_stays() -> None:
    days = Days(HOLD2)
    flags = []
    for day in range(8):
        (t,) = days.run(day, negative("fail" if day % 2 == 0 else "pass"))
        flags.append(t.incident.flapping)
    # Opened on day 0, back on days 2 and 4: three starts within 7 days.
    assert flags == [False, False, False, False, True, True, True, True]
    assert days.open["fail"].to_dict()["flapping"] is True
    assert len(days.open["fail"].to_dict()["returns"]) == 3


def test_the_change_message_of_a_return_names_what_fails_now_and_says_it_came_back() -> None:
    from airflow_opsguard.alerts.messages import build

    days = Days(NO_MARK)
    days.run(0, negative("fail"), check("volume", "pass"))
    days.run(1, negative("pass"), check("volume", "pass"))
    (back,) = days.run(2, negative("pass"), check("volume", "fail"))
    result = GateResult(
        dataset="orders", status="fail", checked_at=T0, rows=10, checks=(), run_id="run-2"
    )
    message = build("change", result, back, contract=None)
    assert message.title == (
        "[opsguard] CHANGED orders: 1 check failed; new: volume; passing again: "
        "range(amount); failing again after passing"
    )
    assert (message.incident_event, message.returns, message.flapping) == ("changed", 1, False)
    assert [c["name"] for c in message.checks] == ["volume"]
    assert "failing again 1 time while recovering" in message.text
