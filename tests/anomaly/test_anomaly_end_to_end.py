"""History checks end to end: validate() runs day after day (fixed `now` values) against
a real results store, on SQLite and on PostgreSQL (there with the data in PostgreSQL too,
measured by SQL pushdown)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from airflow_opsguard import GateResult, validate
from airflow_opsguard.store import ResultStore

MONDAY = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def day(index: int) -> datetime:
    return MONDAY + timedelta(days=index)


def data(rows: int, null_share: float, seed: int = 0) -> pd.DataFrame:
    """``rows`` signups; ``null_share`` of them without an email."""
    nulls = round(rows * null_share)
    emails = [None] * nulls + [f"user{i}@example.com" for i in range(rows - nulls)]
    random.Random(seed).shuffle(emails)
    return pd.DataFrame({"id": range(rows), "email": emails})


@dataclass
class Backend:
    """Where the runs are stored, and how each day's data reaches validate()."""

    name: str
    store_url: str
    data_url: str | None = None

    def run(self, contract: dict[str, Any], frame: pd.DataFrame, now: datetime) -> GateResult:
        with ResultStore(self.store_url) as store:
            if self.data_url is None:
                return validate(contract, frame, now=now, store=store)
            table = "signups_" + contract["dataset"][-8:]
            engine = sa.create_engine(self.data_url)
            frame.to_sql(table, engine, index=False, if_exists="replace")
            engine.dispose()
            return validate(contract, self.data_url, now=now, store=store, table=table)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'store' / 'opsguard.db'}")
        return
    url = request.getfixturevalue("postgres_url")
    yield Backend("postgres", url, data_url=url)


def contract(**more: Any) -> dict[str, Any]:
    return {
        "dataset": f"signups_{uuid.uuid4().hex[:8]}",
        "schema": {
            "columns": [
                {"name": "id", "type": "integer", "nullable": False},
                {"name": "email", "type": "string"},
            ]
        },
        **more,
    }


def by_type(result: GateResult) -> dict[str, Any]:
    return {c.name: c for c in result.checks if c.type in ("anomaly", "row_count_change")}


def test_a_sequence_of_runs_learns_warns_fails_and_recovers(backend: Backend) -> None:
    spec = contract(
        checks=[
            {"type": "anomaly", "metric": "rows", "min_history": 5, "fail_after": 2},
            {
                "type": "anomaly",
                "metric": "null_fraction",
                "column": "email",
                "direction": "up",
                "min_history": 5,
                "fail_after": {"breaches": 2, "within": 3},
            },
            {"type": "row_count_change", "max_drop": 0.5},
        ]
    )
    rows = [1000, 1004, 996, 1010, 990, 1002, 998, 300, 1005, 1001, 999, 1003]
    nulls = [0.010, 0.012, 0.009, 0.011, 0.010, 0.012, 0.010, 0.010, 0.011, 0.3, 0.3, 0.010]
    results = [
        backend.run(spec, data(r, n, i), day(i))
        for i, (r, n) in enumerate(zip(rows, nulls, strict=True))
    ]
    checks = [by_type(r) for r in results]
    rows_check = [c["anomaly(rows)"] for c in checks]
    nulls_check = [c["anomaly(null_fraction(email))"] for c in checks]
    change = [c["row_count_change"] for c in checks]

    # Learning: passes that say so, never silent.
    assert [c.message.split(";")[0] for c in rows_check[:5]] == [
        f"learning: {i} of 5 runs" for i in range(5)
    ]
    assert change[0].message.startswith("learning: 0 of 1 passing runs")
    assert [r.status for r in results[:7]] == ["pass"] * 7
    # Day 7: a third of the rows. One breach warns; the drop itself fails the gate.
    assert rows_check[7].status == "warn" and rows_check[7].metrics["breach"] is True
    assert change[7].status == "fail" and results[7].status == "fail"
    # Day 8: the reference is day 6, the previous PASSING run, not day 7.
    assert change[8].status == "pass"
    assert change[8].metrics["reference"] == 998
    assert day(6).isoformat() in change[8].message
    assert rows_check[8].status == "pass"
    # Days 9 and 10: nulls jump; one breach warns, the second within three runs fails.
    assert nulls_check[9].status == "warn"
    assert nulls_check[10].status == "fail" and results[10].status == "fail"
    # Day 11: healthy again.
    assert results[11].status == "pass"
    assert nulls_check[11].metrics["breaches"] == 2  # the two past breaches are remembered

    with ResultStore(backend.store_url) as store:
        history = store.metric_history(spec["dataset"], "null_fraction(email)", 3)
        assert [p.checked_at for p in history] == [day(11), day(10), day(9)]
        assert [p.status for p in history] == ["pass", "fail", "warn"]
        assert [p.value for p in history] == pytest.approx([0.01, 0.3, 0.3], abs=0.001)
        before = store.metric_history(spec["dataset"], "rows", 2, before=day(8))
        assert [(p.checked_at, p.value) for p in before] == [(day(7), 300), (day(6), 998)]
        passing = store.metric_history(spec["dataset"], "rows", 1, statuses=["pass", "warn"])
        assert passing[0].checked_at == day(11)
        stored = store.results(spec["dataset"], limit=1)[0]
    assert stored.metrics == results[11].metrics
    assert stored.to_dict() == results[11].to_dict()


def test_a_rerun_at_the_same_time_never_compares_a_run_with_itself(backend: Backend) -> None:
    spec = contract(checks=[{"type": "anomaly", "metric": "rows", "min_history": 3}])
    for i, rows in enumerate([100, 102, 98, 101]):
        first = backend.run(spec, data(rows, 0.0), day(i))
    again = backend.run(spec, data(101, 0.0), day(3))  # an Airflow retry: same `now`
    assert by_type(first)["anomaly(rows)"].metrics["history"] == 3
    assert by_type(again)["anomaly(rows)"].metrics["history"] == 3
    assert by_type(again)["anomaly(rows)"].message == by_type(first)["anomaly(rows)"].message


def test_a_weekend_dip_passes_by_weekday_and_warns_without(backend: Backend) -> None:
    spec = contract(
        checks=[
            {"name": "rows by weekday", "type": "anomaly", "metric": "rows", "weekly": True},
            {"name": "rows", "type": "anomaly", "metric": "rows", "min_history": 14},
        ]
    )
    rng = random.Random(11)
    results = []
    for i in range(33):  # four weeks and five days: the fifth Saturday is day 33
        level = 400 if day(i).weekday() >= 5 else 1000
        results.append(backend.run(spec, data(round(level * rng.uniform(0.98, 1.02)), 0.0), day(i)))
    saturday = backend.run(spec, data(396, 0.0), day(33))
    assert day(33).weekday() == 5
    weekly = next(c for c in saturday.checks if c.name == "rows by weekday")
    plain = next(c for c in saturday.checks if c.name == "rows")
    assert weekly.status == "pass", weekly.message
    assert weekly.metrics["history"] == 4  # the four Saturdays before
    assert plain.status == "warn" and plain.metrics["breach"] is True
    assert saturday.status == "warn"


def test_without_a_store_history_checks_are_errors_not_passes() -> None:
    spec = contract(checks=[{"type": "row_count_change", "max_growth": 1.0}])
    result = validate(spec, data(10, 0.0), now=day(0))
    assert result.status == "error"
    assert "needs a results store" in result.checks[-1].message


def test_a_store_that_cannot_be_read_makes_history_checks_errors(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-db"
    folder.mkdir()
    (folder / "opsguard.db").write_text("this is not a SQLite database")
    spec = contract(checks=[{"type": "anomaly", "metric": "rows"}])
    with ResultStore(f"sqlite:///{folder / 'opsguard.db'}", spool_dir=tmp_path / "spool") as store:
        result = validate(spec, data(10, 0.0), now=day(0), store=store)
    check = result.checks[-1]
    assert check.status == "error"
    assert check.message.startswith("cannot read the history of rows")


def test_metrics_of_a_spooled_result_reach_the_history(tmp_path: Path) -> None:
    """A result kept in the spool while the store was down keeps its metrics."""
    from airflow_opsguard.store.spool import Spool
    from airflow_opsguard.store.urls import parse_store_url, spool_name

    url = f"sqlite:///{tmp_path / 'store' / 'opsguard.db'}"
    spec = contract(checks=[{"type": "anomaly", "metric": "null_fraction", "column": "email"}])
    result = validate(spec, data(50, 0.1), now=day(0))  # measured while the store was away
    assert result.metrics["null_fraction(email)"] == pytest.approx(0.1)
    Spool(tmp_path / "spool", spool_name(parse_store_url(url))).append(result)
    with ResultStore(url, spool_dir=tmp_path / "spool") as store:
        assert store.flush_spool().stored == 1
        points = store.metric_history(spec["dataset"], "null_fraction(email)")
        stored = store.get(result.run_id or "")
    assert [(p.checked_at, p.value, p.status) for p in points] == [(day(0), 0.1, "error")]
    assert stored is not None and stored.metrics == result.metrics
