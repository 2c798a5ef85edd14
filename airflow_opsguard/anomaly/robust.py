"""Robust statistics for metric histories: the median, the MAD, a robust z-score, a
robust trend (Sen's slope) and an efficient robust spread (the biweight).

Plain Python on purpose (no numpy): a history holds tens to hundreds of values, and the
package must import without numerical libraries.

The MAD (median absolute deviation) is scaled by 1.4826 so that, for normally
distributed values, it estimates the standard deviation; a robust z-score such as
``(value - median) / (1.4826 * MAD)`` then reads like an ordinary z-score, yet a few
outliers in the history move neither the median nor the MAD (up to half of it may be
contaminated). Iglewicz and Hoaglin recommend flagging ``|z| > 3.5``.

The MAD is robust but wasteful: from 28 values it misjudges the spread by about 22%
(one standard error), and a spread judged too small is a false alarm. The biweight
midvariance (Mosteller and Tukey; astropy's ``biweight_midvariance``) keeps the MAD's
robustness (values beyond nine MADs weigh nothing) with about 87% of the efficiency of
the standard deviation, so the same 28 values give the spread within about 14%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MAD_SCALE = 1.4826
# The biweight's tuning constant: values beyond BIWEIGHT_C MADs get no weight.
BIWEIGHT_C = 9.0
# sqrt(pi / 2): the mean absolute deviation times this estimates a normal standard deviation.
MEAN_ABS_SCALE = 1.2533


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


def z_score(value: float, center: float, scale: float) -> float:
    """``(value - center) / scale``; a scale of no more than rounding noise makes the
    score 0 for the centre itself (within rounding) and infinite for anything else."""
    if math.isnan(value):
        return math.nan
    if scale > 1e-9 * abs(center) + 1e-12:
        return (value - center) / scale
    if same_within_rounding(value, center):
        return 0.0
    return math.copysign(math.inf, value - center)


def leave_one_out_deviations(values: Sequence[float]) -> list[float]:
    """Each value's distance from the median of the *other* values (none for fewer than
    two values). A new run is compared with the median of the runs before it; measured
    this way, the deviations carry that median's own uncertainty too."""
    if len(values) < 2:
        return []
    ordered = sorted(values)
    count = len(ordered)
    deviations = []
    for value in values:
        # The median of the others: drop one copy of ``value`` from the sorted list.
        position = _index(ordered, value)
        others = count - 1
        deviations.append(value - _median_without(ordered, position, others))
    return deviations


def _index(ordered: Sequence[float], value: float) -> int:
    low, high = 0, len(ordered)
    while low < high:
        middle = (low + high) // 2
        if ordered[middle] < value:
            low = middle + 1
        else:
            high = middle
    return low


def _median_without(ordered: Sequence[float], skipped: int, count: int) -> float:
    def at(rank: int) -> float:
        return float(ordered[rank if rank < skipped else rank + 1])

    middle = count // 2
    if count % 2:
        return at(middle)
    return (at(middle - 1) + at(middle)) / 2


def biweight_scale(deviations: Sequence[float], center: float = 0.0) -> float:
    """A robust, efficient standard deviation of ``deviations`` around ``center``: the
    square root of the biweight midvariance with c = 9.

    0 when at most rounding noise remains; when more than half of the deviations are 0
    (the MAD is 0) yet some are not, the scaled mean absolute deviation, so that a
    history that moved now and then is not taken for one that never moved.
    """
    if not deviations:
        return 0.0
    distances = [d - center for d in deviations]
    spread = median([abs(d) for d in distances])
    if spread == 0:
        return MEAN_ABS_SCALE * sum(abs(d) for d in distances) / len(distances)
    numerator = 0.0
    denominator = 0.0
    for distance in distances:
        u = distance / (BIWEIGHT_C * spread)
        if abs(u) >= 1:
            continue
        weight = 1 - u * u
        numerator += distance * distance * weight**4
        denominator += weight * (1 - 5 * u * u)
    if denominator <= 0:  # cannot happen for a sample with more than 1/5 near the centre
        return MAD_SCALE * spread
    return math.sqrt(len(distances) * numerator) / denominator


@dataclass(frozen=True)
class Trend:
    """Sen's slope over the pairs of runs inside each season (Hirsch's seasonal Kendall
    slope): the median of ``(y_j - y_i) / (t_j - t_i)``, from ``pairs`` pairs.

    ``leverage`` measures the slope's own uncertainty: carried over a time ``d`` from
    the runs it was fitted on, a line adds ``leverage * d**2`` spread-squared units to
    the noise (least squares' ``1 / sum((t - mean t)^2)`` within the seasons, over Sen's
    efficiency). 0 when there is no trend to carry.
    """

    slope: float
    pairs: int
    leverage: float  # 1 / the within-season sum of squared time distances (0: no trend)


# Sen's slope is 91% as efficient as least squares' on normal noise.
SEN_EFFICIENCY = 0.91


def seasonal_trend(seasons: Sequence[Sequence[tuple[float, float]]], min_pairs: int) -> Trend:
    """The trend of ``(time, value)`` points grouped by season (one season: a plain Sen
    slope). Fewer than ``min_pairs`` pairs, or no two runs apart in time: no trend."""
    slopes: list[float] = []
    spread_in_time = 0.0
    for points in seasons:
        if len(points) < 2:
            continue
        mean_time = sum(t for t, _ in points) / len(points)
        spread_in_time += sum((t - mean_time) ** 2 for t, _ in points)
        for index, (t_i, y_i) in enumerate(points):
            for t_j, y_j in points[index + 1 :]:
                if abs(t_j - t_i) > 1e-9:
                    slopes.append((y_j - y_i) / (t_j - t_i))
    if len(slopes) < min_pairs or spread_in_time <= 0:
        return Trend(slope=0.0, pairs=len(slopes), leverage=0.0)
    return Trend(
        slope=median(slopes),
        pairs=len(slopes),
        leverage=1 / (spread_in_time * SEN_EFFICIENCY),
    )
