"""Deployment settings of the Airflow layer: the warning about a per-machine SQLite store
under a distributed executor, and ``[opsguard] auto_migrate``, in real DAG runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import AIRFLOW_HOME, STORE_URL, run_dag, write_dag

from airflow_opsguard.errors import StoreError
from airflow_opsguard.runtime import distributed_executors, store_url_in_airflow
from airflow_opsguard.store import ResultStore, store_state, upgrade_store
from airflow_opsguard.store.migrate import set_auto_migrate

WARNING = "which runs tasks on other machines"

CONTRACT = """\
dataset: {dataset}
schema:
  columns:
    - {{name: order_id, type: integer, nullable: false, unique: true}}
    - {{name: amount, type: float, min: 0}}
volume:
  min_rows: 2
"""

TWO_GATES = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    first = QualityGateOperator(task_id="first", contract="{contract}", data="{data}"{extra})
    second = QualityGateOperator(task_id="second", contract="{contract}", data="{data}"{extra})
    first >> second
"""

# Run in a process of its own (the warning is once per process), with
# AIRFLOW__CORE__EXECUTOR=CeleryExecutor in its environment. Each phase prints a marker,
# so the test sees which phase warned.
PHASES = """\
import json, os, sys
from airflow.dag_processing.dagbag import DagBag
from airflow_opsguard.runtime import store_url_in_airflow

print("PHASE local-executor", flush=True)
os.environ["AIRFLOW__CORE__EXECUTOR"] = "LocalExecutor"
store_url_in_airflow()
os.environ["AIRFLOW__CORE__EXECUTOR"] = "CeleryExecutor"

print("PHASE shared-store", flush=True)
os.environ["AIRFLOW__OPSGUARD__STORE_URL"] = sys.argv[3]
assert store_url_in_airflow() == sys.argv[3]
del os.environ["AIRFLOW__OPSGUARD__STORE_URL"]

print("PHASE celery-default-store", flush=True)
bag = DagBag(sys.argv[1])
assert not bag.import_errors, bag.import_errors
run = bag.get_dag(sys.argv[2]).test()
print("RESULT " + json.dumps({"state": str(run.state), "run_id": run.run_id}), flush=True)
"""


def gate_source(tmp_path: Path, dag_id: str, *, extra: str = "") -> str:
    data = tmp_path / "orders.csv"
    data.write_text("order_id,amount\n1,10.5\n2,3.0\n3,7.25\n")
    contract = tmp_path / f"{dag_id}.yml"
    contract.write_text(CONTRACT.format(dataset=dag_id))
    return TWO_GATES.format(dag_id=dag_id, contract=contract, data=data, extra=extra)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("LocalExecutor", []),
        ("airflow.executors.local_executor.LocalExecutor", []),
        ("CeleryExecutor", ["CeleryExecutor"]),
        ("LocalExecutor,CeleryExecutor", ["CeleryExecutor"]),
        (
            "LocalExecutor, airflow.providers.cncf.kubernetes.executors."
            "kubernetes_executor.KubernetesExecutor",
            ["KubernetesExecutor"],
        ),
        ("edge:airflow.providers.edge3.executors.EdgeExecutor", ["EdgeExecutor"]),
        (
            "LocalExecutor;team_a=CeleryExecutor,KubernetesExecutor",
            ["CeleryExecutor", "KubernetesExecutor"],
        ),
        ("my_company.executors.LocalishExecutor", []),
    ],
)
def test_which_executors_run_tasks_on_other_machines(setting: str, expected: list[str]) -> None:
    assert distributed_executors(setting) == expected


def test_a_celery_deployment_with_the_default_store_warns_once_per_process(
    tmp_path: Path,
) -> None:
    dag_id = f"celery_store_{uuid.uuid4().hex[:8]}"
    dag_file = write_dag(gate_source(tmp_path, dag_id), dag_id)
    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__OPSGUARD__")}
    env.pop("OPSGUARD_STORE_URL", None)
    env["AIRFLOW__CORE__EXECUTOR"] = "CeleryExecutor"
    proc = subprocess.run(
        [sys.executable, "-c", PHASES, str(dag_file), dag_id, shared],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    result = json.loads(output.split("RESULT ", 1)[1].splitlines()[0])
    assert result["state"] == "success"

    before, celery = output.split("PHASE celery-default-store", 1)
    assert "PHASE shared-store" in before
    assert WARNING not in before  # LocalExecutor, or a shared store: no warning
    assert celery.count(WARNING) == 1  # two gate tasks, one process, one warning
    line = next(line for line in celery.splitlines() if WARNING in line)
    assert "the executor is CeleryExecutor" in line
    assert str(AIRFLOW_HOME / "opsguard.db") in line
    assert "[opsguard] store_url" in line
    assert "PostgreSQL or MySQL" in line

    # Both gates wrote to this machine's file, the one the warning names.
    with ResultStore(STORE_URL) as store:
        stored = store.results(dataset=dag_id)
    assert sorted(r.context.get("task_id") for r in stored) == ["first", "second"]


@pytest.fixture
def auto_migrate_reset() -> Iterator[None]:
    yield
    set_auto_migrate(None)  # the setting is process-wide: leave none behind


def test_auto_migrate_false_leaves_the_schema_to_db_upgrade_and_the_gate_still_decides(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    auto_migrate_reset: None,
) -> None:
    store_url = f"sqlite:///{tmp_path / 'unmigrated' / 'opsguard.db'}"
    monkeypatch.setenv("AIRFLOW__OPSGUARD__AUTO_MIGRATE", "False")
    monkeypatch.setenv("AIRFLOW__OPSGUARD__STORE_URL", store_url)
    dag_id = f"no_auto_migrate_{uuid.uuid4().hex[:8]}"
    outcome = run_dag(gate_source(tmp_path, dag_id), dag_id)

    assert outcome.states == {"first": "success", "second": "success"}  # verdicts stand
    # (The one-line warning each gate logs is tested in tests/store/test_store_deploy.py;
    # where Airflow's task logging writes under dag.test() depends on what ran before.)
    state = store_state(store_url)
    assert state.revision is None  # the workers created nothing
    upgrade_store(store_url)  # the deploy step
    with ResultStore(store_url) as store:
        replay = store.flush_spool()  # what waited while the schema was old
        stored = store.results(dataset=dag_id)
    assert replay.stored == 2
    assert sorted(r.context.get("task_id") for r in stored) == ["first", "second"]


def test_auto_migrate_from_airflows_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auto_migrate_reset: None
) -> None:
    url = f"sqlite:///{tmp_path / 'manual' / 'opsguard.db'}"
    monkeypatch.setenv("AIRFLOW__OPSGUARD__AUTO_MIGRATE", "false")
    assert store_url_in_airflow(url) == url
    with pytest.raises(
        StoreError, match=r"needs `opsguard db upgrade`.*automatic migration is off"
    ):
        ResultStore(url).results()

    monkeypatch.setenv("AIRFLOW__OPSGUARD__AUTO_MIGRATE", "now and then")
    with pytest.raises(StoreError, match=r"\[opsguard\] auto_migrate: 'now and then' is not"):
        store_url_in_airflow(url)

    monkeypatch.delenv("AIRFLOW__OPSGUARD__AUTO_MIGRATE")
    store_url_in_airflow(url)  # unset again: stores migrate themselves
    assert ResultStore(url).results() == []
    assert store_state(url).current
