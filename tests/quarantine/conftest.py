"""Quarantine fixtures: a data database on SQLite, PostgreSQL and MariaDB, and a store."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@pytest.fixture(params=BACKENDS)
def data_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database for the data (staging, target, quarantine tables) on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'warehouse.db'}"
    fixture = "postgres_url" if request.param == "postgres" else "mariadb_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def prefix() -> str:
    """A table prefix of this test (the server databases are shared by the session)."""
    return f"t{uuid.uuid4().hex[:8]}_"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'opsguard.db'}"
