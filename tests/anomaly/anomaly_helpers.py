"""Synthetic metric histories for the anomaly tests: daily runs, weekly patterns."""

from __future__ import annotations

import importlib.util
import random
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from airflow_opsguard.anomaly.history import MetricHistory, MetricPoint, history_key
from airflow_opsguard.checks.history import evaluate_history_check
from airflow_opsguard.checks.observations import CheckObservation
from airflow_opsguard.checks.results import CheckResult
from airflow_opsguard.contract.models import AnomalyCheck, RowCountChangeCheck

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "anomaly_false_alarms.py"

# A Monday, 06:00 UTC: run i of a daily series falls on weekday i % 7.
MONDAY = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def day(index: int) -> datetime:
    return MONDAY + timedelta(days=index)


def weekly_rows(index: int, rng: random.Random) -> float:
    """Rows of a daily load: about 1,000 on weekdays, about 400 on weekends."""
    weekend = day(index).weekday() >= 5
    return float(round((400 if weekend else 1000) * (1 + rng.uniform(-0.02, 0.02))))


def series(count: int, value: Callable[[int], float], status: str = "pass") -> list[MetricPoint]:
    """``count`` daily points from MONDAY on, NEWEST FIRST, as the store returns them."""
    return [MetricPoint(day(i), value(i), status) for i in reversed(range(count))]


def judge(
    check: AnomalyCheck | RowCountChangeCheck,
    value: float | None,
    now: datetime,
    points: Sequence[MetricPoint],
    **observation: Any,
) -> CheckResult:
    """Judge ``value`` at ``now`` against ``points`` (newest first), as evaluate() does."""
    metric = check.metric_name if isinstance(check, AnomalyCheck) else "rows"
    history = MetricHistory({history_key(check): tuple(points)})
    return evaluate_history_check(
        check, CheckObservation(**observation), {metric: value}, history, now
    )


def replay(check: AnomalyCheck, values: Sequence[float], start: int = 0) -> list[CheckResult]:
    """Judge a daily series run by run, each against the runs before it (as a sequence
    of gate runs with a store would), and return every run's result."""
    points: list[MetricPoint] = []
    results = []
    for offset, value in enumerate(values):
        now = day(start + offset)
        results.append(judge(check, value, now, points))
        points.insert(0, MetricPoint(now, value, results[-1].status))
    return results


def benchmark() -> ModuleType:
    """benchmarks/anomaly_false_alarms.py, imported from its file (benchmarks/ is not a
    package the tests can import), so a test runs the benchmark's own simulation."""
    name = "anomaly_false_alarms_benchmark"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module
