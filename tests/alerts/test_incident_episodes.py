"""Issue 21's scenarios through the real gate pipeline (run_gate, a real store, real
webhooks and the log): a renamed column is one incident and one message per route; a
stale run followed by a renamed column never says "recovered"; the set of failing
checks changing is news only to a route that asks for it; the report link points at
the task's Data quality tab."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from recorders import WebhookRecorder

from airflow_opsguard.alerts.messages import AlertMessage, LinkSettings
from airflow_opsguard.pipeline import run_gate
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.incidents import IncidentStore

DAY0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
LINKS = LinkSettings(base_url="https://airflow.example.com/")


def transactions(routes: list[dict[str, Any]]) -> dict[str, Any]:
    """The contract, as a mapping (run_gate loads it as it loads a file)."""
    return {
        "dataset": "transactions",
        "owner": "payments@example.com",
        "runbook": "https://wiki.example.com/runbooks/transactions",
        "schema": {
            "columns": [
                {"name": "id", "type": "integer", "unique": True},
                {"name": "amount", "type": "float", "min": 0, "nullable": False},
                {"name": "created_at", "type": "timestamp"},
            ]
        },
        "freshness": {"column": "created_at", "fail_after": "1d"},
        "volume": {"min_rows": 3},
        "checks": [{"type": "row_count_change", "max_drop": 0.5}],
        "alerts": routes,
    }


def loads(day: int, *, rows: int = 10, newest: datetime | None = None) -> pd.DataFrame:
    stamp = newest or DAY0 + timedelta(days=day) - timedelta(hours=1)
    return pd.DataFrame(
        {
            "id": range(rows),
            "amount": [float(i + 1) for i in range(rows)],
            "created_at": pd.to_datetime([stamp.replace(tzinfo=None)] * rows),
        }
    )


def renamed(day: int) -> pd.DataFrame:
    return loads(day).rename(columns={"amount": "amount_usd"})


def gate(contract: dict[str, Any], data: pd.DataFrame, store: ResultStore, day: int) -> Any:
    """One daily gate task, as Airflow runs it (its own DAG run), on ``day``."""
    moment = DAY0 + timedelta(days=day)
    identity = {
        "dag_id": "payments",
        "run_id": f"scheduled__{moment.date()}",
        "task_id": "transactions_gate",
        "map_index": -1,
        "try_number": 1,
    }
    return run_gate(
        contract,
        data=data,
        now=moment,
        store=store,
        identity=identity,
        alert=True,
        incident_time=moment,
        links=LINKS,
    )


@pytest.fixture
def routes(hook: WebhookRecorder) -> list[dict[str, Any]]:
    """A chat webhook, a pager webhook and the log, as a new user sets them up."""
    return [
        {"on": ["fail", "escalate"], "webhook": hook.url + "/chat", "backoff": 0},
        {"on": ["fail"], "webhook": hook.url + "/pager", "backoff": 0},
        {"on": ["fail", "warn"], "log": True},
    ]


def by_route(hook: WebhookRecorder) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"/chat": [], "/pager": []}
    for post in hook.posts:
        found["/" + post.path.rsplit("/", 1)[-1]].append(post.body["event"])
    return found


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage().splitlines()[0]
        for r in caplog.records
        if r.name == "airflow_opsguard.alerts" and r.getMessage().startswith("[opsguard]")
    ]


def test_a_renamed_column_is_one_incident_and_one_message_per_route(
    hook: WebhookRecorder,
    routes: list[dict[str, Any]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "airflow_opsguard.alerts")
    contract = transactions(routes)
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        for day in range(3):
            gate(contract, loads(day), store, day)
        outcome = gate(contract, renamed(3), store, 3)
        (incident,) = IncidentStore(store).incidents(statuses=())
    assert outcome.result.status == "fail"
    assert by_route(hook) == {"/chat": ["fail"], "/pager": ["fail"]}
    assert logged(caplog) == [
        "[opsguard] FAIL transactions: schema(amount) failed, 3 checks with it"
    ]
    alert = AlertMessage.from_dict(hook.bodies()[0])
    assert (alert.incident_event, alert.severity, alert.incident_id) == ("opened", "fail", 1)
    assert alert.cause is not None and alert.cause["name"] == "schema(amount)"
    assert "renamed?" in alert.cause["message"]
    assert [(c["name"], c["consequence_of"]) for c in alert.checks] == [
        ("schema(amount)", None),
        ("schema(extra columns)", "schema(amount)"),
        ("not_null(amount)", "schema(amount)"),
        ("range(amount)", "schema(amount)"),
    ]
    assert "cause: schema(amount): column 'amount' is missing" in alert.text
    assert "  - ERROR range(amount): observed -, expected >= 0" in alert.text
    assert alert.report_url == (
        "https://airflow.example.com/dags/payments/runs/scheduled__2026-11-05/tasks/"
        "transactions_gate/plugin/opsguard-task"
    )
    assert alert.runbook == "https://wiki.example.com/runbooks/transactions"
    assert incident.key == alert.incident_key
    assert {m.name for m in incident.members} == {c["name"] for c in alert.checks}


def test_stale_then_renamed_sends_nothing_more_and_never_recovered_until_it_passes(
    hook: WebhookRecorder,
    routes: list[dict[str, Any]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "airflow_opsguard.alerts")
    contract = transactions(routes)
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        for day in range(3):
            gate(contract, loads(day), store, day)
        stale = gate(contract, loads(3, newest=DAY0), store, 3)  # three days old
        assert stale.result.status == "fail"
        assert by_route(hook) == {"/chat": ["fail"], "/pager": ["fail"]}
        first = hook.bodies()[0]
        assert first["cause"]["name"] == "freshness(created_at)"
        gate(contract, renamed(4), store, 4)
        assert by_route(hook) == {"/chat": ["fail"], "/pager": ["fail"]}  # same episode
        gate(contract, loads(5), store, 5)
        (incident,) = IncidentStore(store).incidents(statuses=())
    assert by_route(hook) == {"/chat": ["fail", "recover"], "/pager": ["fail", "recover"]}
    assert [line.split(":")[0] for line in logged(caplog)] == [
        "[opsguard] FAIL transactions",
        "[opsguard] RESOLVED transactions",
    ]
    resolved = hook.bodies("recover")[0]
    assert resolved["incident_key"] == first["incident_key"]  # PagerDuty resolves its own
    assert resolved["duration_seconds"] == timedelta(days=2).total_seconds()
    assert resolved["title"].startswith("[opsguard] RESOLVED transactions: passing again after 2d")
    assert (incident.status, incident.failures) == ("resolved", 2)
    assert {m.name for m in incident.members} >= {"freshness(created_at)", "schema(amount)"}


def test_a_route_that_takes_change_hears_the_new_cause_once(
    hook: WebhookRecorder, tmp_path: Path
) -> None:
    contract = transactions(
        [{"on": ["fail", "change"], "webhook": hook.url + "/chat", "backoff": 0}]
    )
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        for day in range(3):
            gate(contract, loads(day), store, day)
        gate(contract, loads(3, newest=DAY0), store, 3)
        gate(contract, renamed(4), store, 4)
        gate(contract, renamed(5), store, 5)  # the same failure again: silent
    assert hook.events() == ["fail", "change"]
    changed = hook.bodies("change")[0]
    assert changed["incident_event"] == "changed"
    assert changed["incident_key"] == hook.bodies("fail")[0]["incident_key"]
    assert changed["cause"]["name"] == "schema(amount)"
    back = {c["name"]: c for c in changed["recovered"]}["freshness(created_at)"]
    assert (back["status"], back["failed_status"], back["observed"]) == ("pass", "fail", "1h")
    assert changed["title"].startswith(
        "[opsguard] CHANGED transactions: schema(amount) failed, 3 checks with it; new: "
    )
    assert "RECOVERED" not in changed["text"]


def test_links_without_settings_point_at_airflows_own_address_and_the_task_tab() -> None:
    from airflow_opsguard.plugin import TASK_VIEW
    from airflow_opsguard.runtime import AIRFLOW_UI_FALLBACK

    assert TASK_VIEW["url_route"] == "opsguard-task"  # the tab the link opens
    result = gate_result_with({"dag_id": "d", "run_id": "manual__1", "task_id": "t"})
    link = LinkSettings(airflow_url=AIRFLOW_UI_FALLBACK).link(result)
    assert link == "http://localhost:8080/dags/d/runs/manual__1/tasks/t/plugin/opsguard-task"
    mapped = gate_result_with({"dag_id": "d", "run_id": "r 1", "task_id": "t", "map_index": 2})
    assert LinkSettings(base_url="https://af.example.com/").link(mapped) == (
        "https://af.example.com/dags/d/runs/r%201/tasks/t/mapped/2/plugin/opsguard-task"
    )
    outside = gate_result_with({})  # the CLI: the dashboard's run page
    assert LinkSettings(base_url="https://af.example.com").link(outside) == (
        f"https://af.example.com/opsguard/runs/{outside.run_id}"
    )
    assert LinkSettings(airflow_url=AIRFLOW_UI_FALLBACK).link(outside) is None


def test_links_in_airflow_read_the_api_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_opsguard.runtime import links_in_airflow

    for name in ("OPSGUARD_BASE_URL", "AIRFLOW__OPSGUARD__BASE_URL", "OPSGUARD_REPORT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AIRFLOW__API__BASE_URL", raising=False)
    assert links_in_airflow().airflow_url == "http://localhost:8080/"
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "https://airflow.corp.example.com/af")
    settings = links_in_airflow()
    result = gate_result_with({"dag_id": "d", "run_id": "r", "task_id": "t"})
    assert settings.link(result) == (
        "https://airflow.corp.example.com/af/dags/d/runs/r/tasks/t/plugin/opsguard-task"
    )


def gate_result_with(context: dict[str, Any]) -> Any:
    from airflow_opsguard.checks.results import GateResult

    return GateResult(
        dataset="orders",
        status="fail",
        checked_at=DAY0,
        rows=1,
        checks=(),
        run_id="abc123",
        context=context,
    )
