"""The Spark engine on its own ground: the example contracts give on Spark what they
give on DuckDB, only aggregates and samples reach the driver, and Spark's sources
(tables, queries, paths) and errors read as the other engines' do."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_opsguard import validate
from airflow_opsguard.checks.results import GateResult
from airflow_opsguard.engines import spark_sql
from airflow_opsguard.engines.measuring import measure
from airflow_opsguard.engines.sources import SparkSource, resolve_source
from airflow_opsguard.errors import ContractError, DataSourceError
from airflow_opsguard.formats import load_contract

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def example_data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The example DAGs' healthy orders (Parquet) and broken partner feed (CSV)."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        from example_data import write_example_data
    finally:
        sys.path.remove(str(EXAMPLES))
    return write_example_data(tmp_path_factory.mktemp("examples"), now=NOW)


def summary(result: GateResult) -> dict[str, Any]:
    """What must agree between engines: each check's verdict, counts, samples, metrics."""
    return {
        "status": result.status,
        "rows": result.rows,
        "checks": {
            c.name: (c.status, c.failing_count, sorted(map(repr, c.samples)), c.metrics)
            for c in result.checks
        },
    }


@pytest.mark.parametrize(("name", "data"), [("orders", "orders"), ("orders_feed", "orders_feed")])
def test_example_contracts_give_the_same_verdicts_as_duckdb(
    spark: Any, example_data: dict[str, Path], name: str, data: str
) -> None:
    spec = yaml.safe_load((EXAMPLES / "contracts" / f"{name}.yml").read_text())
    path = str(example_data[data])
    on_duckdb = validate({**spec, "source": {"path": path}}, now=NOW)
    on_spark = validate({**spec, "source": {"engine": "spark", "path": path}}, now=NOW)
    assert summary(on_spark) == summary(on_duckdb)
    assert on_spark.status == ("pass" if name == "orders" else "fail")
    assert on_spark.source == f"{path} on Spark"
    assert on_spark.data_fingerprint["engine"] == "spark"


def test_only_aggregates_and_samples_reach_the_driver(
    spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = 200_000
    frame = spark.range(rows).selectExpr(
        "id",
        "CASE WHEN id % 1000 = 0 THEN NULL ELSE concat('user', id, '@example.com') END AS email",
        "id % 97 AS bucket",
        "CASE WHEN id % 10 = 0 THEN 'XX' ELSE 'US' END AS country",
    )
    collected: list[int] = []
    execute = spark_sql.Cursor.execute

    def counting(cursor: spark_sql.Cursor, operation: str, parameters: Any = None) -> None:
        execute(cursor, operation, parameters)
        collected.append(cursor.rowcount)

    monkeypatch.setattr(spark_sql.Cursor, "execute", counting)
    result = validate(
        {
            "dataset": "big",
            "checks": [
                {"type": "not_null", "column": "email"},
                {"type": "unique", "column": "bucket"},
                {"type": "allowed", "column": "country", "values": ["US"]},
                {"type": "pattern", "column": "email", "pattern": "^user[0-9]+@"},
            ],
        },
        data=frame,
    )
    checks = {c.name: c for c in result.checks}
    assert result.rows == rows
    assert checks["not_null(email)"].failing_count == rows // 1000
    assert checks["unique(bucket)"].failing_count == rows
    assert checks["allowed(country)"].failing_count == rows // 10
    assert checks["allowed(country)"].samples == ("XX",)
    assert checks["pattern(email)"].status == "pass"
    # One aggregate row, a few duplicated values, a few samples: never the data.
    assert collected and max(collected) <= 50
    assert sum(collected) <= 100
    leftovers = [t.name for t in spark.catalog.listTables() if t.name.startswith("opsguard_")]
    assert leftovers == []  # the gate's temporary views are dropped


def test_a_table_and_a_query_on_the_session(spark: Any) -> None:
    spark.range(10).selectExpr("id", "id % 3 AS k").createOrReplaceGlobalTempView("opsguard_t")
    checks = [{"type": "unique", "column": "k"}, {"type": "not_null", "column": "id"}]
    table = validate(
        {
            "dataset": "t",
            "source": {"engine": "spark", "table": "global_temp.opsguard_t"},
            "checks": checks,
        }
    )
    assert table.source == "table 'global_temp.opsguard_t' on Spark"
    assert {c.name: c.failing_count for c in table.checks} == {
        "unique(k)": 10,
        "not_null(id)": 0,
    }
    query = validate(
        {
            "dataset": "t",
            "source": {
                "engine": "spark",
                "query": "SELECT id, k FROM global_temp.opsguard_t WHERE k > 0;",
            },
            "checks": checks,
        }
    )
    assert query.rows == 6
    assert query.data_fingerprint["query_sha256"]


def test_a_query_that_would_write_is_refused_not_run(spark: Any) -> None:
    spark.range(3).createOrReplaceGlobalTempView("opsguard_keep")
    with pytest.raises(DataSourceError, match="cannot read query"):
        measure_contract(
            {
                "dataset": "t",
                "source": {"engine": "spark", "query": "DROP VIEW global_temp.opsguard_keep"},
                "checks": [{"type": "not_null", "column": "id"}],
            }
        )
    assert spark.table("global_temp.opsguard_keep").count() == 3


def measure_contract(spec: dict[str, Any]) -> None:
    """Measure without judging: a source that cannot be read raises."""
    measure(load_contract(spec))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"table": "no_such_db.no_such_table"}, "cannot read table 'no_such_db.no_such_table'"),
        ({"path": "/nowhere/orders.parquet"}, "/nowhere/orders.parquet: no such file"),
        ({"conn_id": "spark_default", "table": "t"}, "nothing resolves one here"),
    ],
)
def test_spark_sources_that_cannot_be_read_are_one_line_errors(
    spark: Any, source: dict[str, Any], message: str
) -> None:
    spec = {"dataset": "t", "source": {"engine": "spark", **source}, "checks": []}
    with pytest.raises(DataSourceError, match=message) as raised:
        measure_contract(spec)
    assert "\n" not in str(raised.value)


def test_a_format_the_name_does_not_tell_must_be_given(spark: Any, tmp_path: Path) -> None:
    data = tmp_path / "orders.data"
    data.write_text("a\n1\n")
    spec = {"dataset": "t", "source": {"engine": "spark", "path": str(data)}, "checks": []}
    with pytest.raises(DataSourceError, match=r"give source\.format"):
        measure_contract(spec)
    spec["source"]["format"] = "csv"
    assert validate(spec).rows == 1


def test_a_data_override_keeps_the_spark_engine(spark: Any, tmp_path: Path) -> None:
    contract = load_contract(
        {"dataset": "t", "source": {"engine": "spark", "table": "x", "master": "local[1]"}}
    )
    source = resolve_source(contract, str(tmp_path / "a.parquet"))
    assert isinstance(source, SparkSource)
    assert (source.path, source.master) == (str(tmp_path / "a.parquet"), "local[1]")
    table = resolve_source(contract, None, "other")
    assert isinstance(table, SparkSource) and table.table == "other"
    frame = resolve_source(None, spark.range(1))
    assert isinstance(frame, SparkSource) and frame.name == "<pyspark.DataFrame>"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"engine": "spark"}, "one of path, table or query"),
        ({"engine": "spark", "url": "sqlite://", "table": "t"}, "url is a SQLAlchemy"),
        ({"engine": "spark", "table": "t", "master": "local", "remote": "sc://h"}, "one of"),
        ({"engine": "spark", "table": "t", "remote": "http://h:15002"}, "starts with sc://"),
        ({"path": "a.orc", "format": "orc"}, "goes with engine: spark"),
        ({"path": "a.parquet", "master": "local[2]"}, "master goes with engine: spark"),
        ({"engine": "flink", "path": "a.parquet"}, "source.engine"),
    ],
)
def test_spark_source_keys_are_strict(tmp_path: Path, source: dict[str, Any], message: str) -> None:
    path = tmp_path / "contract.yml"
    path.write_text(yaml.safe_dump({"dataset": "t", "source": source}, sort_keys=False))
    with pytest.raises(ContractError, match=message) as raised:
        load_contract(path)
    assert str(path) in str(raised.value)


def test_a_failing_spark_gate_that_would_quarantine_says_it_cannot(spark: Any) -> None:
    from airflow_opsguard.pipeline import QuarantineError, run_gate

    spark.range(5).selectExpr("id % 2 AS id").createOrReplaceGlobalTempView("opsguard_q")
    spec = {
        "dataset": "q",
        "source": {"engine": "spark", "table": "global_temp.opsguard_q"},
        "checks": [{"type": "unique", "column": "id"}],
        "on_fail": "quarantine",
    }
    with pytest.raises(QuarantineError, match="quarantine does not move data on Spark"):
        run_gate(spec, act=True)


def test_gx_suites_report_that_they_do_not_run_on_spark(spark: Any) -> None:
    suite = {
        "name": "ids",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}}
        ],
    }
    result = validate(
        {"dataset": "t", "checks": [{"type": "not_null", "column": "id"}], "gx_suite": [suite]},
        data=spark.range(3),
    )
    checks = {c.name: c for c in result.checks}
    assert checks["not_null(id)"].status == "pass"
    gx = [c for c in result.checks if c.name != "not_null(id)"]
    assert len(gx) == 1
    assert gx[0].status == "error"
    assert "GX suites do not run on Spark sources" in gx[0].message


@pytest.mark.parametrize(
    ("session", "env", "where"),
    [
        ({"master": "local[1]"}, {}, "local[1]"),
        (
            {"conn_id": "opsguard_cli_spark"},
            {"AIRFLOW_CONN_OPSGUARD_CLI_SPARK": '{"conn_type": "spark", "host": "local[1]"}'},
            "Airflow connection 'opsguard_cli_spark'",
        ),
    ],
    ids=["master", "airflow-connection"],
)
def test_opsguard_check_runs_a_spark_contract_on_its_session(
    tmp_path: Path, session: dict[str, str], env: dict[str, str], where: str
) -> None:
    """The command line, in a process of its own: a relative path is read from the
    contract's folder, by a session of the contract's master or of the Airflow connection
    it names; stdout is the JSON alone, whatever Airflow and Spark log."""
    import json
    import subprocess

    from engine_backends import orders

    orders().to_parquet(tmp_path / "orders.parquet", index=False)
    contract = {
        "dataset": "orders",
        "source": {"engine": "spark", "path": "orders.parquet", **session},
        "checks": [{"type": "unique", "column": "customer"}],
    }
    (tmp_path / "orders.yml").write_text(yaml.safe_dump(contract))
    opsguard = Path(sys.executable).with_name("opsguard")
    done = subprocess.run(
        [str(opsguard), "check", str(tmp_path / "orders.yml"), "--no-store", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path.parent,  # not the contract's folder
        env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", **env},
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["source"] == f"{tmp_path / 'orders.parquet'} on Spark ({where})"
    (check,) = result["checks"]
    assert (check["name"], check["failing_count"], check["samples"]) == (
        "unique(customer)",
        2,
        ["bob"],
    )


def test_a_connection_override_keeps_the_spark_sources_path(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's conn_id= names the session; the contract's path stays."""
    from engine_backends import orders

    from airflow_opsguard.connections import engine_for_conn_id
    from airflow_opsguard.pipeline import run_gate

    orders().to_parquet(tmp_path / "orders.parquet", index=False)
    monkeypatch.setenv(
        "AIRFLOW_CONN_OPSGUARD_SPARK_PROD", '{"conn_type": "spark", "host": "local[1]"}'
    )
    contract = {
        "dataset": "orders",
        "source": {"engine": "spark", "path": str(tmp_path / "orders.parquet"), "master": "x"},
        "checks": [{"type": "not_null", "column": "customer"}],
    }
    run = run_gate(contract, conn_id="opsguard_spark_prod", connections=engine_for_conn_id)
    assert run.result is not None and run.result.status == "pass", run.result.error
    assert run.result.rows == len(orders())
    assert run.result.source.endswith("on Spark (Airflow connection 'opsguard_spark_prod')")


def test_without_pyspark_a_spark_source_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # import pyspark.sql fails
    spec = {"dataset": "t", "source": {"engine": "spark", "table": "t"}, "checks": []}
    with pytest.raises(DataSourceError) as raised:
        measure_contract(spec)
    assert str(raised.value) == "pyspark is not installed: pip install 'airflow-opsguard[spark]'"


def test_a_profile_of_a_spark_dataframe_is_the_file_engines(spark: Any, tmp_path: Path) -> None:
    """Profiles (the distribution baselines) read a Spark source where it is, too."""
    from engine_backends import orders

    from airflow_opsguard.engines.profiler import profile

    path = tmp_path / "orders.parquet"
    orders().to_parquet(path, index=False)
    columns = ["amount", "country", "order_id", "is_active"]
    on_spark = profile(spark.read.parquet(str(path)), columns=columns, bins=4, top=3, now=NOW)
    on_duckdb = profile(str(path), columns=columns, bins=4, top=3, now=NOW)

    def described(found: Any) -> dict[str, Any]:  # each engine names its own types
        columns = found.to_dict()["columns"]
        return {name: {**c, "native_type": None} for name, c in columns.items()}

    assert described(on_spark) == described(on_duckdb)
    assert described(on_spark)["country"]["count"] == 11


def test_a_baseline_run_on_spark_opens_its_view_once(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The profile kept for the next baseline version reads the view the checks read."""
    import pandas as pd

    from airflow_opsguard import promote_baseline
    from airflow_opsguard.engines import spark as spark_engine
    from airflow_opsguard.store import ResultStore

    opened = spark_engine._opened
    opens: list[str] = []

    def counted(source: SparkSource) -> Any:
        opens.append(source.name)
        return opened(source)

    monkeypatch.setattr(spark_engine, "_opened", counted)
    path = tmp_path / "orders.parquet"
    amounts = [float(i % 50) for i in range(200)]  # enough rows to judge drift on
    pd.DataFrame({"amount": amounts, "country": ["US", "DE"] * 100}).to_parquet(path)
    spec = {
        "dataset": "orders",
        "source": {"engine": "spark", "path": str(path)},
        "distribution": {"columns": ["amount", "country"], "baseline": "orders-main"},
    }
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        first = validate(spec, store=store)
        promote_baseline("orders-main", dataset="orders", store=store)
        second = validate(spec, store=store)
    assert first.profile is not None and first.profile["rows"] == 200
    assert {c.name: c.status for c in second.checks} == {
        "distribution(amount)": "pass",
        "distribution(country)": "pass",
    }
    assert len(opens) == 2  # one per run (was two: the checks, then the profile)
