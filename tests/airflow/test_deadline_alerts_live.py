"""A Deadline Alert missed under a real scheduler, DAG processor and triggerer.

Airflow's components run as subprocesses on an Airflow home of this test's own (SQLite
metadata database, LocalExecutor). The DAG's only task is in a pool with no slots, so
its run stays running and misses its one-second deadline; the scheduler then queues our
callback and the triggerer runs it. The test waits by polling the metadata database
with a bounded deadline, and checks what each side kept: Airflow's callback row (a
final state, text output), the miss in the results store, the alert at two local
webhooks (the contract's route and the DAG's) and the mail of an ``SmtpNotifier`` object
given as a route (kept as its class and arguments for the triggerer).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from airflow_opsguard.store import ResultStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
from recorders import MailRecorder, WebhookRecorder, smtp_server, webhook_server

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
WAIT_S = 240.0  # an upper bound for slow machines, never a sleep: polls end as soon as done
T = TypeVar("T")

DAG_FILE = '''
from datetime import datetime, timedelta

from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk import DAG, task

from airflow_opsguard.deadlines import deadline_alert

with DAG(
    "deadline_live",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    is_paused_upon_creation=False,
    deadline=deadline_alert(
        timedelta(seconds=1),
        contract="contracts/orders.yml",
        routes=[
            {{"webhook": "{extra_url}", "backoff": 0, "name": "extra hook"}},
            # A notifier object: kept as its class and arguments for the triggerer.
            SmtpNotifier(
                to="oncall@example.com",
                from_email="opsguard@example.com",
                smtp_conn_id="opsguard_smtp",
            ),
        ],
        name="orders in time",
    ),
):

    @task(pool="held")
    def load() -> None:
        """Never runs: its pool has no slots, so the DAG run outlives its deadline."""

    load()
'''

CONTRACT = """dataset: orders
owner: team-orders
runbook: https://wiki.example.com/runbooks/orders
alerts:
  - {{on: [sla_miss], webhook: "{url}", backoff: 0}}
"""


def poll(what: str, probe: Callable[[], T | None], logs: Path) -> T:
    """``probe()`` until it returns something, for at most WAIT_S seconds."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.5)  # between polls of the database, not a wait for a result
    tails = "\n".join(
        f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
        for log in sorted(logs.glob("*.log"))
    )
    raise AssertionError(f"{what}: not within {WAIT_S:.0f}s\n{tails}")


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    try:
        with sqlite3.connect(db, timeout=5) as connection:
            return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:  # a table not created yet, or locked for a moment
        return []


@contextmanager
def component(name: str, env: dict[str, str], home: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (home / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [AIRFLOW, *name.split()], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def hooks() -> Iterator[tuple[WebhookRecorder, WebhookRecorder]]:
    with (
        webhook_server("/hooks/contract/s3cr3t") as contract_hook,
        webhook_server("/hooks/extra/t0ken") as extra_hook,
    ):
        yield contract_hook, extra_hook


@pytest.fixture
def mail() -> Iterator[MailRecorder]:
    with smtp_server() as recorder:
        yield recorder


def test_a_missed_deadline_is_recorded_by_airflow_and_by_us(
    tmp_path: Path, hooks: tuple[WebhookRecorder, WebhookRecorder], mail: MailRecorder
) -> None:
    contract_hook, extra_hook = hooks
    home = tmp_path / "airflow"
    dags = home / "dags"
    (dags / "contracts").mkdir(parents=True)
    (dags / "contracts" / "orders.yml").write_text(CONTRACT.format(url=contract_hook.url))
    (dags / "deadline_live.py").write_text(DAG_FILE.format(extra_url=extra_hook.url))
    metadata = home / "airflow.db"
    store = home / "opsguard.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "OPSGUARD"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{metadata}",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # The triggerer finds the results store as every component does: in Airflow's
            # configuration (the DAG does not name it).
            "AIRFLOW__OPSGUARD__STORE_URL": f"sqlite:///{store}",
            "AIRFLOW_CONN_OPSGUARD_SMTP": json.dumps(
                {
                    "conn_type": "smtp",
                    "host": mail.host,
                    "port": mail.port,
                    "extra": {"disable_tls": True, "disable_ssl": True, "retry_limit": 0},
                }
            ),
        }
    )
    for command in (["db", "migrate"], ["pools", "set", "held", "0", "no slots: never runs"]):
        done = subprocess.run([AIRFLOW, *command], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    with ExitStack() as running:
        for name in ("dag-processor", "scheduler", "triggerer"):
            running.enter_context(component(name, env, home))
        poll(
            "the DAG processor serializes the DAG",
            lambda: (
                query(metadata, "select 1 from serialized_dag where dag_id = 'deadline_live'")
                or None
            ),
            home,
        )
        trigger = subprocess.run(
            [AIRFLOW, "dags", "trigger", "deadline_live", "--run-id", "live_run"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert trigger.returncode == 0, trigger.stdout[-2000:] + trigger.stderr[-2000:]
        state, output = poll(
            "the deadline's callback reaches a final state",
            lambda: next(
                (
                    row
                    for row in query(metadata, "select state, output from callback")
                    if row[0] in ("success", "failed")
                ),
                None,
            ),
            home,
        )
        run_state = query(metadata, "select state from dag_run where run_id = 'live_run'")

    assert run_state == [("running",)]  # it missed the deadline by still running
    assert state == "success", output
    # Airflow keeps our callback's return value in callback.output (Text): one line.
    assert output.startswith("deadline missed by deadline_live run live_run: recorded; sent to ")
    assert "webhook http://127.0.0.1" in output and "extra hook" in output
    assert "notifier airflow.providers.smtp.notifications.smtp.SmtpNotifier" in output
    assert contract_hook.url not in output and extra_hook.url not in output
    assert json.dumps(output)  # a plain string

    with ResultStore(f"sqlite:///{store}") as opened:
        (miss,) = opened.sla_misses(dag_id="deadline_live")
    assert (miss.run_id, miss.task_id, miss.dataset) == (
        "live_run",
        "deadline:orders in time",
        "orders",
    )
    assert miss.sla.total_seconds() == 1

    for hook in (contract_hook, extra_hook):
        (alert,) = hook.bodies()
        assert alert["event"] == "sla_miss"
        assert alert["title"] == (
            "[opsguard] SLA MISSED orders: DAG deadline_live missed its deadline"
        )
        assert alert["run"] == {"dag_id": "deadline_live", "dag_run_id": "live_run"}
        assert alert["runbook"] == "https://wiki.example.com/runbooks/orders"
    (mailed,) = mail.messages
    assert mailed["Subject"] == (
        "[opsguard] SLA MISSED orders: DAG deadline_live missed its deadline"
    )
    assert mailed["To"] == "oncall@example.com"
