"""The plugin's small parts: CSRF tokens, scopes, chart geometry, formatting, the
report link, and what the plugin registers with Airflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airflow_opsguard.plugin.models import SeriesPoint

T0 = datetime(2026, 11, 20, tzinfo=UTC)


class User:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_name(self) -> str:
        return self.name


def test_csrf_tokens_are_bound_to_the_user_and_expire() -> None:
    from airflow_opsguard.plugin.auth import CSRF_TTL_SECONDS, csrf_token, csrf_valid

    ana, bob = User("ana"), User("bob")
    token = csrf_token(ana, now=1_000_000)
    assert csrf_valid(ana, token, now=1_000_000 + 60)
    assert not csrf_valid(bob, token, now=1_000_000 + 60)
    assert not csrf_valid(ana, token, now=1_000_000 + CSRF_TTL_SECONDS + 1)
    assert not csrf_valid(ana, token, now=1_000_000 - 10)  # issued in the future
    issued, signature = token.split(".")
    assert not csrf_valid(ana, f"{int(issued) + 1}.{signature}", now=1_000_000 + 60)
    assert not csrf_valid(ana, "garbage", now=1_000_000)


def test_scope_allows_its_dags_and_dagless_results_only_with_all_dags() -> None:
    import sqlalchemy as sa

    from airflow_opsguard.store.dashboard import Scope, allowed

    some = Scope(dag_ids=frozenset({"a"}), dagless=False)
    assert some.allows("a") and not some.allows("b") and not some.allows(None)
    every = Scope(dag_ids=None, dagless=True)
    assert every.allows(None) and every.allows("anything")
    column = sa.column("dag_id")
    assert str(allowed(some, column)) == "dag_id IN (__[POSTCOMPILE_dag_id_1])"
    assert str(allowed(Scope(dag_ids=frozenset(), dagless=False), column)) == "false"


def points(values: list[float | None]) -> list[SeriesPoint]:
    return [
        SeriesPoint(run_id=f"r{i}", checked_at=T0 + timedelta(days=i), status="pass", value=v)
        for i, v in enumerate(values)
    ]


def test_time_chart_spans_the_plot_and_skips_missing_values() -> None:
    from airflow_opsguard.plugin.charts import time_chart

    chart = time_chart(points([1.0, None, 3.0, 2.0]))
    assert chart is not None
    xs = [d.x for d in chart.dots]
    ys = [d.y for d in chart.dots]
    assert xs[0] == chart.plot_left and xs[-1] == chart.plot_right
    assert max(ys) == chart.plot_bottom and min(ys) == chart.plot_top  # 1 low, 3 high
    assert [d.run_id for d in chart.dots] == ["r0", "r2", "r3"]
    assert (chart.y_ticks[0].label, chart.y_ticks[-1].label) == ("1", "3")
    flat = time_chart(points([5.0]))
    assert flat is not None and flat.plot_top < flat.dots[0].y < flat.plot_bottom
    assert time_chart(points([None])) is None
    ages = time_chart(points([3600.0, 2 * 86400.0]), unit="seconds")
    assert ages is not None and ages.y_ticks[-1].label == "2d"


def test_formatting() -> None:
    from airflow_opsguard.plugin.charts import number
    from airflow_opsguard.plugin.formatting import duration, value

    assert [number(v) for v in (1234567, 12345, 0.01234, 7)] == ["1.23M", "12.3k", "0.0123", "7"]
    assert duration(3 * 86400 + 2 * 3600 + 5) == "3d 2h"
    assert duration(0) == "0s" and duration(None) == "—"
    assert value({"b": 1, "a": [1, 2]}) == '{"a": [1, 2], "b": 1}'


def test_report_link_follows_the_alert_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_opsguard.operators.report_link import report_link
    from airflow_opsguard.runtime import attempt_run_id

    identity: dict[str, Any] = {
        "dag_id": "d",
        "run_id": "manual__2026-11-26T00:00:00+00:00",
        "task_id": "gate",
        "map_index": -1,
        "try_number": 2,
    }
    run_id = attempt_run_id(identity)
    for name in ("OPSGUARD_REPORT_URL", "OPSGUARD_BASE_URL", "AIRFLOW__API__BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AIRFLOW__OPSGUARD__BASE_URL", raising=False)
    monkeypatch.delenv("AIRFLOW__OPSGUARD__REPORT_URL", raising=False)
    # Inside Airflow: the task instance's "Data quality" tab, on this Airflow.
    tab = "/dags/d/runs/manual__2026-11-26T00%3A00%3A00%2B00%3A00/tasks/gate"
    assert report_link(identity) == f"{tab}/plugin/opsguard-task"
    assert report_link({**identity, "map_index": 3}) == f"{tab}/mapped/3/plugin/opsguard-task"
    monkeypatch.setenv("AIRFLOW__OPSGUARD__BASE_URL", "https://airflow.example.com/")
    assert report_link(identity) == f"https://airflow.example.com{tab}/plugin/opsguard-task"
    assert report_link({}) == f"https://airflow.example.com/opsguard/runs/{attempt_run_id({})}"
    monkeypatch.setenv(
        "AIRFLOW__OPSGUARD__REPORT_URL", "{base_url}/q/{dataset}/{dag_run_id}?try={run_id}"
    )
    assert report_link(identity, dataset="orders") == (
        "https://airflow.example.com/q/orders/manual__2026-11-26T00%3A00%3A00%2B00%3A00"
        f"?try={run_id}"
    )


def test_the_plugin_registers_the_app_and_views(airflow_home: Any) -> None:
    from airflow import plugins_manager

    from airflow_opsguard.operators import QualityGateOperator
    from airflow_opsguard.plugin import OpsGuardPlugin

    apps, _ = plugins_manager.get_fastapi_plugins()
    assert [a["url_prefix"] for a in apps if a["name"] == "airflow-opsguard"] == ["/opsguard"]
    views = {v["url_route"]: v for v in OpsGuardPlugin.external_views}
    assert views["opsguard"]["destination"] == "nav"
    assert views["opsguard-task"]["destination"] == "task_instance"
    assert not any(v["href"].startswith("/") for v in views.values())  # works under a prefix
    from airflow_opsguard.decorators.gated_task import GatedTaskOperator

    for operator in (QualityGateOperator, GatedTaskOperator):
        assert [link.name for link in operator.operator_extra_links] == ["Quality report"]
