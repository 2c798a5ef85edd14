"""Median, MAD and the robust z-score: properties that hold for any history."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from airflow_opsguard.anomaly.robust import MAD_SCALE, mad, median, robust_score

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
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
    assert robust_score(median(values), values).z == 0


@given(histories, finite)
def test_the_score_never_divides_by_zero_and_points_the_right_way(
    values: list[float], value: float
) -> None:
    score = robust_score(value, values)  # never raises, even for a constant history
    assert not math.isnan(score.z)
    if value > score.median and score.z != 0:
        assert score.z > 0
    if value < score.median and score.z != 0:
        assert score.z < 0


@given(st.lists(finite, min_size=3, max_size=60), finite)
def test_the_score_is_the_distance_in_robust_standard_deviations(
    values: list[float], value: float
) -> None:
    score = robust_score(value, values)
    assume(score.mad > 1e-3)
    assert score.z == pytest.approx((value - score.median) / (MAD_SCALE * score.mad))
    low, high = score.band(3.5)
    assert (low <= value <= high) is (abs(score.z) <= 3.5 + 1e-9) or math.isclose(abs(score.z), 3.5)


@given(finite, st.integers(1, 40), finite)
def test_a_constant_history_makes_any_change_infinite(
    constant: float, count: int, value: float
) -> None:
    score = robust_score(value, [constant] * count)
    assert score.mad == 0
    if abs(value - constant) > 1e-6 * max(1.0, abs(constant)):
        assert math.isinf(score.z)
    assert robust_score(constant, [constant] * count).z == 0


def test_rounding_noise_on_a_constant_history_is_no_change() -> None:
    # A mean summed in another order by a parallel engine differs in the last bit.
    assert robust_score(0.1 + 0.2, [0.3] * 20).z == 0
    assert math.isinf(robust_score(0.3001, [0.3] * 20).z)


def test_outliers_in_the_history_barely_move_the_baseline() -> None:
    calm = [100.0, 101, 99, 100, 102, 98, 100, 101, 99, 100]
    spoiled = [*calm, 10_000, -10_000, 5_000]  # three wild runs among thirteen
    assert median(spoiled) == pytest.approx(median(calm), abs=1)
    assert mad(spoiled) <= 2 * mad(calm)
    assert abs(robust_score(150, spoiled).z) > 3.5


def test_no_values_have_no_median() -> None:
    with pytest.raises(ValueError, match="undefined"):
        median([])
