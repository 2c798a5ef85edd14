"""What a dataset page charts, and against what: only series that carry information.

A check's pass/fail history is the status strip; a chart is added only where a number
moves: the data's age against its freshness limits, the row count inside its expected
range, a drift score against its thresholds (with the reference's and the latest run's
histograms over every bin or category; older results, which kept only the cells that
moved most, show those), a failing-row count, and run metrics that vary. Left out:
flat series, metrics that repeat a check (``rows`` beside a volume check, ``drift(x)``
beside a distribution check) and the means of id columns (a mean of ids says nothing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from airflow_opsguard.plugin.charts import (
    Bar,
    Chart,
    Histogram,
    Unit,
    histogram,
    paired_bars,
    time_chart,
    varies,
)
from airflow_opsguard.plugin.models import Series, SeriesPoint

Level = Literal["warn", "fail", "expected"]
_BETWEEN = re.compile(r"between\s+(-?[\d.eE+]+)\s+and\s+(-?[\d.eE+]+)")
_AT_LEAST = re.compile(r">=?\s*(-?[\d.eE+]+)")
_AT_MOST = re.compile(r"<=?\s*(-?[\d.eE+]+)")
_RANGE = re.compile(r"^\[\s*(-?[\d.eE+]+)\s*,\s*(-?[\d.eE+]+)\s*\]$")
_DURATION = re.compile(r"<\s*([0-9][0-9a-zA-Z ]*)")
_METRIC = re.compile(r"^(\w+)\((.+)\)$")


@dataclass(frozen=True)
class Panel:
    """One chart card: a title, the chart, and what it is read against."""

    title: str
    kind: str
    chart: Chart
    note: str | None = None
    bars: tuple[Bar, ...] = ()
    bars_caption: str | None = None
    histogram: Histogram | None = None
    histogram_caption: str | None = None
    # A drift check's latest score against its thresholds, and that run's verdict.
    score: str | None = None
    score_status: str | None = None


def panels(
    checks: Sequence[Series], metrics: Sequence[Series], latest: Mapping[str, Mapping[str, Any]]
) -> list[Panel]:
    """The charts of a dataset page: checks first (in contract order), then metrics.
    ``latest`` holds each check's metrics from the newest run (drift thresholds and
    shares)."""
    found: list[Panel] = []
    for series in checks:
        panel = _check_panel(series, latest.get(series.name) or {})
        if panel is not None:
            found.append(panel)
    found.extend(_metric_panels(checks, metrics))
    return found


def _check_panel(series: Series, latest: Mapping[str, Any]) -> Panel | None:
    kind = series.type or ""
    if kind == "freshness":
        return _freshness(series)
    if kind == "volume":
        return _volume(series)
    if kind == "distribution":
        return _drift(series, latest)
    if kind == "anomaly":
        return _anomaly(series)
    if kind == "schema" or not varies(series.points):
        return None
    expected = _number(series.points[-1].expected) if series.points else None
    rules: list[tuple[float, str, Level]] = []
    if expected is not None:
        rules.append((expected, "allowed", "fail"))
    chart = time_chart(series.points, "count", thresholds=rules)
    return Panel(series.name, kind, chart) if chart else None


def _freshness(series: Series) -> Panel | None:
    """The data's age at each check against its limits. A run started by hand judges
    against a reference time earlier than the newest data: an age below zero reads
    as zero, and the note says why."""
    ahead = [p for p in series.points if p.value is not None and p.value < 0]
    points = [_clamped(p) for p in series.points]
    limits = _durations(series.points[-1].expected if series.points else None)
    rules: list[tuple[float, str, Level]] = [(v, "limit", "fail") for v in limits[-1:]]
    rules += [(v, "warn from", "warn") for v in limits[:-1]]
    chart = time_chart(points, "seconds", thresholds=rules)
    if chart is None:
        return None
    note = None
    if ahead:
        note = (
            f"{len(ahead)} run{'s' if len(ahead) != 1 else ''} found data newer than "
            "the time it was judged against (a run started by hand judges its data "
            "interval's end): shown as age 0."
        )
    return Panel(series.name, "freshness: age of the newest data", chart, note)


def _volume(series: Series) -> Panel | None:
    expected = str(series.points[-1].expected or "") if series.points else ""
    band = _band(expected)
    rules: list[tuple[float, str, Level]] = []
    if band is None:  # one bound only: a line
        low, high = _AT_LEAST.search(expected), _AT_MOST.search(expected)
        rules = [(float(m.group(1)), t, "fail") for m, t in ((low, "min"), (high, "max")) if m]
    chart = time_chart(
        series.points, "count", thresholds=rules, band=(*band, "expected") if band else None
    )
    return Panel(series.name, "volume: rows", chart) if chart else None


def _anomaly(series: Series) -> Panel | None:
    """The value against the range the rule expected at each run (a corridor)."""
    ranges = [_range(p.expected) for p in series.points]
    chart = time_chart(series.points, None, ranges=ranges)
    return Panel(series.name, "anomaly: value and its expected range", chart) if chart else None


def _range(expected: Any) -> tuple[float, float] | None:
    found = _RANGE.match(str(expected or "").strip())
    return (float(found.group(1)), float(found.group(2))) if found else None


def _drift(series: Series, latest: Mapping[str, Any]) -> Panel | None:
    rules: list[tuple[float, str, Level]] = []
    for key, level in (("warn", "warn"), ("fail", "fail")):
        value = _number(latest.get(key))
        if value is not None:
            rules.append((value, key, "warn" if level == "warn" else "fail"))
    if not rules and series.points:  # older results: the threshold as the check states it
        limit = _AT_MOST.search(str(series.points[-1].expected or ""))
        if limit:
            rules.append((float(limit.group(1)), "limit", "fail"))
    chart = time_chart(series.points, None, thresholds=rules)
    if chart is None:
        return None
    method = latest.get("method")
    kind = f"drift score ({method})" if method else "drift score"
    score = _score(latest)
    status = series.points[-1].status if series.points else None
    shape = _histogram(_column_of(series.name) or series.name, latest.get("histogram"))
    if shape is not None:  # the whole distribution
        drawn, described = shape
        return Panel(
            series.name,
            kind,
            chart,
            histogram=drawn,
            histogram_caption=described,
            score=score,
            score_status=status,
        )
    cells = latest.get("bins") or latest.get("categories") or []  # older results
    bars = paired_bars([c for c in cells if isinstance(c, dict)])
    caption: str | None = None
    if bars:
        what = "bins" if latest.get("bins") else "values"
        caption = f"Reference against the latest run: the {what} that moved most"
    return Panel(
        series.name, kind, chart, bars=bars, bars_caption=caption, score=score, score_status=status
    )


def _score(latest: Mapping[str, Any]) -> str | None:
    """``wasserstein 0.47, 0.467 beyond sampling noise · warn from 0.15 · fail from 0.3``."""
    method, value = latest.get("method"), _number(latest.get("statistic"))
    if not method or value is None:
        return None
    parts = [f"{method} {value:.3g}"]
    beyond = _number(latest.get("beyond_noise"))
    if beyond is not None and beyond != value:
        parts[0] += f", {beyond:.3g} beyond sampling noise"
    for key in ("warn", "fail"):
        level = _number(latest.get(key))
        if level is not None:
            parts.append(f"{key} from {level:g}")
    return " · ".join(parts)


def _histogram(column: str, stored: Any) -> tuple[Histogram, str] | None:
    """The stored histogram drawn, with its caption; None when the result has none
    (stored before results kept it) or it is not the shape docs/drift.md gives."""
    if not isinstance(stored, Mapping):
        return None
    labels, reference, current = (stored.get(k) for k in ("labels", "reference", "current"))
    if not (
        isinstance(labels, list)
        and isinstance(reference, list)
        and isinstance(current, list)
        and 0 < len(labels) == len(reference) == len(current)
        and all(_number(v) is not None for v in [*reference, *current])
    ):
        return None
    names = [str(label) for label in labels]
    ref, cur = [float(v) for v in reference], [float(v) for v in current]
    if stored.get("cells") == "bins":
        edges = stored.get("edges")
        if not isinstance(edges, list) or len(edges) != len(labels) - 1:
            return None
        if not all(_number(e) is not None for e in edges):
            return None
        merged = stored.get("merged")
        per_bar = (
            f", {merged} reference bins per bar" if isinstance(merged, int) and merged > 1 else ""
        )
        title = f"{column}: the reference's quantile bins, open at both ends{per_bar}"
        drawn = histogram(names, ref, cur, edges=[float(e) for e in edges], axis_title=title)
        caption = f"Reference against the latest run, all {len(names)} bins (share of values)"
        return drawn, caption
    folded = stored.get("folded")
    extra = f" ({folded} rarer ones in (other))" if isinstance(folded, int) and folded else ""
    withheld = " Names withheld (samples: false): #1 is the reference's most frequent value."
    caption = (
        f"Reference against the latest run: the reference's {len(names) - 1} most frequent "
        f"values and the rest{extra}, share of values.{withheld if stored.get('withheld') else ''}"
    )
    return histogram(names, ref, cur, axis_title="share of values"), caption


def _metric_panels(checks: Sequence[Series], metrics: Sequence[Series]) -> list[Panel]:
    types = {(s.type, _column_of(s.name)) for s in checks}
    unique_columns = {c for t, c in types if t == "unique"}
    has_volume = any(t == "volume" for t, _ in types)
    found: list[Panel] = []
    for series in metrics:
        name = series.name
        match = _METRIC.match(name)
        kind, column = (match.group(1), match.group(2)) if match else (name, None)
        if name == "rows" and has_volume:
            continue  # the volume chart shows it
        if kind == "drift" and ("distribution", column) in types:
            continue  # the distribution chart shows it
        if kind == "mean" and column is not None and _is_id(column, unique_columns):
            continue
        if not varies(series.points):
            continue
        unit: Unit = "fraction" if kind == "null_fraction" else None
        chart = time_chart(series.points, unit)
        if chart is not None:
            found.append(Panel(name, "metric", chart))
    return found


def _clamped(point: SeriesPoint) -> SeriesPoint:
    if point.value is not None and point.value < 0:
        return point.model_copy(update={"value": 0.0})
    return point


def _durations(expected: Any) -> list[float]:
    """The limits in a freshness check's expected text (``< 1d``), in seconds."""
    from airflow_opsguard.contract.durations import parse_duration

    found: list[float] = []
    for text in _DURATION.findall(str(expected or "")):
        try:
            found.append(parse_duration(text.strip()).total_seconds())
        except (ValueError, TypeError):
            continue
    return sorted(found)


def _band(expected: str) -> tuple[float, float] | None:
    between = _BETWEEN.search(expected)
    if between:
        return float(between.group(1)), float(between.group(2))
    low = _AT_LEAST.search(expected)
    high = _AT_MOST.search(expected)
    if low and high:
        return float(low.group(1)), float(high.group(1))
    return None


def _column_of(name: str) -> str | None:
    match = _METRIC.match(name)
    return match.group(2) if match else None


def _is_id(column: str, unique_columns: set[str | None]) -> bool:
    lowered = column.lower()
    return column in unique_columns or lowered == "id" or lowered.endswith("_id")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
