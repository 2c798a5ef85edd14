"""OpenLineage: gate runs report the checked dataset with data-quality facets.

The Airflow OpenLineage provider runs for real during ``dag.test()``; its file transport
writes the events of DAGs named ``lineage_*`` to a file (configured in conftest), which
the tests read back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pendulum
import pytest
from conftest import LINEAGE_EVENTS, run_dag

pytest.importorskip("airflow.providers.openlineage")

CONTRACT = """\
dataset: {dataset}
schema:
  columns:
    - {{name: id, type: integer, nullable: false, unique: true}}
    - {{name: amount, type: float, min: 0, max: 100}}
    - {{name: country, type: string, allowed: [US, DE]}}
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


def gate_events(dag_id: str) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in LINEAGE_EVENTS.read_text().splitlines() if line]
    return [e for e in events if e["job"]["name"] == f"{dag_id}.gate"]


@pytest.mark.parametrize(
    ("dag_id", "amounts", "state", "event"),
    [
        ("lineage_pass", [1.0, 50.0, 99.0], "success", "COMPLETE"),
        ("lineage_fail", [1.0, 150.0, None], "failed", "FAIL"),
    ],
)
def test_a_gate_reports_its_verdict_as_data_quality_facets(
    tmp_path: Path, dag_id: str, amounts: list[float | None], state: str, event: str
) -> None:
    contract = tmp_path / "orders.yml"
    contract.write_text(CONTRACT.format(dataset=dag_id))
    data = tmp_path / "orders.parquet"
    pd.DataFrame({"id": [1, 2, 3], "amount": amounts, "country": ["US", "DE", "US"]}).to_parquet(
        data
    )
    outcome = run_dag(
        DAG.format(dag_id=dag_id, contract=contract, data=data),
        dag_id,
        logical_date=pendulum.datetime(2026, 11, 20, tz="UTC"),
    )
    assert outcome.states["gate"] == state

    final = [e for e in gate_events(dag_id) if e["eventType"] == event]
    assert len(final) == 1, [e["eventType"] for e in gate_events(dag_id)]
    (dataset,) = final[0]["inputs"]
    assert (dataset["namespace"], dataset["name"]) == ("file", str(data))
    facets = dataset["inputFacets"]
    assertions = {a["name"]: a for a in facets["dataQualityAssertions"]["assertions"]}
    verdict = outcome.xcoms[("gate", "opsguard_result")]
    assert set(assertions) == {c["name"] for c in verdict["checks"]}
    for check in verdict["checks"]:
        found = assertions[check["name"]]
        assert found["assertion"] == check["type"]
        assert found["success"] is (check["status"] == "pass")
        assert found.get("column") == check.get("column")
    metrics = facets["dataQualityMetrics"]
    assert metrics["rowCount"] == 3
    nulls = 1 if None in amounts else 0
    assert metrics["columnMetrics"]["amount"]["nullCount"] == nulls
    assert metrics["columnMetrics"]["amount"]["max"] == max(a for a in amounts if a is not None)
    if state == "failed":
        assert assertions["range(amount)"]["success"] is False
        assert assertions["range(amount)"]["actual"] is not None
        assert assertions["allowed(country)"]["success"] is True


def test_dataset_names_follow_the_openlineage_naming_spec(tmp_path: Path) -> None:
    from airflow_opsguard.formats import load_contract
    from airflow_opsguard.operators.lineage import LineageDataset, dataset_of

    spec = load_contract({"dataset": "orders"})
    pg = "postgresql://etl:secret@db.internal/shop"
    assert dataset_of(spec, pg, "orders") == LineageDataset(
        "postgres://db.internal:5432", "shop.public.orders"
    )
    assert dataset_of(spec, "mysql://u@m:3307/shop", "sales.orders") == LineageDataset(
        "mysql://m:3307", "shop.sales.orders"
    )
    assert dataset_of(spec, "s3://bucket/path/orders.parquet", None) == LineageDataset(
        "s3://bucket", "path/orders.parquet"
    )
    assert dataset_of(spec, pd.DataFrame({"a": [1]}), None) == LineageDataset("opsguard", "orders")


def test_the_gate_imports_nothing_of_openlineage_by_itself(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from airflow_opsguard import load_contract\n"
        "from airflow_opsguard.operators import QualityGateOperator\n"
        "QualityGateOperator(task_id='g', contract=load_contract({'dataset': 'd'}))\n"
        "print(sorted(m for m in sys.modules if m.startswith('openlineage')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
