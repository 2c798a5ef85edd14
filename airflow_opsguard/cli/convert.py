"""``opsguard export-gx | import-gx | convert``: contracts to and from Great Expectations
suites and ODCS v3 documents. What does not convert is listed on stderr, one line per
item with the reason; the command writes what did, and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow_opsguard.errors import OpsGuardError


def add_convert_commands(commands: Any) -> None:
    """Add ``export-gx``, ``import-gx`` and ``convert`` to the ``opsguard`` command line."""
    export = commands.add_parser("export-gx", help="write a contract's checks as a GX suite (JSON)")
    export.add_argument("contract", help="the contract file (YAML)")
    export.add_argument("--out", help="the suite file to write (default: stdout)")
    export.add_argument("--name", help="the suite's name (default: the contract's dataset)")
    export.set_defaults(func=_export)

    imported = commands.add_parser(
        "import-gx", help="write a contract from a GX suite, listing what does not map"
    )
    imported.add_argument("suite", help="the GX suite file (JSON)")
    imported.add_argument("--out", help="the contract file to write (default: stdout)")
    imported.add_argument("--dataset", help="the dataset name (default: the suite's name)")
    imported.set_defaults(func=_import)

    convert = commands.add_parser(
        "convert", help="convert a contract to ODCS v3 or from ODCS v3 to an opsguard contract"
    )
    convert.add_argument("contract", help="the contract file (ours or ODCS v3, YAML)")
    convert.add_argument("--to", required=True, choices=("odcs", "opsguard"))
    convert.add_argument("--out", help="the file to write (default: stdout)")
    convert.add_argument("--object", help="ODCS: the schema object to convert, when several")
    convert.set_defaults(func=_convert)


def _export(args: argparse.Namespace) -> int:
    from airflow_opsguard.formats import load_contract
    from airflow_opsguard.gx.convert import export_suite

    suite, skipped = export_suite(load_contract(args.contract), args.name)
    _write(args.out, json.dumps(suite, indent=2) + "\n", "suite")
    _report(args.contract, "not exported", skipped)
    return 0


def _import(args: argparse.Namespace) -> int:
    import yaml

    from airflow_opsguard.gx.convert import import_suite

    contract, skipped = import_suite(args.suite, args.dataset)
    _write(args.out, yaml.safe_dump(contract, sort_keys=False, allow_unicode=True), "contract")
    _report(args.suite, "not imported", skipped)
    return 0


def _convert(args: argparse.Namespace) -> int:
    import yaml

    from airflow_opsguard.odcs.convert import to_odcs, to_opsguard

    if args.to == "odcs":
        document, unmapped = to_odcs(args.contract, args.object)
    else:
        document, unmapped = to_opsguard(args.contract, args.object)
    _write(args.out, yaml.safe_dump(document, sort_keys=False, allow_unicode=True), "file")
    _report(args.contract, "not converted", unmapped)
    return 0


def _write(out: str | None, text: str, what: str) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OpsGuardError(f"{out}: cannot write the {what}: {exc.strerror or exc}") from None


def _report(origin: str, verb: str, skipped: Sequence[Any]) -> None:
    for item in skipped:
        print(f"opsguard: {origin}: {verb}: {item}", file=sys.stderr)
