"""``opsguard incidents list | ack | resolve | stats``."""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_opsguard.cli.args import add_output_options, days, positive
from airflow_opsguard.errors import OpsGuardError

if TYPE_CHECKING:
    from airflow_opsguard.checks.incidents import Incident
    from airflow_opsguard.store.incidents import IncidentStats

STATES = ("open", "acknowledged", "resolved")


def add_incident_commands(commands: Any) -> None:
    """Add ``incidents`` to the ``opsguard`` parser's subcommands."""
    incidents = commands.add_parser("incidents", help="list, acknowledge and resolve incidents")
    actions = incidents.add_subparsers(dest="action", required=True, parser_class=type(incidents))

    listing = actions.add_parser("list", help="incidents, newest first (default: not resolved)")
    listing.add_argument("--dataset", help="only this dataset")
    listing.add_argument(
        "--status", choices=(*STATES, "all"), help="default: open and acknowledged"
    )
    listing.add_argument("--limit", type=positive, default=50)
    add_output_options(listing)
    listing.set_defaults(func=_list)

    for name, verb in (("ack", "acknowledge (it stops escalating)"), ("resolve", "resolve")):
        action = actions.add_parser(name, help=f"{verb} an incident")
        action.add_argument("id", type=_incident_id, help="the incident's number")
        action.add_argument("--by", help="who (default: the user running the command)")
        add_output_options(action)
        action.set_defaults(func=_ack if name == "ack" else _resolve)

    stats = actions.add_parser(
        "stats", help="counts and mean times to detect, acknowledge and resolve, per dataset"
    )
    stats.add_argument("--dataset", help="only this dataset")
    stats.add_argument("--days", type=days, help="only incidents opened in the last N days")
    add_output_options(stats)
    stats.set_defaults(func=_stats)


def _incident_id(text: str) -> int:
    return positive(text.lstrip("#"))  # "#12", as alerts and lists show it


def _incidents(args: argparse.Namespace) -> Any:
    from airflow_opsguard.store.incidents import IncidentStore
    from airflow_opsguard.store.store import ResultStore

    return IncidentStore(ResultStore(args.store))


def _list(args: argparse.Namespace) -> int:
    if args.status == "all":
        statuses: tuple[str, ...] = ()
    elif args.status:
        statuses = (args.status,)
    else:
        statuses = ("open", "acknowledged")
    found = _incidents(args).incidents(dataset=args.dataset, statuses=statuses, limit=args.limit)
    if args.format == "json":
        print(json.dumps([i.to_dict() for i in found]))
    elif not found:
        print("no incidents")
    else:
        for incident in found:
            print(_line(incident))
    return 0


def _change(args: argparse.Namespace, action: str) -> int:
    store = _incidents(args)
    by = args.by or _user()
    now = datetime.now(UTC)
    before = store.get(args.id)
    if before is None:
        raise OpsGuardError(f"no incident #{args.id}")
    after = (
        store.acknowledge(args.id, by, now) if action == "ack" else store.resolve(args.id, by, now)
    )
    assert after is not None
    if after.status == before.status:
        what = "acknowledged" if action == "ack" else "resolved"
        raise OpsGuardError(f"incident #{args.id} is {before.status}; it cannot be {what} now")
    if args.format == "json":
        print(json.dumps(after.to_dict()))
    else:
        print(_line(after))
    return 0


def _ack(args: argparse.Namespace) -> int:
    return _change(args, "ack")


def _resolve(args: argparse.Namespace) -> int:
    return _change(args, "resolve")


def _stats(args: argparse.Namespace) -> int:
    since = datetime.now(UTC) - timedelta(days=args.days) if args.days else None
    stats, by_dataset = _incidents(args).stats_by_dataset(since, dataset=args.dataset)
    if args.format == "json":
        out = stats.to_dict()
        out["datasets"] = {name: s.to_dict() for name, s in by_dataset.items()}
        print(json.dumps(out))
    else:
        print(render_stats(stats))
        if len(by_dataset) > 1:
            for name, figures in by_dataset.items():
                print(f"\n{name}:")
                print(render_stats(figures))
    return 0


def render_stats(stats: IncidentStats) -> str:
    return "\n".join(
        [
            f"incidents: {stats.total} ({stats.open} open, {stats.acknowledged} acknowledged, "
            f"{stats.resolved} resolved; {stats.escalated} escalated)",
            f"mean time to detect:      {_span(stats.mean_time_to_detect)}",
            f"mean time to acknowledge: {_span(stats.mean_time_to_acknowledge)}",
            f"mean time to resolve:     {_span(stats.mean_time_to_resolve)}",
            f"alerts waiting to be sent: {stats.pending_alerts}",
        ]
    )


def _line(incident: Incident) -> str:
    from airflow_opsguard.contract.durations import format_duration

    when = incident.opened_at.strftime("%Y-%m-%d %H:%M")
    state = incident.status.upper()
    if incident.escalated_at is not None and incident.is_open:
        state += " (escalated)"
    if incident.recovering:  # passing again, held open until enough passing runs
        state += f" (recovering, {incident.passing_runs} passing)"
    if incident.flapping and incident.is_open:
        state += " (flapping)"
    numbers = f"observed {incident.observed}, expected {incident.expected}"
    age = ""
    if incident.resolved_at is not None:
        age = f", resolved after {format_duration(incident.resolved_at - incident.opened_at)}"
    members = incident.failing_members or incident.members
    others = [m.name for m in members if m.name != incident.check]
    more = ""
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        more = f" (+{len(others)}: {shown})"
    return (
        f"#{incident.id:<5} {when}  {state:<24} {incident.dataset} / {incident.check}{more}: "
        f"{incident.severity}, {incident.failures} failing run(s), {numbers}{age}"
    )


def _span(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    from airflow_opsguard.contract.durations import format_duration

    return format_duration(timedelta(seconds=seconds))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"
