"""Incidents: what a run's failures mean for on-call. Pure: no I/O, no clock.

An incident is a failure *episode* of a dataset at one severity (``fail`` or
``warn``): it opens on the first failing run, carries the failing checks as its
members (a member may recover and another join while it stays open), escalates once
(after N failing runs or T open), and resolves after ``after_passes`` runs in a row in
which no check of its severity fails (the contract's ``resolution``; 1 by default). While
fewer have passed it is *recovering*: open and silent, and a failure that comes back
then re-joins it (a *return*) instead of opening a new episode, so a flapping check pages
once. An incident whose failure started often within a window (openings and returns) is
marked *flapping*, and holds for ``flapping_after_passes`` passing runs (2 by default), so
a check that flaps stops paging once per flap. A check whose failure explains others (a
missing or renamed column, a source that could not be read, stale data with the history
checks that depend on it) is the *cause*, and the failures it explains are its
*consequences*: members too, folded under it, so one root cause is one incident. A retry
of the same run (same DAG run and task) is the same run: it neither counts again nor
alerts again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from airflow_opsguard.checks.results import (
    CheckResult,
    GateResult,
    JsonScalar,
    Status,
    to_json_value,
    worst,
)
from airflow_opsguard.contract.alerts import Escalation, Resolution

IncidentStatus = Literal["open", "acknowledged", "resolved"]
Severity = Literal["fail", "warn"]
SEVERITIES: tuple[Severity, ...] = ("fail", "warn")
# "recovering": a passing run of an open incident that has yet to pass after_passes times.
State = Literal["new", "ongoing", "recovering", "resolved"]
GATE_CHECK = "gate"  # the member of a gate that could not measure at all
# Checks that judge a metric against the dataset's stored history: stale data (no new
# rows) makes them fail too, so a failing freshness check explains their failure.
HISTORY_CHECK_TYPES = frozenset({"anomaly", "row_count_change"})
EXTRA_COLUMNS_CHECK = "schema(extra columns)"


@dataclass(frozen=True)
class Finding:
    """One enforced check of a run, under the key its incident membership is filed by
    (the check's name, with ``#2``, ``#3`` for a name that repeats within a contract)."""

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
class Member:
    """One check of an incident: while it fails, and after it recovered (the incident
    stays open while other members fail)."""

    name: str
    type: str
    column: str | None
    status: Status  # its status in the last run it did not pass
    message: str
    first_failed_at: datetime
    last_failed_at: datetime
    failures: int  # failing runs of this check within the incident
    observed: JsonScalar = None
    expected: JsonScalar = None
    recovered_at: datetime | None = None
    consequence_of: str | None = None  # the member whose failure explains this one

    @property
    def failing(self) -> bool:
        return self.recovered_at is None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "name": self.name,
            "type": self.type,
            "column": self.column,
            "status": self.status,
            "message": self.message,
            "first_failed_at": self.first_failed_at,
            "last_failed_at": self.last_failed_at,
            "failures": self.failures,
            "observed": self.observed,
            "expected": self.expected,
            "recovered_at": self.recovered_at,
            "consequence_of": self.consequence_of,
        }
        return {k: to_json_value(v) for k, v in out.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Member:
        return cls(
            name=str(data["name"]),
            type=str(data.get("type") or "?"),
            column=data.get("column"),
            status=data.get("status") or "fail",
            message=str(data.get("message") or ""),
            first_failed_at=_when(data["first_failed_at"]),
            last_failed_at=_when(data["last_failed_at"]),
            failures=int(data.get("failures") or 1),
            observed=data.get("observed"),
            expected=data.get("expected"),
            recovered_at=None if data.get("recovered_at") is None else _when(data["recovered_at"]),
            consequence_of=data.get("consequence_of"),
        )


@dataclass(frozen=True)
class Incident:
    """An incident as stored: one failure episode of a dataset at one severity.

    ``check``, ``check_type``, ``column``, ``observed``, ``expected`` and ``message``
    describe its headline check: the cause while one is failing, else the first failing
    member (the last one, once resolved). ``failures`` counts its failing runs.
    """

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
    # The episode's stable id (fit as a PagerDuty dedup_key); made when it opens.
    incident_key: str = ""
    members: tuple[Member, ...] = ()
    # Passing runs in a row since its checks last failed (0 while failing): the incident
    # is recovering until they reach the contract's resolution.after_passes.
    passing_runs: int = 0
    # When its failure came back while it was recovering (each a re-join, not a page).
    returns: tuple[datetime, ...] = ()
    # Its failure started resolution.flapping_after times within flapping_within.
    flapping: bool = False
    # An incident of the per-check model (before 0009) that the migration folded into
    # the episode with this id: kept for history, left out of the mean times.
    merged_into: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    @property
    def recovering(self) -> bool:
        """Open, with every member passing again, waiting for more passing runs."""
        return self.is_open and self.passing_runs > 0

    @property
    def open_key(self) -> str:
        return open_key(self.dataset, self.severity)

    @property
    def key(self) -> str:
        """The stable id of the episode (``incident_key``; the store reads one made of
        its number for an incident stored before incident keys)."""
        return self.incident_key or f"opsguard-incident-{self.id}"

    @property
    def failing_members(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.failing)

    @property
    def cause(self) -> Member | None:
        """The headline member: the first failing one that no other explains."""
        failing = self.failing_members or self.members
        return next((m for m in failing if m.consequence_of is None), None)

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
            "incident_key": self.key,
            "merged_into": self.merged_into,
            "recovering": self.recovering,
            "passing_runs": self.passing_runs,
            "flapping": self.flapping,
        }
        converted = {k: to_json_value(v) for k, v in out.items()}
        converted["returns"] = [to_json_value(moment) for moment in self.returns]
        converted["members"] = [m.to_dict() for m in self.members]
        return converted


@dataclass(frozen=True)
class Transition:
    """What one run did to one incident: ``incident`` is its state after the run (id 0
    for one the store has yet to insert). ``added``: members that fail in this run and
    did not in the previous one (every member of a new incident); ``recovered``:
    members that pass again (for a return: the checks that failed last time and do not
    fail now). ``silent``: a ``warn`` incident resolved without a notice, because checks
    of the dataset still fail (the ``fail`` incident carries on). ``returned``: the
    failure came back while the incident was recovering, and re-joined it."""

    state: State
    incident: Incident
    added: tuple[str, ...] = ()
    recovered: tuple[str, ...] = ()
    escalated: bool = False  # escalated by this run
    silent: bool = False
    returned: bool = False

    @property
    def changed(self) -> bool:
        """An ongoing incident whose set of failing checks changed in this run (after a
        return: differs from the set that failed before it recovered)."""
        return self.state == "ongoing" and bool(self.added or self.recovered)

    @property
    def duration(self) -> timedelta | None:
        """How long a resolved incident was open."""
        incident = self.incident
        return None if incident.resolved_at is None else incident.resolved_at - incident.opened_at


def open_key(dataset: str, severity: str) -> str:
    """The key that keeps one incident per (dataset, severity) open at a time."""
    return hashlib.sha256(f"{dataset}\x1fepisode\x1f{severity}".encode()).hexdigest()


def incident_key(dataset: str, severity: str, run_key: str, opened_at: datetime) -> str:
    """The stable id of a new episode: its dataset, severity, opening run and moment."""
    text = "\x1f".join((dataset, severity, run_key, _utc(opened_at).isoformat()))
    return "opsguard-" + hashlib.sha256(text.encode()).hexdigest()[:32]


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


def explain(failing: Sequence[Finding]) -> dict[str, str | None]:
    """For each failing finding, the key of the failing finding that explains it (None
    for a cause). Causes, in this order of precedence:

    - the gate itself, when it could not read the source: everything else follows;
    - a schema check of a missing column: checks on that column, checks that could not
      be measured because of it (they name it), and ``schema(extra columns)`` (a
      missing column next to a new one is a rename);
    - a failing freshness check (stale data): the history checks (anomaly, row count
      change), which compare a run that brought nothing new.
    """
    keys = {f.key for f in failing}
    cause: dict[str, str | None] = dict.fromkeys(keys)

    def fold(root: str, members: Iterable[Finding]) -> None:
        for f in members:
            if f.key != root and cause[f.key] is None and not _is_root(f.key, cause):
                cause[f.key] = root

    if GATE_CHECK in keys:
        fold(GATE_CHECK, failing)
        return cause
    missing = [f for f in failing if f.check.type == "schema" and f.check.observed == "missing"]
    for schema in missing:
        column = schema.check.column or ""
        fold(
            schema.key,
            (
                f
                for f in failing
                if f.check.column == column
                or (f.status == "error" and f"'{column}'" in f.check.message)
            ),
        )
    if missing:
        fold(missing[0].key, (f for f in failing if f.check.name == EXTRA_COLUMNS_CHECK))
    stale = [f for f in failing if f.check.type == "freshness"]
    if stale:
        fold(stale[0].key, (f for f in failing if f.check.type in HISTORY_CHECK_TYPES))
    return cause


def _is_root(key: str, cause: Mapping[str, str | None]) -> bool:
    """Whether ``key`` already explains another finding (a cause stays a cause)."""
    return any(parent == key for parent in cause.values())


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
            return _utc(result.checked_at) - timedelta(seconds=float(value))
    return None


def plan(
    result: GateResult,
    open_incidents: Mapping[str, Incident],
    *,
    run_key: str,
    now: datetime,
    escalation: Escalation,
    resolution: Resolution | None = None,
    openings: Mapping[str, Sequence[tuple[int, datetime]]] | None = None,
) -> list[Transition]:
    """Every incident this run opens, updates, escalates, holds or resolves (``fail``
    first).

    ``open_incidents`` are the dataset's open (or acknowledged) incidents by severity;
    ``run_key`` says which run this is: a retry of the same run has the same key.
    A consequence joins the incident of its cause, whatever its own severity.
    ``resolution``: how many passing runs resolve, and when it is flapping (default:
    the first passing run resolves). ``openings``: (id, opened_at) of the dataset's
    incidents by severity opened within ``resolution.flapping_within``, for the
    flapping mark (without them only this incident's own openings and returns count).
    """
    now = _utc(now)
    found = findings(result)
    failing = [f for f in found if f.failing]
    passing = {f.key: f for f in found if not f.failing}
    cause = explain(failing)
    by_key = {f.key: f for f in failing}
    groups: dict[Severity, list[Finding]] = {s: [] for s in SEVERITIES}
    for finding in _ordered(failing, cause):
        root = by_key[_root(finding.key, cause)]
        groups[root.severity].append(finding)
    context = _RunContext(
        result,
        run_key,
        now,
        cause,
        passing,
        escalation,
        resolution or Resolution(),
        openings or {},
    )
    transitions: list[Transition] = []
    for severity in SEVERITIES:
        current = open_incidents.get(severity)
        members = groups[severity]
        if members and current is None:
            transitions.append(context.opened(severity, members))
        elif members and current is not None:
            transitions.append(context.continued(current, members))
        elif current is not None and not context.resolves(current):
            transitions.append(context.held(current))
        elif current is not None:
            # A warning incident that ends while checks fail says nothing (the failure
            # carries on); a failure that ends while warnings go on is news.
            still_failing = severity == "warn" and bool(groups["fail"])
            transitions.append(context.resolved(current, silent=still_failing))
    return transitions


def events(transitions: Iterable[Transition]) -> set[str]:
    """The route events of a run: fail, warn (an incident opened at that severity),
    escalate, change (off unless a route asks for it) and recover."""
    found: set[str] = set()
    for t in transitions:
        if t.state == "new":
            found.add(t.incident.severity)
        if t.escalated:
            found.add("escalate")
        if t.changed:
            found.add("change")
        if t.state == "resolved" and not t.silent:
            found.add("recover")
    return found


def _root(key: str, cause: Mapping[str, str | None]) -> str:
    seen = {key}
    while (parent := cause.get(key)) is not None and parent not in seen:
        seen.add(parent)
        key = parent
    return key


def _ordered(failing: Sequence[Finding], cause: Mapping[str, str | None]) -> list[Finding]:
    """Causes first (the gate, then missing columns, stale data, then the rest in the
    contract's order), each followed by the failures it explains."""

    def rank(f: Finding) -> int:
        if f.key == GATE_CHECK:
            return 0
        if f.check.type == "schema" and f.check.observed == "missing":
            return 1
        return 2 if f.check.type == "freshness" and _is_root(f.key, cause) else 3

    roots = sorted((f for f in failing if cause[f.key] is None), key=rank)
    out: list[Finding] = []
    for root in roots:
        out.append(root)
        out.extend(f for f in failing if f.key != root.key and _root(f.key, cause) == root.key)
    return out


@dataclass(frozen=True)
class _RunContext:
    result: GateResult
    run_key: str
    now: datetime
    cause: Mapping[str, str | None]
    passing: Mapping[str, Finding]  # this run's checks that passed, by key
    escalation: Escalation
    resolution: Resolution
    openings: Mapping[str, Sequence[tuple[int, datetime]]]

    def opened(self, severity: Severity, found: Sequence[Finding]) -> Transition:
        result, now = self.result, self.now
        members = tuple(self._member(f, None) for f in found)
        incident = Incident(
            id=0,
            dataset=result.dataset,
            check="",
            check_type="",
            column=None,
            status="open",
            severity=severity,
            last_status="fail",
            failures=1,
            opened_at=now,
            last_failed_at=now,
            message="",
            data_newest=data_newest(result),
            opened_run_id=result.run_id,
            last_run_id=result.run_id,
            last_run_key=self.run_key,
            incident_key=incident_key(result.dataset, severity, self.run_key, now),
            members=members,
            **_identity(result),
        )
        incident = self._marked(incident)
        added = tuple(m.name for m in members)
        return self._maybe_escalate(Transition("new", _headlined(incident), added=added))

    def continued(self, current: Incident, found: Sequence[Finding]) -> Transition:
        if current.recovering:
            return self._returned(current, found)
        same_run = current.last_run_key == self.run_key
        before = {m.name: m for m in current.members}
        now_failing = {f.key for f in found}
        members: list[Member] = [self._member(f, before.get(f.key), same_run) for f in found]
        recovered: list[str] = []
        for old in current.members:
            if old.name in now_failing:
                continue
            if old.failing:
                recovered.append(old.name)
                old = self._recovered(old)
            members.append(old)
        added = tuple(f.key for f in found if f.key not in before or not before[f.key].failing)
        incident = replace(
            current,
            failures=current.failures if same_run else current.failures + 1,
            last_failed_at=self.now,
            last_run_id=self.result.run_id,
            last_run_key=self.run_key,
            members=tuple(members),
            **_identity(self.result),
        )
        transition = Transition(
            "ongoing", _headlined(incident), added=added, recovered=tuple(recovered)
        )
        return self._maybe_escalate(transition)

    def _returned(self, current: Incident, found: Sequence[Finding]) -> Transition:
        """The failure is back while ``current`` was recovering: it re-joins the episode.
        The news (``added``, ``recovered``) is how the failing set differs from the one
        of its last failing run, so the same checks failing again say nothing."""
        before = {m.name: m for m in current.members}
        latest = max(m.last_failed_at for m in current.members)
        last = {m.name for m in current.members if m.last_failed_at == latest}
        now_failing = {f.key for f in found}
        members = [self._member(f, before.get(f.key)) for f in found]
        members += [m for m in current.members if m.name not in now_failing]
        incident = replace(
            current,
            failures=current.failures + 1,
            last_failed_at=self.now,
            last_run_id=self.result.run_id,
            last_run_key=self.run_key,
            members=tuple(members),
            passing_runs=0,
            returns=(*current.returns, self.now),
            **_identity(self.result),
        )
        transition = Transition(
            "ongoing",
            _headlined(self._marked(incident)),
            added=tuple(f.key for f in found if f.key not in last),
            recovered=tuple(m.name for m in current.members if m.name in last - now_failing),
            returned=True,
        )
        return self._maybe_escalate(transition)

    def resolves(self, current: Incident) -> bool:
        """Whether this passing run (of ``current``'s severity) resolves it: the
        after_passes-th passing run in a row, flapping_after_passes-th for one marked
        flapping (a retry of a counted run counts once)."""
        return self._passes(current) >= self.resolution.passes_to_resolve(current.flapping)

    def _passes(self, current: Incident) -> int:
        counted = current.recovering and current.last_run_key == self.run_key
        return current.passing_runs + (0 if counted else 1)

    def held(self, current: Incident) -> Transition:
        """A passing run that does not resolve ``current`` yet: its members recover (on
        the first such run), and it waits, silent, for the next passing runs."""
        recovered = tuple(m.name for m in current.members if m.failing)
        members = tuple(self._recovered(m) if m.failing else m for m in current.members)
        incident = replace(
            current,
            passing_runs=self._passes(current),
            last_run_key=self.run_key,
            members=members,
        )
        return Transition("recovering", _headlined(incident), recovered=recovered)

    def resolved(self, current: Incident, *, silent: bool) -> Transition:
        recovered = tuple(m.name for m in current.members if m.failing)
        members = tuple(self._recovered(m) if m.failing else m for m in current.members)
        incident = replace(
            current,
            status="resolved",
            resolved_at=self.now,
            resolved_by="run",
            resolved_run_id=self.result.run_id,
            members=members,
            passing_runs=self._passes(current),
            last_run_key=self.run_key,
        )
        return Transition("resolved", incident, recovered=recovered, silent=silent)

    def _marked(self, incident: Incident) -> Incident:
        """``incident`` marked flapping once its failure started flapping_after times
        within flapping_within: the dataset's other openings at its severity, its own
        opening and its returns."""
        policy = self.resolution
        if incident.flapping or policy.flapping_after is None:
            return incident
        since = self.now - policy.flapping_within
        earlier = [
            moment
            for number, moment in self.openings.get(incident.severity, ())
            if number != incident.id and _utc(moment) >= since
        ]
        own = [incident.opened_at, *incident.returns]
        starts = len(earlier) + sum(_utc(moment) >= since for moment in own)
        return replace(incident, flapping=starts >= policy.flapping_after)

    def _recovered(self, member: Member) -> Member:
        """``member`` passing again, with what this run observed (when it ran)."""
        check = self.passing.get(member.name)
        if check is None:  # no longer checked (the gate's member once it measures)
            return replace(member, recovered_at=self.now)
        return replace(
            member,
            recovered_at=self.now,
            observed=_scalar(check.check.observed),
            expected=_scalar(check.check.expected),
            message=check.check.message,
        )

    def _member(self, finding: Finding, before: Member | None, same_run: bool = False) -> Member:
        check, now = finding.check, self.now
        counted = before is not None and before.failing and same_run
        return Member(
            name=finding.key,
            type=check.type,
            column=check.column,
            status=check.status,
            message=check.message,
            first_failed_at=now if before is None else before.first_failed_at,
            last_failed_at=now,
            failures=1 if before is None else before.failures + (0 if counted else 1),
            observed=_scalar(check.observed),
            expected=_scalar(check.expected),
            consequence_of=self.cause.get(finding.key),
        )

    def _maybe_escalate(self, transition: Transition) -> Transition:
        incident, policy, now = transition.incident, self.escalation, self.now
        due = (
            incident.escalated_at is None and incident.status == "open" and not incident.recovering
        )
        by_count = policy.after_failures is not None and incident.failures >= policy.after_failures
        by_age = policy.after_open is not None and now - incident.opened_at >= policy.after_open
        if due and (by_count or by_age):
            return replace(transition, incident=replace(incident, escalated_at=now), escalated=True)
        return transition


def _headlined(incident: Incident) -> Incident:
    """The incident with its headline fields taken from its cause."""
    head = incident.cause
    if head is None:
        return incident
    failing = incident.failing_members
    return replace(
        incident,
        check=head.name,
        check_type=head.type,
        column=head.column,
        message=head.message,
        observed=head.observed,
        expected=head.expected,
        last_status=worst(m.status for m in failing) if failing else head.status,
    )


def _identity(result: GateResult) -> dict[str, Any]:
    return {"dag_id": result.context.get("dag_id"), "task_id": result.context.get("task_id")}


def _scalar(value: Any) -> JsonScalar:
    converted = to_json_value(value)
    if converted is None or isinstance(converted, str | int | float | bool):
        return converted
    return str(converted)


def _when(value: Any) -> datetime:
    return _utc(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
