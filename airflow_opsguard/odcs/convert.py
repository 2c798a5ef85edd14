"""Contracts between our format and the Open Data Contract Standard v3 (``opsguard
convert``). What does not convert is returned with the reason, for the caller to list."""

from __future__ import annotations

from typing import Any


def to_opsguard(path: str, object_name: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """Our contract (a mapping) from a contract file, ODCS or ours, and what did not map."""
    from airflow_opsguard.contract.loader import parse_contract
    from airflow_opsguard.odcs import is_odcs
    from airflow_opsguard.odcs.reading import odcs_to_contract

    data, node = _read(path)
    if not is_odcs(data):
        contract = parse_contract(data, origin=path, node=node)
        return contract.model_dump(mode="json", by_alias=True, exclude_unset=True), []
    mapping, unmapped = odcs_to_contract(data, origin=path, object_name=object_name)
    parse_contract(mapping, origin=f"{path} (as an opsguard contract)")
    return mapping, unmapped


def to_odcs(path: str, object_name: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """The ODCS document of a contract file (ours, or ODCS read and written again)."""
    from airflow_opsguard.contract.loader import parse_contract
    from airflow_opsguard.odcs import is_odcs
    from airflow_opsguard.odcs.reading import odcs_to_contract
    from airflow_opsguard.odcs.writing import contract_to_odcs

    data, node = _read(path)
    unmapped: list[str] = []
    if is_odcs(data):
        mapping, unmapped = odcs_to_contract(data, origin=path, object_name=object_name)
        contract = parse_contract(mapping, origin=f"{path} (as an opsguard contract)")
    else:
        contract = parse_contract(data, origin=path, node=node)
    document, more = contract_to_odcs(contract)
    return document, [*unmapped, *more]


def _read(path: str) -> tuple[Any, Any]:
    """The mapping in a contract file and its YAML nodes, read as every contract file is
    (within the limits of :mod:`airflow_opsguard.contract.safe_load`)."""
    from airflow_opsguard.contract.loader import contract_mapping, read_contract_file

    data, node = read_contract_file(path)
    return contract_mapping(data, origin=path), node
