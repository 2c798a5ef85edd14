"""What a run's metric is expected to be, and how far it may stray, from comparable
earlier runs. Pure: the runs arrive as points, the run's time as ``moment``.

The model, for a run at ``moment``:

1. **A scale on which noise is comparable.** Counts (``rows``, ``distinct_count``) are
   compared as logarithms: a Saturday with twice a Tuesday's rows has twice its noise
   in rows and the same noise in percent, so one spread fits both. Other metrics
   (fractions, means, lags, drift scores) are compared as they are; multiplying a
   series by 1000 (cents for dollars, milliseconds for seconds) changes no score.
2. **Comparable runs.** The newest ``window`` runs, or with ``weekly`` the newest
   ``window`` runs on each weekday (UTC), each weekday a season of its own.
3. **A trend.** Sen's slope over the pairs of runs inside each season (robust: a few
   wild runs do not tilt it), so that a growing dataset is expected where it is now,
   not where it was weeks ago. Only over runs that span a week or more: over a few
   hours or days, a slope would take the rhythm of the day or the week for a trend.
4. **The level**: the median of the season's runs, each carried along the trend to
   ``moment``.
5. **The spread**: every run's distance from the median of the other runs of its
   season (leave-one-out, so it carries the uncertainty of a median of few runs),
   summarised by the biweight (robust, and efficient enough that 28 runs give a fair
   spread). With ``weekly``, the season's own spread, shrunk toward the pooled spread
   of all seasons when the season has few runs. Widened by the trend's own
   uncertainty at ``moment``.
6. **A floor** at the noise the metric cannot avoid: for ``rows``, Poisson noise of
   the expected count (``1/sqrt(n)`` in log units: 3.2% at 1,000 rows, 0.1% at 1M); for
   ``null_fraction``, binomial noise over this run's rows. A perfectly flat history
   then does not make every tiny change an anomaly. Other metrics have no natural
   floor: a history that never varied makes any real change a breach.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from airflow_opsguard.anomaly.history import MetricPoint
from airflow_opsguard.anomaly.robust import (
    Trend,
    biweight_scale,
    leave_one_out_deviations,
    median,
    seasonal_trend,
    z_score,
)

# Counts are compared as log(count + LOG_OFFSET): zero rows stay finite.
LOG_OFFSET = 0.5
LOG_KINDS = frozenset({"rows", "distinct_count"})
# With weekly, the pooled spread of all weekdays counts as this many deviations of the
# run's own weekday: a weekday's own spread takes over only as its runs accumulate.
SHRINK_RUNS = 14
# Fewer pairs of comparable runs than this, or runs spanning fewer days: no trend is
# fitted (a slope over part of a day or a week mistakes its rhythm for a trend).
MIN_TREND_PAIRS = 10
MIN_TREND_DAYS = 7.0
NO_TREND = Trend(slope=0.0, pairs=0, leverage=0.0)
DAY_SECONDS = 86_400.0


def utc(moment: datetime) -> datetime:
    """An instant in UTC; naive instants are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def weekday(moment: datetime) -> int:
    """The weekday of an instant in UTC (Monday is 0)."""
    return utc(moment).weekday()


@dataclass(frozen=True)
class MetricScale:
    """How a metric is compared: as a logarithm (counts) or as it is; whether it is a
    fraction (kept inside [0, 1]); and the spread below which its noise cannot go
    (``poisson`` counts; a fraction of ``trials`` rows)."""

    log: bool = False
    poisson: bool = False
    fraction: bool = False
    trials: int | None = None

    @classmethod
    def of(cls, kind: str, rows: int | None = None) -> MetricScale:
        """The scale of a metric kind; ``rows``: this run's rows (for fractions)."""
        if kind == "rows":
            return cls(log=True, poisson=True)
        if kind in LOG_KINDS:
            return cls(log=True)
        if kind == "null_fraction":
            return cls(fraction=True, trials=rows if rows and rows > 0 else None)
        return cls()

    def working(self, value: float) -> float:
        """``value`` on the scale it is compared on."""
        if self.log:
            return math.log(max(float(value), 0.0) + LOG_OFFSET)
        return float(value)

    def natural(self, working: float) -> float:
        """A working value back in the metric's units (a fraction inside [0, 1])."""
        if self.fraction:
            return min(max(working, 0.0), 1.0)
        if not self.log:
            return working
        if working > 700:  # beyond any count a float holds
            return math.inf
        return max(math.exp(working) - LOG_OFFSET, 0.0)

    def floor(self, center: float) -> float:
        """The spread, in working units, below which the metric's noise cannot go."""
        if self.poisson:
            return 1 / math.sqrt(math.exp(center))  # exp(center): the expected count + 1/2
        if self.trials:
            share = min(max(center, 0.0), 1.0)
            smallest = 1 / self.trials  # one row's worth: a fraction that was always 0
            return math.sqrt(max(share, smallest) * max(1 - share, smallest) / self.trials)
        return 0.0

    def clamp(self, center: float) -> float:
        """Keep an expected fraction inside [0, 1] (a trend may carry it out)."""
        return min(max(center, 0.0), 1.0) if self.fraction else center


@dataclass(frozen=True)
class Expectation:
    """What a run is compared with, in working units of ``scale``: the expected
    ``center``, the ``spread`` (one robust standard deviation: the larger of what the
    history shows, ``estimated``, and the metric's ``floor``), the ``trend`` per day,
    how many comparable ``runs`` gave the level, and how many ``deviations`` the spread."""

    scale: MetricScale
    center: float
    spread: float
    estimated: float
    floor: float
    trend: float
    runs: int
    deviations: int

    @property
    def expected(self) -> float:
        """The expected value in the metric's units."""
        return self.scale.natural(self.center)

    @property
    def floored(self) -> bool:
        """Whether the floor, not the history, set the spread."""
        return self.floor > self.estimated

    def z(self, value: float) -> float:
        """The robust z-score of ``value``: its distance from the expected value in
        spreads, on the working scale."""
        return z_score(self.scale.working(value), self.center, self.spread)

    def band(self, threshold: float) -> tuple[float, float]:
        """The values, in the metric's units, whose ``|z|`` stays within ``threshold``."""
        reach = threshold * self.spread
        return self.scale.natural(self.center - reach), self.scale.natural(self.center + reach)


def comparable(
    points: Sequence[MetricPoint], moment: datetime, *, weekly: bool, window: int
) -> tuple[list[MetricPoint], list[list[MetricPoint]]]:
    """The runs at ``moment``'s season (its weekday with ``weekly``) and every season's
    runs, each at most ``window``, from ``points`` (newest first)."""
    seasons: dict[int, list[MetricPoint]] = {}
    for point in points:
        key = weekday(point.checked_at) if weekly else 0
        runs = seasons.setdefault(key, [])
        if len(runs) < window:
            runs.append(point)
    own = seasons.get(weekday(moment) if weekly else 0, [])
    return own, list(seasons.values())


def expect(
    points: Sequence[MetricPoint],
    moment: datetime,
    *,
    weekly: bool,
    window: int,
    scale: MetricScale,
) -> Expectation | None:
    """The expectation for a run at ``moment`` from ``points`` (newest first, before
    ``moment``); None when no comparable run exists."""
    own, seasons = comparable(points, moment, weekly=weekly, window=window)
    if not own:
        return None
    now = utc(moment)

    def timed(runs: Sequence[MetricPoint]) -> list[tuple[float, float]]:
        return [
            ((utc(p.checked_at) - now).total_seconds() / DAY_SECONDS, scale.working(p.value))
            for p in runs
        ]

    own_timed = timed(own)
    all_timed = [own_timed if runs is own else timed(runs) for runs in seasons]
    times = [t for runs in all_timed for t, _ in runs]
    span = max(times) - min(times)
    trend = seasonal_trend(all_timed, MIN_TREND_PAIRS) if span >= MIN_TREND_DAYS else NO_TREND
    # Carried along the trend to `moment` (time 0), each run says where the level is now.
    level = [y - trend.slope * t for t, y in own_timed]
    center = scale.clamp(median(level))

    own_deviations = leave_one_out_deviations(level)
    pooled: list[float] = []
    for runs in all_timed:
        pooled += leave_one_out_deviations([y - trend.slope * t for t, y in runs])
    estimated = biweight_scale(pooled)
    if len(all_timed) > 1 and own_deviations:
        own_spread = biweight_scale(own_deviations)
        count = len(own_deviations)
        estimated = math.sqrt(
            (count * own_spread**2 + SHRINK_RUNS * estimated**2) / (count + SHRINK_RUNS)
        )
    if trend.leverage:
        distance = sum(t for t, _ in own_timed) / len(own_timed)  # from the runs' middle
        estimated *= math.sqrt(1 + trend.leverage * distance**2)
    floor = scale.floor(center)
    return Expectation(
        scale=scale,
        center=center,
        spread=max(estimated, floor),
        estimated=estimated,
        floor=floor,
        trend=trend.slope,
        runs=len(own),
        deviations=len(pooled),
    )
