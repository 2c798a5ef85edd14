"""The alert itself: one message per run and event, with every failing check and its
numbers, where it ran, the contract's fingerprint, the report link, runbook and owner.

The message is built from what the store keeps (masked sources, no URLs with secrets),
and masks every URL it shows itself (passwords, and query parameters named like secrets:
``token``, ``key``, ``sig``, ``password``, ...: a runbook's ``?token=`` too), so it may
be stored, logged and sent as it is.
"""

from __future__ import annotations

import html
import os
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_opsguard.checks.results import GateResult, to_json_value
from airflow_opsguard.urls import mask_text, mask_url

if TYPE_CHECKING:
    from airflow_opsguard.checks.incidents import Finding, Member, Transition
    from airflow_opsguard.contract.models import Contract

TITLE_PREFIX = "[opsguard]"
DEFAULT_REPORT_PATH = "{base_url}/opsguard/runs/{run_id}"
# The "Data quality" tab of a task instance in Airflow's UI: Airflow's page of the task
# instance, then the plugin's external view (plugin.TASK_VIEW's url_route).
TASK_TAB_ROUTE = "opsguard-task"
TASK_TAB_PATH = (
    "{base_url}/dags/{dag_id}/runs/{dag_run_id}/tasks/{task_id}/plugin/" + TASK_TAB_ROUTE
)
_EVENT_WORDS = {
    "fail": "FAIL",
    "warn": "WARN",
    "escalate": "ESCALATED",
    "change": "CHANGED",
    "recover": "RESOLVED",
    "sla_miss": "SLA MISSED",
}


@dataclass(frozen=True)
class LinkSettings:
    """Where the report of a run is.

    ``report_url``: a template with ``{base_url}``, ``{run_id}`` (the result's id),
    ``{dataset}``, ``{dag_id}``, ``{dag_run_id}``, ``{task_id}``, ``{map_index}``.
    Without one, a verdict of an Airflow task links to that task instance's "Data
    quality" tab in Airflow's UI (``airflow_url``, else ``base_url``: Airflow's
    address), and any other verdict to ``base_url`` + ``/opsguard/runs/{run_id}``.
    """

    report_url: str | None = None
    base_url: str | None = None
    airflow_url: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> LinkSettings:
        """``$OPSGUARD_REPORT_URL``/``$OPSGUARD_BASE_URL``, else Airflow's settings given
        as environment variables (``AIRFLOW__OPSGUARD__REPORT_URL``,
        ``AIRFLOW__OPSGUARD__BASE_URL``, ``AIRFLOW__API__BASE_URL``)."""
        env = os.environ if environ is None else environ

        def first(*names: str) -> str | None:
            return next((env[n].strip() for n in names if env.get(n, "").strip()), None)

        return cls(
            report_url=first("OPSGUARD_REPORT_URL", "AIRFLOW__OPSGUARD__REPORT_URL"),
            base_url=first(
                "OPSGUARD_BASE_URL", "AIRFLOW__OPSGUARD__BASE_URL", "AIRFLOW__API__BASE_URL"
            ),
        )

    def link(self, result: GateResult) -> str | None:
        """The report link of ``result``, or None when nothing says where reports are."""
        ctx = result.context
        values = {
            "base_url": (self.base_url or "").rstrip("/"),
            "run_id": result.run_id or "",
            "dataset": result.dataset,
            "dag_id": ctx.get("dag_id") or "",
            "dag_run_id": ctx.get("run_id") or "",
            "task_id": ctx.get("task_id") or "",
            "map_index": ctx.get("map_index", -1),
        }
        template = self.report_url
        if not template:
            airflow = self.airflow_url or self.base_url
            if airflow and values["dag_id"] and values["dag_run_id"] and values["task_id"]:
                values["base_url"] = airflow.rstrip("/")
                template = TASK_TAB_PATH
                if values["map_index"] not in (-1, None, ""):
                    template = TASK_TAB_PATH.replace("/plugin/", "/mapped/{map_index}/plugin/")
            elif self.base_url:
                template = DEFAULT_REPORT_PATH
            else:
                return None
        quoted = {k: v if k == "base_url" else quote(str(v), safe="") for k, v in values.items()}
        try:
            return mask_url(string.Formatter().vformat(template, (), quoted))
        except (KeyError, IndexError, ValueError):
            return None  # a template with an unknown placeholder: no link rather than a wrong one


@dataclass(frozen=True)
class AlertMessage:
    """One alert: JSON-ready (``to_dict``), with a title, plain text and HTML.

    ``event`` is what a route subscribes to (``fail``, ``warn``, ``escalate``,
    ``change``, ``recover``, ``sla_miss``); the incident fields say what happened to the
    incident (a failure episode of the dataset at one severity) the message is about.
    ``checks`` are the incident's failing member checks, each a mapping with ``name``,
    ``type``, ``column``, ``status``, ``severity``, ``observed``, ``expected``,
    ``message``, ``consequence_of`` (the name of the check whose failure explains this
    one: a missing column, an unreadable source, stale data; None for a cause) and
    ``member_state`` (``new`` in this run, ``ongoing``); causes come first, each followed
    by its consequences.
    """

    event: str
    dataset: str
    title: str
    text: str
    status: str | None = None
    checked_at: str | None = None
    rows: int | None = None
    checks: tuple[dict[str, Any], ...] = ()
    still_failing: tuple[str, ...] = ()
    run: Mapping[str, Any] = field(default_factory=dict)
    contract_fingerprint: str | None = None
    report_url: str | None = None
    runbook: str | None = None
    owner: str | None = None
    incident_ids: tuple[int, ...] = ()
    note: str | None = None
    # What happened to the incident: "opened", "escalated", "changed" (its set of
    # failing checks changed) or "resolved"; None for a message about no incident (an
    # SLA miss, a missed deadline).
    incident_event: str | None = None
    # The incident's stable id for the whole episode, the same in every message about
    # it (opened to resolved): fit as PagerDuty's dedup_key or an e-mail thread id.
    incident_key: str | None = None
    # The incident's number in the results store (``opsguard incidents ack <id>``).
    incident_id: int | None = None
    # "fail" (blocks: page someone) or "warn" (reports).
    severity: str | None = None
    # The incident's headline check, the first entry of ``checks``: the cause that
    # explains the others when some are its consequences (None when nothing fails: a
    # "resolved" message).
    cause: Mapping[str, Any] | None = None
    # Member checks that pass again in this run (a "changed" or "resolved" message),
    # with the same keys as ``checks``.
    recovered: tuple[dict[str, Any], ...] = ()
    # When the incident opened and resolved (ISO 8601, UTC), how long it was open
    # (seconds; a "resolved" message), and how many failing runs it counted.
    opened_at: str | None = None
    resolved_at: str | None = None
    duration_seconds: float | None = None
    failing_runs: int | None = None
    # The hold before resolving (the contract's resolution): how many times the failure
    # came back while the incident was recovering (each re-joined it: no new page), the
    # passing runs in a row that resolved it (a "resolved" message), and whether its
    # failure started resolution.flapping_after times within flapping_within.
    returns: int | None = None
    passing_runs: int | None = None
    flapping: bool | None = None

    def __post_init__(self) -> None:
        # Whoever builds a message (a gate, an SLA miss, a deadline), what it shows has
        # its URLs masked: the runbook and report links, the owner, the note, the text
        # and each check's message, observed and expected values.
        for name in ("title", "text", "report_url", "runbook", "owner", "note"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, mask_text(value))
        object.__setattr__(self, "checks", tuple(_masked_check(c) for c in self.checks))
        object.__setattr__(self, "recovered", tuple(_masked_check(c) for c in self.recovered))
        if self.cause is not None:
            object.__setattr__(self, "cause", _masked_check(self.cause))

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of a webhook post (``text`` makes it a valid Slack message)."""
        return {
            "source": "airflow-opsguard",
            "event": self.event,
            "title": self.title,
            "text": self.text,
            "dataset": self.dataset,
            "status": self.status,
            "checked_at": self.checked_at,
            "rows": self.rows,
            "checks": [dict(c) for c in self.checks],
            "still_failing": list(self.still_failing),
            "run": dict(self.run),
            "contract_fingerprint": self.contract_fingerprint,
            "report_url": self.report_url,
            "runbook": self.runbook,
            "owner": self.owner,
            "incident_ids": list(self.incident_ids),
            "note": self.note,
            "incident_event": self.incident_event,
            "incident_key": self.incident_key,
            "incident_id": self.incident_id,
            "severity": self.severity,
            "cause": None if self.cause is None else dict(self.cause),
            "recovered": [dict(c) for c in self.recovered],
            "opened_at": self.opened_at,
            "resolved_at": self.resolved_at,
            "duration_seconds": self.duration_seconds,
            "failing_runs": self.failing_runs,
            "returns": self.returns,
            "passing_runs": self.passing_runs,
            "flapping": self.flapping,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertMessage:
        """The message back from :meth:`to_dict` (as the outbox keeps it); keys that
        older versions did not write default to None."""
        return cls(
            event=data["event"],
            dataset=data["dataset"],
            title=data["title"],
            text=data["text"],
            status=data.get("status"),
            checked_at=data.get("checked_at"),
            rows=data.get("rows"),
            checks=tuple(dict(c) for c in data.get("checks") or ()),
            still_failing=tuple(data.get("still_failing") or ()),
            run=dict(data.get("run") or {}),
            contract_fingerprint=data.get("contract_fingerprint"),
            report_url=data.get("report_url"),
            runbook=data.get("runbook"),
            owner=data.get("owner"),
            incident_ids=tuple(data.get("incident_ids") or ()),
            note=data.get("note"),
            incident_event=data.get("incident_event"),
            incident_key=data.get("incident_key"),
            incident_id=data.get("incident_id"),
            severity=data.get("severity"),
            cause=None if data.get("cause") is None else dict(data["cause"]),
            recovered=tuple(dict(c) for c in data.get("recovered") or ()),
            opened_at=data.get("opened_at"),
            resolved_at=data.get("resolved_at"),
            duration_seconds=data.get("duration_seconds"),
            failing_runs=data.get("failing_runs"),
            returns=data.get("returns"),
            passing_runs=data.get("passing_runs"),
            flapping=data.get("flapping"),
        )

    def html(self) -> str:
        """The message as a small HTML document (for e-mail): every value escaped."""
        head = "".join(
            f"<th>{h}</th>"
            for h in ("status", "check", "observed", "expected", "severity", "incident", "message")
        )

        def table(entries: Sequence[Mapping[str, Any]]) -> str:
            rows = "".join(
                "<tr>"
                + "".join(
                    f"<td>{html.escape(str(c.get(k) if c.get(k) is not None else ''))}</td>"
                    for k in ("status", "name", "observed", "expected", "severity", "state")
                )
                + f"<td>{html.escape(_explained(c))}</td></tr>"
                for c in entries
            )
            return f"<table border='1' cellpadding='4'><tr>{head}</tr>{rows}</table>"

        failing = table(self.checks) if self.checks else ""
        passing = f"<p>Passing again:</p>{table(self.recovered)}" if self.recovered else ""
        details = "".join(
            f"<li>{html.escape(line)}</li>"
            for line in self.text.splitlines()[1:]
            if line.strip() and not line.startswith((" ", "-"))
        )
        link = (
            f"<p><a href='{html.escape(self.report_url, quote=True)}'>report</a></p>"
            if self.report_url
            else ""
        )
        return f"<h3>{html.escape(self.title)}</h3>{failing}{passing}<ul>{details}</ul>{link}"

    def facts(self) -> list[tuple[str, str]]:
        """The message's facts as (label, value) pairs, for the services that show them
        as fields (Slack, Teams): unescaped, each service escapes for itself."""
        found = [("Dataset", self.dataset)]
        if self.status:
            rows = f", {self.rows:,} rows" if self.rows is not None else ""
            found.append(("Verdict", f"{self.status}{rows}"))
        if self.incident_id or self.incident_event:
            parts = [f"#{self.incident_id}" if self.incident_id else "", self.incident_event]
            if self.failing_runs:
                plural = "s" if self.failing_runs != 1 else ""
                parts.append(f"{self.failing_runs} failing run{plural}")
            if self.duration_seconds is not None:
                parts.append(f"open {_span(timedelta(seconds=self.duration_seconds))}")
            found.append(("Incident", " ".join(p for p in parts if p)))
        if self.run.get("dag_id"):
            where = f"{self.run['dag_id']} / {self.run.get('dag_run_id', '?')}"
            if self.run.get("task_id"):
                where += f" / {self.run['task_id']}"
            found.append(("Where", where))
        if self.owner:
            found.append(("Owner", self.owner))
        if self.contract_fingerprint:
            found.append(("Contract", self.contract_fingerprint))
        return found

    def context(self) -> dict[str, Any]:
        """What notifiers find in their context under ``opsguard``: the message, with
        ``html`` too (``{{ opsguard.title }}``, ``{{ opsguard.text }}``, ...)."""
        return {**self.to_dict(), "html": self.html()}


def _masked_check(check: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: mask_text(value) if key in _SHOWN and isinstance(value, str) else value
        for key, value in check.items()
    }


_SHOWN = frozenset({"message", "observed", "expected"})


def short_fingerprint(fingerprint: str | None) -> str | None:
    return fingerprint[:12] if fingerprint else None


def run_details(result: GateResult) -> dict[str, Any]:
    """Where the verdict came from (DAG, run, task, try) and the stored result's id."""
    keys = ("dag_id", "run_id", "task_id", "map_index", "try_number")
    run = {k: to_json_value(result.context[k]) for k in keys if k in result.context}
    if "run_id" in run:
        run["dag_run_id"] = run.pop("run_id")
    run["result_id"] = result.run_id
    return run


# What happened to the incident, by the route event a message is sent for.
INCIDENT_EVENTS = {
    "fail": "opened",
    "warn": "opened",
    "escalate": "escalated",
    "change": "changed",
    "recover": "resolved",
}


def member_entry(
    member: Member,
    transition: Transition,
    finding: Finding | None = None,
) -> dict[str, Any]:
    """A member check of an incident as a message lists it."""
    incident = transition.incident
    check = finding.check if finding is not None and member.failing else None
    if not member.failing:
        member_state = "recovered"
    elif member.name in transition.added:
        member_state = "new"
    else:
        member_state = "ongoing"
    entry: dict[str, Any] = {
        "name": member.name,
        "type": member.type,
        "column": member.column,
        "status": "pass" if not member.failing else member.status,
        "severity": check.severity if check is not None else incident.severity,
        "observed": member.observed,
        "expected": member.expected,
        "message": mask_url(member.message),
        "consequence_of": member.consequence_of,
        "member_state": member_state,
        "failures": member.failures,
        # The incident it belongs to (kept from the per-check model's entries).
        "incident": incident.id or None,
        "state": transition.state,
        "open_since": to_json_value(incident.opened_at),
        "escalated": incident.escalated_at is not None,
    }
    if not member.failing:
        entry["failed_status"] = member.status  # how it failed before it passed again
    if check is not None and check.failing_count is not None:
        entry["failing_count"] = check.failing_count
        entry["failing_fraction"] = check.failing_fraction
    return entry


def build(
    event: str,
    result: GateResult,
    transition: Transition,
    *,
    contract: Contract | None,
    found: Mapping[str, Finding] | None = None,
    still_failing: Sequence[str] = (),
    links: LinkSettings | None = None,
    note: str | None = None,
) -> AlertMessage:
    """The message of ``event`` (``fail``/``warn``: opened, ``escalate``, ``change``,
    ``recover``: resolved) about the incident ``transition`` changed in one run.

    ``found``: the run's findings by key (for the failing row counts); ``still_failing``:
    for a resolved incident, the checks that fail in the dataset's other incident.
    """
    incident = transition.incident
    found = found or {}
    failing = [member_entry(m, transition, found.get(m.name)) for m in incident.failing_members]
    recovered_names = set(transition.recovered)
    recovered = [member_entry(m, transition) for m in incident.members if m.name in recovered_names]
    if event == "recover":
        failing = []
    duration = transition.duration
    message = AlertMessage(
        event=event,
        dataset=result.dataset,
        title=_title(event, result, transition, failing, recovered),
        text="",
        status=result.status,
        checked_at=to_json_value(result.checked_at),
        rows=result.rows,
        checks=tuple(failing),
        still_failing=tuple(still_failing),
        run=run_details(result),
        contract_fingerprint=short_fingerprint(result.contract_fingerprint),
        report_url=(links or LinkSettings()).link(result),
        runbook=contract.runbook if contract is not None else None,
        owner=contract.owner if contract is not None else None,
        incident_ids=(incident.id,) if incident.id else (),
        note=note,
        incident_event=INCIDENT_EVENTS.get(event),
        incident_key=incident.key if incident.id or incident.incident_key else None,
        incident_id=incident.id or None,
        severity=incident.severity,
        cause=next((e for e in failing if e["consequence_of"] is None), None),
        recovered=tuple(recovered),
        opened_at=to_json_value(incident.opened_at),
        resolved_at=to_json_value(incident.resolved_at),
        duration_seconds=None if duration is None else duration.total_seconds(),
        failing_runs=incident.failures,
        returns=len(incident.returns),
        passing_runs=incident.passing_runs if event == "recover" else None,
        flapping=incident.flapping,
    )
    return _with_text(message, result)


def _title(
    event: str,
    result: GateResult,
    transition: Transition,
    failing: Sequence[Mapping[str, Any]],
    recovered: Sequence[Mapping[str, Any]],
) -> str:
    word = _EVENT_WORDS.get(event, event.upper())
    start = f"{TITLE_PREFIX} {word} {result.dataset}"
    incident = transition.incident
    if event == "recover":
        after = f" after {_span(transition.duration)}" if transition.duration else ""
        what = "no check warns any more" if incident.severity == "warn" else "passing again"
        runs = incident.failures
        return (
            f"{start}: {what}{after} ({_count(len(incident.members))} over "
            f"{runs} failing run{'s' if runs != 1 else ''}{_came_back(incident.returns)})"
        )
    if result.error is not None and result.status == "error":
        summary = "the data could not be checked"
    else:
        summary = _summary(failing)
    if event == "escalate":
        runs = incident.failures
        summary += f", failing for {runs} run{'s' if runs != 1 else ''}"
    if event == "change":  # the causes that came and went (their consequences follow)
        added = [e["name"] for e in failing if e["member_state"] == "new"]
        came = [e["name"] for e in failing if e["name"] in added and not e["consequence_of"]]
        went = [e["name"] for e in recovered if not e["consequence_of"]]
        if came:
            summary += f"; new: {', '.join(came)}"
        if went:
            summary += f"; passing again: {', '.join(went)}"
        if transition.returned:
            summary += "; failing again after passing"
    if incident.flapping:
        summary += " (flapping)"
    return f"{start}: {summary}"


def _came_back(returns: Sequence[datetime]) -> str:
    n = len(returns)
    return f", failing again {n} time{'s' if n != 1 else ''} while recovering" if n else ""


def _summary(entries: Sequence[Mapping[str, Any]]) -> str:
    """``3 checks failed``; with a cause: ``schema(amount) failed, 3 checks with it``."""
    roots = [e for e in entries if not e.get("consequence_of")]
    folded = len(entries) - len(roots)
    if folded and roots:
        head = roots[0]
        verb = "warned" if head["status"] == "warn" else "failed"
        summary = f"{head['name']} {verb}, {_count(folded)} with it"
        if len(roots) > 1:
            summary += f"; {len(roots) - 1} other{'s' if len(roots) > 2 else ''} too"
        return summary
    failed = sum(e["status"] in ("fail", "error") for e in entries)
    warned = sum(e["status"] == "warn" for e in entries)
    parts = []
    if failed:
        parts.append(f"{_count(failed)} failed")
    if warned:
        parts.append(f"{_count(warned)} warned" if not failed else f"{warned} warned")
    return ", ".join(parts) or "no check failed"


def _count(n: int) -> str:
    return f"{n} check{'s' if n != 1 else ''}"


def _with_text(message: AlertMessage, result: GateResult) -> AlertMessage:
    from dataclasses import replace

    lines = [message.title]
    rows = f", {result.rows:,} rows" if result.rows is not None else ""
    lines.append(
        f"dataset {result.dataset}: verdict {result.status}{rows}, checked "
        f"{_when(result.checked_at)}"
    )
    if message.incident_id is not None:
        lines.append(_incident_line(message))
    if message.cause is not None and any(e.get("consequence_of") for e in message.checks):
        lines.append(f"cause: {message.cause['name']}: {message.cause['message']}")
    for entry in message.checks:
        indent = "  " if entry.get("consequence_of") else ""
        lines.append(indent + _check_line(entry))
        lines.append(f"{indent}    {entry['message']}")
    if message.recovered:
        lines.append("passing again: " + ", ".join(_recovered(e) for e in message.recovered))
    if message.still_failing:
        lines.append(f"still failing: {', '.join(message.still_failing)}")
    run = message.run
    if run.get("dag_id"):
        where = (
            f"dag {run['dag_id']}, run {run.get('dag_run_id', '?')}, task {run.get('task_id', '?')}"
        )
        if run.get("map_index", -1) not in (-1, None):
            where += f"[{run['map_index']}]"
        if run.get("try_number") is not None:
            where += f", try {run['try_number']}"
        lines.append(f"where: {where}")
    if message.contract_fingerprint:
        lines.append(f"contract: {message.contract_fingerprint}")
    if message.report_url:
        lines.append(f"report: {message.report_url}")
    if message.runbook:
        lines.append(f"runbook: {message.runbook}")
    if message.owner:
        lines.append(f"owner: {message.owner}")
    if message.incident_ids:
        lines.append("incidents: " + ", ".join(f"#{i}" for i in message.incident_ids))
    if message.note:
        lines.append(f"note: {message.note}")
    return replace(message, text="\n".join(lines))


def _incident_line(message: AlertMessage) -> str:
    runs = message.failing_runs or 0
    line = (
        f"incident #{message.incident_id} ({message.severity}): opened "
        f"{_when(datetime.fromisoformat(message.opened_at or ''))}, "
        f"{runs} failing run{'s' if runs != 1 else ''}"
    )
    if message.returns:
        n = message.returns
        line += f", failing again {n} time{'s' if n != 1 else ''} while recovering"
    if message.duration_seconds is not None:
        line += f", resolved after {_span(timedelta(seconds=message.duration_seconds))}"
        if message.passing_runs and message.passing_runs > 1:
            line += f" ({message.passing_runs} passing runs in a row)"
    if message.flapping:
        line += "; flapping (it fails, passes and fails again)"
    return line


def _check_line(entry: Mapping[str, Any]) -> str:
    status = str(entry["status"]).upper()
    numbers = f"observed {_show(entry['observed'])}, expected {_show(entry['expected'])}"
    tags = [f"severity {entry['severity']}"]
    if entry.get("member_state") == "new":
        tags.append("new")
    elif entry.get("failures"):
        runs = int(entry["failures"])
        tags.append(f"failing {runs} run{'s' if runs != 1 else ''}")
    if entry.get("consequence_of"):
        tags.append(f"follows from {entry['consequence_of']}")
    if entry.get("escalated"):
        tags.append("escalated")
    if entry.get("incident"):
        tags.append(f"incident #{entry['incident']}")
    return f"- {status} {entry['name']}: {numbers} ({', '.join(tags)})"


def _recovered(entry: Mapping[str, Any]) -> str:
    return f"{entry['name']} (observed {_show(entry['observed'])})"


def _explained(entry: Mapping[str, Any]) -> str:
    message = str(entry.get("message") or "")
    cause = entry.get("consequence_of")
    return f"{message} (follows from {cause})" if cause else message


def _show(value: Any) -> str:
    return "-" if value is None else str(value)


def _span(duration: timedelta | None) -> str:
    from airflow_opsguard.contract.durations import format_duration

    return "-" if duration is None else format_duration(duration)


def _when(moment: datetime) -> str:
    value = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")
