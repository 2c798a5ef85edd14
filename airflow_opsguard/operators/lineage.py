"""OpenLineage: a gate's verdict as data-quality facets on the dataset it checked.

The Airflow OpenLineage provider asks operators for their lineage through
``get_openlineage_facets_on_complete`` / ``..._on_failure``; the gate answers with the
checked dataset as an input carrying a ``dataQualityAssertions`` facet (each check: its
type, column, pass or not, severity, observed and expected) and a
``dataQualityMetrics`` facet (rows, null and distinct counts, min and max where they
were measured). Lineage tools (Marquez, DataHub, ...) then show the verdict on the
dataset. Without the provider the gate never calls into this module's OpenLineage
part, and nothing of OpenLineage is imported.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_opsguard.checks.results import CheckResult, GateResult
    from airflow_opsguard.contract.models import Contract

# Database schemes as OpenLineage's naming spec spells them, with their default ports.
_SCHEMES = {"postgresql": ("postgres", 5432), "mysql": ("mysql", 3306), "mariadb": ("mysql", 3306)}


@dataclass(frozen=True)
class LineageDataset:
    """A dataset as OpenLineage names it: a namespace (where) and a name (what)."""

    namespace: str
    name: str


def provider_installed() -> bool:
    """Is the Airflow OpenLineage provider installed? (Imports nothing of it.)"""
    try:
        return importlib.util.find_spec("airflow.providers.openlineage") is not None
    except ModuleNotFoundError:
        return False


def dataset_of(contract: Contract, data: Any, table: str | None) -> LineageDataset:
    """The checked dataset, named after OpenLineage's conventions: ``postgres://host:5432``
    and ``db.schema.table``; ``file`` and an absolute path; ``s3://bucket`` and a key."""
    import sqlalchemy as sa

    from airflow_opsguard.engines.sources import DatabaseSource, FileSource, resolve_source

    source = resolve_source(contract, data, table)
    if isinstance(source, DatabaseSource):
        if source.engine is not None:
            url = source.engine.url
        elif source.conn_id is not None:
            from airflow_opsguard.connections import engine_for_conn_id

            url = engine_for_conn_id(source.conn_id).url
        else:
            url = sa.make_url(str(source.url))
        return _table_dataset(url, source.table, contract.dataset)
    if not isinstance(source, FileSource):
        return LineageDataset("opsguard", contract.dataset)  # an in-memory DataFrame
    text = source.location
    if "://" in text:
        scheme, _, rest = text.partition("://")
        bucket, _, key = rest.partition("/")
        return LineageDataset(f"{scheme}://{bucket}", key)
    return LineageDataset("file", os.path.abspath(text))


def _table_dataset(url: Any, table: str | None, dataset: str) -> LineageDataset:
    backend = url.get_backend_name()
    if backend in _WAREHOUSES:
        return _warehouse_dataset(backend, url, table or dataset)
    if backend == "sqlite":
        return LineageDataset(f"sqlite://{os.path.abspath(url.database or '')}", table or dataset)
    scheme, port = _SCHEMES.get(backend, (backend, None))
    where = f"{scheme}://{url.host or 'localhost'}"
    if url.port or port:
        where += f":{url.port or port}"
    if table is None:  # a query: name it after the contract's dataset
        return LineageDataset(where, f"{url.database}.{dataset}" if url.database else dataset)
    parts = table.split(".")
    if scheme == "postgres" and len(parts) == 1:
        parts = ["public", *parts]
    if url.database:
        parts = [url.database, *parts]
    return LineageDataset(where, ".".join(parts))


_WAREHOUSES = ("snowflake", "bigquery", "trino", "databricks")


def _warehouse_dataset(backend: str, url: Any, table: str) -> LineageDataset:
    """A warehouse table as OpenLineage's naming spec names it: Snowflake
    ``snowflake://{org}-{account}`` and ``DATABASE.SCHEMA.TABLE`` (unquoted names are
    upper case there); BigQuery ``bigquery`` and ``project.dataset.table``; Trino
    ``trino://host:port`` and ``catalog.schema.table``; Databricks ``databricks://host``
    and ``catalog.schema.table``. The URL gives what the table name leaves out."""
    parts = table.split(".")
    if backend == "bigquery":  # bigquery://project/dataset
        context = [url.host or "", url.database or ""]
        return LineageDataset("bigquery", ".".join([*context[: 3 - len(parts)], *parts]))
    if backend == "databricks":  # databricks://token@host?catalog=main&schema=sales
        context = [url.query.get("catalog", ""), url.query.get("schema", "default")]
        where = f"databricks://{url.host}"
    else:  # snowflake://user@org-account/DB/SCHEMA, trino://user@host:port/catalog/schema
        context = (url.database or "").split("/")[:2]
        where = f"{backend}://{url.host}"
        if backend == "trino":
            where += f":{url.port or 8080}"
    name = ".".join([*[c for c in context if c][: max(0, 3 - len(parts))], *parts])
    return LineageDataset(where, name.upper() if backend == "snowflake" else name)


def operator_lineage(dataset: LineageDataset, result: GateResult) -> Any:
    """The provider's ``OperatorLineage`` for one verdict (imports OpenLineage)."""
    from airflow.providers.common.compat.openlineage.facet import InputDataset
    from airflow.providers.openlineage.extractors.base import OperatorLineage
    from openlineage.client.generated.data_quality_assertions_dataset import (
        DataQualityAssertionsDatasetFacet,
    )
    from openlineage.client.generated.data_quality_metrics_input_dataset import (
        DataQualityMetricsInputDatasetFacet,
    )

    assertions = DataQualityAssertionsDatasetFacet(
        assertions=[_assertion(c) for c in result.checks]
    )
    metrics = DataQualityMetricsInputDatasetFacet(
        rowCount=result.rows,
        columnMetrics=_column_metrics(result),
        bytes=_int(result.data_fingerprint.get("bytes")),
        fileCount=_int(result.data_fingerprint.get("files")),
    )
    facets = {"dataQualityAssertions": assertions, "dataQualityMetrics": metrics}
    return OperatorLineage(
        inputs=[InputDataset(namespace=dataset.namespace, name=dataset.name, inputFacets=facets)]
    )


def _assertion(check: CheckResult) -> Any:
    from openlineage.client.generated.data_quality_assertions_dataset import Assertion

    return Assertion(
        assertion=check.type,
        success=check.status == "pass",
        column=check.column,
        severity="error" if check.severity == "fail" else "warn",
        name=check.name,
        description=check.message,
        expected=None if check.expected is None else str(check.expected),
        actual=None if check.observed is None else str(check.observed),
    )


def _column_metrics(result: GateResult) -> dict[str, Any]:
    """Per column: nulls from the stored null fractions, distinct counts where measured,
    and the min and max that range checks measured."""
    from openlineage.client.generated.data_quality_metrics_input_dataset import ColumnMetrics

    found: dict[str, dict[str, Any]] = {}
    rows = result.rows or 0
    for name, value in result.metrics.items():
        kind, _, rest = name.partition("(")
        column = rest[:-1] if rest.endswith(")") else None
        if column is None or value is None:
            continue
        if kind == "null_fraction":
            found.setdefault(column, {})["nullCount"] = round(float(value) * rows)
        elif kind == "distinct_count":
            found.setdefault(column, {})["distinctCount"] = int(value)
    for check in result.checks:
        low, high = check.metrics.get("min"), check.metrics.get("max")
        if check.column and check.type == "range":
            if isinstance(low, int | float) and not isinstance(low, bool):
                found.setdefault(check.column, {})["min"] = float(low)
            if isinstance(high, int | float) and not isinstance(high, bool):
                found.setdefault(check.column, {})["max"] = float(high)
    return {column: ColumnMetrics(**values) for column, values in found.items()}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
