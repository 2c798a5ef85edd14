"""``opsguard import-dbt``: contracts from a dbt manifest, one file per model (and per
source table with something to check). What is not imported is listed once on stderr,
one line per item with the reason (and in each contract's header); the command writes
the rest and exits 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from airflow_opsguard.errors import OpsGuardError


def add_dbt_commands(commands: Any) -> None:
    """Add ``import-dbt`` to the ``opsguard`` command line."""
    imported = commands.add_parser(
        "import-dbt",
        help="write a contract per dbt model from target/manifest.json",
        description="Write one contract per dbt model (and source table with freshness or "
        "tests) from a dbt manifest: columns, data types, constraints, generic tests and "
        "source freshness. What does not map is listed on stderr.",
    )
    imported.add_argument("manifest", help="dbt's target/manifest.json (dbt 1.6 or newer)")
    imported.add_argument(
        "--select",
        nargs="+",
        action="extend",
        metavar="MODEL",
        default=[],
        help="only these: a model's name, source:NAME or source:NAME.TABLE "
        "(default: every model and source of the project)",
    )
    imported.add_argument(
        "--out", required=True, metavar="DIR", help="the folder to write the contracts to"
    )
    where = imported.add_mutually_exclusive_group()
    where.add_argument("--url", help="the database's SQLAlchemy URL, as source.url")
    where.add_argument(
        "--conn-id", metavar="ID", help="an Airflow connection id, as source.conn_id"
    )
    imported.set_defaults(func=_import_dbt)


def _import_dbt(args: argparse.Namespace) -> int:
    from airflow_opsguard.dbt import import_manifest

    found = import_manifest(args.manifest, args.select, url=args.url, conn_id=args.conn_id)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OpsGuardError(f"{out}: cannot make the folder: {exc.strerror or exc}") from None
    for contract in found:
        if contract.text is None:
            continue
        target = out / contract.file_name
        try:
            target.write_text(contract.text, encoding="utf-8")
        except OSError as exc:
            raise OpsGuardError(f"{target}: cannot write it: {exc.strerror or exc}") from None
        print(
            f"{target}: {contract.kind} {contract.name}: "
            f"{contract.columns} columns, {contract.checks} checks"
        )
    for contract in found:
        for note in contract.notes:
            print(
                f"opsguard: {args.manifest}: not imported: {contract.kind} {contract.name}: {note}",
                file=sys.stderr,
            )
    return 0
