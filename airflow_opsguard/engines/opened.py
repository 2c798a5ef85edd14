"""A data source opened for work other than a contract's checks (profiles, GX suites).

The file engine (DuckDB) and the SQL engine each open their sources the way they do for
checks, with the same settings (memory limit, statement timeout, read-only session), and
hand over the connection, the relation, its columns, and how to explain a failed query.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlalchemy.sql.selectable import FromClause

from airflow_opsguard.checks.observations import ObservedColumn
from airflow_opsguard.errors import DataSourceError


@dataclass(frozen=True)
class OpenedSource:
    """An open connection and the relation to read, with its columns and its name."""

    connection: Connection
    relation: FromClause
    columns: tuple[ObservedColumn, ...]
    name: str
    # A failed query as a one-line DataSourceError that names the source (no secrets).
    explain: Callable[[BaseException], DataSourceError]


# What a run does with the source the engine measured, while it is still open (a
# profile, GX suites): the data is opened once per run.
AfterMeasuring = Callable[[OpenedSource], None]
