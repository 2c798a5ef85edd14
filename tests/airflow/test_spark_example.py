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

pytestmark = pytest.mark.usefixtures("java_runtime")  # Spark's JVM

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
    monkeypatch.setenv("SPARK_LOCAL_IP", "127.0.0.1")  # the JVM binds to loopback only
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


@pytest.mark.parametrize(
    "connection",
    [
        {"conn_type": "spark_connect", "host": "spark.example", "port": 15002},
        {
            "conn_type": "spark_connect",
            "host": "sc://spark.example",
            "port": 443,
            "login": "gate",
            "password": "t/k=n",
            "extra": {"use_ssl": True},
        },
    ],
)
def test_a_spark_connect_connection_gives_the_providers_url(
    monkeypatch: pytest.MonkeyPatch, connection: dict[str, object]
) -> None:
    from airflow.providers.apache.spark.hooks.spark_connect import SparkConnectHook

    from airflow_opsguard.connections import spark_endpoint

    monkeypatch.setenv("AIRFLOW_CONN_OPSGUARD_SC", json.dumps(connection))
    assert spark_endpoint("opsguard_sc") == {
        "remote": SparkConnectHook("opsguard_sc").get_connection_url()
    }


@pytest.mark.parametrize(
    ("connection", "master"),
    [
        ({"conn_type": "spark", "host": "local[2]"}, "local[2]"),
        ({"conn_type": "spark", "host": "spark-master", "port": 7077}, "spark://spark-master:7077"),
        ({"conn_type": "spark", "host": "yarn"}, "yarn"),
    ],
)
def test_a_spark_connection_gives_its_master(
    monkeypatch: pytest.MonkeyPatch, connection: dict[str, object], master: str
) -> None:
    from airflow_opsguard.connections import spark_endpoint

    monkeypatch.setenv("AIRFLOW_CONN_OPSGUARD_SPARK_M", json.dumps(connection))
    assert spark_endpoint("opsguard_spark_m") == {"master": master}


def test_a_connection_that_names_no_spark_session_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_opsguard.connections import spark_endpoint
    from airflow_opsguard.errors import DataSourceError

    monkeypatch.setenv(
        "AIRFLOW_CONN_OPSGUARD_PG", json.dumps({"conn_type": "postgres", "host": "h"})
    )
    with pytest.raises(DataSourceError, match="is of type 'postgres'; a Spark source needs"):
        spark_endpoint("opsguard_pg")
    with pytest.raises(DataSourceError, match="opsguard_nowhere") as raised:
        spark_endpoint("opsguard_nowhere")
    assert not raised.value.retryable
