"""Airflow connections as SQLAlchemy engines, fsspec filesystems and Spark sessions: the
Airflow layer's connection resolver.

The engines read a contract's ``source.conn_id`` through the resolver the entry point
hands in (:func:`airflow_opsguard.engines.connections.using_connections`): the operators,
``@task.opsguard``, the sensors, ``validate()`` and the CLI hand in this one
(:data:`engine_for_conn_id`). It makes an engine for a database connection; for a file
source on object storage, the filesystem Airflow's ``ObjectStoragePath`` opens with the
connection; for a Spark source, the master or Spark Connect URL its connection names.
Airflow is imported only when a connection id is resolved.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from airflow_opsguard.engines.connections import create_engine, normalise_url
from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.urls import mask_text

# Airflow connection types whose URL we can build from the connection's fields.
_CONN_TYPES = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "sqlite": "sqlite",
}


class AirflowConnections:
    """Airflow's connections as the engines ask for them: called with a connection id,
    an engine; :meth:`filesystem`, the fsspec filesystem of an object-storage URL;
    :meth:`spark_endpoint`, the Spark session of a Spark source."""

    def __call__(self, conn_id: str) -> sa.Engine:
        return _engine(conn_id)

    def spark_endpoint(self, conn_id: str) -> dict[str, str]:
        """See :func:`spark_endpoint`."""
        return spark_endpoint(conn_id)

    def filesystem(self, conn_id: str, location: str) -> Any:
        """The filesystem that Airflow's object storage opens for ``location`` with the
        connection ``conn_id`` (its provider's: the Amazon provider's s3fs for s3://)."""
        try:
            from airflow.sdk import BaseHook, ObjectStoragePath
        except ImportError:
            raise DataSourceError(
                f"source.conn_id {conn_id!r} is an Airflow connection, and Airflow is not "
                "installed here; give the URL alone (fsspec's own credentials)"
            ) from None
        shown = mask_text(location)
        try:
            # Some providers fall back to default credentials for a connection they do
            # not find: a missing one must fail here, not read with other credentials.
            BaseHook.get_connection(conn_id)
        except Exception as exc:  # AirflowNotFoundException, or the API server did not answer
            missing = type(exc).__name__ == "AirflowNotFoundException"
            raise DataSourceError(
                f"source.conn_id {conn_id!r} (storage of {shown}): {_first_line(exc)}",
                retryable=not missing,
            ) from None
        try:
            return ObjectStoragePath(location, conn_id=conn_id).fs
        except Exception as exc:  # no filesystem for the scheme: its provider is missing
            raise DataSourceError(
                f"source.conn_id {conn_id!r} cannot open {shown}: {_first_line(exc)} "
                "(install the provider of this storage, say airflow-opsguard[s3])"
            ) from None


def _engine(conn_id: str) -> sa.Engine:
    """An engine for an Airflow connection, through Airflow's hook machinery.

    The connection's hook builds the engine when it can (``get_sqlalchemy_engine`` of the
    SQL providers, which knows each warehouse's authentication); otherwise the URL is
    built from the connection's fields for PostgreSQL, MySQL/MariaDB and SQLite.
    """
    connection = _connection(conn_id, "source.url (a SQLAlchemy URL) or --data URL")
    engine = _hook_engine(connection)
    if engine is not None:
        return engine
    drivername = connection.extra_dejson.get("sqlalchemy_scheme") or _CONN_TYPES.get(
        str(connection.conn_type)
    )
    if drivername is None:
        raise DataSourceError(
            f"Airflow connection {conn_id!r} is of type {connection.conn_type!r}, which has no "
            "SQLAlchemy engine here: install its provider, or give source.url"
        )
    if drivername == "sqlite":
        url = sa.URL.create("sqlite", database=connection.host or connection.schema)
    else:
        url = sa.URL.create(
            drivername,
            username=connection.login or None,
            password=connection.password or None,
            host=connection.host or None,
            port=connection.port or None,
            database=connection.schema or None,
        )
    return create_engine(normalise_url(url))


def spark_endpoint(conn_id: str) -> dict[str, str]:
    """The Spark session an Airflow connection names, for a Spark source's ``conn_id``:
    ``{"remote": "sc://..."}`` for a Spark Connect connection (``spark_connect``, its URL
    built as the Apache Spark provider's hook builds it, token included), ``{"master": ...}``
    for a Spark connection (``spark``: host ``local[4]``, ``yarn``, ``spark://host`` and
    port, as spark-submit reads it)."""
    connection = _connection(conn_id, "source.master or source.remote")
    kind = str(connection.conn_type)
    host = connection.host or ""
    if kind == "spark_connect":
        return {"remote": _spark_connect_url(host, connection)}
    if kind == "spark" and host:
        master = host if ("://" in host or not connection.port) else f"spark://{host}"
        return {"master": f"{master}:{connection.port}" if connection.port else master}
    raise DataSourceError(
        f"Airflow connection {conn_id!r} is of type {kind!r}{'' if host else ' without a host'}; "
        "a Spark source needs a spark connection (host: its master) or a spark_connect one"
    )


def _spark_connect_url(host: str, connection: Any) -> str:
    """``sc://host:port/;user_id=..;token=..;use_ssl=..`` from a spark_connect connection,
    its fields read as the Apache Spark provider's SparkConnectHook reads them."""
    from urllib.parse import quote

    address = host.split("://", 1)[1] if "://" in host else host
    if connection.port:
        address = f"{address}:{connection.port}"
    params = []
    if connection.login:
        params.append(f"user_id={quote(connection.login)}")
    if connection.password:
        params.append(f"token={quote(connection.password)}")
    use_ssl = connection.extra_dejson.get("use_ssl")
    if use_ssl is not None:
        params.append(f"use_ssl={quote(str(use_ssl))}")
    return f"sc://{address}/" + (";" + ";".join(params) if params else "")


# The resolver the entry points hand in: callable as before (a connection id in, an
# engine out), and a storage resolver too.
engine_for_conn_id = AirflowConnections()


def _connection(conn_id: str, instead: str) -> Any:
    """Airflow's connection ``conn_id``; ``instead`` says what to give without Airflow."""
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        raise DataSourceError(
            f"source.conn_id {conn_id!r} is an Airflow connection, and Airflow is not "
            f"installed here; give {instead} instead"
        ) from None
    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException, or the API server did not answer
        missing = type(exc).__name__ == "AirflowNotFoundException"
        raise DataSourceError(
            f"Airflow connection {conn_id!r}: {_first_line(exc)}", retryable=not missing
        ) from None


def _hook_engine(connection: Any) -> sa.Engine | None:
    """The engine the connection's hook builds, or None when it builds none."""
    try:
        hook = connection.get_hook()
    except Exception:  # no provider for this connection type: build the URL ourselves
        return None
    get_engine = getattr(hook, "get_sqlalchemy_engine", None)
    if not callable(get_engine):
        return None
    try:
        engine = get_engine()
    except Exception:  # the hook cannot build a URL, or its driver is missing
        return None
    return engine if isinstance(engine, sa.Engine) else None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
