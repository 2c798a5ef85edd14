"""What goes into the store comes back equal, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from store_helpers import make_result

from airflow_opsguard.checks.results import CheckResult
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.tables import check_results, runs
from airflow_opsguard.store.urls import parse_store_url


def test_a_recorded_result_reads_back_equal(store_url: str, dataset: str) -> None:
    result = make_result(dataset)
    with ResultStore(store_url) as store:
        assert store.record(result) is True
        stored = store.get(result.run_id or "")
    assert stored is not None
    assert stored.to_dict() == result.to_dict()
    assert json.loads(json.dumps(stored.to_dict())) == result.to_dict()
    assert stored.checks == result.checks


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"checks": (), "rows": None, "status": "error"}, id="error-no-checks"),
        pytest.param(
            {"error": "cannot read data/orders.parquet: not a Parquet file"}, id="with-error"
        ),
        pytest.param(
            {"checked_at": datetime(2026, 3, 1, 14, 30, 5, 7, tzinfo=timezone(timedelta(hours=2)))},
            id="non-utc-offset",
        ),
        pytest.param({"checked_at": datetime(2026, 3, 1, 12, 0, 0, 999999)}, id="naive-is-utc"),
        pytest.param(
            {"data_fingerprint": {}, "context": {}, "contract_fingerprint": None, "source": None},
            id="empty-mappings",
        ),
        pytest.param(
            {
                "checks": (
                    CheckResult(
                        name="allowed(country) ünïcødé 😀",
                        type="allowed",
                        status="warn",
                        severity="warn",
                        message="2 values outside {'US', 'DE'}: 'Zürich', '東京'",
                        column="country",
                        observed=0.1 + 0.2,
                        expected=True,
                        failing_count=0,
                        failing_fraction=0.0,
                        samples=("Zürich", "東京", 1.5e-300, 2**53 + 1, False),
                        metrics={"nested": {"list": [1, None, "x"]}, "big": 2**62},
                    ),
                    CheckResult(
                        name="not_null(id)",
                        type="not_null",
                        status="pass",
                        severity="fail",
                        message="",
                        observed=None,
                        expected=None,
                    ),
                )
            },
            id="unicode-and-awkward-values",
        ),
    ],
)
def test_every_shape_of_result_reads_back_equal(
    store_url: str, dataset: str, changes: dict[str, object]
) -> None:
    result = make_result(dataset, **changes)  # type: ignore[arg-type]
    with ResultStore(store_url) as store:
        assert store.record(result)
        stored = store.get(result.run_id or "")
    assert stored is not None
    assert stored.to_dict() == result.to_dict()


def test_recording_the_same_run_twice_keeps_one_copy(store_url: str, dataset: str) -> None:
    result = make_result(dataset)
    with ResultStore(store_url) as store:
        assert store.record(result)
        assert store.record(result)  # already stored: still a success
        assert [r.run_id for r in store.results(dataset)] == [result.run_id]


def test_a_result_without_run_id_gets_one(store_url: str, dataset: str) -> None:
    with ResultStore(store_url) as store:
        assert store.record(make_result(dataset, run_id=None))
        (stored,) = store.results(dataset)
    assert stored.run_id
    assert len(stored.checks) == 3


def test_secrets_in_source_and_error_are_masked_before_storing(
    store_url: str, dataset: str
) -> None:
    result = make_result(
        dataset,
        source="postgresql://etl:hunter2@warehouse/db?sslmode=require",
        error="query failed on mysql://etl:hunter2@db/x (token=abc123)",
    )
    with ResultStore(store_url) as store:
        assert store.record(result)
        stored = store.get(result.run_id or "")
    assert stored is not None
    text = json.dumps(stored.to_dict())
    assert "hunter2" not in text
    assert "abc123" not in text
    assert stored.source == "postgresql://etl:***@warehouse/db?sslmode=require"
    assert stored.error == "query failed on mysql://etl:***@db/x (token=***)"


def test_the_tables_hold_plain_queryable_columns(store_url: str, dataset: str) -> None:
    result = make_result(dataset, minutes=5)
    with ResultStore(store_url) as store:
        assert store.record(result)
    engine = sa.create_engine(parse_store_url(store_url))
    with engine.connect() as connection:
        run = connection.execute(sa.select(runs).where(runs.c.run_id == result.run_id)).one()
        checks = connection.execute(
            sa.select(check_results)
            .where(check_results.c.run_id == result.run_id)
            .order_by(check_results.c.position)
        ).all()
    engine.dispose()
    assert (run.dataset, run.status, run.rows, run.duration_ms) == (dataset, "fail", 1000, 42)
    assert run.checked_at == result.checked_at.astimezone(UTC)
    assert run.data_fingerprint == {"rows": 1000, "schema": "ab12", "identity": "da2e21f8"}
    assert run.context["task_id"] == "orders_gate"
    assert [c.name for c in checks] == ["schema(amount)", "range(amount)", "volume"]
    rng = checks[1]
    assert (rng.dataset, rng.column_name, rng.failing_count) == (dataset, "amount", 8)
    assert rng.observed == -17.5
    assert rng.samples == [-12.5, -1.0, None]
    assert rng.checked_at == run.checked_at


def test_results_are_newest_first_and_paginate(store_url: str, dataset: str) -> None:
    made = [make_result(dataset, minutes=m) for m in (3, 0, 4, 1, 2)]
    with ResultStore(store_url) as store:
        assert all(store.record(r) for r in made)
        first = store.results(dataset, limit=2)
        second = store.results(dataset, limit=2, offset=2)
        rest = store.results(dataset, limit=2, offset=4)
        beyond = store.results(dataset, limit=2, offset=5)
        none = store.results(dataset, limit=0)
    newest_first = sorted(made, key=lambda r: r.checked_at, reverse=True)
    assert [r.run_id for r in first + second + rest] == [r.run_id for r in newest_first]
    assert beyond == []
    assert none == []


def test_results_filter_by_dataset_and_status(store_url: str, dataset: str) -> None:
    other = f"{dataset}_other"
    with ResultStore(store_url) as store:
        store.record(make_result(dataset, status="fail", minutes=0))
        store.record(make_result(dataset, status="pass", minutes=1))
        store.record(make_result(dataset, status="warn", minutes=2))
        store.record(make_result(other, status="fail", minutes=3))
        mine = store.results(dataset)
        failed = store.results(dataset, status="fail")
        failed_anywhere = store.results(status="fail", limit=1000)
        newest_overall = store.results(limit=1)
    assert [r.status for r in mine] == ["warn", "pass", "fail"]
    assert [(r.dataset, r.status) for r in failed] == [(dataset, "fail")]
    assert {r.dataset for r in failed_anywhere} >= {dataset, other}
    assert all(r.status == "fail" for r in failed_anywhere)
    assert newest_overall[0].checked_at >= mine[0].checked_at


def test_datasets_summarise_the_latest_run(store_url: str, dataset: str) -> None:
    other = f"{dataset}_b"
    with ResultStore(store_url) as store:
        store.record(make_result(dataset, status="pass", minutes=0))
        store.record(make_result(dataset, status="fail", minutes=10))
        store.record(make_result(dataset, status="warn", minutes=5))
        store.record(make_result(other, status="pass", minutes=1))
        summaries = {s.dataset: s for s in store.datasets()}
    assert summaries[dataset].status == "fail"
    assert summaries[dataset].runs == 3
    assert summaries[dataset].checked_at == make_result(minutes=10).checked_at
    assert (summaries[other].status, summaries[other].runs) == ("pass", 1)
    assert summaries[dataset].to_dict()["checked_at"] == "2026-03-01T12:10:00.123456+00:00"


def test_check_history_follows_one_check_of_one_dataset(store_url: str, dataset: str) -> None:
    with ResultStore(store_url) as store:
        for minutes in (0, 2, 1):
            store.record(make_result(dataset, minutes=minutes))
        store.record(make_result(f"{dataset}_x", minutes=9))  # another dataset: not included
        history = store.check_history(dataset, "range(amount)")
        latest = store.check_history(dataset, "range(amount)", limit=1)
        unknown = store.check_history(dataset, "no such check")
    assert [h.observed for h in history] == [-14.5, -13.5, -12.5]
    assert [h.failing_count for h in history] == [5, 4, 3]
    assert history[0].metrics == {"min": -12.5, "max": 99.25, "histogram": [1, 2, 3]}
    assert history[0].checked_at == make_result(minutes=2).checked_at
    assert history[0].expected == "[0, 100000]"
    assert [h.run_id for h in latest] == [history[0].run_id]
    assert unknown == []
    assert json.dumps([h.to_dict() for h in history])


def test_get_of_an_unknown_run_is_none(store_url: str) -> None:
    with ResultStore(store_url) as store:
        assert store.get("no-such-run") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": -1}, "must not be negative"),
        ({"offset": -5}, "must not be negative"),
        ({"status": "failed"}, "unknown status 'failed'"),
    ],
)
def test_bad_read_arguments_are_refused(kwargs: dict[str, object], message: str) -> None:
    store = ResultStore("sqlite://")
    with pytest.raises(ValueError, match=message):
        store.results(**kwargs)  # type: ignore[arg-type]


def test_a_frozen_result_is_not_changed_by_storing(store_url: str, dataset: str) -> None:
    result = make_result(dataset, run_id=None, source="s3://key:secret@bucket/x.parquet")
    before = replace(result)
    with ResultStore(store_url) as store:
        assert store.record(result)
    assert result == before
    assert result.run_id is None
