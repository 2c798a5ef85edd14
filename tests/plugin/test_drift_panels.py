"""The drift panel of a dataset page: the whole stored histogram drawn (a bar pair per
cell, edges on the axis), the score against its levels, and results stored before
histograms were kept (or with a damaged one) still drawn from what they hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_opsguard.plugin.charts import time_chart
from airflow_opsguard.plugin.models import Series, SeriesPoint
from airflow_opsguard.plugin.panels import Panel, panels

START = datetime(2026, 12, 7, tzinfo=UTC)


def drift_series(scores: list[float]) -> Series:
    return Series(
        name="distribution(amount)",
        kind="check",
        type="distribution",
        points=[
            SeriesPoint(
                run_id=f"r{i}",
                checked_at=START + timedelta(hours=i),
                status="fail" if v >= 0.3 else "pass",
                value=v,
                expected="< 0.3 (wasserstein)",
            )
            for i, v in enumerate(scores)
        ],
    )


def panel_of(latest: dict[str, Any]) -> Panel:
    found = panels([drift_series([0.02, 0.03, 0.47])], [], {"distribution(amount)": latest})
    assert len(found) == 1
    return found[0]


BINS = {
    "cells": "bins",
    "labels": ["< 10", "[10, 20)", "[20, 30)", ">= 30"],
    "edges": [10, 20, 30],
    "reference": [0.25, 0.25, 0.25, 0.25],
    "current": [0.05, 0.15, 0.3, 0.5],
    "merged": 1,
}
SCORE = {"method": "wasserstein", "statistic": 0.47, "beyond_noise": 0.467, "warn": 0.15}


def test_every_bin_is_drawn_with_its_edges_and_the_score_against_its_levels() -> None:
    panel = panel_of(SCORE | {"fail": 0.3, "histogram": BINS})
    drawn = panel.histogram
    assert drawn is not None and drawn.orientation == "columns"
    assert [c.label for c in drawn.cells] == BINS["labels"]
    assert [t.label for t in drawn.cell_ticks] == ["10", "20", "30"]
    assert [t.label for t in drawn.share_ticks][-1] in ("50%", "60%")
    tallest = max(drawn.cells, key=lambda c: c.cur.height)
    assert tallest.label == ">= 30" and tallest.cur.height > tallest.ref.height
    for cell in drawn.cells:  # side by side inside the plot, standing on its bottom
        assert drawn.plot_left <= cell.ref.x < cell.cur.x < drawn.plot_right
        assert cell.ref.y + cell.ref.height == drawn.plot_bottom
    assert drawn.cells[0].title == "< 10: reference 25%, current 5%"
    assert panel.score == (
        "wasserstein 0.47, 0.467 beyond sampling noise · warn from 0.15 · fail from 0.3"
    )
    assert panel.score_status == "fail" and not panel.bars


def test_categories_are_rows_and_withheld_names_say_so() -> None:
    stored = {
        "cells": "categories",
        "labels": ["#1", "#2", "(other)"],
        "reference": [0.6, 0.4, 0.0],
        "current": [0.5, 0.3, 0.2],
        "folded": 0,
        "withheld": True,
    }
    panel = panel_of({"method": "js", "statistic": 0.2, "histogram": stored})
    assert panel.histogram is not None and panel.histogram.orientation == "rows"
    assert [t.label for t in panel.histogram.cell_ticks] == ["#1", "#2", "(other)"]
    assert panel.histogram_caption is not None and "Names withheld" in panel.histogram_caption


def test_results_stored_without_a_histogram_show_the_cells_that_moved_most() -> None:
    old = SCORE | {"bins": [{"cell": ">= 30", "reference": 0.25, "current": 0.5}]}
    panel = panel_of(old)
    assert panel.histogram is None
    assert [b.label for b in panel.bars] == [">= 30"]
    assert panel.bars_caption is not None and "moved most" in panel.bars_caption


def test_a_damaged_histogram_falls_back_instead_of_failing_the_page() -> None:
    for damaged in (
        BINS | {"edges": [10, 20]},  # one edge short
        BINS | {"current": [0.5, "x", 0.2, 0.3]},
        BINS | {"labels": []},
        "not a mapping",
    ):
        panel = panel_of(SCORE | {"histogram": damaged, "bins": [{"cell": "a"}]})
        assert panel.histogram is None and len(panel.bars) == 1


def test_close_warn_and_fail_labels_do_not_print_over_each_other() -> None:
    points = drift_series([0.02, 0.4]).points
    chart = time_chart(points, thresholds=[(0.12, "fail", "fail"), (0.08, "warn", "warn")])
    assert chart is not None
    fail, warn = sorted(chart.thresholds, key=lambda t: t.y)
    assert abs(warn.label_y - fail.label_y) >= 12
