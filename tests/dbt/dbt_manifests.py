"""Small dbt manifests written by the tests, shaped as dbt writes them (schema v12), for
the cases the real project does not have."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

V12 = "https://schemas.getdbt.com/dbt/manifest/v12.json"
_NUMBERS = itertools.count(1)


def model(
    name: str,
    columns: dict[str, dict[str, Any]] | None = None,
    *,
    enforced: bool = False,
    constraints: list[dict[str, Any]] | None = None,
    materialized: str = "table",
    database: str = "analytics",
) -> dict[str, Any]:
    return {
        "resource_type": "model",
        "name": name,
        "package_name": "shop",
        "database": database,
        "schema": "public",
        "alias": name,
        "relation_name": f'"{database}"."public"."{name}"',
        "original_file_path": f"models/{name}.sql",
        "config": {"materialized": materialized, "contract": {"enforced": enforced}},
        "contract": {"enforced": enforced},
        "constraints": constraints or [],
        "columns": {
            column: {"name": column, "data_type": None, "constraints": [], **spec}
            for column, spec in (columns or {}).items()
        },
    }


def source(
    source_name: str,
    name: str,
    *,
    loaded_at_field: str | None = None,
    freshness: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "resource_type": "source",
        "name": name,
        "source_name": source_name,
        "package_name": "shop",
        "database": "analytics",
        "schema": "raw",
        "identifier": name,
        "relation_name": f'"analytics"."raw"."{name}"',
        "original_file_path": "models/sources.yml",
        "loaded_at_field": loaded_at_field,
        "freshness": freshness,
        "columns": {},
        "config": {},
    }


def data_test(
    test_name: str,
    on: str,
    column: str | None = None,
    *,
    namespace: str | None = None,
    depends_on: list[str] | None = None,
    config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[str, dict[str, Any]]:
    """A generic test on the node ``on`` (a unique id), as (unique id, node)."""
    name = f"{test_name}_{on.rsplit('.', 1)[-1]}_{column or 'model'}"
    node = {
        "resource_type": "test",
        "name": name,
        "test_metadata": {
            "name": test_name,
            "namespace": namespace,
            "kwargs": {**kwargs, "column_name": column},
        },
        "column_name": column,
        "attached_node": on,
        "depends_on": {"nodes": depends_on or [on]},
        "config": {
            "severity": "ERROR",
            "where": None,
            "warn_if": "!= 0",
            "error_if": "!= 0",
            **(config or {}),
        },
    }
    return f"test.shop.{name}.{next(_NUMBERS)}", node  # dbt ends ids with a hash


def write_manifest(
    folder: Path,
    nodes: dict[str, dict[str, Any]],
    sources: dict[str, dict[str, Any]] | None = None,
    *,
    version: str = V12,
    adapter: str = "postgres",
) -> Path:
    document = {
        "metadata": {
            "dbt_schema_version": version,
            "dbt_version": "1.10.0",
            "project_name": "shop",
            "adapter_type": adapter,
        },
        "nodes": nodes,
        "sources": sources or {},
    }
    path = folder / "manifest.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path
