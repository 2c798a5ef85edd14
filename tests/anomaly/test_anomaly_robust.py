"""Median, MAD, the robust z-score, leave-one-out deviations, the biweight spread and
Sen's slope: properties that hold for any history."""

from __future__ import annotations

import math
import random
import statistics

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from airflow_opsguard.anomaly.robust import (
    MAD_SCALE,
    biweight_scale,
    leave_one_out_deviations,
    mad,
    median,
    seasonal_trend,
    z_score,
)

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


def score(value: float, values: list[float]) -> float:
    """The robust z-score of ``value`` against the median and scaled MAD of ``values``."""
    center = median(values)
    return z_score(value, center, MAD_SCALE * mad(values, center))


histories = st.lists(finite, min_size=1, max_size=60)


@given(histories)
def test_median_agrees_with_the_standard_library(values: list[float]) -> None:
    assert median(values) == pytest.approx(statistics.median(values))


@given(histories, finite)
def test_median_and_mad_move_with_a_shift_and_keep_their_spread(
    values: list[float], shift: float
) -> None:
    moved = [v + shift for v in values]
    assert median(moved) == pytest.approx(median(values) + shift, abs=1e-6)
    assert mad(moved) == pytest.approx(mad(values), abs=1e-6)


@given(histories, st.floats(0.01, 100))
def test_mad_scales_with_the_values(values: list[float], factor: float) -> None:
    assert mad([v * factor for v in values]) == pytest.approx(
        mad(values) * factor, rel=1e-9, abs=1e-6
    )


@given(histories)
def test_the_median_itself_scores_zero(values: list[float]) -> None:
    assert score(median(values), values) == 0


@given(histories, finite)
def test_the_score_never_divides_by_zero_and_points_the_right_way(
    values: list[float], value: float
) -> None:
    z = score(value, values)  # never raises, even for a constant history
    assert not math.isnan(z)
    if value > median(values) and z != 0:
        assert z > 0
    if value < median(values) and z != 0:
        assert z < 0


@given(st.lists(finite, min_size=3, max_size=60), finite)
def test_the_score_is_the_distance_in_robust_standard_deviations(
    values: list[float], value: float
) -> None:
    spread = mad(values)
    assume(spread > 1e-3)
    assert score(value, values) == pytest.approx((value - median(values)) / (MAD_SCALE * spread))


@given(finite, st.integers(1, 40), finite)
def test_a_constant_history_makes_any_change_infinite(
    constant: float, count: int, value: float
) -> None:
    assert mad([constant] * count) == 0
    if abs(value - constant) > 1e-6 * max(1.0, abs(constant)):
        assert math.isinf(score(value, [constant] * count))
    assert score(constant, [constant] * count) == 0


def test_rounding_noise_on_a_constant_history_is_no_change() -> None:
    # A mean summed in another order by a parallel engine differs in the last bit.
    assert score(0.1 + 0.2, [0.3] * 20) == 0
    assert math.isinf(score(0.3001, [0.3] * 20))


def test_outliers_in_the_history_barely_move_the_baseline() -> None:
    calm = [100.0, 101, 99, 100, 102, 98, 100, 101, 99, 100]
    spoiled = [*calm, 10_000, -10_000, 5_000]  # three wild runs among thirteen
    assert median(spoiled) == pytest.approx(median(calm), abs=1)
    assert mad(spoiled) <= 2 * mad(calm)
    assert abs(score(150, spoiled)) > 3.5


def test_no_values_have_no_median() -> None:
    with pytest.raises(ValueError, match="undefined"):
        median([])


# ------------------------------------------------------------------ leave-one-out deviations


@given(st.lists(finite, min_size=0, max_size=40))
def test_leave_one_out_deviations_match_the_definition(values: list[float]) -> None:
    expected = (
        [v - median([*values[:i], *values[i + 1 :]]) for i, v in enumerate(values)]
        if len(values) > 1
        else []
    )
    assert leave_one_out_deviations(values) == pytest.approx(expected, abs=1e-6)


# ------------------------------------------------------------------ biweight spread


@given(st.lists(finite, min_size=1, max_size=60), st.floats(0.001, 1000))
def test_the_biweight_spread_scales_with_the_values(values: list[float], factor: float) -> None:
    assert biweight_scale([v * factor for v in values]) == pytest.approx(
        biweight_scale(values) * factor, rel=1e-6, abs=1e-9
    )


def test_the_biweight_estimates_a_normal_standard_deviation_efficiently() -> None:
    rng = random.Random(1)
    biweights, mads = [], []
    for _ in range(400):
        sample = [rng.gauss(0, 2.0) for _ in range(28)]
        biweights.append(biweight_scale(sample))
        mads.append(MAD_SCALE * median([abs(v) for v in sample]))
    assert statistics.mean(biweights) == pytest.approx(2.0, rel=0.05)
    # Closer to the truth than the MAD from the same 28 values: fewer false alarms.
    assert statistics.stdev(biweights) < 0.75 * statistics.stdev(mads)


def test_the_biweight_ignores_wild_values() -> None:
    rng = random.Random(2)
    calm = [rng.gauss(0, 1.0) for _ in range(40)]
    spoiled = [*calm, 500.0, -800.0, 1e6]
    assert biweight_scale(spoiled) == pytest.approx(biweight_scale(calm), rel=0.15)


def test_the_biweight_of_a_history_that_rarely_moved_is_not_zero() -> None:
    assert biweight_scale([0.0] * 10) == 0
    mostly_still = [0.0] * 20 + [1.0, -1.0, 2.0]  # MAD 0, yet it moved
    assert biweight_scale(mostly_still) > 0
    assert biweight_scale([]) == 0


# ------------------------------------------------------------------ Sen's slope


@given(
    st.floats(-100, 100),
    st.floats(-1e3, 1e3),
    st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=6),
)
def test_sen_slope_recovers_a_line_in_every_season(
    slope: float, intercept: float, offsets: list[float]
) -> None:
    seasons = [
        [(float(t), intercept + offset + slope * t) for t in range(-30, 0, 3)] for offset in offsets
    ]
    trend = seasonal_trend(seasons, min_pairs=10)
    assert trend.slope == pytest.approx(slope, abs=1e-6)
    assert trend.pairs == 45 * len(offsets)
    assert trend.leverage > 0


def test_sen_slope_shrugs_off_a_few_wild_runs() -> None:
    points = [(float(t), 2.0 * t) for t in range(20)]
    points[3] = (3.0, 1e6)
    points[15] = (15.0, -1e6)
    assert seasonal_trend([points], min_pairs=10).slope == pytest.approx(2.0)


def test_no_trend_without_enough_pairs_or_time() -> None:
    assert seasonal_trend([[(0.0, 1.0), (1.0, 2.0)]], min_pairs=10).slope == 0
    same_time = [[(0.0, float(v)) for v in range(10)]]
    assert seasonal_trend(same_time, min_pairs=1) == seasonal_trend([], min_pairs=1)
