"""An Open Data Contract Standard v3 contract behind QualityGateOperator, in a real DAG run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pendulum
from conftest import run_dag

ODCS = Path(__file__).resolve().parents[1] / "odcs" / "contracts" / "orders.odcs.yaml"
DAG = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG, task
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False):
    gate = QualityGateOperator(task_id="gate", contract="{contract}")

    @task
    def train():
        return "trained"

    gate >> train()
"""


def test_an_odcs_contract_gates_a_dag_run(tmp_path: Path) -> None:
    contract = tmp_path / "orders.odcs.yaml"
    shutil.copy(ODCS, contract)  # its server is orders.parquet, next to it
    pd.DataFrame(
        {
            "order_id": [1, 2, 3],
            "customer_email": ["a@x.org", None, "c@x.org"],
            "amount": [1.0, 2.0, 3.0],
            "country": ["US", "DE", "FR"],
            "created_at": pd.to_datetime(["2026-11-26 01:00"] * 3),
        }
    ).to_parquet(tmp_path / "orders.parquet")
    dag = DAG.format(dag_id="odcs_gate", contract=contract)
    run = run_dag(dag, "odcs_gate", logical_date=pendulum.datetime(2026, 11, 26, 12, tz="UTC"))
    assert run.states == {"gate": "failed", "train": "upstream_failed"}
    result = run.xcoms[("gate", "opsguard_result")]
    assert result["dataset"] == "orders"
    failing = [c["name"] for c in result["checks"] if c["status"] == "fail"]
    assert failing == ["not_null(customer_email)"]
