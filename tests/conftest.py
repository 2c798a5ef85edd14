"""Shared fixtures: throwaway databases on the local PostgreSQL and MariaDB servers.

Each test session creates its own database and drops it at the end. When a server is
not reachable the tests that need it skip, unless OPSGUARD_REQUIRE_SERVICES=1 (CI sets
it), where they fail: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get(
    "OPSGUARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MARIADB_ADMIN_URL = os.environ.get(
    "OPSGUARD_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)


def _unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable: {exc}"
    if os.environ.get("OPSGUARD_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def java_runtime() -> None:
    """Spark's JVM needs a Java runtime (`java` on PATH or JAVA_HOME); skipped without
    one, except in CI, where `.ci/run` installs it."""
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        _unavailable("Java (for Spark)", FileNotFoundError("no java on PATH, no JAVA_HOME"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session."""
    name = f"opsguard_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        _unavailable("PostgreSQL", exc)
    url = sa.make_url(PG_ADMIN_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A fresh, empty MariaDB database for this test session."""
    name = f"opsguard_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(MARIADB_ADMIN_URL)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE `{name}`"))
    except sa.exc.OperationalError as exc:
        _unavailable("MariaDB", exc)
    url = sa.make_url(MARIADB_ADMIN_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()


@pytest.fixture(autouse=True)
def opsguard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty OPSGUARD_HOME for every test, so no test writes to ~/.opsguard."""
    home = tmp_path / "opsguard-home"
    monkeypatch.setenv("OPSGUARD_HOME", str(home))
    monkeypatch.delenv("OPSGUARD_STORE_URL", raising=False)
    return home
