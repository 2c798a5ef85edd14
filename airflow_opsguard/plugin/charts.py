"""Charts as geometry for inline SVG, drawn on the server (no JavaScript, no CDN).

The templates draw what this module computes; nothing here writes markup. A time chart
places its points by when they were checked (not by index), labels the time axis with
dates or times as the span asks, the value axis with round numbers in the series' unit
(durations, percentages, counts) and never the same label twice, and draws thresholds
as lines and an expected range as a band. Bars compare a reference with the current
data cell by cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from airflow_opsguard.plugin.formatting import duration
from airflow_opsguard.plugin.models import SeriesPoint

Unit = Literal["seconds", "fraction", "count"] | None
WIDTH, HEIGHT = 420, 150
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 52, 10, 10, 22
Y_TICKS = 4
X_TICKS = 4
# Steps of a duration axis: whole minutes, hours, days, weeks.
DURATION_STEPS = (60, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    status: str
    label: str
    run_id: str


@dataclass(frozen=True)
class Tick:
    at: float  # x or y in the SVG
    label: str


@dataclass(frozen=True)
class Threshold:
    """A horizontal line: a limit the values are judged against."""

    y: float
    label: str
    level: Literal["warn", "fail", "expected"]
    label_y: float = 0.0  # where its label sits: above the line, below when crowded


@dataclass(frozen=True)
class Band:
    """The expected range, from ``top`` to ``bottom`` (SVG y)."""

    top: float
    bottom: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    line: str  # the polyline's points, "x,y x,y ..."
    dots: tuple[Dot, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    thresholds: tuple[Threshold, ...]
    band: Band | None
    # An expected range that moves from run to run: the polygon's points ("" for none).
    corridor: str
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int


def formatter(unit: Unit) -> Callable[[float], str]:
    """How a value of ``unit`` reads on an axis and in a tooltip."""
    if unit == "seconds":
        return duration
    if unit == "fraction":
        return percent
    return number


def varies(points: Sequence[SeriesPoint]) -> bool:
    """Whether the points hold at least two different values (else a chart says
    nothing that the status strip does not)."""
    return len({p.value for p in points if p.value is not None}) > 1


def time_chart(
    points: Sequence[SeriesPoint],
    unit: Unit = None,
    *,
    thresholds: Sequence[tuple[float, str, Literal["warn", "fail", "expected"]]] = (),
    band: tuple[float, float, str] | None = None,
    ranges: Sequence[tuple[float, float] | None] = (),
) -> Chart | None:
    """A chart of the points that have a value (oldest first), placed by time; None
    when none has. ``thresholds`` are (value, label, level); ``band`` (low, high,
    label) the expected range; ``ranges`` the expected range of each point (one per
    point, None where unknown), drawn as a corridor. All are kept inside the axis."""
    label_of = formatter(unit)
    ranged = dict(zip(range(len(points)), ranges, strict=False))
    kept = [(i, p) for i, p in enumerate(points) if p.value is not None]
    valued = [p for _, p in kept]
    if not valued:
        return None
    values = [float(p.value) for p in valued if p.value is not None]
    spans = [ranged.get(i) for i, _ in kept]
    extent = values + [t[0] for t in thresholds] + (list(band[:2]) if band else [])
    extent += [v for span in spans if span is not None for v in span]
    y_ticks_values = nice_ticks(min(extent), max(extent), Y_TICKS, unit)
    low, high = y_ticks_values[0], y_ticks_values[-1]
    left, right = PAD_LEFT, WIDTH - PAD_RIGHT
    top, bottom = PAD_TOP, HEIGHT - PAD_BOTTOM

    def y_of(value: float) -> float:
        return round(bottom - (value - low) / (high - low) * (bottom - top), 1)

    first, last = valued[0].checked_at, valued[-1].checked_at
    span = (last - first).total_seconds()

    def x_of(moment: datetime) -> float:
        if span <= 0:
            return (left + right) / 2
        return round(left + (moment - first).total_seconds() / span * (right - left), 1)

    dots = tuple(
        Dot(
            x_of(p.checked_at),
            y_of(v),
            p.status,
            f"{p.checked_at:%Y-%m-%d %H:%M} UTC: {label_of(v)} ({p.status})",
            p.run_id,
        )
        for p, v in zip(valued, values, strict=True)
    )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        line=" ".join(f"{d.x},{d.y}" for d in dots),
        dots=dots,
        x_ticks=time_ticks(first, last, x_of),
        y_ticks=tuple(Tick(y_of(v), s) for v, s in distinct_labels(y_ticks_values, unit)),
        thresholds=_labelled(
            [Threshold(y_of(v), f"{text} {label_of(v)}", lv) for v, text, lv in thresholds]
        ),
        band=Band(y_of(band[1]), y_of(band[0]), band[2]) if band else None,
        corridor=_corridor(
            [(x_of(p.checked_at), span) for p, span in zip(valued, spans, strict=True)], y_of
        ),
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
    )


LABEL_GAP = 12  # px: closer threshold labels (9 px type) would touch


def _labelled(lines: Sequence[Threshold]) -> tuple[Threshold, ...]:
    """Each line's label above it, or below it when the line above is too close (warn
    and fail levels a few pixels apart would print over each other)."""
    placed: list[Threshold] = []
    above: float | None = None  # the label y of the line just above
    for line in sorted(lines, key=lambda t: t.y):
        label_y = line.y - 3
        if above is not None and label_y - above < LABEL_GAP:
            label_y = line.y + 9
        placed.append(replace(line, label_y=label_y))
        above = label_y
    return tuple(placed)


def _corridor(
    spans: Sequence[tuple[float, tuple[float, float] | None]], y_of: Callable[[float], float]
) -> str:
    """The polygon of the expected ranges: along the highs, back along the lows."""
    known = [(x, span) for x, span in spans if span is not None]
    if len(known) < 2:
        return ""
    upper = [f"{x},{y_of(high)}" for x, (_, high) in known]
    lower = [f"{x},{y_of(low)}" for x, (low, _) in reversed(known)]
    return " ".join(upper + lower)


def nice_ticks(low: float, high: float, count: int, unit: Unit = None) -> list[float]:
    """Round values from at most ``low`` to at least ``high``, about ``count`` of them
    (1, 2 or 5 times a power of ten apart; whole minutes, hours or days for
    durations); a flat series gets a range around it."""
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
        if low < 0 <= high - pad:  # a count or a fraction never reads below zero
            low = 0.0
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if unit == "seconds" and raw >= 60:
        step = next((s for s in DURATION_STEPS if s >= raw), math.ceil(raw / 86400) * 86400)
    start = math.floor(low / step) * step
    ticks = [start]
    while ticks[-1] < high - 1e-12 * max(1.0, abs(high)):
        ticks.append(ticks[-1] + step)
    return [round(t, 12) for t in ticks]


def distinct_labels(values: Sequence[float], unit: Unit) -> list[tuple[float, str]]:
    """Each tick with a label; more digits when rounding would repeat a label, and a
    tick dropped when even that does not tell two apart."""
    label_of = formatter(unit)
    labels = [label_of(v) for v in values]
    if len(set(labels)) < len(labels) and unit is None:
        labels = [f"{v:.6g}" for v in values]
    kept: list[tuple[float, str]] = []
    for value, label in zip(values, labels, strict=True):
        if not kept or kept[-1][1] != label:
            kept.append((value, label))
    return kept


def time_ticks(
    first: datetime, last: datetime, x_of: Callable[[datetime], float]
) -> tuple[Tick, ...]:
    """Ticks along the time axis: times within a day or two, days within months,
    months beyond; the date is said once where times repeat it."""
    span = (last - first).total_seconds()
    if span <= 0:
        return (Tick(x_of(first), f"{first:%b %d %H:%M}"),)
    if span <= 2 * 86400:
        formats = ("%b %d %H:%M", "%H:%M")
    elif span <= 120 * 86400:
        formats = ("%b %d", "%b %d")
    else:
        formats = ("%b %Y", "%b %Y")
    ticks: list[Tick] = []
    seen: set[str] = set()
    day = ""
    for index in range(X_TICKS):
        moment = first + timedelta(seconds=span * index / (X_TICKS - 1))
        this_day = f"{moment:%Y-%m-%d}"
        label = f"{moment:{formats[0] if this_day != day else formats[1]}}"
        day = this_day
        if label in seen:
            continue
        seen.add(label)
        ticks.append(Tick(x_of(moment), label))
    return tuple(ticks)


@dataclass(frozen=True)
class Bar:
    label: str
    reference: float  # shares, 0..1
    current: float
    reference_width: float  # in percent of the widest
    current_width: float


def paired_bars(cells: Sequence[dict[str, object]]) -> tuple[Bar, ...]:
    """Reference against current share per cell (bins or categories), scaled to the
    largest share so that small differences still show."""
    rows = [
        (str(c.get("cell", "")), _share(c.get("reference")), _share(c.get("current")))
        for c in cells
    ]
    widest = max([max(r, c) for _, r, c in rows], default=0.0) or 1.0
    return tuple(
        Bar(label, ref, cur, round(ref / widest * 100, 1), round(cur / widest * 100, 1))
        for label, ref, cur in rows
    )


def _share(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def number(value: float) -> str:
    """A short label: 1234567 -> 1.23M, 0.01234 -> 0.0123."""
    size = abs(value)
    for limit, divisor, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if size >= limit:
            return f"{value / divisor:.3g}{suffix}"
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}"


def percent(value: float) -> str:
    """A fraction as a percentage: 0.0123 -> 1.23%."""
    return f"{value * 100:.3g}%"


# ------------------------------------------------------------------------------ histograms

HIST_HEIGHT = 170  # bins: columns of bars over the bin edges
HIST_BOTTOM = 34  # room for the edge labels and the axis title
ROW = 14  # categories: one row of two bars each
ROW_LEFT = 110  # room for a category's name
EDGE_LABELS = 7  # at most this many edge labels under the bins
NAME_CHARACTERS = 18


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class HistogramCell:
    """One bin or category: the reference's bar and the current one, side by side."""

    label: str
    reference: float  # shares, 0..1
    current: float
    ref: Rect
    cur: Rect
    title: str


@dataclass(frozen=True)
class Histogram:
    """The reference against the current distribution over the reference's cells:
    ``columns`` for bins (edges along the x axis), ``rows`` for categories (names on
    the left). ``share_ticks`` run along the share axis (y for columns, x for rows);
    ``cell_ticks`` name the edges between bins, or the categories."""

    width: int
    height: int
    orientation: Literal["columns", "rows"]
    cells: tuple[HistogramCell, ...]
    share_ticks: tuple[Tick, ...]
    cell_ticks: tuple[Tick, ...]
    axis_title: str
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int


def histogram(
    labels: Sequence[str],
    reference: Sequence[float],
    current: Sequence[float],
    *,
    edges: Sequence[float] | None = None,
    axis_title: str = "",
) -> Histogram:
    """The geometry of a paired histogram. ``edges`` (one fewer than the cells) make
    it a histogram of bins, drawn as columns of equal width (the reference's bins hold
    equal shares of it, so its bars are level and the current bars show the move) with
    the edges labelled between them; without, the cells are categories, drawn as rows."""
    highest = max([*reference, *current, 0.0]) or 1.0
    shares = nice_ticks(0.0, highest, Y_TICKS, "fraction")
    top_share = shares[-1]
    if edges is not None:
        return _columns(labels, reference, current, edges, shares, top_share, axis_title)
    return _rows(labels, reference, current, shares, top_share, axis_title)


def _title(label: str, reference: float, current: float) -> str:
    return f"{label}: reference {percent(reference)}, current {percent(current)}"


def _columns(
    labels: Sequence[str],
    reference: Sequence[float],
    current: Sequence[float],
    edges: Sequence[float],
    shares: Sequence[float],
    top_share: float,
    axis_title: str,
) -> Histogram:
    left, right = PAD_LEFT, WIDTH - PAD_RIGHT
    top, bottom = PAD_TOP, HIST_HEIGHT - HIST_BOTTOM
    slot = (right - left) / max(len(labels), 1)

    def height(share: float) -> float:
        return round(share / top_share * (bottom - top), 1)

    cells = []
    for index, (label, ref, cur) in enumerate(zip(labels, reference, current, strict=True)):
        x = left + index * slot
        half = slot * 0.42
        cells.append(
            HistogramCell(
                label,
                ref,
                cur,
                Rect(round(x + slot * 0.08, 1), bottom - height(ref), round(half, 1), height(ref)),
                Rect(round(x + slot * 0.5, 1), bottom - height(cur), round(half, 1), height(cur)),
                _title(label, ref, cur),
            )
        )
    step = math.ceil(len(edges) / EDGE_LABELS) if edges else 1
    cell_ticks = tuple(
        Tick(round(left + (index + 1) * slot, 1), number(edge))
        for index, edge in enumerate(edges)
        if index % step == 0
    )
    return Histogram(
        width=WIDTH,
        height=HIST_HEIGHT,
        orientation="columns",
        cells=tuple(cells),
        share_ticks=tuple(
            Tick(round(bottom - height(v), 1), s) for v, s in distinct_labels(shares, "fraction")
        ),
        cell_ticks=cell_ticks,
        axis_title=axis_title,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
    )


def _rows(
    labels: Sequence[str],
    reference: Sequence[float],
    current: Sequence[float],
    shares: Sequence[float],
    top_share: float,
    axis_title: str,
) -> Histogram:
    left, right, top = ROW_LEFT, WIDTH - PAD_RIGHT, PAD_TOP
    bottom = top + ROW * len(labels)

    def width(share: float) -> float:
        return round(share / top_share * (right - left), 1)

    cells = tuple(
        HistogramCell(
            label,
            ref,
            cur,
            Rect(left, top + index * ROW + 1, width(ref), 5.5),
            Rect(left, top + index * ROW + 6.5, width(cur), 5.5),
            _title(label, ref, cur),
        )
        for index, (label, ref, cur) in enumerate(zip(labels, reference, current, strict=True))
    )
    names = tuple(
        Tick(top + index * ROW + ROW / 2 + 3, _shortened(label))
        for index, label in enumerate(labels)
    )
    return Histogram(
        width=WIDTH,
        height=bottom + PAD_BOTTOM + (12 if axis_title else 0),
        orientation="rows",
        cells=cells,
        share_ticks=tuple(Tick(left + width(v), s) for v, s in distinct_labels(shares, "fraction")),
        cell_ticks=names,
        axis_title=axis_title,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
    )


def _shortened(label: str) -> str:
    if len(label) <= NAME_CHARACTERS:
        return label
    return label[: NAME_CHARACTERS - 1] + "…"
