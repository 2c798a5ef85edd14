"""Line charts as geometry for inline SVG, drawn on the server (no JavaScript, no CDN).

The template draws what :func:`line_chart` computes; nothing here writes markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from airflow_opsguard.plugin.formatting import duration
from airflow_opsguard.plugin.models import SeriesPoint

WIDTH, HEIGHT = 320, 96
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 8, 8, 18


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    status: str
    label: str
    run_id: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    line: str  # the polyline's points, "x,y x,y ..."
    dots: tuple[Dot, ...]
    top_label: str
    bottom_label: str
    first_label: str
    last_label: str
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int


def line_chart(points: Sequence[SeriesPoint], unit: str | None = None) -> Chart | None:
    """A chart of the points that have a value (oldest first); None when none has.
    ``unit="seconds"`` labels values as durations (``3d 2h``)."""
    label_of = duration if unit == "seconds" else number
    valued = [p for p in points if p.value is not None]
    if not valued:
        return None
    values = [float(p.value) for p in valued if p.value is not None]
    low, high = min(values), max(values)
    if low == high:  # a flat line sits in the middle
        low, high = low - 1, high + 1
    left, right = PAD_LEFT, WIDTH - PAD_RIGHT
    top, bottom = PAD_TOP, HEIGHT - PAD_BOTTOM
    step = (right - left) / (len(valued) - 1) if len(valued) > 1 else 0.0
    dots = []
    for index, (point, value) in enumerate(zip(valued, values, strict=True)):
        x = left + index * step if len(valued) > 1 else (left + right) / 2
        y = bottom - (value - low) / (high - low) * (bottom - top)
        label = f"{point.checked_at:%Y-%m-%d %H:%M} UTC: {label_of(value)} ({point.status})"
        dots.append(Dot(round(x, 1), round(y, 1), point.status, label, point.run_id))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        line=" ".join(f"{d.x},{d.y}" for d in dots),
        dots=tuple(dots),
        top_label=label_of(high),
        bottom_label=label_of(low),
        first_label=f"{valued[0].checked_at:%b %d}",
        last_label=f"{valued[-1].checked_at:%b %d}",
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
    )


def number(value: float) -> str:
    """A short label: 1234567 -> 1.23M, 0.01234 -> 0.0123."""
    size = abs(value)
    for limit, divisor, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if size >= limit:
            return f"{value / divisor:.3g}{suffix}"
    if value == int(value):
        return str(int(value))
    return f"{value:.3g}"
