"""A :class:`~airflow_opsguard.dbt.mapping.Draft` as a commented contract file.

Every entry is one line of YAML in flow style, under a comment that says what in dbt it
comes from; the header lists what was not imported. The same manifest gives the same
text, byte for byte.
"""

from __future__ import annotations

from typing import Any

import yaml

from airflow_opsguard.dbt.manifest import Manifest
from airflow_opsguard.dbt.mapping import ColumnDraft, Draft

_SHORTHAND_ORDER = ("not_null", "unique", "range", "allowed")
# libyaml's emitter where PyYAML has it: the pure-Python one takes most of an import.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def contract_mapping(
    draft: Draft, *, url: str | None = None, conn_id: str | None = None
) -> dict[str, Any]:
    """The contract as a mapping (what the file holds, without its comments)."""
    relation = draft.relation
    source: dict[str, Any] = {}
    if url:
        source["url"] = url
    if conn_id:
        source["conn_id"] = conn_id
    source["table"] = relation.table
    mapping: dict[str, Any] = {"dataset": relation.name, "source": source}
    columns = _columns(draft)
    if columns:
        mapping["schema"] = {
            "extra_columns": "fail" if relation.enforced else "allow",
            "columns": [_column(c) for c in columns],
        }
    if draft.freshness is not None:
        mapping["freshness"] = dict(draft.freshness.params)
    checks = draft.sorted_checks()
    if checks:
        mapping["checks"] = [dict(rule.params) for rule in checks]
    return mapping


def render_contract(
    draft: Draft, manifest: Manifest, *, url: str | None = None, conn_id: str | None = None
) -> str:
    """The contract file's text: the mapping of :func:`contract_mapping`, commented."""
    relation = draft.relation
    mapping = contract_mapping(draft, url=url, conn_id=conn_id)
    lines = [
        f"# dbt {relation.kind} {relation.name} ({relation.unique_id}"
        + (f", {relation.path})" if relation.path else ")"),
        f"# imported by `opsguard import-dbt` from {manifest.path}",
        f"# (dbt {manifest.dbt_version}, manifest v{manifest.version}).",
    ]
    if draft.notes:
        lines += ["#", "# Not imported from dbt:"]
        lines += [f"#   - {note}" for note in draft.notes]
    lines.append(f"dataset: {_flow(mapping['dataset'])}")
    lines.append("source:")
    if relation.relation_name:
        lines.append(f"  # dbt's relation: {relation.relation_name}")
    if not url and not conn_id:
        lines += [
            "  # the database is not named here: add url or conn_id (import-dbt --url or",
            "  # --conn-id), or give it where the contract runs: opsguard check --data URL,",
            "  # QualityGateOperator(conn_id=..., table=...), validate(data=URL)",
        ]
    lines += [f"  {key}: {_flow(value)}" for key, value in mapping["source"].items()]
    if "schema" in mapping:
        enforced = "the dbt model contract is enforced: dbt builds exactly these columns"
        unlisted = "no enforced dbt model contract: the table may have more columns"
        why = enforced if relation.enforced else unlisted
        lines += ["schema:", f"  extra_columns: {mapping['schema']['extra_columns']}  # {why}"]
        lines.append("  columns:")
        for column, entry in zip(_columns(draft), mapping["schema"]["columns"], strict=True):
            lines += _entry(entry, _column_origins(column), "    ")
    if draft.freshness is not None:
        lines.append(f"# {', '.join(draft.freshness.origins)}")
        lines.append(f"freshness: {_flow(mapping['freshness'])}")
    if "checks" in mapping:
        lines.append("checks:")
        for rule, entry in zip(draft.sorted_checks(), mapping["checks"], strict=True):
            lines += _entry(entry, rule.origins, "  ")
    return "\n".join(lines) + "\n"


def _columns(draft: Draft) -> list[ColumnDraft]:
    """The columns a contract lists: every column of an enforced model contract, and
    elsewhere those with a type or a check (a column that is only documented may not
    be in the table)."""
    enforced = draft.relation.enforced
    return [
        c for c in draft.columns.values() if (enforced and c.declared) or c.origins or c.shorthand
    ]


def _column(column: ColumnDraft) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": column.name}
    if column.type:
        entry["type"] = column.type
    for kind in _SHORTHAND_ORDER:
        rule = column.shorthand.get(kind)
        if rule is None:
            continue
        if kind == "not_null":
            entry["nullable"] = False
        elif kind == "unique":
            entry["unique"] = True
        elif kind == "allowed":
            entry["allowed"] = rule.params["values"]
        else:
            entry.update(rule.params)
    return entry


def _column_origins(column: ColumnDraft) -> list[str]:
    origins = list(column.origins)
    for kind in _SHORTHAND_ORDER:
        rule = column.shorthand.get(kind)
        origins += [o for o in rule.origins if o not in origins] if rule else []
    return origins or ["a column of the dbt model"]


def _entry(entry: dict[str, Any], origins: list[str], indent: str) -> list[str]:
    return [f"{indent}# {'; '.join(origins)}", f"{indent}- {_flow(entry)}"]


def _flow(value: Any) -> str:
    """One YAML value on one line, quoted where YAML needs it."""
    text = yaml.dump(
        value,
        Dumper=_DUMPER,
        default_flow_style=True,
        sort_keys=False,
        width=10**9,  # one line, whatever its length (libyaml takes a C int)
        allow_unicode=True,
    )
    return text.removesuffix("\n").removesuffix("\n...")
