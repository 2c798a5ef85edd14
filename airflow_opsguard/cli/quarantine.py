"""``opsguard quarantine list | show | release | drop``."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from airflow_opsguard.cli.args import add_output_options, not_negative, positive
from airflow_opsguard.quarantine import STATUSES

if TYPE_CHECKING:
    from airflow_opsguard.store.quarantine import QuarantineRecord

EXIT_OK, EXIT_REFUSED = 0, 1


def add_quarantine_commands(commands: Any) -> None:
    """Add ``quarantine`` to the ``opsguard`` parser's subcommands."""
    quarantine = commands.add_parser(
        "quarantine", help="list, show, release and drop quarantined batches"
    )
    actions = quarantine.add_subparsers(dest="action", required=True, parser_class=type(quarantine))

    listing = actions.add_parser("list", help="quarantined batches, newest first")
    listing.add_argument("--dataset", help="only this dataset")
    listing.add_argument(
        "--status", choices=(*STATUSES, "all"), default="quarantined", help="default: quarantined"
    )
    listing.add_argument("--limit", type=positive, default=50)
    listing.add_argument("--offset", type=not_negative, default=0)
    add_output_options(listing)
    listing.set_defaults(func=_list)

    show = actions.add_parser("show", help="one batch: where it is, why, who reviewed it")
    show.add_argument("batch_id")
    add_output_options(show)
    show.set_defaults(func=_show)

    release = actions.add_parser(
        "release", help="check a batch again and publish it (exit 1 if it still fails)"
    )
    release.add_argument("batch_id")
    release.add_argument("--force", action="store_true", help="publish without checking again")
    _review(release)
    release.set_defaults(func=_release)

    drop = actions.add_parser("drop", help="delete a batch's quarantined data for good")
    drop.add_argument("batch_id")
    _review(drop)
    drop.set_defaults(func=_drop)


def _review(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", help="who (default: the user running the command)")
    parser.add_argument("--reason", help="why (kept with the record)")
    parser.add_argument(
        "--data", help="the database URL, when the stored one has its password masked"
    )
    add_output_options(parser)


def _list(args: argparse.Namespace) -> int:
    from airflow_opsguard.quarantine.service import list_batches

    status = None if args.status == "all" else args.status
    found = list_batches(
        args.store, dataset=args.dataset, status=status, limit=args.limit, offset=args.offset
    )
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in found]))
        return EXIT_OK
    if not found:
        print("no quarantined batches" if status == "quarantined" else "no batches")
        return EXIT_OK
    for record in found:
        rows = "?" if record.rows is None else f"{record.rows:,}"
        print(
            f"{record.batch_id}  {record.status:<11}  {record.dataset}  {record.kind:<5}  "
            f"{rows} rows  {record.created_at:%Y-%m-%d %H:%M}  {record.location}"
        )
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    from airflow_opsguard.quarantine.service import get_batch

    record = get_batch(args.batch_id, args.store)
    if args.format == "json":
        print(json.dumps(record.to_dict()))
    else:
        print(render(record))
    return EXIT_OK


def _release(args: argparse.Namespace) -> int:
    from airflow_opsguard.connections import engine_for_conn_id
    from airflow_opsguard.quarantine.service import ReleaseRefused, release

    try:
        done = release(
            args.batch_id,
            by=args.by,
            reason=args.reason,
            force=args.force,
            store=args.store,
            database=args.data,
            connections=engine_for_conn_id,
        )
    except ReleaseRefused as exc:
        if args.format == "json":
            print(json.dumps({"released": False, "check": exc.result.to_dict()}))
        first = str(exc).splitlines()[0]
        print(f"opsguard: {first}; see the check above or use --force", file=_stderr())
        if args.format == "text":
            from airflow_opsguard.report import render_text

            print(render_text(exc.result))
        return EXIT_REFUSED
    if args.format == "json":
        print(json.dumps({"released": True, **done.to_dict()}))
    else:
        rows = "" if done.rows is None else f" ({done.rows:,} rows)"
        forced = " without checking again (--force)" if args.force else " after checking again"
        print(f"released {args.batch_id}{rows} to {done.destination}{forced}")
    return EXIT_OK


def _drop(args: argparse.Namespace) -> int:
    from airflow_opsguard.connections import engine_for_conn_id
    from airflow_opsguard.quarantine.service import drop

    record = drop(
        args.batch_id,
        by=args.by,
        reason=args.reason,
        store=args.store,
        database=args.data,
        connections=engine_for_conn_id,
    )
    if args.format == "json":
        print(json.dumps(record.to_dict()))
    else:
        print(f"dropped {record.batch_id} ({record.location}) by {record.reviewed_by}")
    return EXIT_OK


def render(record: QuarantineRecord) -> str:
    """A quarantine record as a few lines of text."""
    lines = [
        f"batch      {record.batch_id} ({record.status})",
        f"dataset    {record.dataset}",
        f"kind       {record.kind}",
        f"location   {record.location}",
        f"source     {record.source or '-'}",
    ]
    if record.publish_to:
        lines.append(f"publish to {record.publish_to}")
    rows = "?" if record.rows is None else f"{record.rows:,}"
    if record.clean_rows is not None:
        rows += f" (clean rows that went on: {record.clean_rows:,})"
    lines.append(f"rows       {rows}")
    lines.append(f"run        {record.run_id or '-'}")
    if record.dag_id:
        lines.append(f"task       {record.dag_id}.{record.task_id} ({record.dag_run_id})")
    lines.append(f"created    {record.created_at.isoformat()}")
    lines.append("reasons")
    lines.extend(f"  - {r.get('check')}: {r.get('message')}" for r in record.reasons)
    if record.reviewed_at is not None:
        why = f": {record.review_reason}" if record.review_reason else ""
        lines.append(
            f"{record.status:<10} {record.reviewed_at.isoformat()} by {record.reviewed_by}{why}"
        )
    return "\n".join(lines)


def _stderr() -> Any:
    import sys

    return sys.stderr
