"""The sensor's Airflow-free core: ages, limits, SLA arithmetic, and reading "newest"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_opsguard.contract.loader import parse_contract
from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.formats import load_contract
from airflow_opsguard.freshness import (
    Observation,
    Reading,
    WaitState,
    file_location,
    freshness_limit,
    freshness_only,
    newest_mtime,
    next_poke_in,
    observe,
    sla_missed,
    start_waiting,
    timed_out,
    utc_instant,
)

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
CONTRACT = {
    "dataset": "orders",
    "source": {"path": "orders.csv"},
    "schema": {
        "columns": [
            {"name": "order_id", "type": "integer", "unique": True, "nullable": False},
            {"name": "created_at", "type": "timestamp"},
        ]
    },
    "freshness": {"column": "created_at", "warn_after": "6h", "fail_after": "1d"},
    "volume": {"min_rows": 1000},
}


def reading(
    newest: datetime | None,
    *,
    limit: timedelta = HOUR,
    error: str | None = None,
    clock: datetime = NOW,
) -> Reading:
    return Reading("orders", Observation(newest=newest, error=error), NOW, limit, clock=clock)


def waiting(**changes: object) -> WaitState:
    base = {
        "started_at": NOW,
        "deadline": NOW + 3 * HOUR,
        "reference": NOW,
        "sla_due_at": NOW + HOUR,
        "sla_fired": False,
    }
    return WaitState(**{**base, **changes})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- judging


def test_data_exactly_at_the_limit_is_fresh_and_a_second_more_is_not() -> None:
    assert reading(NOW - HOUR).fresh
    assert not reading(NOW - HOUR - timedelta(seconds=1)).fresh


@given(age=st.integers(min_value=-(10**6), max_value=10**7), limit=st.integers(1, 10**6))
def test_fresh_means_age_within_the_limit(age: int, limit: int) -> None:
    judged = reading(NOW - timedelta(seconds=age), limit=timedelta(seconds=limit))
    # Newer than the clock by more than the 5m allowance: a bad timestamp, never fresh.
    assert judged.fresh == (-300 <= age <= limit)
    assert judged.age == timedelta(seconds=age)


def test_no_timestamp_and_unreadable_data_are_never_fresh() -> None:
    empty = reading(None)
    assert not empty.fresh
    assert empty.age is None
    assert "no timestamp yet" in empty.message
    broken = reading(NOW, error="connection refused")
    assert not broken.fresh
    assert "connection refused" in broken.message


def test_data_from_the_future_is_fresh_within_the_clock_skew_allowance() -> None:
    ahead = reading(NOW + 4 * timedelta(minutes=1))
    assert ahead.fresh
    assert "ahead" in ahead.message
    # Written after the run's reference time, before the clock: fresh.
    assert reading(NOW + HOUR, clock=NOW + 2 * HOUR).fresh
    beyond = reading(NOW + HOUR)
    assert not beyond.fresh
    assert "bad timestamp" in beyond.message


def test_the_summary_is_plain_json() -> None:
    summary = reading(NOW - 2 * HOUR, limit=timedelta(days=1)).to_json()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["status"] == "fresh"
    assert summary["age_seconds"] == 7200
    assert summary["limit_seconds"] == 86400
    assert summary["message"] == "orders: the newest timestamp is 2h old, limit 1d (fresh)"


def test_the_limit_is_max_age_else_fail_after_else_warn_after() -> None:
    contract = parse_contract(CONTRACT)
    assert freshness_limit(contract, timedelta(minutes=5)) == timedelta(minutes=5)
    assert freshness_limit(contract, None) == timedelta(days=1)
    warn_only = parse_contract(
        {**CONTRACT, "freshness": {"column": "created_at", "warn_after": "6h"}}
    )
    assert freshness_limit(warn_only, None) == timedelta(hours=6)
    assert freshness_limit(parse_contract({"dataset": "x"}), None) is None
    assert freshness_limit(None, None) is None


def test_a_contract_reduced_to_freshness_keeps_the_column_type_and_origin(
    tmp_path: Path,
) -> None:
    import yaml

    path = tmp_path / "orders.yml"
    path.write_text(yaml.safe_dump(CONTRACT))
    reduced = freshness_only(load_contract(path))
    assert reduced.origin == str(path)
    assert reduced.all_checks == ()
    assert reduced.volume is None
    assert reduced.schema_ is not None
    assert [(c.name, c.type) for c in reduced.schema_.columns] == [("created_at", "timestamp")]
    assert reduced.schema_.extra_columns == "allow"
    assert reduced.freshness == load_contract(path).freshness
    with pytest.raises(ValueError, match="no freshness section"):
        freshness_only(parse_contract({"dataset": "x"}))


# --------------------------------------------------------------------------- waiting


def test_the_sla_counts_from_the_runs_reference_instant() -> None:
    reference = NOW - 5 * HOUR
    state = start_waiting(now=NOW, started_at=None, reference=reference, timeout=HOUR, sla=2 * HOUR)
    assert state.sla_due_at == NOW - 3 * HOUR
    assert state.deadline == NOW + HOUR
    assert state.reference_at(NOW + 9 * HOUR) == reference  # fixed: the clock does not move it


def test_against_the_wall_clock_the_sla_counts_from_the_first_poke() -> None:
    first = NOW - 10 * HOUR
    state = start_waiting(now=NOW, started_at=first, reference=None, timeout=HOUR, sla=2 * HOUR)
    assert state.sla_due_at == first + 2 * HOUR
    assert state.deadline == first + HOUR
    assert state.reference_at(NOW) == NOW


def test_a_pendulum_reference_stays_timezone_aware() -> None:
    # Airflow hands out pendulum instants; pendulum drops datetime.timezone.utc in sums.
    reference = pendulum.instance(NOW).astimezone(UTC)
    state = start_waiting(now=NOW, started_at=None, reference=reference, timeout=HOUR, sla=HOUR)
    assert state.sla_due_at is not None
    assert state.sla_due_at.tzinfo is not None
    assert state.sla_due_at == NOW + HOUR
    assert type(utc_instant(reference)) is datetime


@pytest.mark.parametrize(
    ("state", "newest", "now", "missed"),
    [
        (waiting(), NOW - 9 * HOUR, NOW + HOUR, True),  # due, stale
        (waiting(), NOW - 9 * HOUR, NOW + HOUR - timedelta(seconds=1), False),  # not yet
        (waiting(), NOW, NOW + 2 * HOUR, False),  # fresh
        (waiting(), None, NOW + 2 * HOUR, True),  # unreadable counts as not fresh
        (waiting(sla_fired=True), NOW - 9 * HOUR, NOW + 2 * HOUR, False),  # once
        (waiting(sla_due_at=None), NOW - 9 * HOUR, NOW + 2 * HOUR, False),  # no SLA
    ],
)
def test_when_the_sla_is_missed(
    state: WaitState, newest: datetime | None, now: datetime, missed: bool
) -> None:
    assert sla_missed(state, reading(newest), now) is missed


def test_the_next_poke_comes_at_the_sla_or_the_deadline_if_sooner() -> None:
    state = waiting(sla_due_at=NOW + timedelta(seconds=20), deadline=NOW + timedelta(seconds=50))
    assert next_poke_in(state, NOW, 60) == 20
    assert next_poke_in(state.fired(), NOW, 60) == 50
    assert next_poke_in(state, NOW, 5) == 5
    assert next_poke_in(state, NOW + HOUR, 60) == 0
    assert not timed_out(state, NOW + timedelta(seconds=49))
    assert timed_out(state, NOW + timedelta(seconds=50))


def test_wait_state_and_observation_survive_json() -> None:
    state = waiting(reference=None, sla_fired=True)
    assert WaitState.from_json(json.loads(json.dumps(state.to_json()))) == state
    seen = Observation(newest=NOW, error=None, source="orders.csv")
    assert Observation.from_json(json.loads(json.dumps(seen.to_json()))) == seen
    with pytest.raises(ValueError, match="started_at and deadline"):
        WaitState.from_json({"reference": None})


# --------------------------------------------------------------------------- observing


def touch(path: Path, when: datetime, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def test_newest_mtime_of_a_file_a_glob_and_a_directory(tmp_path: Path) -> None:
    old = touch(tmp_path / "d" / "a.csv", NOW - 3 * HOUR)
    touch(tmp_path / "d" / "b.csv", NOW - HOUR)
    touch(tmp_path / "d" / "_SUCCESS", NOW)  # markers and hidden files are not data
    touch(tmp_path / "d" / ".b.csv.crc", NOW)
    assert newest_mtime(str(old)) == NOW - 3 * HOUR
    assert newest_mtime(str(tmp_path / "d" / "*.csv")) == NOW - HOUR
    assert newest_mtime(str(tmp_path / "d")) == NOW - HOUR
    assert newest_mtime(f"file://{old}") == NOW - 3 * HOUR


def test_newest_mtime_through_fsspec() -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/opsguard-mtime/orders/a.csv", b"1")
    newest = newest_mtime("memory://opsguard-mtime/orders/*.csv")
    assert abs(datetime.now(UTC) - newest) < timedelta(minutes=5)
    with pytest.raises(DataSourceError, match="no such file"):
        newest_mtime("memory://opsguard-mtime/missing.csv")


def test_a_missing_file_is_an_error_for_mtime_and_an_observation_for_observe(
    tmp_path: Path,
) -> None:
    with pytest.raises(DataSourceError, match="no such file"):
        newest_mtime(str(tmp_path / "nope.csv"))
    seen = observe("mtime", None, data=str(tmp_path / "nope.csv"))
    assert seen.newest is None
    assert seen.error is not None and "no such file" in seen.error


def test_observe_a_column_with_the_engine(tmp_path: Path) -> None:
    data = tmp_path / "orders.csv"
    data.write_text("order_id,created_at\n1,2026-11-25T08:00:00Z\n2,2026-11-26T09:30:00Z\n")
    contract = parse_contract(CONTRACT)
    seen = observe("column", contract, data=str(data))
    assert seen.error is None
    assert seen.newest == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    empty = tmp_path / "empty.csv"
    empty.write_text("order_id,created_at\n")
    assert observe("column", contract, data=str(empty)) == Observation(
        newest=None, source=str(empty)
    )


def test_a_relative_source_path_is_read_from_the_contract_folder(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "contracts" / "orders.yml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({**CONTRACT, "source": {"path": "../data/orders.csv"}}))
    contract = load_contract(path)
    assert file_location(contract, None) == str(tmp_path / "data" / "orders.csv")
    assert file_location(contract, "s3://bucket/x.csv") == "s3://bucket/x.csv"
    with pytest.raises(DataSourceError, match="file source"):
        file_location(parse_contract({"dataset": "x"}), None)


def test_the_core_does_not_import_airflow() -> None:
    code = (
        "import json, sys\nimport airflow_opsguard.freshness\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert "airflow" not in json.loads(out.splitlines()[-1])
