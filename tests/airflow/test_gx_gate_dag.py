"""GX suites inside QualityGateOperator, in real DAG runs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pendulum
from conftest import parse, run_dag, write_dag

NOW = pendulum.datetime(2026, 11, 26, 12, tz="UTC")
CONTRACT = "dataset: {dataset}\nvolume: {{min_rows: 1}}\ngx_suite: [suite.json]\n"
SUITE = {
    "name": "orders_suite",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "email"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "order_id"}},
    ],
}
DAG = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG, task
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False, default_args={{"retries": 2}}):
    gate = QualityGateOperator(task_id="gate", contract="{contract}", data="{data}")

    @task
    def train():
        return "trained"

    gate >> train()
"""


def gx_dag(tmp_path: Path, dag_id: str, *, bad: bool) -> str:
    data = tmp_path / "orders.parquet"
    emails = ["a@x.org", None if bad else "b@x.org", "c@x.org"]
    pd.DataFrame({"order_id": [1, 2, 3], "email": emails}).to_parquet(data)
    (tmp_path / "suite.json").write_text(json.dumps(SUITE), encoding="utf-8")
    contract = tmp_path / "orders.yml"
    contract.write_text(CONTRACT.format(dataset=dag_id), encoding="utf-8")
    return DAG.format(dag_id=dag_id, contract=contract, data=data)


def test_a_failing_expectation_fails_the_gate_and_blocks_downstream(tmp_path: Path) -> None:
    run = run_dag(gx_dag(tmp_path, "gx_gate_fail", bad=True), "gx_gate_fail", logical_date=NOW)
    assert run.states == {"gate": "failed", "train": "upstream_failed"}
    assert run.tries["gate"] == 1  # a data failure is final: no retries
    result = run.xcoms[("gate", "opsguard_result")]
    failing = [c["name"] for c in result["checks"] if c["status"] == "fail"]
    assert failing == ["expect_column_values_to_not_be_null(email)"]
    assert {c["type"] for c in result["checks"]} == {"volume", "gx"}


def test_a_passing_suite_lets_the_data_through(tmp_path: Path) -> None:
    run = run_dag(gx_dag(tmp_path, "gx_gate_pass", bad=False), "gx_gate_pass", logical_date=NOW)
    assert run.states == {"gate": "success", "train": "success"}
    assert run.xcoms[("gate", "opsguard_result")]["status"] == "pass"


def test_a_missing_suite_file_is_an_import_error_naming_it(tmp_path: Path) -> None:
    dag = gx_dag(tmp_path, "gx_gate_missing", bad=False)
    (tmp_path / "suite.json").unlink()
    bag = parse(write_dag(dag, "gx_gate_missing"))
    (error,) = bag.import_errors.values()
    assert f"{tmp_path / 'suite.json'}: no such GX suite file" in error
