"""GX suites run through Great Expectations on the gate's data.

Files and in-memory data become one pandas DataFrame (read by the file engine's DuckDB
reader, so paths, globs, fsspec URLs and formats mean what they mean for our checks);
a database is read by GX's SQL datasource on the same URL or Airflow connection, with
the same credentials, on the same table or query. GX runs in an ephemeral context: no
file is written, no progress bar is drawn.

Each expectation becomes one check result (:mod:`.results`). When GX cannot run a suite
at all (the data cannot be read, the database does not answer), every expectation of
that suite is an ``error`` result that names it: a suite never passes unseen.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_opsguard.checks.results import CheckResult
from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.gx.results import check_result
from airflow_opsguard.gx.suites import SuiteSpec, build_suite, import_gx
from airflow_opsguard.urls import mask_text

if TYPE_CHECKING:
    import sqlalchemy as sa

    from airflow_opsguard.engines.opened import OpenedSource
    from airflow_opsguard.engines.sources import DatabaseSource

log = logging.getLogger(__name__)

# At most this many failing values per expectation come back from GX.
PARTIAL_UNEXPECTED = 5
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": PARTIAL_UNEXPECTED}


@dataclass(frozen=True)
class PreparedSuite:
    """A suite read and built: checked before any data is read."""

    spec: SuiteSpec
    suite: Any  # great_expectations.ExpectationSuite


def prepare(specs: Sequence[SuiteSpec]) -> list[PreparedSuite]:
    """Build every suite (imports GX); raises :class:`ContractError` for a broken one."""
    return [PreparedSuite(spec, build_suite(spec)) for spec in specs]


def run_on_data(
    suites: Sequence[PreparedSuite], data: Any, file_format: str | None = None
) -> list[CheckResult]:
    """Run ``suites`` on a path, glob, fsspec URL, pandas DataFrame or Arrow table."""
    try:
        frame = as_frame(data, file_format)
    except DataSourceError as exc:
        return all_errors(suites, f"GX could not read the data: {exc}")
    return _run_on_frame(suites, frame)


def run_on_opened(suites: Sequence[PreparedSuite], opened: OpenedSource) -> list[CheckResult]:
    """Run ``suites`` on a source the file engine has open (DuckDB): its rows read as one
    pandas DataFrame on the connection the checks read, without opening the data again."""
    try:
        frame = frame_of(opened)
    except DataSourceError as exc:
        return all_errors(suites, f"GX could not read the data: {exc}")
    return _run_on_frame(suites, frame)


def _run_on_frame(suites: Sequence[PreparedSuite], frame: Any) -> list[CheckResult]:
    with _context() as context:
        source = context.data_sources.add_pandas("opsguard")
        asset = source.add_dataframe_asset("data")
        definition = asset.add_batch_definition_whole_dataframe("all")
        return _run(suites, lambda: definition.get_batch(batch_parameters={"dataframe": frame}))


def run_on_database(suites: Sequence[PreparedSuite], database: DatabaseSource) -> list[CheckResult]:
    """Run ``suites`` on a database table or query through GX's SQL datasource."""
    from airflow_opsguard.engines.sql import _clean_query, _split_table

    try:
        url = _database_url(database)
    except DataSourceError as exc:
        return all_errors(suites, f"GX could not open {database.name}: {exc}")
    with _context() as context:
        try:
            source = context.data_sources.add_sql(
                "opsguard",
                connection_string=url.render_as_string(hide_password=False),
                kwargs=_engine_kwargs(url),
            )
            if database.query is not None:
                asset = source.add_query_asset("data", query=_clean_query(database.query))
            else:
                schema, table = _split_table(database.table or "")
                asset = source.add_table_asset("data", table_name=table, schema_name=schema)
            definition = asset.add_batch_definition_whole_table("all")
        except Exception as exc:  # GX validates the asset against the database here
            message = mask_text(_first_line(exc), url)
            return all_errors(suites, f"GX could not open {database.name}: {message}")
        return _run(suites, definition.get_batch, url)


def _run(
    suites: Sequence[PreparedSuite], get_batch: Any, url: sa.URL | None = None
) -> list[CheckResult]:
    results: list[CheckResult] = []
    for prepared in suites:
        try:
            batch = get_batch()
            validation = batch.validate(prepared.suite, result_format=RESULT_FORMAT)
        except Exception as exc:  # a failure of GX itself, not of one expectation
            message = mask_text(_first_line(exc), url)
            results.extend(_errors(prepared, f"GX could not run the suite: {message}"))
            continue
        results.extend(_suite_results(prepared, validation, url))
    return results


def _suite_results(
    prepared: PreparedSuite, validation: Any, url: sa.URL | None
) -> list[CheckResult]:
    """One result per expectation, in the suite's order (GX reorders them)."""
    by_id: dict[str, dict[str, Any]] = {}
    for outcome in validation.results:
        configuration = outcome.expectation_config
        if configuration is not None and configuration.id is not None:
            by_id[str(configuration.id)] = outcome.to_json_dict()
    spec = prepared.spec
    results = []
    for index, expectation in enumerate(spec.expectations):
        result = check_result(expectation, by_id.get(spec.expectation_id(index)), spec.name)
        if result.status == "error" and url is not None:
            result = _masked(result, url)
        results.append(result)
    return results


def _masked(result: CheckResult, url: sa.URL) -> CheckResult:
    from dataclasses import replace

    return replace(result, message=mask_text(result.message, url))


def _errors(prepared: PreparedSuite, message: str) -> list[CheckResult]:
    spec = prepared.spec
    return [
        check_result(
            expectation,
            {"exception_info": {"raised_exception": True, "exception_message": message}},
            spec.name,
        )
        for expectation in spec.expectations
    ]


def all_errors(suites: Sequence[PreparedSuite], message: str) -> list[CheckResult]:
    return [result for prepared in suites for result in _errors(prepared, message)]


@contextmanager
def _context() -> Iterator[Any]:
    """An ephemeral GX context: no file written (not even GX's temporary Data Docs
    folder), no progress bars, no analytics."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GX warns about its own deprecations and types
        gx = import_gx()
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        yield gx.get_context(mode="ephemeral", project_config=config)


def as_frame(data: Any, file_format: str | None = None) -> Any:
    """``data`` as one pandas DataFrame: a DataFrame as it is, anything else read by the
    file engine (DuckDB) as our checks read it."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    to_pandas = getattr(data, "to_pandas", None)
    if callable(to_pandas) and not isinstance(data, str | os.PathLike):
        return to_pandas()  # an Arrow table
    from airflow_opsguard.engines.files import open_data

    with open_data(data, file_format=file_format) as opened:
        return frame_of(opened)


def frame_of(opened: OpenedSource) -> Any:
    """The rows of a source the file engine has open, as one pandas DataFrame (DuckDB's
    own reader, on the open connection)."""
    import sqlalchemy as sa

    query = sa.select(sa.text("*")).select_from(opened.relation)
    raw: Any = opened.connection.connection.driver_connection
    try:
        return raw.execute(str(query.compile(dialect=opened.connection.dialect))).df()
    except Exception as exc:  # duckdb raises several unrelated types here
        raise opened.explain(exc) from exc


def _database_url(database: DatabaseSource) -> sa.URL:
    """The URL (with its credentials) of the database our own checks read."""
    from airflow_opsguard.engines.connections import normalise_url, resolve_conn_id

    if database.engine is not None:
        return database.engine.url
    if database.conn_id is not None:
        engine = resolve_conn_id(database.conn_id)
        try:
            return engine.url
        finally:
            engine.dispose()
    return normalise_url(database.url or "")


def _engine_kwargs(url: sa.URL) -> dict[str, Any]:
    """No pool (GX's engines are dropped after the run, so no connection outlives it);
    on PostgreSQL, as our own checks: read-only, UTC, and a connect timeout."""
    from sqlalchemy.pool import NullPool

    from airflow_opsguard.engines.connections import CONNECT_TIMEOUT

    kwargs: dict[str, Any] = {"poolclass": NullPool}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
        options = "-c default_transaction_read_only=on -c TimeZone=UTC"
        kwargs["connect_args"] = {"options": options, "connect_timeout": CONNECT_TIMEOUT}
    return kwargs


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
