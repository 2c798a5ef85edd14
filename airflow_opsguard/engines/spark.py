"""The Spark engine: the contract's plan runs as Spark SQL where the data lives.

A :class:`~airflow_opsguard.engines.sources.SparkSource` (a Spark DataFrame, or a path,
table or query on a Spark session) is registered as a temporary view, and the one plan
(:mod:`airflow_opsguard.engines.plan`) runs on it through the Spark SQL dialect of
:mod:`airflow_opsguard.engines.spark_sql`, with the same executor as DuckDB and the SQL
databases: one aggregate query, a GROUP BY per unique check (beside it, on a cluster
with room for both), and LIMITed sample queries for the checks that fail. Only those
rows are collected: the data itself never reaches the driver (no ``toPandas``, no
``collect`` of the source).

Sessions: a DataFrame's own; ``master`` (``local[4]``, ``spark://host:7077``, ``yarn``);
``remote`` (Spark Connect, ``sc://host:15002``); none: the active session, else a new
``local[*]`` one. An existing session is used as it is: no setting of it is changed.
A query source runs as a subquery (``SELECT * FROM (query)``), so that Spark's parser
refuses a statement that would write (``DROP``, ``INSERT``) instead of running it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.checks.observations import Observations, ObservedColumn
from airflow_opsguard.contract.paths import relative_to_contract
from airflow_opsguard.engines.connections import resolve_spark_endpoint
from airflow_opsguard.engines.executor import DEFAULT_SAMPLE_SIZE, Parallel, run_plan
from airflow_opsguard.engines.opened import AfterMeasuring, OpenedSource
from airflow_opsguard.engines.relations import (
    OTHER_ALIAS,
    OtherNotFound,
    OtherRelation,
    OtherResolver,
)
from airflow_opsguard.engines.sources import SparkSource
from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.extras import extra_for, install_hint

if TYPE_CHECKING:
    from airflow_opsguard.contract.models import Contract, ReconcileTarget, ReferenceTarget
    from airflow_opsguard.drift.reference import Reference
    from airflow_opsguard.engines import spark_sql

APP_NAME = "airflow-opsguard"
DEFAULT_MASTER = "local[*]"
VIEW_PREFIX = "opsguard_source_"

# Spark's reader for each format, and the options that read a file as DuckDB does.
_READERS: dict[str, tuple[str, dict[str, str]]] = {
    "parquet": ("parquet", {}),
    "csv": ("csv", {"header": "true", "inferSchema": "true"}),
    "jsonl": ("json", {}),
    "json": ("json", {"multiLine": "true"}),
    "orc": ("orc", {}),
    "delta": ("delta", {}),
}
_SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".orc": "orc",
}
_COMPRESSION = (".gz", ".bz2", ".zst", ".zstd", ".snappy", ".lz4")


def measure_spark(
    contract: Contract,
    source: SparkSource,
    *,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    reference: Reference | None = None,
    then: AfterMeasuring | None = None,
) -> Observations:
    """Measure every check of ``contract`` on a Spark source, in Spark.

    ``reference`` is the distribution reference, loaded by the caller (without one a
    distribution check reports that it was not measured). ``then`` is handed the source
    while its view is still open, once it is measured (the profile kept for a baseline
    reads the same view). Raises :class:`DataSourceError` when the data cannot be read,
    with ``retryable=True`` when the session or the cluster failed rather than the
    request.
    """
    with _opened(source) as (opened, views, fingerprint):
        observations = run_plan(
            opened.connection,
            contract,
            opened.relation,
            opened.columns,
            source_name=source.name,
            fingerprint=fingerprint,
            sample_size=sample_size,
            classify_error=_infrastructure(source),
            others=_other_sources(views, contract),
            reference=reference,
            parallel=Parallel(opened.connection.engine.connect, workers=2),
        )
        if then is not None:
            then(opened)
        return observations


@contextmanager
def open_spark(source: SparkSource) -> Iterator[OpenedSource]:
    """A Spark source opened for work other than a contract's checks (profiles)."""
    with _opened(source) as (opened, _, _):
        yield opened


@contextmanager
def _opened(source: SparkSource) -> Iterator[tuple[OpenedSource, _Views, dict[str, Any]]]:
    """The source as a temporary view on its session, on a SQLAlchemy connection; the
    views are dropped afterwards."""
    from airflow_opsguard.engines import spark_sql

    session = spark_session(source)
    views = _Views(session)
    try:
        frame = _frame(session, source)
        view = views.register(frame, source.name)
        columns = tuple(spark_column(f.name, f.dataType) for f in frame.schema.fields)
        engine = spark_sql.spark_engine(session, _error_class)
        with engine.connect() as connection:
            explain = _explainer(source.name)
            opened = OpenedSource(connection, sa.table(view), columns, source.name, explain)
            yield opened, views, _fingerprint(source)
    finally:
        views.drop()


def _fingerprint(source: SparkSource) -> dict[str, Any]:
    found: dict[str, Any] = {"engine": "spark"}
    if source.table is not None:
        found["table"] = source.table
    elif source.query is not None:
        found["query_sha256"] = hashlib.sha256(source.query.encode()).hexdigest()[:16]
    elif source.path is not None:
        found["path"] = source.path
    else:
        found["in_memory"] = True
    return found


# --------------------------------------------------------------------------- sessions


def spark_session(source: SparkSource) -> Any:
    """The session that reads ``source`` (see the module's docstring)."""
    if source.frame is not None:
        return source.frame.sparkSession
    if source.conn_id and not (source.master or source.remote):
        source = _with_connection(source)
    SparkSession = _pyspark_session_class()
    try:
        if source.remote:
            return SparkSession.builder.remote(source.remote).appName(APP_NAME).getOrCreate()
        active = SparkSession.getActiveSession()
        if active is not None and source.master is None:
            return active
        builder = SparkSession.builder.appName(APP_NAME)
        return builder.master(source.master or DEFAULT_MASTER).getOrCreate()
    except DataSourceError:
        raise
    except Exception as exc:  # py4j, gRPC and Java's start-up errors share no class
        where = source.where or DEFAULT_MASTER
        raise DataSourceError(
            f"cannot start a Spark session ({where}): {_first_line(exc)}", retryable=True
        ) from None


def _with_connection(source: SparkSource) -> SparkSource:
    """The source with the master or Spark Connect URL its Airflow connection names."""
    from dataclasses import replace

    assert source.conn_id is not None
    endpoint = resolve_spark_endpoint(source.conn_id)
    return replace(source, master=endpoint.get("master"), remote=endpoint.get("remote"))


def _pyspark_session_class() -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        extra = extra_for(exc.name or "pyspark") or extra_for("pyspark")
        assert extra is not None
        raise DataSourceError(install_hint(extra)) from None
    return SparkSession


def _frame(session: Any, source: SparkSource) -> Any:
    """The DataFrame of the source: lazy, nothing read but the schema."""
    if source.frame is not None:
        return source.frame
    try:
        if source.table is not None:
            return session.table(source.table)
        if source.query is not None:
            return session.sql(f"SELECT * FROM ({_clean_query(source.query)}) AS opsguard_query")
        assert source.path is not None
        return read_path(session, source.path, source.format)
    except DataSourceError:
        raise
    except Exception as exc:
        raise _source_error(exc, source.name) from None


def read_path(session: Any, path: str, file_format: str | None) -> Any:
    """A path (file, folder, glob or URL the cluster reads) as a lazy DataFrame."""
    if "://" not in path and not any(c in path for c in "*?[{") and not os.path.exists(path):
        # Said as the file engine says it (Spark's own text names a file: URL).
        raise DataSourceError(f"{path}: no such file or directory")
    kind = file_format or _format_of(path)
    reader_format, options = _READERS[kind]
    reader = session.read.format(reader_format).options(**options)
    if kind == "csv" and _strip_compression(path).lower().endswith(".tsv"):
        reader = reader.option("sep", "\t")
    return reader.load(path)


def _format_of(path: str) -> str:
    """The format a path's ending (or, for a local folder, its files' endings) tells."""
    found = _SUFFIXES.get(os.path.splitext(_strip_compression(path))[1].lower())
    if found is None and os.path.isdir(path):
        endings = {
            _SUFFIXES.get(os.path.splitext(_strip_compression(name))[1].lower())
            for name in os.listdir(path)
            if not name.startswith((".", "_"))
        }
        endings.discard(None)
        if len(endings) == 1:
            found = endings.pop()
    if found is None:
        raise DataSourceError(
            f"{path}: cannot tell the format from the name; give source.format "
            f"({', '.join(_READERS)})"
        )
    return found


def _strip_compression(path: str) -> str:
    for suffix in _COMPRESSION:
        if path.lower().endswith(suffix):
            return path[: -len(suffix)]
    return path


def _clean_query(query: str) -> str:
    text = query.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise DataSourceError("the query is empty")
    return text


class _Views:
    """Temporary views of one gate on a session, each under a name of its own (gates
    running at once on one session never see each other's), dropped afterwards."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.names: list[str] = []

    def register(self, frame: Any, shown: str) -> str:
        name = f"{VIEW_PREFIX}{uuid.uuid4().hex[:12]}"
        try:
            frame.createOrReplaceTempView(name)
        except Exception as exc:
            raise _source_error(exc, shown) from None
        self.names.append(name)
        return name

    def drop(self) -> None:
        with ExitStack() as stack:
            for name in self.names:
                stack.callback(self._drop, name)
        self.names = []

    def _drop(self, name: str) -> None:
        try:
            self.session.catalog.dropTempView(name)
        except Exception:  # a session that is gone took its views along
            return


# ------------------------------------------------------------------------------ types


def spark_column(name: str, data_type: Any) -> ObservedColumn:
    """A column as Spark describes it (``bigint``, ``timestamp``, ``decimal(10,2)``).

    Spark's ``timestamp`` is an instant (shown in the session's time zone): a timestamp
    with a time zone; ``timestamp_ntz`` is a wall-clock time without one."""
    native = data_type.simpleString()
    kind = type(data_type).__name__
    mapped = _TYPES.get(kind)
    if mapped is None and kind in ("VarcharType", "CharType"):
        mapped = "string"
    return ObservedColumn(name, native, mapped, timezone_aware=kind == "TimestampType")


_TYPES = {
    "ByteType": "integer",
    "ShortType": "integer",
    "IntegerType": "integer",
    "LongType": "integer",
    "FloatType": "float",
    "DoubleType": "float",
    "DecimalType": "decimal",
    "StringType": "string",
    "BooleanType": "boolean",
    "DateType": "date",
    "TimestampType": "timestamp",
    "TimestampNTZType": "timestamp",
}


# ----------------------------------------------------------------------------- errors

# Errors that say the session or the cluster failed, not the statement.
_GONE = (
    "Py4JNetworkError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "SparkConnectGrpcException",
    "RetriesExceeded",
)
_GONE_TEXT = (
    "UNAVAILABLE",
    "SparkContext was shut down",
    "stopped SparkContext",
    "Connection refused",
    "DEADLINE_EXCEEDED",
)


def _error_class(exc: BaseException) -> type[spark_sql.Error]:
    """The DB-API class of a Spark error: the session gone is an OperationalError."""
    from airflow_opsguard.engines import spark_sql

    names = {k.__name__ for k in type(exc).__mro__}
    text = str(exc)
    if names & set(_GONE) and not names & {"AnalysisException", "ParseException"}:
        return spark_sql.OperationalError
    if any(marker in text for marker in _GONE_TEXT):
        return spark_sql.OperationalError
    if names & {"AnalysisException", "ParseException"}:
        return spark_sql.ProgrammingError
    return spark_sql.DatabaseError


def _infrastructure(source: SparkSource) -> Any:
    def classify(exc: BaseException) -> DataSourceError | None:
        original = getattr(exc, "orig", exc)
        if type(original).__name__ == "OperationalError":
            return DataSourceError(f"{source.name}: {_first_line(original)}", retryable=True)
        return None

    return classify


def _explainer(name: str) -> Any:
    def explain(exc: BaseException) -> DataSourceError:
        return _source_error(getattr(exc, "orig", exc), name)

    return explain


def _source_error(exc: BaseException, name: str) -> DataSourceError:
    from airflow_opsguard.engines import spark_sql

    retryable = _error_class(exc) is spark_sql.OperationalError
    return DataSourceError(f"cannot read {name}: {_first_line(exc)}", retryable=retryable)


def _first_line(exc: BaseException) -> str:
    from airflow_opsguard.engines.spark_sql import spark_message

    return spark_message(exc)


# ----------------------------------------------------------------------- other tables


def _other_sources(views: _Views, contract: Contract) -> OtherResolver:
    """Finds the tables and files that reference and reconcile checks name, each read by
    the same session as a view of its own, so that an anti-join runs in Spark."""
    resolved: dict[str, OtherRelation] = {}

    def resolve(target: ReferenceTarget | ReconcileTarget) -> OtherRelation:
        key = f"table:{target.table}" if target.table is not None else f"path:{target.path}"
        if key in resolved:
            return resolved[key]
        try:
            if target.table is not None:
                frame = views.session.table(target.table)
                shown = f"table {target.table!r}"
            else:
                assert target.path is not None
                location = relative_to_contract(contract, target.path)
                frame = read_path(views.session, location, None)
                shown = f"file {target.path!r}"
            view = views.register(frame, shown)
        except DataSourceError as exc:
            raise OtherNotFound(str(exc)) from None
        except Exception as exc:
            raise OtherNotFound(f"cannot read {target.shown!r}: {_first_line(exc)}") from None
        columns = tuple(spark_column(f.name, f.dataType) for f in frame.schema.fields)
        found = OtherRelation(sa.table(view).alias(OTHER_ALIAS), columns, shown)
        resolved[key] = found
        return found

    return resolve
