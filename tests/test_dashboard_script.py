"""`make dashboard` (dags_examples/dashboard.py): the demo's environment, and a login
that Airflow's own SimpleAuthManager accepts (admin / admin)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "dags_examples"

READ_AUTH = """\
import json
from airflow.configuration import conf
from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

users = {u.username: u.role for u in SimpleAuthManager.get_users()}
print(json.dumps({"auth_manager": conf.get("core", "auth_manager"), "users": users,
                  "passwords": SimpleAuthManager.get_passwords()}))
"""


@pytest.fixture
def dashboard(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.delenv("OPSGUARD_STORE_URL", raising=False)
    import dashboard

    return dashboard


def test_the_environment_is_the_demos_with_a_known_login(
    dashboard: ModuleType, tmp_path: Path
) -> None:
    passwords = tmp_path / "passwords.json"
    env = dashboard.environment(passwords=passwords, port=8123)
    assert json.loads(passwords.read_text()) == {"admin": "admin"}
    # The demo's Airflow home, so the store its gates wrote: $AIRFLOW_HOME/opsguard.db.
    assert env["AIRFLOW_HOME"] == str(ROOT / ".airflow")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(EXAMPLES)
    assert "OPSGUARD_STORE_URL" not in env
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(passwords)
    assert env["AIRFLOW__API__PORT"] == "8123"
    assert dashboard.command(8123) == [
        str(Path(sys.executable).with_name("airflow")),
        "api-server",
        "-H",
        "127.0.0.1",
        "-p",
        "8123",
    ]

    # Airflow reads that environment as one admin user whose password is "admin" (in a
    # throwaway home: the check must not write into the repo's .airflow/).
    env["AIRFLOW_HOME"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", READ_AUTH], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["auth_manager"].endswith("SimpleAuthManager")
    assert seen["users"] == {"admin": "admin"}
    assert seen["passwords"] == {"admin": "admin"}


def test_without_a_demo_it_says_what_to_run(
    dashboard: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import demo

    monkeypatch.setattr(demo, "AIRFLOW_HOME", tmp_path / ".airflow")
    monkeypatch.setattr(demo, "ROOT", tmp_path)
    assert dashboard.main([]) == 2
    assert "run `make demo` first" in capsys.readouterr().err
