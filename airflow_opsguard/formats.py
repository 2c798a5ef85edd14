"""A contract in any format it is written in: ours, or an Open Data Contract Standard v3
document; and its Great Expectations suites read.

Which format a document is in is decided here, above the contract layer, which knows
only our format (:mod:`airflow_opsguard.contract.loader`): an ODCS document is converted
(:mod:`airflow_opsguard.odcs.reading`) and then parsed as ours, with its rules that do
not map listed in one warning. :func:`load_contract` is what every entry point loads a
contract with (``airflow_opsguard.load_contract``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_opsguard.contract.contract import Contract
from airflow_opsguard.contract.loader import (
    ContractLike,
    contract_mapping,
    parse_contract,
    read_contract_file,
)
from airflow_opsguard.contract.text import clip
from airflow_opsguard.odcs import is_odcs

if TYPE_CHECKING:
    import yaml


def load_contract(contract: ContractLike) -> Contract:
    """Return a :class:`Contract` from a path to a YAML file (ours or ODCS v3), a
    mapping, or a Contract.

    Raises :class:`ContractError` with one line naming the file, line and key at fault;
    a ``gx_suite`` file that is missing or malformed fails the load (GX is not imported).
    """
    if isinstance(contract, Contract):
        return contract
    if isinstance(contract, Mapping):
        return parse_document(contract, origin="<contract>")
    origin = os.fspath(contract)
    data, node = read_contract_file(origin)
    shown = clip(origin, 300)
    loaded = parse_document(contract_mapping(data, origin=shown), origin=shown, node=node)
    loaded = loaded.with_origin(origin)
    if loaded.gx_suite:
        from airflow_opsguard.gx.suites import contract_suites

        contract_suites(loaded)  # the suite files are read now, not when the data is
    return loaded


def parse_document(
    data: Mapping[str, Any], *, origin: str = "<contract>", node: yaml.Node | None = None
) -> Contract:
    """A contract from a document's mapping: ours, or an ODCS v3 document (``apiVersion:
    v3.x``, ``kind: DataContract``), whose rules that do not map are listed in one
    warning."""
    if is_odcs(data):
        from airflow_opsguard.odcs.reading import odcs_to_contract, warn_unmapped

        data, unmapped = odcs_to_contract(data, origin=origin)
        warn_unmapped(origin, unmapped)
        node = None  # the lines of the ODCS document are not those of the contract
    return parse_contract(data, origin=origin, node=node)
