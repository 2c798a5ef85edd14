"""The engine for files and DataFrames: DuckDB runs the plan in one streaming pass.

DuckDB reads Parquet, CSV and JSON Lines (local paths, directories, globs and fsspec
URLs, also with a filesystem handed in: see :mod:`.object_storage`) and in-memory
pandas or Arrow data, in parallel and with a memory limit: what does not fit spills to
a temporary directory, so a file larger than memory checks correctly with bounded
memory. The plan is the same SQLAlchemy plan that databases run, compiled for DuckDB.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.checks.observations import Observations, ObservedColumn
from airflow_opsguard.contract.models import Contract, ReconcileTarget, ReferenceTarget
from airflow_opsguard.contract.paths import relative_to_contract
from airflow_opsguard.engines.duckdb_session import Session, session
from airflow_opsguard.engines.duckdb_unique import bitmap_counter
from airflow_opsguard.engines.executor import Parallel, run_plan
from airflow_opsguard.engines.frame_counts import known_counts
from airflow_opsguard.engines.listing import list_files, protocol_of
from airflow_opsguard.engines.object_storage import (
    scoped_filesystem,
    scoped_path,
    scoped_protocol,
    unscoped_text,
)
from airflow_opsguard.engines.opened import OpenedSource
from airflow_opsguard.engines.plan import Counter
from airflow_opsguard.engines.relations import (
    OTHER_ALIAS,
    OtherNotFound,
    OtherRelation,
    OtherResolver,
)
from airflow_opsguard.engines.types import from_duckdb
from airflow_opsguard.errors import DataSourceError

if TYPE_CHECKING:
    from airflow_opsguard.drift.reference import Reference
    from airflow_opsguard.engines.opened import AfterMeasuring

log = logging.getLogger(__name__)

VIEW = "opsguard_source"
RAW_VIEW = "opsguard_raw"
FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
COMPRESSION = (".gz", ".zst", ".zstd")

Progress = Callable[[float], None]
PROGRESS_SECONDS = 0.25  # how often the progress of a scan is reported


@dataclass(frozen=True)
class FileSet:
    """The files of one source, resolved: DuckDB paths, their format and identity.
    ``filesystem``: the one DuckDB reads them with, registered under ``protocol``
    (None: fsspec's own for the protocol)."""

    name: str
    paths: tuple[str, ...]
    format: str | None
    protocol: str | None
    total_bytes: int
    identity: str
    filesystem: Any = None


def measure_data(
    contract: Contract,
    data: Any,
    *,
    file_format: str | None = None,
    sample_size: int = 5,
    progress: Progress | None = None,
    reference: Reference | None = None,
    then: AfterMeasuring | None = None,
    filesystem: Any = None,
) -> Observations:
    """Measure ``contract`` on a path, glob, fsspec URL, pandas DataFrame or Arrow table.
    ``filesystem`` lists and reads a URL (an Airflow connection's, with its credentials).

    ``reference`` is the distribution reference, loaded by the caller. ``then`` is
    handed the source while it is still open, once it is measured, so that the steps
    after measuring (a profile, GX suites) read the data without opening it again."""
    if isinstance(data, str | os.PathLike):
        files = resolve_files(str(data), file_format, filesystem)
        fingerprint = {
            "files": len(files.paths),
            "bytes": files.total_bytes,
            "identity": files.identity,
        }
        if not files.paths:  # every file is empty: no rows, no columns
            return Observations(
                source=files.name, rows=0, columns=(), fingerprint={**fingerprint, "rows": 0}
            )
        try:
            return _measure_files(
                contract, files, fingerprint, sample_size, progress, False, reference, then
            )
        except _TypeGuessFailed:
            # A CSV or JSON value far down the file broke the types DuckDB guessed from the
            # first rows: read again, guessing from every row.
            return _measure_files(
                contract, files, fingerprint, sample_size, progress, True, reference, then
            )
    name = f"<{type(data).__module__.split('.')[0]}.{type(data).__name__}>"
    scanned = in_memory(data)
    with session() as opened:
        try:
            opened.register(VIEW, scanned)
        except Exception as exc:  # duckdb raises several unrelated types here
            raise DataSourceError(
                f"cannot check a {type(data).__name__}: give a path, a URL, "
                "a pandas or polars DataFrame or an Arrow table"
            ) from exc
        columns = _describe(opened.connection)
        return _measure(
            opened,
            contract,
            name,
            columns,
            {"in_memory": True},
            sample_size,
            progress,
            reference,
            then=then,
            known=known_counts(scanned),
        )


def in_memory(data: Any) -> Any:
    """What DuckDB scans for in-memory ``data``: a polars DataFrame as Arrow, once (its
    buffers, without a copy), rather than once per connection that registers it;
    pandas and Arrow as they are (DuckDB reads numeric and Arrow-backed columns in
    place, and converting object columns to Arrow costs more than DuckDB's scan)."""
    module = type(data).__module__.split(".")[0]
    if module == "polars" and hasattr(data, "to_arrow"):
        if hasattr(data, "collect"):  # a LazyFrame: its result
            data = data.collect()
        import polars

        newest = getattr(polars, "CompatLevel", None)  # polars 1.1 and later
        if newest is None or not _duckdb_reads_views():
            return data.to_arrow()
        # Polars' own string views, which DuckDB reads: the default would copy every
        # string into Arrow's older layout (half the cost of checking the frame).
        return data.to_arrow(compat_level=newest.newest())
    return data


def _duckdb_reads_views() -> bool:
    """Whether Arrow string and binary views can reach DuckDB: pyarrow knows them from
    16, and DuckDB scans them with filters from 2.0 (before, a filtered scan of a table
    with any view column failed, duckdb-python#227; binary views were unread before 1.4)."""
    import duckdb
    import pyarrow

    def major(version: str) -> int:
        return int(version.split(".")[0])

    return major(duckdb.__version__) >= 2 and major(pyarrow.__version__) >= 16


def _measure_files(
    contract: Contract,
    files: FileSet,
    fingerprint: dict[str, Any],
    sample_size: int,
    progress: Progress | None,
    thorough: bool,
    reference: Reference | None,
    then: AfterMeasuring | None,
) -> Observations:
    with session() as opened:
        declared = {c.name: c.type for c in contract.schema_.columns} if contract.schema_ else {}
        columns = _open_files(opened, files, declared, thorough)
        try:
            return _measure(
                opened,
                contract,
                files.name,
                columns,
                fingerprint,
                sample_size,
                progress,
                reference,
                files=files,
                then=then,
            )
        except DataSourceError as exc:
            cause = exc.__cause__
            if _is_conversion(cause) and files.format != "parquet" and not thorough:
                raise _TypeGuessFailed from exc
            raise


class _TypeGuessFailed(Exception):
    pass


def _is_conversion(exc: BaseException | None) -> bool:
    import duckdb

    original = getattr(exc, "orig", exc)
    return isinstance(original, duckdb.ConversionException | duckdb.InvalidInputException)


def _measure(
    opened: Session,
    contract: Contract,
    name: str,
    columns: Sequence[ObservedColumn],
    fingerprint: dict[str, Any],
    sample_size: int,
    progress: Progress | None,
    reference: Reference | None,
    *,
    files: FileSet | None = None,
    then: AfterMeasuring | None = None,
    known: Counter | None = None,
) -> Observations:
    # Files and in-memory data are read by several connections at once: the uniqueness
    # queries run beside the scan.
    connection = opened.connection
    threads = opened.threads
    split = files is not None and _too_few_row_groups(opened.raw, files, threads)
    parallel = Parallel(opened.side_connection, threads, split)
    with _reporting(opened, progress):
        observations = run_plan(
            connection,
            contract,
            sa.table(VIEW),
            columns,
            source_name=name,
            fingerprint=fingerprint,
            sample_size=sample_size,
            classify_error=_classify,
            others=_other_files(opened, contract, files),
            reference=reference,
            parallel=parallel,
            count_distinct=bitmap_counter(opened.memory_limit(), threads),
            known=known,
        )
    if then is not None:
        # The steps after measuring (a profile, GX suites) read this same open source.
        explain = lambda exc: _as_source_error(exc, name)  # noqa: E731
        then(OpenedSource(connection, sa.table(VIEW), tuple(columns), name, explain))
    return observations


def _too_few_row_groups(raw: Any, files: FileSet, threads: int) -> bool:
    """DuckDB scans a Parquet file one row group per thread: a file of one row group
    (as pandas and pyarrow write up to a million rows) is read by one thread alone."""
    if files.format != "parquet":
        return False
    # fetchall: DuckDB refuses other work on a connection with rows left to fetch.
    found = raw.execute(
        "SELECT count(*) FROM (SELECT DISTINCT file_name, row_group_id FROM parquet_metadata(?))",
        [list(files.paths)],
    ).fetchall()
    return int(found[0][0]) < threads


@contextmanager
def open_data(
    data: Any, *, file_format: str | None = None, filesystem: Any = None
) -> Iterator[OpenedSource]:
    """DuckDB over a path, glob, fsspec URL, pandas DataFrame or Arrow table, opened for
    work other than a contract's checks (profiles), with the same settings."""
    if isinstance(data, str | os.PathLike):
        files = resolve_files(str(data), file_format, filesystem)
        if not files.paths:
            raise DataSourceError(f"{files.name}: the data is empty")
        with session() as opened:
            columns = _open_files(opened, files, {})
            yield OpenedSource(
                opened.connection,
                sa.table(VIEW),
                columns,
                files.name,
                lambda exc: _as_source_error(exc, files.name),
            )
        return
    name = f"<{type(data).__module__.split('.')[0]}.{type(data).__name__}>"
    with session() as opened:
        try:
            opened.register(VIEW, in_memory(data))
        except Exception as exc:  # duckdb raises several unrelated types here
            raise DataSourceError(
                f"cannot read a {type(data).__name__}: give a path, a URL, "
                "a pandas DataFrame or an Arrow table"
            ) from exc
        yield OpenedSource(
            opened.connection,
            sa.table(VIEW),
            _describe(opened.connection),
            name,
            lambda exc: _as_source_error(exc, name),
        )


def _raw(connection: sa.Connection) -> Any:
    """The DuckDB connection under SQLAlchemy's, for DuckDB's own reading API."""
    return connection.connection.driver_connection


def resolve_files(location: str, file_format: str | None = None, filesystem: Any = None) -> FileSet:
    """The files to read at a path, folder, glob or fsspec URL (listed by
    :func:`~airflow_opsguard.engines.listing.list_files`, with ``filesystem`` when one is
    given): in a folder, the data files (by suffix, unless the format is declared)."""
    listing = list_files(location, filesystem)
    found = listing.files
    if listing.kind == "folder":
        found = tuple(
            f for f in found if file_format is not None or _suffix_format(f.path) is not None
        )
        if not found:
            raise DataSourceError(f"{location}: the directory holds no data files")
    elif not found:
        raise DataSourceError(f"{location}: no file matches this pattern")
    fmt = _format_of([f.path for f in found], file_format, location)
    identity = hashlib.sha256(
        "\n".join(f"{f.path}\t{f.size}\t{f.modified}" for f in found).encode()
    ).hexdigest()[:16]
    paths = tuple(f.path for f in found if f.size > 0)
    protocol, scoped = listing.protocol, None
    if filesystem is not None and protocol is not None:
        # Read by a protocol of its own: DuckDB keeps one filesystem per protocol.
        protocol, scoped = scoped_protocol(filesystem), scoped_filesystem(filesystem)
        paths = tuple(scoped_path(p, protocol) for p in paths)
    return FileSet(
        name=location,
        paths=paths,
        format=fmt,
        protocol=protocol,
        total_bytes=sum(f.size for f in found),
        identity=identity,
        filesystem=scoped,
    )


def _suffix_format(name: str) -> str | None:
    lower = name.lower()
    for compression in COMPRESSION:
        lower = lower.removesuffix(compression)
    return FORMATS.get(os.path.splitext(lower)[1])


def _format_of(paths: Sequence[str], file_format: str | None, location: str) -> str:
    if file_format:
        return file_format
    formats = {_suffix_format(p) for p in paths}
    if None in formats:
        odd = next(p for p in paths if _suffix_format(p) is None)
        raise DataSourceError(
            f"{odd}: unknown file type; expected .parquet, .csv or .jsonl (or set source.format)"
        )
    if len(formats) > 1:
        shown = ", ".join(sorted(str(f) for f in formats))
        raise DataSourceError(f"{location}: mixes file formats ({shown})")
    return str(formats.pop())


def _open_files(
    opened: Session,
    files: FileSet,
    declared: Mapping[str, str | None],
    thorough: bool = False,
) -> tuple[ObservedColumn, ...]:
    try:
        _register_filesystem(opened.raw, files)
        relation = _read(opened.raw, files, thorough)
        opened.create_view(RAW_VIEW if files.format != "parquet" else VIEW, relation.sql_query())
    except Exception as exc:
        raise _as_source_error(exc, files.name, files) from exc
    if files.format != "parquet":
        _type_text_columns(opened, declared)
    return _describe(opened.connection)


def _register_filesystem(raw: Any, files: FileSet) -> None:
    """Let DuckDB read an fsspec URL (with the files' own filesystem, when they have
    one); the database keeps it for later sessions."""
    if not files.protocol:
        return
    import duckdb
    import fsspec

    try:
        raw.register_filesystem(files.filesystem or fsspec.filesystem(files.protocol))
    except duckdb.InvalidInputException as exc:
        if "already been registered" not in str(exc):
            raise


def _read(raw: Any, files: FileSet, thorough: bool = False) -> Any:
    """A DuckDB relation over the files (not yet run)."""
    paths = list(files.paths)
    if files.format == "parquet":
        return raw.read_parquet(paths, union_by_name=True)
    if files.format == "csv":
        return raw.read_csv(paths, union_by_name=True, sample_size=-1 if thorough else None)
    return raw.read_json(
        paths,
        format="newline_delimited" if files.format == "jsonl" else "auto",
        sample_size=-1 if thorough else None,
    )


def _other_files(
    opened: Session, contract: Contract, source: FileSet | None = None
) -> OtherResolver:
    """Opens the files that reference and reconcile checks name, each as a view of the
    same DuckDB, so that an anti-join runs where both sides are. A URL on the object
    storage of the source (its protocol) is read with the source's filesystem."""
    resolved: dict[str, OtherRelation] = {}
    storage = source.filesystem.inner if source is not None and source.filesystem else None
    storage_protocol = protocol_of(source.name) if storage is not None and source else None

    def resolve(target: ReferenceTarget | ReconcileTarget) -> OtherRelation:
        if target.path is None:
            raise OtherNotFound(
                f"to.table {target.table!r} names a database table; a file or DataFrame "
                "source compares with files (to.path)"
            )
        location = relative_to_contract(contract, target.path)
        if location in resolved:
            return resolved[location]
        view = f"opsguard_other_{len(resolved)}"
        try:
            same_storage = (
                storage_protocol is not None and protocol_of(location) == storage_protocol
            )
            files = resolve_files(location, None, storage if same_storage else None)
            if not files.paths:
                raise DataSourceError(f"{location}: the data is empty")
            _register_filesystem(opened.raw, files)
            opened.create_view(view, _read(opened.raw, files).sql_query())
        except DataSourceError as exc:
            raise OtherNotFound(str(exc)) from None
        except Exception as exc:  # duckdb raises several unrelated types here
            raise OtherNotFound(str(_as_source_error(exc, target.path))) from None
        relation = sa.table(view).alias(OTHER_ALIAS)
        found = OtherRelation(relation, _describe(opened.connection, view), f"file {target.path!r}")
        resolved[location] = found
        return found

    return resolve


# Casts for text formats, where a type is a guess: the contract's type when every value
# of the column parses as it. A timestamp parses with or without a UTC offset.
_CASTS = {
    "integer": "BIGINT",
    "float": "DOUBLE",
    "decimal": "DECIMAL(38, 10)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
}


def _type_text_columns(opened: Session, declared: Mapping[str, str | None]) -> None:
    """CSV and JSON carry no types: read a text column as the contract's type when every
    value parses as that type (ISO timestamps that DuckDB's sniffer missed, say). A column
    where some value does not parse stays text, and the schema check says so."""
    quote = opened.connection.dialect.identifier_preparer.quote
    observed = _describe(opened.connection, RAW_VIEW)
    candidates = [
        (c.name, _CASTS[declared[c.name]])  # type: ignore[index]
        for c in observed
        if c.type == "string" and declared.get(c.name) in _CASTS
    ]
    castable: list[tuple[str, str]] = []
    if candidates:
        probes = ", ".join(
            f"count({quote(name)}) = count(TRY_CAST({quote(name)} AS {cast}))"
            for name, cast in candidates
        )
        fits = opened.raw.execute(f"SELECT {probes} FROM {RAW_VIEW}").fetchone()
        castable = [c for c, ok in zip(candidates, fits or (), strict=True) if ok]
    if castable:
        replaced = ", ".join(
            f"TRY_CAST({quote(name)} AS {cast}) AS {quote(name)}" for name, cast in castable
        )
        select = f"SELECT * REPLACE ({replaced}) FROM {RAW_VIEW}"
    else:
        select = f"SELECT * FROM {RAW_VIEW}"
    opened.create_view(VIEW, select)


def _describe(connection: sa.Connection, view: str = VIEW) -> tuple[ObservedColumn, ...]:
    rows = _raw(connection).execute(f"DESCRIBE {view}").fetchall()
    return tuple(from_duckdb(row[0], str(row[1])) for row in rows)


def _classify(exc: BaseException) -> DataSourceError | None:
    import duckdb

    original = getattr(exc, "orig", exc)
    if isinstance(
        original, duckdb.IOException | duckdb.ConversionException | duckdb.InvalidInputException
    ):
        return _as_source_error(original, "the data")
    return None


def _as_source_error(
    exc: BaseException, name: str, files: FileSet | None = None
) -> DataSourceError:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if files is not None and files.filesystem is not None and "://" in files.name:
        first = unscoped_text(first, str(files.protocol), files.name.partition("://")[0])
    for prefix in ("IO Error: ", "Invalid Input Error: ", "Conversion Error: "):
        first = first.removeprefix(prefix)
    return DataSourceError(f"cannot read {name}: {first}")


@contextmanager
def _reporting(opened: Session, progress: Progress | None) -> Iterator[None]:
    """Report how far DuckDB is (0-100) from a side thread while the checks run; never a
    step back, though the queries that follow the scan start again from zero."""
    if progress is None:
        yield
        return
    opened.track_progress()
    stop = threading.Event()

    def poll() -> None:
        shown = -1.0
        while not stop.wait(PROGRESS_SECONDS):
            value = opened.progress()
            if value is not None and value > shown:
                shown = value
                try:
                    progress(value)
                except Exception:  # progress is a courtesy; never let it break a check
                    return

    thread = threading.Thread(target=poll, name="opsguard-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
