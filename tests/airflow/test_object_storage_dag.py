"""Files on object storage in real DAG runs and validate(): Airflow AWS connections (the
Amazon provider's s3fs, endpoint_url in the connection's extra) to two local S3 servers
with different keys and different data under the same bucket and key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import STORE_URL, run_dag
from s3_stand_in import BUCKET, Account, two_accounts

from airflow_opsguard import validate

CHECKS = """\
checks:
  - {type: not_null, column: order_id}
  - {type: range, column: amount, min: 0}
"""

DAG = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG, ObjectStoragePath, task
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    # The contract's source: s3://lake/orders/ through connection opsguard_s3_a.
    by_contract = QualityGateOperator(task_id="by_contract", contract="{with_source}")
    # The data as an ObjectStoragePath of the other connection: its broken orders.
    by_path = QualityGateOperator(
        task_id="by_path",
        contract="{without_source}",
        data=ObjectStoragePath("s3://{bucket}/orders/", conn_id="opsguard_s3_b"),
        on_fail="skip",
    )

    @task.opsguard(contract="{without_source}")
    def land_orders():
        return ObjectStoragePath("s3://{bucket}/csv/orders.csv", conn_id="opsguard_s3_a")

    by_contract >> [by_path, land_orders()]
"""


@pytest.fixture(scope="module")
def accounts() -> Iterator[dict[str, Account]]:
    with two_accounts() as found, pytest.MonkeyPatch.context() as patch:
        for name, account in found.items():
            patch.setenv(
                f"AIRFLOW_CONN_OPSGUARD_S3_{name.upper()}", json.dumps(account.connection())
            )
        yield found


def contracts(folder: Path) -> tuple[Path, Path]:
    with_source = folder / "orders_on_s3.yml"
    with_source.write_text(
        f"dataset: orders_s3\nsource: {{path: 's3://{BUCKET}/orders/', conn_id: opsguard_s3_a}}\n"
        + CHECKS
    )
    without_source = folder / "orders_anywhere.yml"
    without_source.write_text("dataset: orders_anywhere\n" + CHECKS)
    return with_source, without_source


def test_gates_read_object_storage_through_airflow_connections(
    accounts: dict[str, Account], tmp_path: Path
) -> None:
    with_source, without_source = contracts(tmp_path)
    dag = DAG.format(
        dag_id="object_storage_gates",
        with_source=with_source,
        without_source=without_source,
        bucket=BUCKET,
    )
    run = run_dag(dag, "object_storage_gates")
    assert run.states == {
        "by_contract": "success",
        "by_path": "skipped",
        "land_orders": "success",
    }, run.states
    passed = run.xcoms[("by_contract", "opsguard_result")]
    assert (passed["status"], passed["rows"]) == ("pass", 3)
    assert passed["source"] == f"s3://{BUCKET}/orders/"
    failed = run.xcoms[("by_path", "opsguard_result")]
    assert (failed["status"], failed["rows"]) == ("fail", 5)
    assert failed["source"] == f"s3://{BUCKET}/orders"  # as the path object spells it
    landed = run.xcoms[("land_orders", "opsguard_result")]
    assert (landed["status"], landed["rows"]) == ("pass", 3)


def test_validate_reads_through_each_connection(
    accounts: dict[str, Account], tmp_path: Path
) -> None:
    from airflow.sdk import ObjectStoragePath

    with_source, without_source = contracts(tmp_path)
    assert (validate(str(with_source)).status, validate(str(with_source)).rows) == ("pass", 3)
    broken = ObjectStoragePath(f"s3://{BUCKET}/orders/", conn_id="opsguard_s3_b")
    result = validate(str(without_source), data=broken)
    assert (result.status, result.rows) == ("fail", 5)
    # The contract's connection, then the other one's path: no credentials cross over.
    assert validate(str(with_source)).status == "pass"


def test_a_missing_storage_connection_is_the_verdict_error(
    accounts: dict[str, Account], tmp_path: Path
) -> None:
    contract = tmp_path / "nowhere.yml"
    contract.write_text(
        f"dataset: nowhere\nsource: {{path: 's3://{BUCKET}/orders/', conn_id: opsguard_s3_x}}\n"
        + CHECKS
    )
    result = validate(str(contract))
    assert result.status == "error"
    error = result.error or ""
    assert "opsguard_s3_x" in error and f"s3://{BUCKET}/orders/" in error and "\n" not in error


def test_a_draft_keeps_the_storage_connection(accounts: dict[str, Account]) -> None:
    import yaml
    from airflow.sdk import ObjectStoragePath

    from airflow_opsguard.drafting.draft import draft_contract
    from airflow_opsguard.formats import load_contract

    path = ObjectStoragePath(f"s3://{BUCKET}/orders/", conn_id="opsguard_s3_b")
    drafted = load_contract(yaml.safe_load(draft_contract(path, dataset="orders")))
    assert drafted.source is not None
    assert (drafted.source.path, drafted.source.conn_id) == (
        f"s3://{BUCKET}/orders",
        "opsguard_s3_b",
    )
    # The drafted contract reads the same data through the same connection.
    assert validate(drafted).rows == 5


QUARANTINE_DAG = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG, ObjectStoragePath, task
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    gate = QualityGateOperator(
        task_id="gate",
        contract="{contract}",
        data=ObjectStoragePath("s3://{bucket}/landing/", conn_id="opsguard_s3_b"),
        on_fail="quarantine",
    )

    @task
    def train():
        return "trained"

    gate >> train()
"""


def test_a_failing_batch_on_s3_is_quarantined_through_its_connection(
    accounts: dict[str, Account], tmp_path: Path
) -> None:
    """A real DAG run: the Amazon provider's filesystem of connection b moves the broken
    orders into _quarantine/ on b's bucket; account a's same-named keys are untouched."""
    from airflow_opsguard.quarantine import service
    from airflow_opsguard.store import ResultStore

    b = accounts["b"].filesystem()
    b.copy(f"{BUCKET}/orders/part-0.parquet", f"{BUCKET}/landing/part-0.parquet")
    contract = tmp_path / "orders_landing_s3.yml"
    contract.write_text("dataset: orders_landing_s3\n" + CHECKS)
    dag = QUARANTINE_DAG.format(dag_id="s3_quarantine", contract=contract, bucket=BUCKET)
    run = run_dag(dag, "s3_quarantine")
    assert run.states == {"gate": "skipped", "train": "skipped"}, run.states
    payload = run.xcoms[("gate", "opsguard_result")]
    assert payload["status"] == "fail" and payload["quarantine"]["action"] == "quarantined"
    with ResultStore(STORE_URL) as store:
        (record,) = service.list_batches(store, dataset="orders_landing_s3")
    assert record.details["conn_id"] == "opsguard_s3_b"
    held = record.location.removeprefix("s3://")
    assert held.startswith(f"{BUCKET}/_quarantine/orders_landing_s3/")
    b.invalidate_cache()
    assert b.exists(f"{held}/data/landing/part-0.parquet")
    assert not b.exists(f"{BUCKET}/landing/part-0.parquet")
    a = accounts["a"].filesystem()
    assert not a.exists(f"{BUCKET}/_quarantine")  # nothing crossed to the other account
