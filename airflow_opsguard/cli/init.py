"""``opsguard init``: draft a contract from data (see docs/adoption.md).

The draft goes to stdout, or to ``--out`` with the data's profile next to it (the first
drift reference). An existing file is never overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from airflow_opsguard.errors import OpsGuardError


def add_init_command(commands: Any) -> None:
    """Add ``init`` to the ``opsguard`` command line."""
    init = commands.add_parser(
        "init", help="draft a contract from data (commented YAML, in shadow mode)"
    )
    init.add_argument("data", help="a file, folder, glob, fsspec URL or database URL")
    init.add_argument("--table", help="with a database URL: the table to draft from")
    init.add_argument(
        "--out",
        help="the contract file to write, with <name>.profile.json next to it "
        "(default: stdout, without a distribution section)",
    )
    init.add_argument("--dataset", help="the dataset's name (default: the table or file name)")
    init.add_argument(
        "--file-format",
        choices=("parquet", "csv", "jsonl", "json"),
        help="the file format when the name does not tell",
    )
    init.add_argument(
        "--now", help="the clock the freshness rule is judged against (ISO 8601; naive is UTC)"
    )
    init.add_argument("--force", action="store_true", help="overwrite files that exist")
    init.set_defaults(func=_init)


def _init(args: argparse.Namespace) -> int:
    from airflow_opsguard.cli.args import parse_now
    from airflow_opsguard.drafting import draft, reference_name

    if args.out is not None and not args.force:
        # Checked before the data is read: a draft of a big table takes a while.
        _refuse_existing(args.out)
        _refuse_existing(os.path.join(os.path.dirname(args.out), reference_name(args.out)))
    drafted = draft(
        args.data,
        args.table,
        dataset=args.dataset,
        out=args.out,
        now=parse_now(args.now),
        file_format=args.file_format,
    )
    if args.out is None:
        sys.stdout.write(drafted.text)
        return 0
    drafted.write(args.out)
    written = args.out
    if drafted.reference is not None:
        written += f" and {os.path.join(os.path.dirname(args.out), drafted.reference)}"
    print(f"wrote {written} (mode: shadow; review it, then set mode: enforce)", file=sys.stderr)
    return 0


def _refuse_existing(path: str) -> None:
    if os.path.exists(path):
        raise OpsGuardError(f"{path}: exists; give --force to overwrite it")
