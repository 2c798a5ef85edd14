"""The pure evaluation, with hand-made observations: no data, no engine, no clock."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_opsguard.checks.evaluate import (
    evaluate,
    evaluate_check,
    evaluate_freshness,
    evaluate_schema,
    evaluate_volume,
    passes_mostly,
)
from airflow_opsguard.checks.observations import CheckObservation, Observations, ObservedColumn
from airflow_opsguard.checks.results import GateResult, worst
from airflow_opsguard.contract.models import (
    Freshness,
    NotNullCheck,
    RangeCheck,
    Schema,
    StatisticCheck,
    UniqueCheck,
    Volume,
)
from airflow_opsguard.formats import load_contract

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def col(name: str, kind: str | None, native: str = "X") -> ObservedColumn:
    return ObservedColumn(name, native, kind)


# ------------------------------------------------------------------ mostly


@given(considered=st.integers(0, 10_000), data=st.data())
def test_without_mostly_a_single_failure_fails(considered: int, data: st.DataObject) -> None:
    failing = data.draw(st.integers(0, considered))
    assert passes_mostly(considered, failing, None) is (failing == 0)


@given(
    considered=st.integers(1, 10_000),
    data=st.data(),
    mostly=st.floats(0.01, 1.0),
)
def test_mostly_is_the_fraction_that_must_pass(
    considered: int, data: st.DataObject, mostly: float
) -> None:
    failing = data.draw(st.integers(0, considered))
    ok = passes_mostly(considered, failing, mostly)
    assert ok is (failing == 0 or (considered - failing) / considered >= mostly)
    # Monotonic: one more failure can only turn a pass into a fail.
    if failing < considered and not ok:
        assert not passes_mostly(considered, failing + 1, mostly)


def test_no_values_means_nothing_failed() -> None:
    assert passes_mostly(0, 0, 0.9)


# ------------------------------------------------------------------ row checks


def test_a_failing_row_check_reports_count_fraction_and_samples() -> None:
    check = RangeCheck(column="amount", min=0, max=10)
    result = evaluate_check(
        check,
        CheckObservation(considered=200, failing=3, minimum=-5, maximum=99, samples=(-5, 99, 12)),
        rows=210,
    )
    assert result.status == "fail"
    assert result.observed == 3  # the count, never a 0/1 flag
    assert result.failing_count == 3
    assert result.failing_fraction == pytest.approx(0.015)
    assert result.samples == (-5, 99, 12)
    assert "3 of 200 values of amount outside [0, 10]" in result.message
    assert "e.g. -5, 99, 12" in result.message
    assert result.metrics == {"considered": 200, "min": -5, "max": 99}


def test_severity_warn_reports_without_blocking() -> None:
    check = NotNullCheck(column="email", severity="warn")
    result = evaluate_check(check, CheckObservation(considered=10, failing=1), rows=10)
    assert (result.status, result.severity) == ("warn", "warn")


def test_mostly_lets_a_few_failures_pass_and_says_so() -> None:
    check = UniqueCheck(column="id", mostly=0.9)
    result = evaluate_check(check, CheckObservation(considered=100, failing=10), rows=100)
    assert result.status == "pass"
    assert "within mostly=0.9" in result.message
    result = evaluate_check(check, CheckObservation(considered=100, failing=11), rows=100)
    assert result.status == "fail"


def test_measurement_errors_are_errors_not_passes() -> None:
    result = evaluate_check(
        NotNullCheck(column="x"), CheckObservation(error="could not be measured: boom"), rows=0
    )
    assert result.status == "error"
    assert "boom" in result.message


@pytest.mark.parametrize(
    ("statistic", "value", "status"),
    [("mean", 5.0, "pass"), ("mean", 11.0, "fail"), ("max", None, "fail"), ("min", 1, "pass")],
)
def test_statistics(statistic: str, value: float | None, status: str) -> None:
    check = StatisticCheck(column="a", statistic=statistic, min=1, max=10)  # type: ignore[arg-type]
    result = evaluate_check(check, CheckObservation(considered=4, value=value), rows=4)
    assert result.status == status
    assert result.observed == value


# ------------------------------------------------------------------ schema


def test_schema_reports_missing_renamed_retyped_and_extra_columns() -> None:
    schema = Schema.model_validate(
        {
            "columns": [
                {"name": "id", "type": "integer"},
                {"name": "email", "type": "string"},
                {"name": "amount", "type": "float"},
                {"name": "n", "type": "integer"},
            ]
        }
    )
    observed = [
        col("id", "string", "VARCHAR"),
        col("mail", "string", "VARCHAR"),
        col("amount", "integer", "BIGINT"),  # a float column may hold whole numbers
        col("n", "float", "DOUBLE"),  # an integer column may not hold floats
    ]
    results = {r.name: r for r in evaluate_schema(schema, observed)}
    assert results["schema(id)"].status == "fail"
    assert results["schema(id)"].observed == "string (VARCHAR)"
    assert results["schema(id)"].expected == "integer"
    assert results["schema(email)"].observed == "missing"
    assert "'mail' of the same type is new: renamed?" in results["schema(email)"].message
    assert results["schema(amount)"].status == "pass"
    assert results["schema(n)"].status == "fail"
    assert results["schema(extra columns)"].status == "fail"
    assert results["schema(extra columns)"].observed == "mail"
    assert {r.type for r in results.values()} == {"schema"}


@pytest.mark.parametrize(("setting", "status"), [("warn", "warn"), ("fail", "fail")])
def test_extra_columns_setting(setting: str, status: str) -> None:
    schema = Schema.model_validate({"columns": [{"name": "a"}], "extra_columns": setting})
    results = evaluate_schema(schema, [col("a", "string"), col("b", "string")])
    assert results[-1].status == status


def test_extra_columns_allowed_adds_no_result() -> None:
    schema = Schema.model_validate({"columns": [{"name": "a"}], "extra_columns": "allow"})
    results = evaluate_schema(schema, [col("a", "string"), col("b", "string")])
    assert [r.name for r in results] == ["schema(a)"]


def test_column_order_when_asked() -> None:
    schema = Schema.model_validate(
        {"columns": [{"name": "a"}, {"name": "b"}], "ordered": True, "extra_columns": "allow"}
    )
    swapped = evaluate_schema(schema, [col("b", "string"), col("a", "string")])
    assert swapped[-1].name == "schema(column order)" and swapped[-1].status == "fail"
    ok = evaluate_schema(schema, [col("a", "string"), col("x", "string"), col("b", "string")])
    assert ok[-1].status == "pass"


def test_empty_data_says_so() -> None:
    schema = Schema.model_validate({"columns": [{"name": "a"}]})
    (missing, _) = evaluate_schema(schema, [])
    assert "the data has no columns at all" in missing.message


# ------------------------------------------------------------------ volume and freshness


@pytest.mark.parametrize(
    ("rows", "status", "text"),
    [
        (999, "fail", "fewer than the 1,000"),
        (1000, "pass", ""),
        (11, "pass", ""),
        (2_000_001, "fail", "more than the 2,000,000"),
        (None, "error", "could not be measured"),
    ],
)
def test_volume(rows: int | None, status: str, text: str) -> None:
    volume = Volume(min_rows=1000 if rows != 11 else None, max_rows=2_000_000)
    result = evaluate_volume(volume, rows)
    assert result.status == status
    assert text in result.message
    assert result.observed == rows


def freshness(**kw: object) -> Freshness:
    return Freshness.model_validate({"column": "ts", **kw})


@pytest.mark.parametrize(
    ("age", "status", "expected"),
    [
        (timedelta(hours=1), "pass", "< 1d"),
        (timedelta(hours=7), "warn", "< 6h"),
        (timedelta(days=3, hours=2), "fail", "< 1d"),
    ],
)
def test_freshness_against_now(age: timedelta, status: str, expected: str) -> None:
    f = freshness(warn_after="6h", fail_after="1d")
    result = evaluate_freshness(f, CheckObservation(value=NOW - age), NOW)
    assert result.status == status
    assert result.expected == expected
    if status == "fail":
        assert result.observed == "3d 2h"
        assert result.message == "newest ts is 3d 2h old; the contract allows 1d"


def test_naive_timestamps_are_utc_and_dates_start_at_midnight() -> None:
    f = freshness(fail_after="13h")
    naive = evaluate_freshness(f, CheckObservation(value=datetime(2026, 11, 26, 0, 0)), NOW)
    assert naive.status == "pass" and naive.observed == "12h"
    day = evaluate_freshness(f, CheckObservation(value=date(2026, 11, 26)), NOW)
    assert day.observed == "12h"
    aware = datetime(2026, 11, 26, 2, 0, tzinfo=UTC).astimezone()
    assert evaluate_freshness(f, CheckObservation(value=aware), NOW).observed == "10h"


def test_no_values_is_a_freshness_failure() -> None:
    result = evaluate_freshness(freshness(fail_after="1d"), CheckObservation(value=None), NOW)
    assert result.status == "fail"
    assert "age is unknown" in result.message


def test_a_far_future_timestamp_fails_and_says_it_is_a_bad_timestamp() -> None:
    # One row dated 9999-12-31 among 16-day-old data must not make the data look fresh.
    f = freshness(fail_after="1d")
    result = evaluate_freshness(f, CheckObservation(value=date(9999, 12, 31)), NOW, NOW)
    assert result.status == "fail"
    assert result.message == (
        "newest ts is 2912112d 12h in the future (beyond the 5m clock-skew allowance): "
        "the column holds a bad timestamp"
    )
    assert result.observed == "2912112d 12h in the future"
    assert result.metrics["newest"] == "9999-12-31T00:00:00+00:00"


@pytest.mark.parametrize(
    ("ahead", "status"),
    [
        (timedelta(seconds=30), "pass"),
        (timedelta(minutes=5), "pass"),
        (timedelta(minutes=5, seconds=1), "fail"),
        (timedelta(hours=1), "fail"),
    ],
)
def test_the_clock_skew_allowance_is_five_minutes_by_default(ahead: timedelta, status: str) -> None:
    result = evaluate_freshness(
        freshness(fail_after="1d"), CheckObservation(value=NOW + ahead), NOW
    )
    assert result.status == status
    assert ("bad timestamp" in result.message) == (status == "fail")


def test_the_allowance_is_the_contracts_future_tolerance() -> None:
    f = freshness(fail_after="1d", future_tolerance="2h")
    assert evaluate_freshness(f, CheckObservation(value=NOW + timedelta(hours=1)), NOW).status == (
        "pass"
    )
    late = evaluate_freshness(f, CheckObservation(value=NOW + timedelta(hours=3)), NOW)
    assert late.status == "fail"
    assert "beyond the 2h clock-skew allowance" in late.message


def test_data_written_after_the_runs_reference_time_passes() -> None:
    # A run judged at its data interval end (NOW) measures an hour later: data written
    # in between is newer than the reference, and in the past of the clock.
    clock = NOW + timedelta(hours=1)
    f = freshness(fail_after="1d")
    for written in (NOW + timedelta(seconds=5), NOW + timedelta(minutes=59)):
        result = evaluate_freshness(f, CheckObservation(value=written), NOW, clock)
        assert result.status == "pass"
        assert "bad timestamp" not in result.message
    beyond = evaluate_freshness(f, CheckObservation(value=clock + timedelta(hours=1)), NOW, clock)
    assert beyond.status == "fail"
    assert "1h in the future" in beyond.message


def test_a_bad_timestamp_with_severity_warn_warns() -> None:
    f = freshness(fail_after="1d", severity="warn")
    result = evaluate_freshness(f, CheckObservation(value=datetime(9999, 1, 1)), NOW, NOW)
    assert result.status == "warn"
    assert "bad timestamp" in result.message


def test_the_extremes_of_time_never_overflow() -> None:
    f = freshness(fail_after="1d")
    latest = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    earliest = datetime(1, 1, 1, tzinfo=UTC)
    assert evaluate_freshness(f, CheckObservation(value=earliest), latest, latest).status == "fail"
    assert (
        evaluate_freshness(f, CheckObservation(value=latest), earliest, earliest).status == "fail"
    )
    assert evaluate_freshness(f, CheckObservation(value=latest), latest, latest).status == "pass"
    before_1970 = evaluate_freshness(
        f, CheckObservation(value=datetime(1969, 7, 20, 20, 17)), datetime(1969, 7, 21, tzinfo=UTC)
    )
    assert before_1970.status == "pass" and before_1970.observed == "3h 43m"


def test_the_whole_verdict_bounds_the_future_by_the_later_of_now_and_the_clock() -> None:
    contract = load_contract({"dataset": "d", "freshness": {"column": "ts", "fail_after": "1d"}})

    def judged(newest: datetime, clock: datetime) -> str:
        observations = Observations(
            source="s",
            rows=1,
            columns=(col("ts", "timestamp"),),
            checks={"freshness": CheckObservation(value=newest)},
        )
        return evaluate(contract, observations, now=NOW, clock=clock).status

    assert judged(NOW + timedelta(hours=2), NOW + timedelta(hours=3)) == "pass"
    assert judged(NOW + timedelta(hours=2), NOW) == "fail"
    # A clock behind the reference (a backfill judged ahead of time) still allows now.
    assert judged(NOW + timedelta(minutes=1), NOW - timedelta(days=30)) == "pass"


# ------------------------------------------------------------------ the whole verdict


def test_overall_status_fail_beats_error_beats_warn() -> None:
    assert worst(["pass", "warn"]) == "warn"
    assert worst(["pass", "error", "warn"]) == "error"
    assert worst(["error", "fail"]) == "fail"
    assert worst([]) == "pass"


def test_full_verdict_survives_json_and_round_trips() -> None:
    contract = load_contract(
        {
            "dataset": "orders",
            "schema": {
                "columns": [
                    {"name": "id", "type": "integer", "nullable": False},
                    {"name": "ts", "type": "timestamp"},
                ]
            },
            "volume": {"min_rows": 1},
            "freshness": {"column": "ts", "fail_after": "1d"},
        }
    )
    observations = Observations(
        source="mem",
        rows=5,
        columns=(col("id", "integer", "BIGINT"),),
        checks={
            "not_null(id)": CheckObservation(considered=5, failing=1),
            "freshness": CheckObservation(error="not measured: column 'ts' is not in the data"),
        },
        fingerprint={"rows": 5},
    )
    result = evaluate(contract, observations, now=NOW)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "fail"
    assert data["rows"] == 5
    assert data["checked_at"] == "2026-11-26T12:00:00+00:00"
    assert [(c["name"], c["status"]) for c in data["checks"]] == [
        ("schema(id)", "pass"),
        ("schema(ts)", "fail"),
        ("schema(extra columns)", "pass"),
        ("volume", "pass"),
        ("not_null(id)", "fail"),
        ("freshness(ts)", "error"),
    ]
    for check in data["checks"]:
        assert set(check) >= {
            "name",
            "type",
            "column",
            "status",
            "severity",
            "observed",
            "expected",
            "message",
        }
    assert GateResult.from_dict(data).to_dict() == result.to_dict()


@pytest.mark.parametrize(
    ("value", "bound", "status"),
    [
        (date(2026, 3, 1), date(2026, 2, 28), "pass"),
        (date(2026, 3, 1), datetime(2026, 3, 2), "fail"),
        (datetime(2026, 3, 1, 12), date(2026, 3, 1), "pass"),
        (datetime(2026, 3, 1, 12, tzinfo=UTC), datetime(2026, 3, 1, 13), "fail"),
        (datetime(2026, 3, 1, 12), datetime(2026, 3, 1, 11, tzinfo=UTC), "pass"),
    ],
)
def test_statistics_compare_dates_and_timestamps(value: object, bound: object, status: str) -> None:
    check = StatisticCheck(column="day", statistic="max", min=bound)  # type: ignore[arg-type]
    result = evaluate_check(check, CheckObservation(considered=1, value=value), rows=1)
    assert result.status == status
