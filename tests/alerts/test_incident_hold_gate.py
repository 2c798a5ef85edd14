"""The hold before resolving, end to end: daily gates through run_gate with a results
store (every backend), two recording webhooks and the log. A check that flaps (fails,
passes, fails, ...) under ``resolution: {after_passes: 2}`` pages once, escalates once,
is marked flapping, shows "recovering" while it waits, and resolves once."""

from __future__ import annotations

import json
import logging
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pandas as pd
import pytest
from recorders import WebhookRecorder

from airflow_opsguard.alerts.messages import AlertMessage
from airflow_opsguard.cli.main import main as opsguard
from airflow_opsguard.pipeline import run_gate
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.incidents import IncidentStore

DAY0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
FAILING_DAYS = (3, 5, 7)  # a negative amount on these days only


def contract(dataset: str, hook: WebhookRecorder, **extra: Any) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "schema": {
            "columns": [
                {"name": "id", "type": "integer", "unique": True},
                {"name": "amount", "type": "float", "min": 0},
            ]
        },
        "volume": {"min_rows": 3},
        "alerts": [
            # change: the same check failing again after passing is no change
            {"on": ["fail", "escalate", "change"], "webhook": hook.url + "/chat", "backoff": 0},
            {"on": ["fail"], "webhook": hook.url + "/pager", "backoff": 0},
            {"on": ["fail"], "log": True},
        ],
        **extra,
    }


def load(day: int) -> pd.DataFrame:
    amounts = [float(i + 1) for i in range(10)]
    if day in FAILING_DAYS:
        amounts[3] = -7.5
    return pd.DataFrame({"id": range(10), "amount": amounts})


def gate(spec: dict[str, Any], store: ResultStore, day: int) -> Any:
    moment = DAY0 + timedelta(days=day)
    return run_gate(
        spec,
        data=load(day),
        now=moment,
        store=store,
        identity={
            "dag_id": "payments",
            "run_id": f"scheduled__{moment.date()}",
            "task_id": "gate",
            "map_index": -1,
            "try_number": 1,
        },
        alert=True,
        incident_time=moment,
    )


def by_route(hook: WebhookRecorder) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"chat": [], "pager": []}
    for post in hook.posts:
        found[post.path.rsplit("/", 1)[-1]].append(post.body["event"])
    return found


def test_a_flapping_check_pages_once_per_episode_with_a_hold_of_two_passes(
    store_url: str, dataset: str, hook: WebhookRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "airflow_opsguard.alerts")
    spec = contract(dataset, hook, resolution={"after_passes": 2})
    with ResultStore(store_url) as store:
        incidents = IncidentStore(store)
        for day in range(5):
            gate(spec, store, day)
        (held,) = incidents.incidents(dataset=dataset)
        assert (held.status, held.recovering, held.passing_runs) == ("open", True, 1)
        assert held.failing_members == ()
        for day in range(5, 9):
            gate(spec, store, day)
        assert incidents.incidents(dataset=dataset)[0].recovering  # day 8 passed: 1 of 2
        gate(spec, store, 9)
        (episode,) = incidents.incidents(dataset=dataset, statuses=())
    assert by_route(hook) == {"chat": ["fail", "escalate", "recover"], "pager": ["fail", "recover"]}
    logged = [
        r.getMessage().split(":")[0]
        for r in caplog.records
        if r.name == "airflow_opsguard.alerts" and r.getMessage().startswith("[opsguard]")
    ]
    assert logged == [f"[opsguard] FAIL {dataset}", f"[opsguard] RESOLVED {dataset}"]
    assert (episode.status, episode.failures, episode.passing_runs) == ("resolved", 3, 2)
    assert episode.returns == (DAY0 + timedelta(days=5), DAY0 + timedelta(days=7))
    assert episode.flapping and episode.resolved_at == DAY0 + timedelta(days=9)
    escalated = AlertMessage.from_dict(hook.bodies("escalate")[0])
    assert escalated.title.endswith("failing for 3 runs (flapping)")
    assert (escalated.flapping, escalated.returns) == (True, 2)
    assert "failing again 2 times while recovering" in escalated.text
    resolved = AlertMessage.from_dict(hook.bodies("recover")[0])
    assert resolved.incident_key == AlertMessage.from_dict(hook.bodies("fail")[0]).incident_key
    assert resolved.duration_seconds == timedelta(days=6).total_seconds()
    assert resolved.passing_runs == 2
    assert "(2 passing runs in a row); flapping" in resolved.text
    assert resolved.title.endswith("over 3 failing runs, failing again 2 times while recovering)")


def test_by_default_flaps_page_until_the_third_is_marked_flapping_and_held(
    sqlite_store_url: str, hook: WebhookRecorder
) -> None:
    spec = contract("flappy", hook)  # the default: the first pass resolves...
    with ResultStore(sqlite_store_url) as store:
        for day in range(9):
            gate(spec, store, day)
        found = IncidentStore(store).incidents(dataset="flappy", statuses=())
        # ...except a flapping incident: the third, opened on day 7, waits for day 9.
        assert [i.flapping for i in reversed(found)] == [False, False, True]
        assert found[0].recovering
        gate(spec, store, 9)
    assert by_route(hook)["pager"] == ["fail", "recover"] * 3
    titles = [b["title"] for b in hook.bodies("fail")]
    assert titles[-1].endswith("(flapping)") and not titles[0].endswith("(flapping)")


def test_the_incidents_list_shows_recovering_and_flapping(
    sqlite_store_url: str, hook: WebhookRecorder
) -> None:
    spec = contract("listed", hook, resolution={"after_passes": 3})
    with ResultStore(sqlite_store_url) as store:
        for day in range(7):  # fails on days 3 and 5: back once, then passing
            gate(spec, store, day)

    def listed(*args: str) -> str:
        out = StringIO()
        with redirect_stdout(out):
            assert opsguard(["incidents", "list", "--store", sqlite_store_url, *args]) == 0
        return out.getvalue()

    (found,) = json.loads(listed("--format", "json"))
    assert (found["status"], found["recovering"], found["passing_runs"]) == ("open", True, 1)
    assert (found["flapping"], found["returns"]) == (False, ["2026-11-07T06:00:00+00:00"])
    assert "OPEN (recovering, 1 passing)" in listed()
