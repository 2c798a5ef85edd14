"""Charts that carry information: time placed by time, round ticks in the series' unit
that never repeat, thresholds and bands inside the axis, and which series get a chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow_opsguard.plugin.charts import nice_ticks, time_chart, time_ticks
from airflow_opsguard.plugin.models import Series, SeriesPoint
from airflow_opsguard.plugin.panels import panels

START = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)


def points(
    values: list[float | None], step: timedelta = timedelta(hours=1), **more: object
) -> list[SeriesPoint]:
    return [
        SeriesPoint(run_id=f"r{i}", checked_at=START + i * step, status="pass", value=v, **more)  # type: ignore[arg-type]
        for i, v in enumerate(values)
    ]


def test_a_flat_zero_series_reads_from_zero_not_minus_one() -> None:
    chart = time_chart(points([0, 0, 0]), "count")
    assert chart is not None
    labels = [t.label for t in chart.y_ticks]
    assert labels[0] == "0" and "-1" not in labels


def test_tick_labels_never_repeat() -> None:
    # 1100..1104 rounded to three digits would read 1.1e+03 five times.
    chart = time_chart(points([1100, 1101, 1102, 1103, 1104]))
    assert chart is not None
    labels = [t.label for t in chart.y_ticks]
    assert len(labels) == len(set(labels)) > 1
    days = time_ticks(START, START + timedelta(hours=6), lambda moment: 0.0)
    assert [t.label for t in days] == ["Dec 07 00:00", "02:00", "04:00", "06:00"]
    month = time_ticks(START, START + timedelta(days=30), lambda moment: 0.0)
    assert [t.label for t in month] == ["Dec 07", "Dec 17", "Dec 27", "Jan 06"]


def test_duration_ticks_are_whole_hours_and_thresholds_stay_on_the_axis() -> None:
    assert nice_ticks(0, 3 * 86400, 4, "seconds") == [0, 86400, 172800, 259200]
    chart = time_chart(points([60.0, 120.0]), "seconds", thresholds=[(86400.0, "limit", "fail")])
    assert chart is not None
    assert chart.thresholds[0].label == "limit 1d"
    assert chart.plot_top <= chart.thresholds[0].y <= chart.plot_bottom


def test_points_are_placed_by_time() -> None:
    uneven = [
        SeriesPoint(run_id="a", checked_at=START, status="pass", value=1.0),
        SeriesPoint(run_id="b", checked_at=START + timedelta(hours=1), status="pass", value=2.0),
        SeriesPoint(run_id="c", checked_at=START + timedelta(hours=10), status="fail", value=3.0),
    ]
    chart = time_chart(uneven)
    assert chart is not None
    xs = [d.x for d in chart.dots]
    assert xs[1] - xs[0] < (xs[2] - xs[1]) / 5


def test_only_series_that_carry_information_get_a_chart() -> None:
    check = Series(name="schema(amount)", kind="check", type="schema", points=points([None, None]))
    unique = Series(name="unique(order_id)", kind="check", type="unique", points=points([0, 0]))
    fresh = Series(
        name="freshness(ts)",
        kind="check",
        type="freshness",
        points=points([-19.0, 3600.0, 7200.0], expected="< 1d"),
    )
    volume = Series(
        name="volume",
        kind="check",
        type="volume",
        points=points([900.0, 1100.0], expected="between 500 and 2000"),
    )
    metrics = [
        Series(name="rows", kind="metric", points=points([900.0, 1100.0])),
        Series(name="mean(order_id)", kind="metric", points=points([5.0, 9.0])),
        Series(name="mean(amount)", kind="metric", points=points([5.0, 9.0])),
        Series(name="null_fraction(email)", kind="metric", points=points([0.0, 0.0])),
    ]
    found = panels([check, unique, fresh, volume], metrics, {})
    assert [p.title for p in found] == ["freshness(ts)", "volume", "mean(amount)"]
    freshness = found[0]
    assert min(d.y for d in freshness.chart.dots) >= freshness.chart.plot_top
    assert max(d.y for d in freshness.chart.dots) == freshness.chart.plot_bottom  # -19 s: 0
    assert freshness.note is not None and "shown as age 0" in freshness.note
    assert [t.label for t in freshness.chart.thresholds] == ["limit 1d"]
    band = found[1].chart.band
    assert band is not None and band.top < band.bottom


def test_an_anomaly_rule_draws_its_expected_range_run_by_run() -> None:
    anomaly = Series(
        name="anomaly(rows)",
        kind="check",
        type="anomaly",
        points=[
            SeriesPoint(
                run_id=f"r{i}",
                checked_at=START + timedelta(days=i),
                status="fail" if value > 200 else "pass",
                value=value,
                expected=f"[{low}, {high}]",
            )
            for i, (value, low, high) in enumerate([(100, 80, 120), (110, 90, 130), (260, 95, 135)])
        ],
    )
    (panel,) = panels([anomaly], [], {})
    corridor = panel.chart.corridor.split()
    assert len(corridor) == 6  # along the three highs, back along the three lows
    ys = {d.run_id: d.y for d in panel.chart.dots}
    highs = [float(p.split(",")[1]) for p in corridor[:3]]
    assert ys["r2"] < highs[2]  # the outlier is above its expected range (SVG y grows down)
