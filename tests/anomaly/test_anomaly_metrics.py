"""Dataset metrics: measured in the checks' single scan, the same on every engine."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from airflow_opsguard import validate
from airflow_opsguard.anomaly.metrics import dataset_metrics, planned_metrics
from airflow_opsguard.checks.observations import CheckObservation, Observations, ObservedColumn
from airflow_opsguard.engines.plan import build_plan
from airflow_opsguard.formats import load_contract

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONTRACT: dict[str, Any] = {
    "dataset": "signups",
    "schema": {
        "columns": [
            {"name": "id", "type": "integer", "nullable": False},
            {"name": "email", "type": "string"},
            {"name": "amount", "type": "float"},
            {"name": "created_at", "type": "timestamp"},
        ]
    },
    "freshness": {"column": "created_at", "fail_after": "30d"},
    "checks": [{"type": "anomaly", "metric": "distinct_count", "column": "email"}],
}


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": list(range(1, 11)),
            # Case counts: 'a@x' and 'A@x' are two values, as in Python.
            "email": ["a@x", "A@x", "b@x", "b@x", None, "c@x", None, "d@x", "e@x", "a@x"],
            "amount": [1.5, 2.5, 3.0, None, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            "created_at": pd.to_datetime([f"2026-02-{d:02d} 06:00" for d in range(10, 20)]),
        }
    )


EXPECTED = {
    "rows": 10,
    "null_fraction(id)": 0.0,
    "mean(id)": 5.5,
    "null_fraction(email)": 0.2,
    "distinct_count(email)": 6,
    "null_fraction(amount)": 0.1,
    "mean(amount)": 52 / 9,
    "null_fraction(created_at)": 0.0,
    # The newest created_at is 2026-02-19 06:00: 10 days and 6 hours before NOW.
    "freshness_lag_seconds(created_at)": 10 * 86400 + 6 * 3600.0,
}


@contextmanager
def database(url: str) -> Iterator[str]:
    """A new table holding the frame, dropped afterwards; yields its name."""
    table = f"metrics_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    types = {"email": sa.String(20)}  # MariaDB's TEXT cannot be indexed or compared binary
    frame().to_sql(table, engine, index=False, dtype=types)
    yield table
    with engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE {table}"))
    engine.dispose()


@pytest.fixture(
    params=[
        "dataframe",
        "parquet",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The same ten rows as a DataFrame, a Parquet file and tables in three databases."""
    if request.param == "dataframe":
        yield {"data": frame()}
    elif request.param == "parquet":
        path = tmp_path / "signups.parquet"
        frame().to_parquet(path)
        yield {"data": str(path)}
    else:
        url = (
            f"sqlite:///{tmp_path / 'signups.db'}"
            if request.param == "sqlite"
            else request.getfixturevalue(f"{request.param}_url")
        )
        with database(url) as table:
            yield {"data": url, "table": table}


def test_every_engine_measures_the_same_metrics(source: dict[str, Any]) -> None:
    result = validate(CONTRACT, now=NOW, **source)
    assert result.status == "error"  # the anomaly check has no store: never a silent pass
    assert list(result.metrics) == list(EXPECTED)
    for name, value in EXPECTED.items():
        assert result.metrics[name] == pytest.approx(value), name
    assert isinstance(result.metrics["rows"], int)
    assert isinstance(result.metrics["distinct_count(email)"], int)
    assert result.to_dict()["metrics"] == pytest.approx(EXPECTED)


def test_metrics_add_aggregates_to_the_one_scan_and_no_query(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'signups.db'}"
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    with database(url) as table:
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", seen)
        try:
            result = validate(CONTRACT, url, now=NOW, table=table)
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", seen)
    scans = [s for s in statements if f"FROM {table}" in s]
    assert len(scans) == 1, scans
    assert "avg(" in scans[0] and "count(DISTINCT" in scans[0]
    assert result.metrics["rows"] == 10


def test_metrics_of_an_empty_dataset_are_undefined_not_zero() -> None:
    empty = frame().iloc[0:0]
    result = validate(CONTRACT, empty, now=NOW)
    assert result.metrics["rows"] == 0
    assert result.metrics["null_fraction(email)"] is None
    assert result.metrics["mean(amount)"] is None
    assert result.metrics["freshness_lag_seconds(created_at)"] is None
    assert result.metrics["distinct_count(email)"] == 0


def test_a_missing_column_measures_no_metric_and_its_check_says_why() -> None:
    result = validate(CONTRACT, frame().drop(columns=["email"]), now=NOW)
    assert "null_fraction(email)" not in result.metrics
    assert "mean(amount)" in result.metrics
    check = next(c for c in result.checks if c.type == "anomaly")
    assert check.status == "error"
    assert "'email' is not in the data" in check.message


def test_only_named_columns_are_measured_and_distinct_counts_only_where_asked() -> None:
    contract = load_contract({"dataset": "x", "checks": [{"type": "not_null", "column": "b"}]})
    columns = {
        "a": ObservedColumn("a", "BIGINT", "integer"),
        "b": ObservedColumn("b", "DOUBLE", "float"),
        "c": ObservedColumn("c", "VARCHAR", "string"),
    }
    names = [spec.name for spec in planned_metrics(contract, columns)]
    assert names == ["null_fraction(b)", "mean(b)"]
    plan = build_plan(contract, list(columns.values()), sa.table("t"))
    metric_keys = [p.metric for p in plan.checks if p.metric is not None]
    assert metric_keys == names
    assert all(p.duplicates is None and p.predicate is None for p in plan.checks if p.metric)


def test_a_metric_that_failed_to_measure_has_no_value() -> None:
    observations = Observations(
        source="x",
        rows=4,
        columns=(),
        metrics={
            "null_fraction(a)": CheckObservation(considered=3),
            "mean(a)": CheckObservation(error="could not be measured: overflow"),
            "mean(b)": CheckObservation(value=float("inf")),
        },
    )
    assert dataset_metrics(observations, NOW) == {
        "rows": 4,
        "null_fraction(a)": 0.25,
        "mean(a)": None,
        "mean(b)": None,  # not a finite number: never stored as one
    }


def test_drift_scores_are_metrics_named_by_column() -> None:
    from airflow_opsguard.anomaly.metrics import drift_metrics
    from airflow_opsguard.checks.results import CheckResult

    def checked(kind: str, column: str | None, **metrics: Any) -> CheckResult:
        return CheckResult(
            name="x",
            type=kind,
            status="pass",
            severity="fail",
            message="",
            column=column,
            metrics=metrics,
        )

    results = [
        checked("distribution", "amount", method="psi", statistic=0.031),
        checked("distribution", "country", method="js", statistic=0.2),
        checked("distribution", "tiny", values={"reference": 3, "current": 2}),  # too few
        checked("range", "amount", method="psi", statistic=9.0),
    ]
    assert drift_metrics(results) == {"drift(amount)": 0.031, "drift(country)": 0.2}


def test_a_distribution_check_stores_its_drift_score(tmp_path: Path) -> None:
    from airflow_opsguard.store import ResultStore

    amounts = pd.DataFrame({"amount": [float(i % 97) for i in range(5000)]})
    reference = tmp_path / "reference.parquet"
    amounts.to_parquet(reference)
    contract = {
        "dataset": "payments",
        "schema": {"columns": [{"name": "amount", "type": "float"}]},
        "distribution": {"reference": str(reference), "columns": ["amount"]},
    }
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        result = validate(contract, amounts, now=NOW, store=store)
        assert result.metrics["drift(amount)"] == pytest.approx(0.0, abs=1e-6)  # the same data
        history = store.metric_history("payments", "drift(amount)")
    assert [p.value for p in history] == [pytest.approx(0.0, abs=1e-6)]
