"""History checks inside Airflow: the gate reads earlier runs from its results store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pendulum
from conftest import STORE_URL, run_dag

from airflow_opsguard.store import ResultStore

CONTRACT = """\
dataset: {dataset}
checks:
  - {{type: row_count_change, max_drop: 0.5}}
  - {{type: anomaly, metric: rows, min_history: 3}}
"""

DAG = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False):
    QualityGateOperator(task_id="gate", contract="{contract}", data="{data}")
"""


def test_a_gate_compares_each_run_with_the_runs_before_it(tmp_path: Path) -> None:
    dag_id = "gate_history"
    contract = tmp_path / "events.yml"
    contract.write_text(CONTRACT.format(dataset=dag_id))
    data = tmp_path / "events.parquet"
    dag = DAG.format(dag_id=dag_id, contract=contract, data=data)
    first = pendulum.datetime(2026, 11, 20, 6, tz="UTC")
    outcomes = []
    for day, rows in enumerate([100, 104, 30]):
        pd.DataFrame({"id": range(rows)}).to_parquet(data)
        outcomes.append(run_dag(dag, dag_id, logical_date=first.add(days=day)))
    assert [o.states["gate"] for o in outcomes] == ["success", "success", "failed"]
    checks = [
        {c["name"]: c for c in o.xcoms[("gate", "opsguard_result")]["checks"]} for o in outcomes
    ]
    assert checks[0]["row_count_change"]["message"].startswith("learning: 0 of 1 passing runs")
    assert checks[1]["row_count_change"]["status"] == "pass"
    assert checks[2]["row_count_change"]["status"] == "fail"
    assert checks[2]["row_count_change"]["metrics"]["reference"] == 104
    assert checks[2]["anomaly(rows)"]["message"].startswith("learning: 2 of 3 runs")
    with ResultStore(STORE_URL) as store:
        points = store.metric_history(dag_id, "rows")
    assert [(p.value, p.status) for p in points] == [(30, "fail"), (104, "pass"), (100, "pass")]
