"""``opsguard convert FILE --to odcs|opsguard``: contracts between our format and the
Open Data Contract Standard v3. What does not convert is listed on stderr, one line per
item with the reason; the command writes what did, and exits 0."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from airflow_opsguard.errors import OpsGuardError


def to_opsguard(path: str, object_name: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Our contract (a mapping) from a contract file, ODCS or ours, and what did not map."""
    from airflow_opsguard.contract.loader import load_contract, parse_contract
    from airflow_opsguard.odcs import is_odcs
    from airflow_opsguard.odcs.reading import odcs_to_contract

    data = _read(path)
    if not is_odcs(data):
        contract = load_contract(path)
        return contract.model_dump(mode="json", by_alias=True, exclude_unset=True), []
    mapping, unmapped = odcs_to_contract(data, origin=path, object_name=object_name)
    parse_contract(mapping, origin=f"{path} (as an opsguard contract)")
    return mapping, unmapped


def to_odcs(path: str, object_name: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """The ODCS document of a contract file (ours, or ODCS read and written again)."""
    from airflow_opsguard.contract.loader import load_contract, parse_contract
    from airflow_opsguard.odcs import is_odcs
    from airflow_opsguard.odcs.reading import odcs_to_contract
    from airflow_opsguard.odcs.writing import contract_to_odcs

    data = _read(path)
    unmapped: list[str] = []
    if is_odcs(data):
        mapping, unmapped = odcs_to_contract(data, origin=path, object_name=object_name)
        contract = parse_contract(mapping, origin=f"{path} (as an opsguard contract)")
    else:
        contract = load_contract(path)
    document, more = contract_to_odcs(contract)
    return document, [*unmapped, *more]


def _read(path: str) -> Any:
    """The document in a contract file, read as every contract file is (within the
    limits of :mod:`airflow_opsguard.contract.safe_load`)."""
    from airflow_opsguard.contract.safe_load import load_yaml_file

    data, _node = load_yaml_file(path, what="contract")
    return data


def add_convert_command(commands: Any) -> None:
    """Add ``convert`` to the ``opsguard`` command line."""
    convert = commands.add_parser(
        "convert", help="convert a contract to ODCS v3 or from ODCS v3 to an opsguard contract"
    )
    convert.add_argument("contract", help="the contract file (ours or ODCS v3, YAML)")
    convert.add_argument("--to", required=True, choices=("odcs", "opsguard"))
    convert.add_argument("--out", help="the file to write (default: stdout)")
    convert.add_argument("--object", help="ODCS: the schema object to convert, when several")
    convert.set_defaults(func=_convert)


def _convert(args: argparse.Namespace) -> int:
    import yaml

    if args.to == "odcs":
        document, unmapped = to_odcs(args.contract, args.object)
    else:
        document, unmapped = to_opsguard(args.contract, args.object)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OpsGuardError(f"{args.out}: cannot write: {exc.strerror or exc}") from None
    for item in unmapped:
        print(f"opsguard: {args.contract}: not converted: {item}", file=sys.stderr)
    return 0
