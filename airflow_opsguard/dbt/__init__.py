"""Contracts from a dbt project's ``target/manifest.json`` (``opsguard import-dbt``).

One contract per model (and per source table with something to check): the model's
columns and data types, its constraints, its generic data tests and its source
freshness, with the model's relation as the contract's table. What has no counterpart
is listed with the reason, in the contract's header and by the command. dbt itself is
not imported: the manifest is read as JSON.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from airflow_opsguard.dbt.manifest import ManifestError, read_manifest

__all__ = ["ImportedContract", "ManifestError", "import_manifest"]


@dataclass(frozen=True)
class ImportedContract:
    """One contract drafted from the manifest: its file name and text, or (``text`` is
    None) why it could not be written; ``notes`` is what was not imported."""

    name: str
    kind: str
    file_name: str
    text: str | None
    notes: tuple[str, ...]
    columns: int
    checks: int  # besides the schema's: the column shorthand's and the explicit ones


def import_manifest(
    path: str | os.PathLike[str],
    select: Sequence[str] = (),
    *,
    url: str | None = None,
    conn_id: str | None = None,
) -> list[ImportedContract]:
    """The contracts of the models and sources ``select`` names (default: all of the
    manifest's project) in the dbt manifest at ``path``, sorted by kind and name.

    ``url`` or ``conn_id`` becomes the contracts' ``source.url`` or ``source.conn_id``;
    without them the contracts name only the table, and the database is given where
    they are checked. Each text is loaded with the contract loader before it is
    returned, so that what is written is a valid contract.
    """
    from airflow_opsguard.contract.loader import parse_contract_text
    from airflow_opsguard.dbt.mapping import draft_contracts, select_relations
    from airflow_opsguard.dbt.writer import render_contract
    from airflow_opsguard.errors import ContractError

    if url and conn_id:
        raise ManifestError("give --url or --conn-id, not both")
    manifest = read_manifest(path)
    drafts = draft_contracts(manifest, select_relations(manifest, select))
    found = []
    for draft in drafts:
        relation = draft.relation
        if relation.kind == "source" and draft.empty and not draft.notes:
            continue  # a source dbt only names: nothing to check, nothing to tell
        file_name = f"{relation.name}.yml"
        notes = tuple(draft.notes)
        text: str | None = None
        columns = checks = 0
        if relation.materialized == "ephemeral":
            notes = ("an ephemeral model has no table to check", *notes)
        else:
            text = render_contract(draft, manifest, url=url, conn_id=conn_id)
            try:
                contract = parse_contract_text(text, origin=file_name)
                checks = len(contract.all_checks)
                columns = len(contract.schema_.columns) if contract.schema_ else 0
            except ContractError as exc:
                notes, text = (f"not a valid contract: {exc}", *notes), None
        found.append(
            ImportedContract(relation.name, relation.kind, file_name, text, notes, columns, checks)
        )
    return found
