"""``opsguard export-gx`` and ``opsguard import-gx``: contracts to GX suites and back.

Neither imports Great Expectations: the mapping is ours (:mod:`.mapping`). What does not
convert is listed on stderr, one line per expectation or rule with the reason; the
command still writes what did, and exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from airflow_opsguard.errors import OpsGuardError
from airflow_opsguard.gx.mapping import META_KEY, Skipped


def export_suite(
    contract_path: str, name: str | None = None
) -> tuple[dict[str, Any], list[Skipped]]:
    """The GX suite (JSON mapping) of a contract file, and what it could not state."""
    from airflow_opsguard.contract.loader import load_contract
    from airflow_opsguard.gx.exporting import contract_to_expectations

    contract = load_contract(contract_path)
    expectations, skipped = contract_to_expectations(contract)
    suite = {
        "name": name or contract.dataset,
        "expectations": expectations,
        "meta": {META_KEY: {"dataset": contract.dataset, "contract": contract.fingerprint}},
        "notes": f"Exported by opsguard export-gx from {contract_path}.",
    }
    return suite, skipped


def import_suite(
    suite_path: str, dataset: str | None = None
) -> tuple[dict[str, Any], list[Skipped]]:
    """A contract mapping from a GX suite file, and the expectations that did not map.

    The contract is checked as the loader checks a file, so what is written loads.
    """
    from airflow_opsguard.contract.loader import parse_contract
    from airflow_opsguard.gx.importing import suite_to_contract
    from airflow_opsguard.gx.suites import read_suite_file

    spec = read_suite_file(suite_path)
    name = (dataset or spec.name).strip()
    contract, skipped = suite_to_contract(list(spec.expectations), name)
    parse_contract(contract, origin=f"{suite_path} (as a contract)")
    return contract, skipped


def add_gx_commands(commands: Any) -> None:
    """Add ``export-gx`` and ``import-gx`` to the ``opsguard`` command line."""
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


def _export(args: argparse.Namespace) -> int:
    suite, skipped = export_suite(args.contract, args.name)
    _write(args.out, json.dumps(suite, indent=2) + "\n", "suite")
    _report(args.contract, "not exported", skipped)
    return 0


def _import(args: argparse.Namespace) -> int:
    import yaml

    contract, skipped = import_suite(args.suite, args.dataset)
    text = yaml.safe_dump(contract, sort_keys=False, allow_unicode=True)
    _write(args.out, text, "contract")
    _report(args.suite, "not imported", skipped)
    return 0


def _write(out: str | None, text: str, what: str) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    try:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise OpsGuardError(f"{out}: cannot write the {what}: {exc.strerror or exc}") from None


def _report(origin: str, verb: str, skipped: list[Skipped]) -> None:
    for item in skipped:
        print(f"opsguard: {origin}: {verb}: {item}", file=sys.stderr)
