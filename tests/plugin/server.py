"""A real Airflow for the browser test: its own home, a gate DAG run with ``dag.test()``
and ``airflow api-server``, all in subprocesses (this process's Airflow is configured
already and cannot move to another home)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
USERS = {"admin": ("admin", "admin-pass"), "reader": ("viewer", "reader-pass")}

GATE_DAG = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG
from airflow_opsguard.operators import QualityGateOperator

with DAG("quality_demo", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    QualityGateOperator(task_id="gate", contract="demo_orders.yml", data="{data}")
"""
CONTRACT = """\
dataset: demo_orders
schema:
  columns:
    - {name: order_id, type: integer, nullable: false, unique: true}
    - {name: amount, type: float, min: 0}
volume:
  min_rows: 2
"""
RUN_GATE = """\
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
from sqlalchemy import select

bag = DagBag(sys.argv[1])
assert not bag.import_errors, bag.import_errors
run = bag.get_dag("quality_demo").test()
with create_session() as session:
    xcoms = {
        x.key: x.value
        for x in session.scalars(select(XComModel).where(XComModel.run_id == run.run_id))
    }
print(json.dumps({"run_id": run.run_id, "state": str(run.state), "xcoms": xcoms}, default=str))
"""


def environment(home: Path) -> dict[str, str]:
    """The environment of every Airflow process of this home."""
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({u: p for u, (_, p) in USERS.items()}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "OPSGUARD_STORE"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                f"{u}:{role}" for u, (role, _) in USERS.items()
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__SECRET_KEY": "opsguard-browser-secret-" + "k" * 48,
            "AIRFLOW__API_AUTH__JWT_SECRET": "opsguard-browser-jwt-" + "s" * 48,
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    return env


def run(args: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def run_gate_dag(home: Path, data: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run the gate DAG once with ``dag.test()``: its run id, state and XComs."""
    dags = home / "dags"
    (dags / "demo_orders.yml").write_text(CONTRACT)
    dag_file = dags / "quality_demo.py"
    dag_file.write_text(GATE_DAG.format(data=data))
    output = run([sys.executable, "-c", RUN_GATE, str(dag_file)], env)
    found: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_api_server(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [AIRFLOW, "api-server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    return server, f"http://127.0.0.1:{port}"


def wait_healthy(server: subprocess.Popen[bytes], base: str, log: Path, seconds: float) -> None:
    """Poll the health endpoint until it answers, the server exits, or time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"api-server exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)  # between polls, not a wait for a result
    raise AssertionError(f"api-server not healthy in {seconds}s: {log.read_text()[-3000:]}")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


QUARANTINE_DAG = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG, task
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    gate = QualityGateOperator(task_id="orders_gate", contract="{contract}", data="{data}")

    @task
    def train():
        return "trained"

    gate >> train()
"""
QUARANTINE_CONTRACT = """\
dataset: landing_notes
schema:
  columns:
    - {name: order_id, type: integer, unique: true}
    - {name: amount, type: float, nullable: false, min: 0}
on_fail: quarantine
"""
RUN_QUARANTINE = """\
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session
from sqlalchemy import select

bag = DagBag(sys.argv[1])
assert not bag.import_errors, bag.import_errors
run = bag.get_dag(sys.argv[2]).test()
with create_session() as session:
    stored = session.scalars(select(DagRun).where(DagRun.run_id == run.run_id)).one()
    states = {ti.task_id: str(ti.state) for ti in session.scalars(
        select(TaskInstance).where(TaskInstance.run_id == run.run_id))}
    found = {"run_id": run.run_id, "state": str(stored.state), "note": stored.note}
    print(json.dumps({**found, "states": states}))
"""


def run_quarantine_dag(home: Path, dag_id: str, good: bool) -> dict[str, Any]:
    """Run a DAG whose gate quarantines bad data (``dag.test()``): the run's state,
    note and task states."""
    import pandas as pd

    data = home / f"{dag_id}.parquet"
    amounts = [10.0, 5.0, 7.5] if good else [10.0, -5.0, 7.5]
    pd.DataFrame({"order_id": [1, 2, 3], "amount": amounts}).to_parquet(data)
    contract = home / "landing_notes.yml"
    contract.write_text(QUARANTINE_CONTRACT)
    dag_file = home / "dags" / f"{dag_id}.py"
    dag_file.write_text(QUARANTINE_DAG.format(dag_id=dag_id, contract=contract, data=data))
    env = environment(home)
    output = run([sys.executable, "-c", RUN_QUARANTINE, str(dag_file), dag_id], env)
    found: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return found


def browser_home(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> tuple[Path, dict[str, str]]:
    """A migrated Airflow home of its own for a browser test, and its environment.
    Without Chromium the test is skipped, or fails where the services are required."""
    if not Path(CHROMIUM).exists() or shutil.which("chromedriver") is None:
        message = "Chromium is missing: apt-get install -y chromium chromium-driver"
        if os.environ.get("OPSGUARD_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp(name)
    (home / "dags").mkdir()
    env = environment(home)
    run([AIRFLOW, "db", "migrate"], env)
    return home, env


@contextmanager
def api_server(home: Path, env: dict[str, str]) -> Iterator[str]:
    """``airflow api-server`` on the home, healthy; its base URL. Stopped afterwards."""
    log = home / "api-server.log"
    server, base = start_api_server(env, log)
    try:
        wait_healthy(server, base, log, seconds=120)
        yield base
    finally:
        stop(server)


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium (the system's) through Playwright."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield launched
        finally:
            launched.close()
