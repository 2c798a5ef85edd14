"""Anomaly and row-count-change rules over synthetic histories: pure, no store, no data."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from anomaly_helpers import MONDAY, day, judge, replay, series, weekly_rows
from hypothesis import given
from hypothesis import strategies as st

from airflow_opsguard.anomaly.history import MetricHistory, MetricPoint
from airflow_opsguard.checks.history import (
    evaluate_history_check,
    past_breaches,
    sustained_status,
)
from airflow_opsguard.checks.observations import CheckObservation
from airflow_opsguard.contract.models import (
    AnomalyCheck,
    RowCountChangeCheck,
    SustainedRule,
)


def anomaly(**keys: object) -> AnomalyCheck:
    return AnomalyCheck.model_validate({"type": "anomaly", "metric": "rows", **keys})


def change(**keys: object) -> RowCountChangeCheck:
    return RowCountChangeCheck.model_validate({"type": "row_count_change", **keys})


def steady(count: int, seed: int = 7, level: float = 1000.0) -> list[MetricPoint]:
    rng = random.Random(seed)
    return series(count, lambda i: round(level * (1 + rng.uniform(-0.02, 0.02))))


# ------------------------------------------------------------------ weekly seasonality


@pytest.fixture(scope="module")
def five_weeks() -> list[MetricPoint]:
    """40 daily runs from a Monday to a Friday: ~1,000 rows on weekdays, ~400 at weekends."""
    rng = random.Random(42)
    return series(40, lambda i: weekly_rows(i, rng))


def test_a_weekend_dip_is_normal_when_compared_by_weekday(five_weeks: list[MetricPoint]) -> None:
    saturday = day(40)
    assert saturday.weekday() == 5
    result = judge(anomaly(weekly=True), 395, saturday, five_weeks)
    assert result.status == "pass", result.message
    assert result.metrics["breach"] is False
    assert result.metrics["history"] == 5  # the five Saturdays before
    assert "on a Saturday" in result.message


def test_the_same_dip_alarms_without_weekly(five_weeks: list[MetricPoint]) -> None:
    result = judge(anomaly(weekly=False), 395, day(40), five_weeks)
    assert result.metrics["breach"] is True
    assert result.status == "warn", result.message  # one breach warns, it does not fail
    assert result.metrics["z"] < -3.5


def test_a_weekday_at_weekend_level_alarms_with_weekly(five_weeks: list[MetricPoint]) -> None:
    wednesday = day(44)
    assert wednesday.weekday() == 2
    result = judge(anomaly(weekly=True), 400, wednesday, five_weeks)
    assert result.metrics["breach"] is True
    assert result.status == "warn"


def test_weekly_replay_over_a_month_stays_quiet_where_plain_warns_each_weekend() -> None:
    rng = random.Random(3)
    values = [weekly_rows(i, rng) for i in range(8 * 7)]
    weekly = replay(anomaly(weekly=True), values)
    plain = replay(anomaly(min_history=14), values)
    judged = range(5 * 7, 8 * 7)  # weeks six to eight: both are past learning
    assert [weekly[i].status for i in judged] == ["pass"] * len(judged)
    weekend = [i for i in judged if day(i).weekday() >= 5]
    assert all(plain[i].metrics["breach"] for i in weekend)
    assert all(plain[i].status == "warn" for i in weekend)
    # Two weekend breaches in a row never reach three within five: no weekend fails.
    assert all(plain[i].status != "fail" for i in judged)


# ------------------------------------------------------------------ learning


@given(st.integers(0, 13))
def test_before_min_history_the_check_learns_and_passes(count: int) -> None:
    result = judge(anomaly(), 10**9, day(count), steady(count))
    assert result.status == "pass"
    assert result.message.startswith(f"learning: {count} of 14 runs")
    assert result.metrics["learning"] is True


def test_learning_ends_at_min_history() -> None:
    check = anomaly(min_history=5)
    assert judge(check, 5000, day(4), steady(4)).message.startswith("learning: 4 of 5 runs")
    judged = judge(check, 5000, day(5), steady(5))
    assert "learning" not in judged.message
    assert judged.metrics["breach"] is True


def test_weekly_learning_counts_runs_on_the_same_weekday() -> None:
    points = steady(20)  # Monday to the Saturday of the third week: three Fridays
    friday = day(25)
    assert friday.weekday() == 4
    result = judge(anomaly(weekly=True), 1000, friday, points)
    assert result.message.startswith("learning: 3 of 4 runs on a Friday")


def test_history_at_or_after_now_must_not_be_passed() -> None:
    # The store reads runs before `now`; the rule trusts it and compares with what it got.
    points = steady(20)
    result = judge(anomaly(), 1000, MONDAY - timedelta(days=1), points)
    assert result.metrics["history"] == 20


# ------------------------------------------------------------------ sustained rules


def test_one_breach_warns_three_within_five_fail_and_a_normal_run_recovers() -> None:
    check = anomaly(min_history=10, fail_after={"breaches": 3, "within": 5})
    base = [round(1000 * (1 + random.Random(i).uniform(-0.01, 0.01))) for i in range(20)]
    spikes = [3000.0, 1000, 3000, 1000, 3000, 1000]
    statuses = [r.status for r in replay(check, [*base, *spikes])[20:]]
    assert statuses == ["warn", "pass", "warn", "pass", "fail", "pass"]


def test_breaches_spread_wider_than_the_window_never_fail() -> None:
    check = anomaly(min_history=10, fail_after={"breaches": 3, "within": 5})
    base = [round(1000 * (1 + random.Random(i).uniform(-0.01, 0.01))) for i in range(20)]
    spread = [3000.0, 1000, 1000, 3000, 1000, 1000, 3000, 1000, 1000]
    results = replay(check, [*base, *spread])[20:]
    assert [r.status for r in results] == ["warn", "pass", "pass"] * 3
    assert [r.metrics["breaches"] for r in results if r.metrics["breach"]] == [1, 2, 2]


def test_warn_after_two_in_a_row_keeps_a_single_breach_quiet() -> None:
    check = anomaly(min_history=10, warn_after=2, fail_after=None)
    base = [round(1000 * (1 + random.Random(i).uniform(-0.01, 0.01))) for i in range(20)]
    results = replay(check, [*base, 3000, 1000, 3000, 3000, 3000])[20:]
    assert [r.status for r in results] == ["pass", "pass", "pass", "warn", "warn"]
    assert results[0].metrics["breach"] is True
    assert "warns at 2" in results[0].message


def test_severity_warn_turns_the_sustained_fail_into_a_warning() -> None:
    check = anomaly(min_history=10, fail_after=1, severity="warn")
    result = judge(check, 5000, day(20), steady(20))
    assert result.status == "warn"
    assert judge(anomaly(min_history=10, fail_after=1), 5000, day(20), steady(20)).status == "fail"


def test_past_breaches_are_judged_with_todays_rule() -> None:
    points = series(25, lambda i: 3000.0 if i in (22, 24) else 1000.0 + i % 3)
    flags = past_breaches(anomaly(min_history=10), points, 4)
    assert flags == [True, False, True, False]  # runs 24, 23, 22, 21
    # A threshold so wide nothing breaches: the same runs count no breach.
    assert past_breaches(anomaly(min_history=10, threshold=1e6), points, 4) == [False] * 4


@given(
    st.lists(st.booleans(), min_size=1, max_size=12),
    st.integers(1, 5),
    st.integers(0, 5),
)
def test_sustained_status_is_k_breaches_within_the_last_n(
    flags: list[bool], k: int, extra: int
) -> None:
    rule = SustainedRule(breaches=k, within=k + extra)
    status = sustained_status(flags, SustainedRule(breaches=1, within=1), rule)
    if not flags[0]:
        assert status == "pass"  # a run that does not breach passes, whatever came before
    elif sum(flags[: k + extra]) >= k:
        assert status == "fail"
    else:
        assert status == "warn"
    # One more breach in the past never makes the verdict milder.
    for index, flag in enumerate(flags):
        if not flag:
            worse = [*flags[:index], True, *flags[index + 1 :]]
            order = ["pass", "warn", "fail"]
            again = sustained_status(worse, SustainedRule(breaches=1, within=1), rule)
            assert order.index(again) >= order.index(status)


# ------------------------------------------------------------------ constant history


def test_a_constant_mean_breaches_on_any_change_without_dividing_by_zero() -> None:
    # A mean has no noise it cannot avoid: a history that never varied makes any real
    # change a breach. (Row counts have a floor: see test_anomaly_expected.py.)
    check = anomaly(metric="mean", column="amount")
    points = series(20, lambda i: 12.5)
    same = judge(check, 12.5, day(20), points)
    assert same.status == "pass"
    assert same.metrics["spread"] == 0 and same.metrics["z"] == 0
    moved = judge(check, 12.51, day(20), points)
    assert moved.metrics["breach"] is True
    assert moved.status == "warn"
    assert moved.metrics["z"] is None  # infinite: stored as no number, not as a division
    assert "never varied" in moved.message
    assert moved.to_dict()["metrics"]["spread"] == 0


def test_a_constant_row_count_moves_within_its_poisson_noise() -> None:
    # Before issue 21 a table of exactly 1,000 rows a day breached at 1,001 (infinite z).
    points = series(20, lambda i: 1000.0)
    one_more = judge(anomaly(), 1001, day(20), points)
    assert one_more.status == "pass", one_more.message
    assert abs(one_more.metrics["z"]) < 0.1
    assert "the floor: Poisson noise" in one_more.message
    assert judge(anomaly(), 900, day(20), points).status == "pass"  # docs/drift.md says so
    assert judge(anomaly(), 880, day(20), points).status == "warn"
    assert judge(anomaly(), 700, day(20), points).status == "warn"


def test_a_constant_fraction_with_rounding_noise_stays_calm() -> None:
    points = series(20, lambda i: 0.3)
    check = anomaly(metric="null_fraction", column="email")
    assert judge(check, 0.1 + 0.2, day(20), points).status == "pass"


# ------------------------------------------------------------------ direction


def test_direction_up_ignores_a_fall_and_catches_a_rise() -> None:
    check = anomaly(metric="null_fraction", column="email", direction="up")
    points = series(20, lambda i: 0.01 + (i % 5) * 0.001)
    assert judge(check, 0.0, day(20), points).metrics["breach"] is False
    rose = judge(check, 0.2, day(20), points)
    assert rose.metrics["breach"] is True
    assert rose.expected is not None and str(rose.expected).startswith("<=")


def test_direction_down_catches_a_fall_only() -> None:
    check = anomaly(direction="down")
    assert judge(check, 10, day(20), steady(20)).metrics["breach"] is True
    assert judge(check, 10**6, day(20), steady(20)).metrics["breach"] is False


# ------------------------------------------------------------------ errors, never silent passes


def test_without_a_store_history_checks_report_error() -> None:
    for check in (anomaly(), change(max_drop=0.5)):
        result = evaluate_history_check(check, CheckObservation(), {"rows": 10}, None, day(0))
        assert result.status == "error"
        assert "needs a results store" in result.message


def test_an_unreadable_store_is_an_error_that_says_so() -> None:
    history = MetricHistory(error="cannot read results store sqlite:///x.db: disk I/O error")
    result = evaluate_history_check(anomaly(), CheckObservation(), {"rows": 1}, history, day(0))
    assert result.status == "error"
    assert "cannot read the history of rows" in result.message
    assert "disk I/O error" in result.message


def test_a_metric_without_a_value_is_an_error() -> None:
    check = anomaly(metric="mean", column="amount")
    result = judge(check, None, day(20), steady(20))
    assert result.status == "error"
    assert "mean(amount) has no value" in result.message


def test_a_measuring_error_wins_over_everything() -> None:
    check = anomaly(metric="mean", column="amount")
    result = judge(check, 3.0, day(20), steady(20), error="not measured: 'amount' is missing")
    assert (result.status, result.message) == ("error", "not measured: 'amount' is missing")


# ------------------------------------------------------------------ row count change


def passing(*values: float) -> list[MetricPoint]:
    """Passing runs, newest first: the first value is the previous passing run."""
    return [MetricPoint(day(10 - i), v, "pass") for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("rows", "status"),
    [(500, "pass"), (499, "fail"), (3000, "pass"), (3001, "fail"), (1000, "pass")],
)
def test_row_count_change_against_the_previous_pass(rows: int, status: str) -> None:
    check = change(max_drop=0.5, max_growth=2.0)
    result = judge(check, rows, day(11), passing(1000, 10, 10))
    assert result.status == status, result.message
    assert result.metrics["reference"] == 1000


def test_a_drop_says_how_much_and_against_what() -> None:
    result = judge(change(max_drop=0.3), 400, day(11), passing(1000))
    assert result.status == "fail"
    assert "-60.0%" in result.message
    assert "previous passing run" in result.message
    assert "allows a drop of 30%" in result.message
    assert result.expected == ">= 700 rows"


def test_row_count_change_against_the_median_ignores_one_odd_run() -> None:
    points = passing(1000, 1010, 20, 990, 1005)  # run 8 was nearly empty
    check = change(max_drop=0.5, relative_to="median")
    assert judge(check, 600, day(11), points).status == "pass"
    assert judge(check, 499, day(11), points).status == "fail"
    against_previous = change(max_drop=0.5)
    assert judge(against_previous, 600, day(11), passing(20, 1000)).status == "pass"


def test_row_count_change_learns_until_it_has_a_reference() -> None:
    result = judge(change(max_drop=0.5), 0, day(0), [])
    assert result.status == "pass"
    assert result.message.startswith("learning: 0 of 1 passing runs")
    median_check = change(max_growth=1.0, relative_to="median", min_history=3)
    learning = judge(median_check, 10**6, day(2), passing(1000, 1000))
    assert learning.message.startswith("learning: 2 of 3 runs")


def test_row_count_change_from_zero_rows() -> None:
    assert judge(change(max_growth=1.0), 0, day(11), passing(0)).status == "pass"
    grown = judge(change(max_growth=1.0), 5, day(11), passing(0))
    assert grown.status == "fail"
    assert grown.metrics["change"] is None  # infinite growth, no division by zero
    assert judge(change(max_drop=0.5), 5, day(11), passing(0)).status == "pass"


@given(
    reference=st.integers(1, 10**9),
    drop=st.floats(0, 1),
    growth=st.floats(0, 10),
    data=st.data(),
)
def test_row_count_change_fails_exactly_outside_the_allowed_band(
    reference: int, drop: float, growth: float, data: st.DataObject
) -> None:
    rows = data.draw(st.integers(0, reference * 12))
    check = change(max_drop=drop, max_growth=growth)
    result = judge(check, rows, day(11), passing(reference))
    ratio = (rows - reference) / reference
    assert (result.status == "fail") is (ratio < -drop or ratio > growth)


# ------------------------------------------------------------------ no crying wolf


def test_healthy_noise_never_fails_and_rarely_warns() -> None:
    statuses: list[str] = []
    for seed in range(20):
        rng = random.Random(seed)
        values = [rng.gauss(1000, 15) for _ in range(60)]
        statuses += [r.status for r in replay(anomaly(), values)[14:]]
        rng = random.Random(100 + seed)
        weekly = [weekly_rows(i, rng) for i in range(60)]
        statuses += [r.status for r in replay(anomaly(weekly=True), weekly)[28:]]
    assert "fail" not in statuses
    assert statuses.count("warn") / len(statuses) < 0.03


def test_a_lasting_shift_fails_by_its_third_run() -> None:
    rng = random.Random(5)
    values = [rng.gauss(1000, 15) for _ in range(30)] + [rng.gauss(700, 15) for _ in range(3)]
    assert [r.status for r in replay(anomaly(), values)[30:]] == ["warn", "warn", "fail"]
