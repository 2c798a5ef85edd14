"""The Spark example DAG: a PySpark job (the Apache Spark provider's ``@task.pyspark``)
writes the day's orders, and the gate checks them on the Spark session that the same
Airflow connection names (resolved by the gate inside Airflow, by ``conn_id``)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from conftest import DAGS, outcome, parse

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
NOW = pendulum.datetime(2026, 11, 26, 12, tz="UTC")
# The example's connection: a Spark connection whose host is the master (local mode).
SPARK_CONNECTION = json.dumps({"conn_type": "spark", "host": "local[1]"})


@pytest.fixture(scope="module")
def spark_examples() -> Iterator[Path]:
    """The example folder inside the test session's DAGs folder, as a deployment has it."""
    target = DAGS / "spark_examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("data", "__pycache__"))
    sys.path.insert(0, str(target))
    yield target
    sys.path.remove(str(target))


@pytest.mark.parametrize(
    ("scenario", "verdict", "states"),
    [
        (
            "healthy",
            "pass",
            {"build_orders": "success", "orders_gate": "success", "revenue_report": "success"},
        ),
        (
            "broken",
            "fail",
            {
                "build_orders": "success",
                "orders_gate": "failed",
                "revenue_report": "upstream_failed",
            },
        ),
    ],
)
def test_the_spark_gate_checks_on_the_connections_session(
    spark_examples: Path,
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,
    verdict: str,
    states: dict[str, str],
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_OPSGUARD_SPARK", SPARK_CONNECTION)
    dag = parse(spark_examples).get_dag("orders_spark_gate")
    run = outcome(
        dag.test(logical_date=NOW.add(minutes=len(scenario)), run_conf={"scenario": scenario})
    )
    assert run.states == states
    result = run.xcoms[("orders_gate", "opsguard_result")]
    assert result["status"] == verdict
    assert result["source"].endswith("on Spark (Airflow connection 'opsguard_spark')")
    checks = {c["name"]: c for c in result["checks"]}
    if scenario == "broken":
        assert checks["unique(order_id)"]["failing_count"] == 200  # 100 orders, twice each
        assert checks["range(amount)"]["failing_count"] == 100
    else:
        assert all(c["status"] == "pass" for c in result["checks"])
