"""The expectation a run is judged against: scale, comparable runs, trend, spread, floor."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from anomaly_helpers import day, judge, series
from hypothesis import assume, given
from hypothesis import strategies as st

from airflow_opsguard.anomaly.expected import SHRINK_RUNS, MetricScale, expect
from airflow_opsguard.anomaly.history import MetricHistory, MetricPoint, history_key
from airflow_opsguard.anomaly.robust import median
from airflow_opsguard.checks.history import evaluate_history_check
from airflow_opsguard.checks.observations import CheckObservation
from airflow_opsguard.contract.models import AnomalyCheck

ROWS = MetricScale.of("rows")
LINEAR = MetricScale.of("mean")


def test_each_metric_kind_has_its_scale() -> None:
    assert MetricScale.of("rows") == MetricScale(log=True, poisson=True)
    assert MetricScale.of("distinct_count") == MetricScale(log=True)  # no Poisson floor
    assert MetricScale.of("null_fraction", 500) == MetricScale(fraction=True, trials=500)
    assert MetricScale.of("null_fraction") == MetricScale(fraction=True)
    for kind in ("mean", "freshness_lag_seconds", "drift"):
        assert MetricScale.of(kind) == MetricScale()
    assert ROWS.natural(ROWS.working(1234)) == pytest.approx(1234)
    assert ROWS.working(0) == math.log(0.5)  # zero rows stay finite


# ------------------------------------------------------------------ trend


def test_a_growing_dataset_is_expected_where_it_is_now() -> None:
    rng = random.Random(4)
    level = [10_000 * 1.02 ** (i / 7) for i in range(16 * 7)]  # +2% a week, 16 weeks
    points = series(len(level), lambda i: round(level[i] * math.exp(rng.gauss(0, 0.02))))
    now = day(len(level))
    truth = 10_000 * 1.02 ** (len(level) / 7)
    for weekly in (True, False):
        compared = expect(points, now, weekly=weekly, window=30, scale=ROWS)
        assert compared is not None
        assert compared.expected == pytest.approx(truth, rel=0.015)
        assert math.expm1(7 * compared.trend) == pytest.approx(0.02, abs=0.004)
    # The median of the window alone lags the growth by half the window.
    same_weekday = [p.value for p in points if p.checked_at.weekday() == now.weekday()][:30]
    assert median(same_weekday) < truth * 0.9
    # A healthy run on the trend passes; the old median would have been 8 sd away.
    assert judge(AnomalyCheck(metric="rows", weekly=True), round(truth), now, points).status == (
        "pass"
    )


def test_a_few_wild_runs_do_not_tilt_the_trend() -> None:
    values = [1000.0 + (i % 3) for i in range(40)]
    values[35] = values[37] = 50_000.0  # two spikes near the end
    compared = expect(series(40, lambda i: values[i]), day(40), weekly=False, window=30, scale=ROWS)
    assert compared is not None
    assert abs(compared.trend) < 1e-3
    assert compared.expected == pytest.approx(1001, abs=2)


def test_no_trend_over_less_than_a_week() -> None:
    # Hourly runs with a daily rhythm: 30 hours climb the afternoon, and a slope over
    # them would carry the rhythm forward as growth.
    hourly = [
        MetricPoint(
            day(0) + timedelta(hours=h), 1000 + 300 * math.sin(h / 24 * 2 * math.pi), "pass"
        )
        for h in reversed(range(30))
    ]
    compared = expect(hourly, day(0) + timedelta(hours=30), weekly=False, window=30, scale=ROWS)
    assert compared is not None and compared.trend == 0
    # The same rise over eight weeks is a trend.
    weekly_rise = series(56, lambda i: 1000.0 + 5 * i)
    rising = expect(weekly_rise, day(56), weekly=False, window=30, scale=ROWS)
    assert rising is not None and rising.trend > 0


def test_no_trend_from_too_few_runs() -> None:
    points = series(4, lambda i: 100.0 * (i + 1))  # four runs: six pairs, fewer than ten
    compared = expect(points, day(4), weekly=False, window=30, scale=LINEAR)
    assert compared is not None and compared.trend == 0
    assert compared.expected == 250


# ------------------------------------------------------------------ spread


def test_the_spread_is_relative_for_counts() -> None:
    # Weekends at twice the rows with twice the noise in rows: one spread in percent.
    rng = random.Random(8)
    points = series(
        8 * 7,
        lambda i: round((2e5 if day(i).weekday() >= 5 else 1e5) * (1 + rng.gauss(0, 0.03))),
    )
    saturday = expect(points, day(61), weekly=True, window=30, scale=ROWS)
    tuesday = expect(points, day(57), weekly=True, window=30, scale=ROWS)
    assert saturday is not None and tuesday is not None
    assert saturday.spread == pytest.approx(0.035, abs=0.012)
    assert tuesday.spread == pytest.approx(0.035, abs=0.012)
    low, high = saturday.band(3.5)
    assert high - low > 1.7 * (tuesday.band(3.5)[1] - tuesday.band(3.5)[0])  # in rows


def test_a_noisier_weekday_gets_a_wider_spread_as_its_runs_accumulate() -> None:
    # A mean over fewer rows at weekends: twice the noise, in the metric's own units.
    rng = random.Random(2)
    weeks = 30
    points = series(weeks * 7, lambda i: 50 + rng.gauss(0, 2.0 if day(i).weekday() >= 5 else 1.0))
    now_saturday, now_tuesday = day(weeks * 7 + 5), day(weeks * 7 + 1)
    saturday = expect(points, now_saturday, weekly=True, window=30, scale=LINEAR)
    tuesday = expect(points, now_tuesday, weekly=True, window=30, scale=LINEAR)
    assert saturday is not None and tuesday is not None
    assert saturday.spread > 1.4 * tuesday.spread
    # With four Saturdays only, the pooled spread of all weekdays carries the Saturday:
    # its own spread counts for 4 deviations against the pool's SHRINK_RUNS.
    recent = points[: 4 * 7]
    few_saturday = expect(recent, now_saturday, weekly=True, window=30, scale=LINEAR)
    few_tuesday = expect(recent, now_tuesday, weekly=True, window=30, scale=LINEAR)
    assert few_saturday is not None and few_tuesday is not None
    assert few_saturday.runs == 4 and SHRINK_RUNS > 4
    assert few_saturday.spread / few_tuesday.spread < saturday.spread / tuesday.spread


@pytest.mark.parametrize(("level", "smallest_breach"), [(1_000, 0.12), (1_000_000, 0.004)])
def test_rows_have_a_poisson_floor_that_shrinks_with_size(
    level: int, smallest_breach: float
) -> None:
    points = series(20, lambda i: float(level))  # never varied
    compared = expect(points, day(20), weekly=False, window=30, scale=ROWS)
    assert compared is not None and compared.floored
    assert compared.spread == pytest.approx(1 / math.sqrt(level), rel=0.01)
    assert abs(compared.z(level * (1 - smallest_breach))) > 3.5
    assert abs(compared.z(level * (1 - smallest_breach / 2))) < 3.5


def test_a_distinct_count_has_no_poisson_floor() -> None:
    # Ten countries every day: nine is a change, not noise.
    check = AnomalyCheck(metric="distinct_count", column="country")
    result = judge(check, 9, day(20), series(20, lambda i: 10.0))
    assert result.metrics["breach"] is True
    assert "never varied" in result.message


def test_a_null_fraction_has_a_binomial_floor_over_this_runs_rows() -> None:
    check = AnomalyCheck(metric="null_fraction", column="email")
    history = MetricHistory({history_key(check): tuple(series(20, lambda i: 0.0))})

    def status(nulls: int, rows: int | None) -> str:
        metrics = {"rows": rows, "null_fraction(email)": nulls / 1_000_000}
        return evaluate_history_check(check, CheckObservation(), metrics, history, day(20)).status

    assert status(1, 1_000_000) == "pass"  # one null in a million rows: noise
    assert status(3, 1_000_000) == "pass"
    assert status(10, 1_000_000) == "warn"
    assert status(1, None) == "warn"  # rows unknown: no floor, any change breaches


def test_a_fraction_is_expected_inside_zero_and_one() -> None:
    falling = series(30, lambda i: max(0.3 - 0.02 * i, 0.0))  # reached 0 and stayed
    compared = expect(
        falling, day(30), weekly=False, window=30, scale=MetricScale.of("null_fraction")
    )
    assert compared is not None
    assert 0 <= compared.expected <= 1
    low, high = compared.band(3.5)
    assert 0 <= low <= high <= 1


def test_the_expectation_reads_only_comparable_runs() -> None:
    points = series(60, lambda i: 7.0 * (day(i).weekday() + 1))  # each weekday its level
    compared = expect(points, day(60), weekly=True, window=3, scale=LINEAR)
    assert compared is not None
    assert compared.runs == 3  # window same-weekday runs
    assert compared.expected == 7.0 * (day(60).weekday() + 1)
    assert compared.deviations == 7 * 3
    assert expect([], day(0), weekly=True, window=3, scale=LINEAR) is None
    only_mondays = [MetricPoint(day(0), 1.0, "pass")]
    assert expect(only_mondays, day(1), weekly=True, window=3, scale=LINEAR) is None


@given(
    history=st.lists(st.integers(1, 10**6), min_size=14, max_size=40),
    kind=st.sampled_from(["rows", "mean"]),
    threshold=st.floats(0.5, 10),
)
def test_the_band_holds_the_values_within_the_threshold(
    history: list[int], kind: str, threshold: float
) -> None:
    compared = expect(
        series(len(history), lambda i: float(history[i])),
        day(len(history)),
        weekly=False,
        window=30,
        scale=MetricScale.of(kind),
    )
    assert compared is not None
    assume(compared.spread > 1e-6)
    low, high = compared.band(threshold)
    assert low <= compared.expected <= high
    assert compared.z(high) == pytest.approx(threshold, rel=1e-6)
    if kind == "mean" or low > 0:  # (a count's band stops at zero rows)
        assert compared.z(low) == pytest.approx(-threshold, rel=1e-6)
