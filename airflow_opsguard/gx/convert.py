"""Contracts to GX suites and back (``opsguard export-gx`` / ``import-gx``).

Neither imports Great Expectations: the mapping is ours (:mod:`.mapping`). What does not
convert is returned with the reason, for the caller to list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_opsguard.gx.mapping import META_KEY, Skipped

if TYPE_CHECKING:
    from airflow_opsguard.contract.models import Contract


def export_suite(
    contract: Contract, name: str | None = None
) -> tuple[dict[str, Any], list[Skipped]]:
    """The GX suite (JSON mapping) of a loaded contract (see
    :func:`airflow_opsguard.load_contract`: ours or ODCS), and what it could not state."""
    from airflow_opsguard.gx.exporting import contract_to_expectations

    expectations, skipped = contract_to_expectations(contract)
    suite = {
        "name": name or contract.dataset,
        "expectations": expectations,
        "meta": {META_KEY: {"dataset": contract.dataset, "contract": contract.fingerprint}},
        "notes": f"Exported by opsguard export-gx from {contract.origin or contract.dataset}.",
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
