"""Robust statistics for metric histories: the median, the MAD and a robust z-score.

Plain Python on purpose (no numpy): a history holds tens to hundreds of values, and the
package must import without numerical libraries.

The MAD (median absolute deviation) is scaled by 1.4826 so that, for normally
distributed values, it estimates the standard deviation; the robust z-score
``(value - median) / (1.4826 * MAD)`` then reads like an ordinary z-score, yet a few
outliers in the history move neither the median nor the MAD (up to half of it may be
contaminated). Iglewicz and Hoaglin recommend flagging ``|z| > 3.5``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAD_SCALE = 1.4826


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (the mean of the middle two for an even count)."""
    if not values:
        raise ValueError("the median of no values is undefined")
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (float(ordered[middle - 1]) + float(ordered[middle])) / 2


def mad(values: Sequence[float], center: float | None = None) -> float:
    """The median absolute deviation from ``center`` (default: the median), unscaled."""
    middle = median(values) if center is None else center
    return median([abs(v - middle) for v in values])


def same_within_rounding(a: float, b: float) -> bool:
    """True when ``a`` and ``b`` differ by no more than floating-point noise (a mean
    summed in another order by a parallel engine), so a constant history stays calm."""
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b)) + 1e-12


@dataclass(frozen=True)
class RobustScore:
    """Where a value stands against a baseline: the baseline's median and scaled MAD
    (its robust spread), and the robust z-score of the value.

    A constant baseline has no spread (``scale == 0``): the value's z-score is then 0
    when it equals the median (within rounding) and infinite otherwise, so that any real
    change of a metric that never moved is a breach, without dividing by zero.
    """

    value: float
    median: float
    mad: float
    z: float

    @property
    def scale(self) -> float:
        return MAD_SCALE * self.mad

    def band(self, threshold: float) -> tuple[float, float]:
        """The values whose ``|z|`` stays within ``threshold``."""
        return self.median - threshold * self.scale, self.median + threshold * self.scale


def robust_score(value: float, baseline: Sequence[float]) -> RobustScore:
    """Score ``value`` against ``baseline`` (at least one value)."""
    center = median(baseline)
    return _score(value, center, mad(baseline, center))


def seasonal_score(
    value: float, same_season: Sequence[float], deviations: Sequence[float]
) -> RobustScore:
    """Score ``value`` against the median of ``same_season`` (the runs on the same
    weekday), with the spread measured on ``deviations``: every run's distance from the
    median of the other runs of its season, over all seasons.

    Five Saturdays give a fair median but no trustworthy spread (the MAD of five values
    swings widely, and a small one raises false alarms); the deviations of all weekdays
    from their own levels give one from several times as many runs. Measured
    leave-one-out, they also carry the uncertainty of a median of few values.
    """
    center = median(same_season)
    return _score(value, center, median([abs(d) for d in deviations]))


def season_deviations(seasons: Sequence[Sequence[float]]) -> list[float]:
    """Each value's distance from the median of the other values of its season (seasons
    of one value have none)."""
    deviations: list[float] = []
    for values in seasons:
        if len(values) < 2:
            continue
        for index, value in enumerate(values):
            others = [*values[:index], *values[index + 1 :]]
            deviations.append(value - median(others))
    return deviations


def _score(value: float, center: float, spread: float) -> RobustScore:
    scale = MAD_SCALE * spread
    constant = spread <= 1e-9 * abs(center) + 1e-12  # no spread beyond rounding noise
    if math.isnan(value):
        z = math.nan
    elif not constant:
        z = (value - center) / scale
    elif same_within_rounding(value, center):
        z = 0.0
    else:
        z = math.copysign(math.inf, value - center)
    return RobustScore(value=value, median=center, mad=spread, z=z)
