"""An Airflow home with SimpleAuthManager users of every role, the plugin's app mounted
in Airflow's real API app, and a results store with gate verdicts to show.

When tests/airflow runs in the same session its Airflow home is shared (Airflow reads
its configuration once per process); otherwise this module makes one the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

if "opsguard-airflow-" not in os.environ.get("AIRFLOW_HOME", ""):
    _home = Path(tempfile.mkdtemp(prefix="opsguard-airflow-"))
    (_home / "dags").mkdir()
    os.environ.update(
        {
            "AIRFLOW_HOME": str(_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(_home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )

# username -> (role, password); "reader" is a viewer, "editor" may change DAGs;
# "orders_reader" may read one DAG under scoped_auth.ScopedAuthManager.
USERS = {
    "admin": ("admin", "admin-pass"),
    "reader": ("viewer", "reader-pass"),
    "editor": ("user", "editor-pass"),
    "orders_reader": ("viewer", "orders-pass"),
}
_AUTH = Path(tempfile.mkdtemp(prefix="opsguard-auth-"))
(_AUTH / "passwords.json").write_text(json.dumps({u: p for u, (_, p) in USERS.items()}))
os.environ.update(
    {
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
            f"{u}:{role}" for u, (role, _) in USERS.items()
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(_AUTH / "passwords.json"),
        "AIRFLOW__API__SECRET_KEY": "opsguard-test-secret-" + "k" * 48,
        "AIRFLOW__API_AUTH__JWT_SECRET": "opsguard-test-jwt-secret-" + "s" * 48,
    }
)


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """The session's Airflow home, its metadata database migrated once."""
    home = Path(os.environ["AIRFLOW_HOME"])
    marker = home / ".opsguard-migrated"
    if not marker.exists():
        airflow = Path(sys.executable).with_name("airflow")
        proc = subprocess.run(
            [str(airflow), "db", "migrate"], capture_output=True, text=True, env=os.environ.copy()
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        marker.touch()
    return home


def airflow_client(auth_manager: str | None = None) -> Any:
    """A TestClient over Airflow's real API app (plugins from their entry points)."""
    from airflow.api_fastapi.app import create_app, purge_cached_app
    from fastapi.testclient import TestClient

    purge_cached_app()  # a fresh auth manager of the configured class
    return TestClient(create_app("core"))


def user_of(token: str) -> Any:
    """The Airflow user a token stands for."""
    import asyncio

    from airflow.api_fastapi.app import get_auth_manager

    return asyncio.run(get_auth_manager().get_user_from_token(token))


def token(client: Any, username: str) -> str:
    """Sign in as Airflow's UI does: POST /auth/token."""
    response = client.post(
        "/auth/token", json={"username": username, "password": USERS[username][1]}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty results store that the plugin reads ([opsguard] store_url)."""
    url = f"sqlite:///{tmp_path / 'opsguard.db'}"
    monkeypatch.setenv("AIRFLOW__OPSGUARD__STORE_URL", url)
    return url
