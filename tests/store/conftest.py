"""Store fixtures: one suite over SQLite, PostgreSQL and MariaDB; fresh databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


def plain(url: str) -> str:
    """The URL as users write it: ``postgresql://`` and ``mysql://``, no driver."""
    return url.replace("postgresql+psycopg://", "postgresql://").replace(
        "mysql+pymysql://", "mysql://"
    )


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL on each backend (the server ones are shared by the session)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'opsguard.db'}"
    return plain(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a brand-new, empty database on each backend, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'opsguard.db'}"
        return
    server = sa.make_url(request.getfixturevalue(f"{request.param}_url"))
    name = f"opsguard_fresh_{uuid.uuid4().hex[:10]}"
    if request.param == "postgres":
        admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        create, drop = f'CREATE DATABASE "{name}"', f'DROP DATABASE "{name}" WITH (FORCE)'
    else:
        admin = sa.create_engine(server)
        create, drop = f"CREATE DATABASE `{name}`", f"DROP DATABASE `{name}`"
    with admin.connect() as connection:
        connection.execute(sa.text(create))
    yield plain(server.set(database=name).render_as_string(hide_password=False))
    with admin.connect() as connection:
        connection.execute(sa.text(drop))
    admin.dispose()


@pytest.fixture
def dataset() -> str:
    """A dataset name no other test uses (the server databases are shared)."""
    return f"orders_{uuid.uuid4().hex[:8]}"
