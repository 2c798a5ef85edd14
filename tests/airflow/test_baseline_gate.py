"""A gate with a store baseline: its runs keep profiles, and a promoted run judges the next."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pendulum
from conftest import STORE_URL, run_dag

from airflow_opsguard import promote_baseline

CONTRACT = """\
dataset: {dataset}
distribution:
  baseline: {dataset}-baseline
  columns: [amount]
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


def test_a_promoted_gate_run_is_the_baseline_of_the_next(tmp_path: Path) -> None:
    dag_id = "baseline_gate"
    contract = tmp_path / "amounts.yml"
    contract.write_text(CONTRACT.format(dataset=dag_id))
    data = tmp_path / "amounts.parquet"
    dag = DAG.format(dag_id=dag_id, contract=contract, data=data)
    rng = np.random.default_rng(3)
    first = pendulum.datetime(2026, 11, 20, 6, tz="UTC")

    pd.DataFrame({"amount": rng.normal(50, 5, 5_000)}).to_parquet(data)
    learning = run_dag(dag, dag_id, logical_date=first)
    assert learning.states["gate"] == "success"
    made = promote_baseline(f"{dag_id}-baseline", dataset=dag_id, store=STORE_URL)
    stored_run = learning.xcoms[("gate", "opsguard_result")]["run_id"]
    assert (made.version, made.run_id) == (1, stored_run)

    pd.DataFrame({"amount": rng.normal(65, 5, 5_000)}).to_parquet(data)
    shifted = run_dag(dag, dag_id, logical_date=first.add(days=1))
    assert shifted.states["gate"] == "failed"
    checks = shifted.xcoms[("gate", "opsguard_result")]["checks"]
    assert [(c["name"], c["status"]) for c in checks] == [("distribution(amount)", "fail")]
