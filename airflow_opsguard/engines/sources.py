"""Which data is this? The one answer, for every reader of a gate's data.

A contract's ``source`` and a caller's overrides (``data``: a path, URL, database URL,
engine or DataFrame; ``table``) become one typed source:

- :class:`FileSource`: a file, folder, glob or fsspec URL (relative paths from the
  contract read from the contract file's folder; see
  :func:`~airflow_opsguard.contract.paths.relative_to_contract`); on object storage
  through an Airflow connection too (``source.conn_id`` beside a URL ``source.path``,
  or an ``ObjectStoragePath`` as the data);
- :class:`FrameSource`: a DataFrame or Arrow table in memory;
- :class:`DatabaseSource`: a table or query in a database given by a URL, an Airflow
  connection or an engine;
- :class:`SparkSource`: a Spark DataFrame, or a path, table or query on a Spark session
  (``source.engine: spark``).

The engines measure it, quarantine moves it, lineage names it, profiles and Great
Expectations read it: each through :func:`resolve_source`, so they never disagree
(:func:`airflow_opsguard.engines.reading.open_source` opens one for profiles).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.contract.paths import relative_to_contract
from airflow_opsguard.engines.connections import (
    is_database_url,
    normalise_url,
    resolve_filesystem,
)
from airflow_opsguard.engines.listing import protocol_of
from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.urls import mask_text, mask_url

if TYPE_CHECKING:
    from airflow_opsguard.contract.models import Contract


@dataclass(frozen=True)
class FileSource:
    """A file, folder, glob or fsspec URL, and its declared format (None: by suffix).

    On object storage, ``conn_id`` names the Airflow connection whose credentials read
    it, and ``storage`` is the path object it came as (an ``ObjectStoragePath`` or
    another universal-pathlib path, which carries its filesystem); neither: fsspec's
    own filesystem for the URL's protocol."""

    location: str
    format: str | None = None
    conn_id: str | None = None
    storage: Any = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """How results name it (credentials in a URL masked)."""
        return mask_text(self.location)

    def filesystem(self) -> Any | None:
        """The fsspec filesystem to list and read the files with: the path object's, or
        the one the Airflow connection opens (through the resolver in force, see
        :func:`~airflow_opsguard.engines.connections.using_connections`); None for
        fsspec's default."""
        if self.storage is not None:
            return self.storage.fs
        if self.conn_id is not None:
            return resolve_filesystem(self.conn_id, self.location)
        return None


@dataclass(frozen=True)
class FrameSource:
    """A pandas or polars DataFrame or an Arrow table, checked where it is."""

    frame: Any

    @property
    def name(self) -> str:
        kind = type(self.frame)
        return f"<{kind.__module__.split('.')[0]}.{kind.__name__}>"


@dataclass(frozen=True)
class DatabaseSource:
    """A table or a query in a database given by a URL, an Airflow connection or an
    engine (exactly one of them)."""

    url: str | sa.URL | None = None
    conn_id: str | None = None
    engine: sa.Engine | None = None
    table: str | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.url, self.conn_id, self.engine)) != 1:
            raise ValueError("give one of url, conn_id or engine")
        if (self.table is None) == (self.query is None):
            raise ValueError("give a table or a query")

    @property
    def where(self) -> str:
        """The database, as it may be shown: its URL without the password."""
        if self.engine is not None:
            return mask_url(self.engine.url)
        if self.conn_id is not None:
            return f"Airflow connection {self.conn_id!r}"
        try:
            return mask_url(normalise_url(self.url or ""))
        except DataSourceError:
            return mask_text(str(self.url))

    @property
    def what(self) -> str:
        if self.table:
            return f"table {self.table!r}"
        return f"query {_short(self.query or '')!r}"

    @property
    def name(self) -> str:
        """How results name the source: ``table 'orders' in postgresql+psycopg://...``."""
        return f"{self.what} in {self.where}"


@dataclass(frozen=True, eq=False)
class SparkSource:
    """Data on Spark: a DataFrame, or a path, table or query read by a Spark session.

    The session is the DataFrame's, or the one that ``master`` (``local[4]``,
    ``spark://host:7077``), ``remote`` (a Spark Connect URL, ``sc://host:15002``) or the
    Airflow connection ``conn_id`` names (resolved through Airflow into master or remote);
    none of them: the active session.
    """

    frame: Any = None
    path: str | None = None
    format: str | None = None
    table: str | None = None
    query: str | None = None
    master: str | None = None
    remote: str | None = None
    conn_id: str | None = None

    def __post_init__(self) -> None:
        given = [k for k in ("frame", "path", "table", "query") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give one of frame, path, table or query")

    @property
    def what(self) -> str:
        if self.frame is not None:
            kind = type(self.frame)
            return f"<{kind.__module__.split('.')[0]}.{kind.__name__}>"
        if self.path is not None:
            return mask_text(self.path)
        if self.table is not None:
            return f"table {self.table!r}"
        return f"query {_short(self.query or '')!r}"

    @property
    def where(self) -> str | None:
        """The session, as it may be shown (a Spark Connect URL's token masked)."""
        if self.remote:
            return mask_text(self.remote)
        if self.conn_id:
            return f"Airflow connection {self.conn_id!r}"
        return self.master

    @property
    def name(self) -> str:
        """How results name the source: ``table 'sales.orders' on Spark (local[4])``."""
        if self.frame is not None:
            return self.what
        where = self.where
        return f"{self.what} on Spark" + (f" ({where})" if where else "")


Source = FileSource | FrameSource | DatabaseSource | SparkSource


def resolve_source(contract: Contract | None, data: Any = None, table: str | None = None) -> Source:
    """The data that ``data``, ``table`` and the contract's ``source`` name.

    ``data`` overrides the contract's source: a database URL or an engine (with ``table``,
    or the contract's table or query), a path or URL (relative to the working directory,
    as a command line means it), or a frame. ``table`` overrides the contract's table or
    query. Raises :class:`DataSourceError` when nothing names the data, or a table is
    given without a database.
    """
    if isinstance(data, SparkSource):
        return data  # resolved already (inside Airflow: the connection's session)
    spark = spark_source(contract, data, table)
    if spark is not None:
        return spark
    database = database_source(contract, data, table)
    if database is not None:
        return database
    if table is not None:
        raise DataSourceError(
            f"a table ({table!r}) goes with a database URL; the data to check is not one"
        )
    declared = contract.source if contract is not None else None
    file_format = declared.format if declared is not None else None
    if isinstance(data, str | os.PathLike):
        location = os.fspath(data)
        # The contract's storage connection reads another URL on object storage too.
        storage = declared.conn_id if declared is not None and declared.path else None
        return FileSource(location, file_format, conn_id=storage if protocol_of(location) else None)
    stored = object_storage_source(data, file_format)
    if stored is not None:
        return stored
    if data is not None:
        return FrameSource(data)
    if declared is None or not declared.path:
        dataset = contract.dataset if contract is not None else "the data"
        raise DataSourceError(
            f"contract {dataset!r} names no source; give the data to check "
            "(--data, or source.path in the contract)"
        )
    location = relative_to_contract(contract, declared.path)
    if declared.conn_id and protocol_of(location) is None:
        raise DataSourceError(
            f"source.conn_id {declared.conn_id!r} names the storage connection of an "
            f"object-storage URL; source.path {declared.path!r} is a local path"
        )
    return FileSource(location, file_format, conn_id=declared.conn_id)


def object_storage_source(data: Any, file_format: str | None) -> FileSource | None:
    """A path object on object storage (Airflow's ``ObjectStoragePath``, or another
    universal-pathlib path: its filesystem carries the credentials), told without
    importing Airflow; None for other data."""
    protocol = getattr(data, "protocol", None)
    inner = getattr(data, "path", None)
    if not isinstance(protocol, str) or not isinstance(inner, str) or not hasattr(data, "fs"):
        return None
    if protocol in ("", "file", "local"):
        return FileSource(inner, file_format)
    # str() of an ObjectStoragePath names its connection (s3://conn_id@bucket/key).
    location = f"{protocol}://{inner}"
    return FileSource(location, file_format, conn_id=getattr(data, "conn_id", None), storage=data)


def source_name(contract: Contract, data: Any = None, table: str | None = None) -> str | None:
    """How a result names its data, also when it cannot be resolved (None)."""
    try:
        return resolve_source(contract, data, table).name
    except DataSourceError:
        return mask_text(data) if isinstance(data, str) else None


def spark_source(contract: Contract | None, data: Any, table: str | None) -> SparkSource | None:
    """The Spark source that ``data``, ``table`` and the contract's source name: a Spark
    DataFrame, or (for a contract with ``source.engine: spark``) its path, table or query,
    where ``data`` (a path) or ``table`` override the contract's; None otherwise."""
    if is_spark_frame(data):
        return SparkSource(frame=data)
    declared = contract.source if contract is not None else None
    if declared is None or declared.engine != "spark":
        return None
    session = {"master": declared.master, "remote": declared.remote, "conn_id": declared.conn_id}
    if table is not None:
        return SparkSource(table=table, **session)
    if isinstance(data, str | os.PathLike) and not is_database_url(os.fspath(data)):
        return SparkSource(path=os.fspath(data), format=declared.format, **session)
    if data is not None:
        return None  # a database or a frame of another kind overrides the Spark source
    if declared.path:
        path = relative_to_contract(contract, declared.path)
        return SparkSource(path=path, format=declared.format, **session)
    return SparkSource(table=declared.table, query=declared.query, **session)


def is_spark_frame(data: Any) -> bool:
    """A PySpark DataFrame (classic or Spark Connect), told without importing pyspark."""
    kind = type(data)
    return kind.__name__ == "DataFrame" and kind.__module__.startswith("pyspark.sql")


def database_source(
    contract: Contract | None, data: Any, table: str | None
) -> DatabaseSource | None:
    """The database source that ``data``, ``table`` and the contract's source name, or
    None when the data is a file, a glob or a frame."""
    source = contract.source if contract is not None else None
    if isinstance(data, sa.Engine):
        where: dict[str, Any] = {"engine": data}
    elif isinstance(data, str | sa.URL) and (isinstance(data, sa.URL) or is_database_url(data)):
        where = {"url": data}
    elif data is not None:
        return None
    elif source is not None and source.engine == "spark":
        return None  # its conn_id names a Spark session, not a database
    elif source is not None and source.url:
        where = {"url": _relative_sqlite(contract, source.url)}
    elif source is not None and source.conn_id and not source.path:
        where = {"conn_id": source.conn_id}  # beside a path, it names the storage
    else:
        return None
    if table is not None:
        return DatabaseSource(**where, table=table)
    if source is not None and (source.table or source.query):
        return DatabaseSource(**where, table=source.table, query=source.query)
    shown = DatabaseSource(**where, table="?").where
    raise DataSourceError(
        f"{shown}: say what to check in this database: a table (--table NAME, "
        "source.table) or a query (source.query)"
    )


def _relative_sqlite(contract: Contract | None, url: str) -> str:
    """A relative SQLite file in a contract's ``source.url`` is read from the contract
    file's folder, as a relative ``source.path`` is."""
    parsed = normalise_url(url)
    database = parsed.database or ""
    if (
        parsed.get_backend_name() != "sqlite"
        or database in ("", ":memory:")
        or database.startswith("file:")
    ):
        return url
    located = relative_to_contract(contract, database)
    if located == database:
        return url
    return parsed.set(database=located).render_as_string(hide_password=False)


def _short(text: str, limit: int = 60) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
