"""One fixture, every backend: the same DataFrame in a Parquet file, a SQLite file database,
PostgreSQL and MariaDB, checked through the same public entry point, ``validate()``.

``backend`` runs a test on all four; ``database`` on the three databases (for what only
a database has: tables, queries, connections). Each backend loads the shared frame once
per session, as table ``eng_orders``; a test that needs tables of its own names them.
"""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from engine_backends import Backend


def _make(name: str, request: pytest.FixtureRequest) -> Backend:
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    if name == "parquet":
        return Backend("parquet", path=factory.mktemp("parquet"))
    if name == "sqlite":
        path = factory.mktemp("sqlite") / "orders.db"
        return Backend("sqlite", url=f"sqlite:///{path}", schema="main")
    if name == "postgresql":
        return Backend("postgresql", url=request.getfixturevalue("postgres_url"), schema="public")
    url = request.getfixturevalue("mariadb_url")
    return Backend("mariadb", url=url, schema=sa.make_url(url).database)


@pytest.fixture(scope="session")
def backend_cache() -> dict[str, Backend]:
    """Backends by name, so that each loads the shared frame once per session."""
    return {}


def _backend(
    request: pytest.FixtureRequest, cache: dict[str, Backend], name: str | None = None
) -> Backend:
    name = name or request.param
    if name not in cache:
        cache[name] = _make(name, request)
    return cache[name]


POSTGRES = pytest.param("postgresql", marks=pytest.mark.postgres)
MARIADB = pytest.param("mariadb", marks=pytest.mark.mariadb)


@pytest.fixture(scope="session", params=["parquet", "sqlite", POSTGRES, MARIADB])
def backend(request: pytest.FixtureRequest, backend_cache: dict[str, Backend]) -> Backend:
    """The file engine, SQLite, PostgreSQL and MariaDB, each holding the shared frame."""
    return _backend(request, backend_cache)


@pytest.fixture(scope="session", params=["sqlite", POSTGRES, MARIADB])
def database(request: pytest.FixtureRequest, backend_cache: dict[str, Backend]) -> Backend:
    """SQLite, PostgreSQL and MariaDB, each holding the shared frame."""
    return _backend(request, backend_cache)


@pytest.fixture
def table_name() -> str:
    """A fresh table name for a test that creates its own tables."""
    return f"eng_t_{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def default_statement_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with the default statement timeout."""
    monkeypatch.delenv("OPSGUARD_STATEMENT_TIMEOUT", raising=False)


@pytest.fixture(scope="session")
def backend_postgresql(
    request: pytest.FixtureRequest, backend_cache: dict[str, Backend]
) -> Backend:
    """PostgreSQL alone, for what only it has."""
    return _backend(request, backend_cache, "postgresql")


@pytest.fixture(scope="session")
def backend_mariadb(request: pytest.FixtureRequest, backend_cache: dict[str, Backend]) -> Backend:
    """MariaDB alone, for what only it has."""
    return _backend(request, backend_cache, "mariadb")
