"""A resolved source opened for work other than a contract's checks (profiles)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from airflow_opsguard.engines.sources import DatabaseSource, FileSource, Source, SparkSource

if TYPE_CHECKING:
    from airflow_opsguard.engines.opened import OpenedSource


@contextmanager
def open_source(source: Source) -> Iterator[OpenedSource]:
    """The source opened for work other than a contract's checks (profiles), with the
    engine's settings (DuckDB's limits; a read-only, UTC, time-limited connection)."""
    if isinstance(source, DatabaseSource):
        from airflow_opsguard.engines.sql import open_database

        with open_database(source) as opened:
            yield opened
        return
    if isinstance(source, SparkSource):
        from airflow_opsguard.engines.spark import open_spark

        with open_spark(source) as opened:
            yield opened
        return
    from airflow_opsguard.engines.files import open_data

    data = source.location if isinstance(source, FileSource) else source.frame
    file_format = source.format if isinstance(source, FileSource) else None
    filesystem = source.filesystem() if isinstance(source, FileSource) else None
    with open_data(data, file_format=file_format, filesystem=filesystem) as opened:
        yield opened
