"""Measuring: the one dispatcher that turns a resolved source into observations.

"Measure" means this and only this in the package: an engine reads a source and
returns :class:`~airflow_opsguard.checks.observations.Observations` (aggregates and a
few samples), with DuckDB for files and frames and SQL pushdown for databases. Judging
the observations is the evaluation's work (:mod:`airflow_opsguard.checks.evaluate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_opsguard.engines.sources import (
    DatabaseSource,
    FileSource,
    Source,
    SparkSource,
    resolve_source,
)

if TYPE_CHECKING:
    from airflow_opsguard.checks.observations import Observations
    from airflow_opsguard.contract.models import Contract
    from airflow_opsguard.drift.reference import Reference
    from airflow_opsguard.engines.files import Progress
    from airflow_opsguard.engines.opened import AfterMeasuring


def measure_source(
    contract: Contract,
    source: Source,
    *,
    reference: Reference | None = None,
    progress: Progress | None = None,
    then: AfterMeasuring | None = None,
) -> Observations:
    """Measure the contract's checks on a resolved source, with the engine for it.

    ``reference`` is the distribution reference, loaded by the caller (without one a
    distribution check reports that it was not measured). ``then`` is handed the source,
    still open, once it is measured (every engine can); it is not called when measuring
    fails.
    Raises :class:`~airflow_opsguard.errors.DataSourceError` when the data cannot be
    read; its ``retryable`` says whether the source failed (try again later) rather
    than the request.
    """
    if isinstance(source, DatabaseSource):
        from airflow_opsguard.engines.sql import measure_database

        return measure_database(contract, source, reference=reference, then=then)
    if isinstance(source, SparkSource):
        from airflow_opsguard.engines.spark import measure_spark

        return measure_spark(contract, source, reference=reference, then=then)
    from airflow_opsguard.engines.files import measure_data

    if isinstance(source, FileSource):
        return measure_data(
            contract,
            source.location,
            file_format=source.format,
            filesystem=source.filesystem(),
            progress=progress,
            reference=reference,
            then=then,
        )
    return measure_data(contract, source.frame, progress=progress, reference=reference, then=then)


def measure(
    contract: Contract,
    data: Any = None,
    *,
    table: str | None = None,
    reference: Reference | None = None,
    progress: Progress | None = None,
) -> Observations:
    """Measure the contract's checks on ``data`` (default: the contract's source; see
    :func:`~airflow_opsguard.engines.sources.resolve_source`). Without ``reference``,
    the contract's ``distribution.reference`` file is loaded (no results store here)."""
    source = resolve_source(contract, data, table)
    if reference is None and contract.distribution is not None:
        from airflow_opsguard.engines.references import load_reference

        reference = load_reference(contract)
    return measure_source(contract, source, reference=reference, progress=progress)
