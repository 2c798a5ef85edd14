"""Quarantine and write-audit-publish in real DAG runs (``dag.test()``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pendulum
import pytest
import sqlalchemy as sa
from conftest import STORE_URL, run_dag

from airflow_opsguard.quarantine import service
from airflow_opsguard.store import ResultStore

NOW = pendulum.datetime(2026, 11, 26, 12, tz="UTC")

CONTRACT = """\
dataset: {dataset}
{source}
schema:
  columns:
    - {{name: id, type: integer, unique: true}}
    - {{name: amount, type: float, nullable: false, min: 0}}
on_fail: quarantine
quarantine: {section}
"""

DAG = """\
from __future__ import annotations
import pendulum
import pytest
from airflow.sdk import DAG, task
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False):
    gate = QualityGateOperator(task_id="gate", contract="{contract}"{extra})

    @task
    def train():
        return "trained"

    gate >> train()
"""


def write(tmp_path: Path, dag_id: str, *, source: str, section: str = "{}", extra: str = "") -> str:
    contract = tmp_path / f"{dag_id}.yml"
    contract.write_text(CONTRACT.format(dataset=dag_id, source=source, section=section))
    return DAG.format(dag_id=dag_id, contract=contract, extra=extra)


def frame(good: bool) -> pd.DataFrame:
    return pd.DataFrame(
        {"id": [1, 2, 3, 4], "amount": [1.0, 2.0, 3.0, 4.0] if good else [1.0, None, 3.0, -1.0]}
    )


def records(dataset: str) -> list:  # type: ignore[type-arg]
    with ResultStore(STORE_URL) as store:
        return service.list_batches(store, dataset=dataset, status=None)


def test_a_quarantined_file_skips_downstream_and_is_linked_to_its_run(tmp_path: Path) -> None:
    data = tmp_path / "orders.parquet"
    frame(good=False).to_parquet(data)
    dag = write(tmp_path, "q_files", source="", extra=f', data="{data}"')
    run = run_dag(dag, "q_files", logical_date=NOW)
    assert run.states == {"gate": "skipped", "train": "skipped"}
    payload = run.xcoms[("gate", "opsguard_result")]
    assert payload["status"] == "fail" and payload["quarantine"]["action"] == "quarantined"
    assert not data.exists()
    (record,) = records("q_files")
    assert payload["quarantine"]["location"] == record.location
    assert Path(record.location, "data", "orders.parquet").is_file()
    assert (record.dag_id, record.task_id, record.dag_run_id) == ("q_files", "gate", run.run_id)
    with ResultStore(STORE_URL) as store:
        verdict = store.get(record.run_id or "")
    assert verdict is not None and verdict.run_id == payload["run_id"]  # the report's run


def test_quarantine_then_fail_fails_the_gate(tmp_path: Path) -> None:
    data = tmp_path / "orders.parquet"
    frame(good=False).to_parquet(data)
    extra = f', data="{data}", quarantine_then="fail", retries=2'
    run = run_dag(write(tmp_path, "q_then_fail", source="", extra=extra), "q_then_fail")
    assert run.states == {"gate": "failed", "train": "upstream_failed"}
    assert run.tries["gate"] == 1  # final: the batch is set aside, a retry cannot help
    assert len(records("q_then_fail")) == 1


def test_rows_split_lets_the_clean_file_go_on(tmp_path: Path) -> None:
    data = tmp_path / "orders.parquet"
    frame(good=False).to_parquet(data)
    dag = write(tmp_path, "q_rows", source="", section="{level: rows}", extra=f', data="{data}"')
    run = run_dag(dag, "q_rows", logical_date=NOW)
    assert run.states == {"gate": "success", "train": "success"}
    split = run.xcoms[("gate", "opsguard_result")]["quarantine"]
    assert split["action"] == "split" and split["remaining_status"] == "pass"
    assert pd.read_parquet(split["clean_path"])["id"].tolist() == [1, 3]
    (record,) = records("q_rows")
    assert record.kind == "rows" and record.rows == 2


def sqlite_warehouse(tmp_path: Path, good: bool) -> str:
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE staging (id INTEGER, amount REAL)"))
        connection.execute(sa.text("CREATE TABLE orders (id INTEGER, amount REAL)"))
    frame(good).to_sql("staging", engine, if_exists="append", index=False)
    engine.dispose()
    return url


def table_ids(url: str, table: str) -> list[int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(sa.text(f"SELECT id FROM {table} ORDER BY id")).scalars().all()
    engine.dispose()
    return list(found)


def test_write_audit_publish_on_sqlite(tmp_path: Path) -> None:
    url = sqlite_warehouse(tmp_path, good=True)
    source = f'source: {{url: "{url}", table: staging}}'
    dag = write(tmp_path, "q_wap", source=source, section="{publish_to: orders}")
    run = run_dag(dag, "q_wap", logical_date=NOW)
    assert run.states == {"gate": "success", "train": "success"}
    published = run.xcoms[("gate", "opsguard_result")]["quarantine"]
    assert published["action"] == "published" and published["published_rows"] == 4
    assert table_ids(url, "orders") == [1, 2, 3, 4]
    assert table_ids(url, "staging") == []
    assert records("q_wap") == []


def test_a_failing_sqlite_batch_is_quarantined_and_not_published(tmp_path: Path) -> None:
    url = sqlite_warehouse(tmp_path, good=False)
    source = f'source: {{url: "{url}", table: staging}}'
    dag = write(tmp_path, "q_wap_bad", source=source, section="{publish_to: orders}")
    run = run_dag(dag, "q_wap_bad", logical_date=NOW)
    assert run.states == {"gate": "skipped", "train": "skipped"}
    assert table_ids(url, "orders") == []
    assert table_ids(url, "orders_quarantine") == [1, 2, 3, 4]
    (record,) = records("q_wap_bad")
    assert record.kind == "table" and record.publish_to == "orders"
    assert {r["check"] for r in record.reasons} == {"not_null(amount)", "range(amount)"}


def test_the_same_gate_task_again_finishes_its_batch_as_decided(tmp_path: Path) -> None:
    # The same DAG run (same logical date) runs the gate task again, as a retry or a
    # cleared task does. Its data is already in quarantine: it must not check the (now
    # missing) file, nor quarantine twice; once a reviewer released the batch, the gate
    # lets the run go on.
    data = tmp_path / "orders.parquet"
    frame(good=False).to_parquet(data)
    dag = write(tmp_path, "q_again", source="", extra=f', data="{data}"')
    same_run = {"logical_date": NOW, "run_after": NOW}  # the same run id each time
    first = run_dag(dag, "q_again", **same_run)
    assert first.states == {"gate": "skipped", "train": "skipped"}
    (record,) = records("q_again")

    again = run_dag(dag, "q_again", **same_run)
    assert again.run_id == first.run_id
    assert again.states == {"gate": "skipped", "train": "skipped"}
    resumed = again.xcoms[("gate", "opsguard_result")]
    assert resumed["quarantine"]["resumed"] is True
    assert resumed["run_id"] == record.run_id  # the verdict of the try that quarantined
    assert len(records("q_again")) == 1

    with ResultStore(STORE_URL) as store:
        service.release(record.batch_id, store=store, force=True, by="ana")
    assert data.exists()
    released = run_dag(dag, "q_again", **same_run)
    assert released.states == {"gate": "success", "train": "success"}
    assert released.xcoms[("gate", "opsguard_result")]["quarantine"]["action"] == "released"


DECORATED = """\
from __future__ import annotations
import pandas as pd
import pendulum
import pytest
from airflow.sdk import DAG, task

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    @task.opsguard(contract="{contract}", on_fail="quarantine")
    def build():
        return pd.DataFrame({{"id": [1, 2, 3], "amount": [1.0, {amount}, 3.0]}})

    @task
    def train(frame):
        return len(frame)

    train(build())
"""


@pytest.mark.parametrize(
    ("amount", "states"),
    [
        ("2.0", {"build": "success", "train": "success"}),
        ("-2.0", {"build": "failed", "train": "upstream_failed"}),
    ],
)
def test_data_in_memory_passes_but_cannot_be_quarantined(
    tmp_path: Path, amount: str, states: dict[str, str]
) -> None:
    dag_id = f"q_memory_{'bad' if amount.startswith('-') else 'good'}"
    contract = tmp_path / "memory.yml"
    contract.write_text(CONTRACT.format(dataset=dag_id, source="", section="{}"))
    run = run_dag(DECORATED.format(dag_id=dag_id, contract=contract, amount=amount), dag_id)
    assert run.states == states
    assert records(dag_id) == []


DECORATED_FILE = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG, task

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    @task.opsguard(contract="{contract}", on_fail="quarantine", quarantine_then="fail")
    def land():
        return "{data}"

    @task
    def train(path):
        return path

    train(land())
"""


def test_a_decorated_gate_quarantines_the_file_it_returns_and_fails(tmp_path: Path) -> None:
    data = tmp_path / "landed.parquet"
    frame(good=False).to_parquet(data)
    contract = tmp_path / "landed.yml"
    contract.write_text(CONTRACT.format(dataset="q_decorated", source="", section="{}"))
    dag = DECORATED_FILE.format(dag_id="q_decorated", contract=contract, data=data)
    run = run_dag(dag, "q_decorated")
    assert run.states == {"land": "failed", "train": "upstream_failed"}
    assert run.tries["land"] == 1
    (record,) = records("q_decorated")
    assert not data.exists() and Path(record.location).exists()
