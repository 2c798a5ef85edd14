"""`make dashboard`: the data-quality dashboard over what `make demo` stored.

Starts Airflow's API server on http://127.0.0.1:8080 with the demo's environment (home
.airflow/ at the repo root, so the gates' results store .airflow/opsguard.db), signed in
through Airflow's SimpleAuthManager as admin / admin: the password is written to
.airflow/dashboard-passwords.json before the server starts. Ctrl-C stops it.

    python dags_examples/dashboard.py [--port 8080]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
PORT = 8080
USERNAME, PASSWORD = "admin", "admin"
AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def _demo() -> ModuleType:
    """demo.py, next to this file: its Airflow home and environment are the dashboard's."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import demo

    return demo


def passwords_file() -> Path:
    return Path(_demo().AIRFLOW_HOME) / "dashboard-passwords.json"


def environment(passwords: Path | None = None, port: int = PORT) -> dict[str, str]:
    """The demo's Airflow environment plus a known login: write the passwords file
    (admin / admin) and point SimpleAuthManager at it."""
    passwords = passwords or passwords_file()
    passwords.parent.mkdir(parents=True, exist_ok=True)
    passwords.write_text(json.dumps({USERNAME: PASSWORD}) + "\n")
    passwords.chmod(0o600)
    env = _demo().airflow_env()
    env.update(
        AIRFLOW__CORE__AUTH_MANAGER=AUTH_MANAGER,
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USERNAME}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="False",
        AIRFLOW__API__HOST=HOST,
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
    )
    return env


def command(port: int = PORT) -> list[str]:
    """`airflow api-server` of this virtualenv, on the loopback interface only."""
    return [str(Path(_demo().BIN) / "airflow"), "api-server", "-H", HOST, "-p", str(port)]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=PORT)
    args = parser.parse_args(argv)
    demo = _demo()
    home = Path(demo.AIRFLOW_HOME)
    shown = home.relative_to(demo.ROOT)
    if not (home / "demo-table.txt").exists():
        print(f"no demo in {shown}/ yet: run `make demo` first", file=sys.stderr)
        return 2
    if not _port_free(args.port):
        print(
            f"{HOST}:{args.port} is in use (another Airflow, or docker compose?): stop it, "
            "or choose another port: make dashboard DASHBOARD_PORT=8081",
            file=sys.stderr,
        )
        return 2
    env = environment(port=args.port)
    store = (
        "as [opsguard] store_url / store_conn_id say"
        if any(k.startswith("AIRFLOW__OPSGUARD__STORE") for k in env)
        else f"{shown}/opsguard.db, where the demo's gates wrote"
    )
    base = f"http://{HOST}:{args.port}"
    print(
        f"Data-quality dashboard: {base}/opsguard/\n"
        f"Airflow UI:             {base}/  (Data quality is in its navigation)\n"
        f"Sign in as:             {USERNAME} / {PASSWORD}\n"
        f"Results store:          {store}\n"
        "Starting airflow api-server (it takes a few seconds); Ctrl-C stops it.",
        flush=True,
    )
    argv_server = command(args.port)
    os.execve(argv_server[0], argv_server, env)  # the server replaces this process


if __name__ == "__main__":
    sys.exit(main())
