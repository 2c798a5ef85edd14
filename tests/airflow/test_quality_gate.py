"""The quality gate in real DAG runs: every outcome, and what downstream tasks do."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pendulum
import pytest
from conftest import STORE_URL, parse, run_dag, write_dag

from airflow_opsguard.store import ResultStore

CONTRACT = """\
dataset: {dataset}
schema:
  columns:
    - {{name: order_id, type: integer, nullable: false, unique: true}}
    - {{name: amount, type: float, min: 0}}
    - {{name: created_at, type: timestamp}}
freshness:
  column: created_at
  fail_after: 1d
volume:
  min_rows: 2
"""

DAG = """\
from __future__ import annotations
from datetime import timedelta
import pendulum
from airflow.sdk import DAG, task
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule={schedule}, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False, default_args={{"retries": {retries}, "retry_delay": timedelta(0)}}):
    gate = QualityGateOperator(task_id="gate", contract="{contract}", data="{data}"{extra})

    @task
    def train():
        return "trained"

    gate >> train()
"""


def orders(path: Path, *, day: str = "2026-11-26", bad: bool = False) -> Path:
    frame = pd.DataFrame(
        {
            "order_id": [1, 2, 2 if bad else 3],
            "amount": [10.0, -5.0 if bad else 5.0, 7.5],
            "created_at": pd.to_datetime([f"{day} 01:00", f"{day} 02:00", f"{day} 03:00"]),
        }
    )
    frame.to_parquet(path)
    return path


def gate_dag(
    tmp_path: Path,
    dag_id: str,
    *,
    data: str,
    extra: str = "",
    retries: int = 0,
    schedule: str = "None",
) -> str:
    contract = tmp_path / "orders.yml"
    contract.write_text(CONTRACT.format(dataset=dag_id))
    return DAG.format(
        dag_id=dag_id,
        contract=contract,
        data=data,
        extra=extra,
        retries=retries,
        schedule=schedule,
    )


def stored(dag_id: str) -> list[dict]:  # type: ignore[type-arg]
    with ResultStore(STORE_URL) as store:
        return [r.to_dict() for r in store.results(dataset=dag_id, limit=50)]


NOW = pendulum.datetime(2026, 11, 26, 12, tz="UTC")


def test_passing_data_goes_through(tmp_path: Path) -> None:
    data = orders(tmp_path / "orders.parquet")
    run = run_dag(gate_dag(tmp_path, "gate_pass", data=str(data)), "gate_pass", logical_date=NOW)
    assert run.states == {"gate": "success", "train": "success"}
    result = run.xcoms[("gate", "opsguard_result")]
    assert result["status"] == "pass"
    assert json.loads(json.dumps(result)) == result
    assert run.xcoms[("gate", "return_value")] == result
    (record,) = stored("gate_pass")
    assert record["status"] == "pass"
    assert record["context"]["dag_id"] == "gate_pass"
    assert record["context"]["task_id"] == "gate"


def test_failing_data_fails_the_gate_at_once_and_blocks_downstream(tmp_path: Path) -> None:
    data = orders(tmp_path / "orders.parquet", bad=True)
    dag = gate_dag(tmp_path, "gate_fail", data=str(data), retries=3)
    run = run_dag(dag, "gate_fail", logical_date=NOW)
    assert run.states == {"gate": "failed", "train": "upstream_failed"}
    assert run.tries["gate"] == 1  # a data failure is final: no retries
    result = run.xcoms[("gate", "opsguard_result")]
    failing = {c["name"]: c for c in result["checks"] if c["status"] == "fail"}
    assert set(failing) == {"unique(order_id)", "range(amount)"}
    assert failing["unique(order_id)"]["failing_count"] == 2
    assert len(stored("gate_fail")) == 1  # stored once


def test_on_fail_skip_skips_downstream(tmp_path: Path) -> None:
    data = orders(tmp_path / "orders.parquet", bad=True)
    dag = gate_dag(tmp_path, "gate_skip", data=str(data), extra=', on_fail="skip"')
    run = run_dag(dag, "gate_skip", logical_date=NOW)
    assert run.states == {"gate": "skipped", "train": "skipped"}
    assert stored("gate_skip")[0]["status"] == "fail"


def test_on_fail_warn_lets_the_run_go_on_and_records_the_failure(tmp_path: Path) -> None:
    data = orders(tmp_path / "orders.parquet", bad=True)
    dag = gate_dag(tmp_path, "gate_warn", data=str(data), extra=', on_fail="warn"')
    run = run_dag(dag, "gate_warn", logical_date=NOW)
    assert run.states == {"gate": "success", "train": "success"}
    assert run.xcoms[("gate", "return_value")]["status"] == "fail"
    assert stored("gate_warn")[0]["status"] == "fail"


def test_freshness_is_judged_against_the_data_interval(tmp_path: Path) -> None:
    # Data from 1 March, checked in a run for 1 March: fresh, though months old now.
    data = orders(tmp_path / "march.parquet", day="2026-03-01")
    dag = gate_dag(tmp_path, "gate_backfill", data=str(data), schedule='"@daily"')
    run = run_dag(dag, "gate_backfill", logical_date=pendulum.datetime(2026, 3, 1, 6, tz="UTC"))
    result = run.xcoms[("gate", "opsguard_result")]
    freshness = next(c for c in result["checks"] if c["type"] == "freshness")
    assert freshness["status"] == "pass", freshness
    assert result["checked_at"].startswith("2026-03-01")


def test_wall_clock_when_asked(tmp_path: Path) -> None:
    data = orders(tmp_path / "march.parquet", day="2026-03-01")
    dag = gate_dag(tmp_path, "gate_clock", data=str(data), extra=', freshness_reference="now"')
    run = run_dag(dag, "gate_clock", logical_date=pendulum.datetime(2026, 3, 1, 6, tz="UTC"))
    assert run.states["gate"] == "failed"


def test_templated_paths_render(tmp_path: Path) -> None:
    orders(tmp_path / "orders_2026-11-26.parquet")
    dag = gate_dag(tmp_path, "gate_template", data=f"{tmp_path}/orders_{{{{ ds }}}}.parquet")
    run = run_dag(dag, "gate_template", logical_date=NOW)
    assert run.states["gate"] == "success"
    assert run.xcoms[("gate", "opsguard_result")]["source"].endswith("orders_2026-11-26.parquet")


def test_unreadable_data_fails_without_retry(tmp_path: Path) -> None:
    dag = gate_dag(tmp_path, "gate_missing", data=str(tmp_path / "nope.parquet"), retries=2)
    run = run_dag(dag, "gate_missing", logical_date=NOW)
    assert run.states == {"gate": "failed", "train": "upstream_failed"}
    assert run.tries["gate"] == 1
    assert "nope.parquet" in run.xcoms[("gate", "opsguard_result")]["error"]


def test_a_database_that_does_not_answer_is_retried(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/nowhere"
    dag = gate_dag(tmp_path, "gate_down", data=url, extra=', table="orders"', retries=1)
    run = run_dag(dag, "gate_down", logical_date=NOW)
    assert run.states["gate"] == "failed"
    assert run.tries["gate"] == 2  # retried once, then failed
    records = stored("gate_down")
    assert [r["status"] for r in records] == ["error", "error"]  # one per attempt
    assert all(r["retryable"] for r in records)
    assert len({r["run_id"] for r in records}) == 2


def test_a_broken_contract_is_an_import_error_naming_file_and_key(tmp_path: Path) -> None:
    dag = gate_dag(tmp_path, "gate_broken", data="x.parquet")
    (tmp_path / "orders.yml").write_text(CONTRACT.format(dataset="x").replace("min_rows", "mn"))
    bag = parse(write_dag(dag, "gate_broken"))
    (error,) = bag.import_errors.values()
    assert "orders.yml:11: volume.mn: unknown key 'mn'" in error


def test_an_unknown_quarantine_then_is_an_import_error(tmp_path: Path) -> None:
    extra = ', on_fail="quarantine", quarantine_then="explode"'
    dag = gate_dag(tmp_path, "gate_quarantine", data="x.parquet", extra=extra)
    bag = parse(write_dag(dag, "gate_quarantine"))
    (error,) = bag.import_errors.values()
    assert "gate: quarantine_then must be one of ('skip', 'fail'), not 'explode'" in error


@pytest.mark.parametrize("bad", ['on_fail="explode"', 'freshness_reference="tomorrow"'])
def test_bad_arguments_are_import_errors(tmp_path: Path, bad: str) -> None:
    dag = gate_dag(tmp_path, "gate_args", data="x.parquet", extra=f", {bad}")
    bag = parse(write_dag(dag, "gate_args"))
    (error,) = bag.import_errors.values()
    assert "gate: " in error


FRAME_DAG = """\
from __future__ import annotations
import pandas as pd
import pendulum
from airflow.sdk import DAG, task
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    @task
    def extract():
        return pd.DataFrame({{"order_id": [1, 2, {third}], "amount": [10.0, 5.0, 7.5],
                             "created_at": pd.to_datetime(["2026-11-26 01:00"] * 3)}})

    QualityGateOperator(task_id="gate", contract="{contract}", data=extract())
"""


@pytest.mark.parametrize(("third", "status"), [(3, "pass"), (2, "fail")])
def test_a_dataframe_from_the_upstream_task_is_checked(
    tmp_path: Path, third: int, status: str
) -> None:
    dag_id = f"gate_frame_{status}"
    contract = tmp_path / "orders.yml"
    contract.write_text(CONTRACT.format(dataset=dag_id))
    dag = FRAME_DAG.format(dag_id=dag_id, contract=contract, third=third)
    run = run_dag(dag, dag_id, logical_date=NOW)
    assert run.states == {"extract": "success", "gate": "success" if status == "pass" else "failed"}
    result = run.xcoms[("gate", "opsguard_result")]
    assert (result["status"], result["rows"]) == (status, 3)
