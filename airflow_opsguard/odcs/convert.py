"""Contracts between our format and the Open Data Contract Standard v3 (``opsguard
convert``). What does not convert is returned with the reason, for the caller to list."""

from __future__ import annotations

from typing import Any


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
