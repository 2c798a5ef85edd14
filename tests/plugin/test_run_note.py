"""A DAG run whose data a gate quarantined says so in its note (a real ``dag.test()``
in its own Airflow home, as Airflow runs the plugin's listener where runs end)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pandas as pd
from server import environment, run

from airflow_opsguard.operators.quality_gate import QUARANTINED_XCOM_KEY
from airflow_opsguard.plugin import run_notes

DAG = """\
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
CONTRACT = """\
dataset: orders_landing
schema:
  columns:
    - {name: order_id, type: integer, unique: true}
    - {name: amount, type: float, nullable: false, min: 0}
on_fail: quarantine
"""
RUN = """\
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
    print(json.dumps({"state": str(stored.state), "note": stored.note, "states": states}))
"""


def run_dag(home: Path, dag_id: str, good: bool) -> dict[str, object]:
    data = home / f"{dag_id}.parquet"
    amounts = [10.0, 5.0, 7.5] if good else [10.0, -5.0, 7.5]
    pd.DataFrame({"order_id": [1, 2, 3], "amount": amounts}).to_parquet(data)
    contract = home / "orders_landing.yml"
    contract.write_text(CONTRACT)
    dag_file = home / "dags" / f"{dag_id}.py"
    dag_file.write_text(DAG.format(dag_id=dag_id, contract=contract, data=data))
    env = environment(home)
    output = run([sys.executable, "-c", RUN, str(dag_file), dag_id], env)
    found: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return found


def test_a_quarantined_run_says_so_in_its_note(tmp_path: Path) -> None:
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    env = environment(home)
    run([str(Path(os.sys.executable).with_name("airflow")), "db", "migrate"], env)
    held = run_dag(home, "landing_bad", good=False)
    # Green in Airflow's grid: the gate and what follows are skipped, the run succeeds.
    assert held["state"] == "success"
    assert held["states"] == {"orders_gate": "skipped", "train": "skipped"}
    note = str(held["note"])
    assert note.startswith("Data quality: 1 batch quarantined: orders_landing (batch, 3 rows")
    assert "gate orders_gate" in note and "Review under Data quality > Quarantine" in note
    passed = run_dag(home, "landing_good", good=True)
    assert passed["state"] == "success" and passed["note"] is None


def test_the_note_text() -> None:
    assert QUARANTINED_XCOM_KEY == run_notes.QUARANTINED_XCOM_KEY
    assert run_notes.note_text([]) == ""
    text = run_notes.note_text(
        [
            ("b_gate", {"dataset": "b", "action": "split", "rows": 1}),
            ("a_gate", {"dataset": "a", "action": "quarantined", "rows": None}),
        ]
    )
    assert text == (
        "Data quality: 2 batches quarantined: a (batch, gate a_gate); "
        "b (bad rows, 1 row, gate b_gate). Review under Data quality > Quarantine."
    )
    many = run_notes.note_text([(f"t{i}", {"dataset": "x" * 50}) for i in range(40)])
    assert len(many) == run_notes.NOTE_LIMIT and many.endswith("…")
