"""SLA misses through the routes: the sensor's payload, and Airflow's Deadline Alerts run
by Airflow's own callback trigger."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from recorders import WebhookRecorder

from airflow_opsguard.alerts.sla import send_sla_miss
from airflow_opsguard.deadlines import SlaMissAlerter, deadline_alert, on_deadline_missed
from airflow_opsguard.formats import load_contract

DUE = datetime(2026, 11, 26, 8, tzinfo=UTC)


def sensor_payload(run_id: str = "scheduled__2026-11-26") -> dict[str, Any]:
    """What the FreshnessSensor hands its sla_miss_callback (beside the task context)."""
    return {
        "dag_id": "orders_daily",
        "run_id": run_id,
        "task_id": "orders_fresh",
        "map_index": -1,
        "dataset": "orders",
        "age": timedelta(hours=5),
        "newest": DUE - timedelta(hours=3),
        "limit": timedelta(hours=2),
        "sla": timedelta(hours=1),
        "sla_due_at": DUE,
        "reference": DUE - timedelta(hours=1),
        "error": None,
        "message": "orders: newest created_at is 5h old; the SLA (2h) passed at 08:00",
    }


def contract_with(url: str, *events: str) -> Any:
    return load_contract(
        {
            "dataset": "orders",
            "owner": "team-orders",
            "alerts": [
                {"on": list(events), "webhook": url, "backoff": 0},
                {"on": ["fail"], "webhook": url + "/fail-only"},
            ],
        }
    )


def test_an_sla_miss_goes_to_the_routes_that_take_it_once_per_run(
    hook: WebhookRecorder, tmp_path: Path
) -> None:
    contract = contract_with(hook.url, "sla_miss")
    store = f"sqlite:///{tmp_path / 's.db'}"
    first = send_sla_miss(contract, sensor_payload(), store=store)
    again = send_sla_miss(contract, sensor_payload(), store=store)  # a later poke, a retry
    other = send_sla_miss(contract, sensor_payload("scheduled__2026-11-27"), store=store)
    assert [a.ok for a in (*first, *again, *other)] == [True, True]
    (alert, _) = hook.bodies()
    assert alert["event"] == "sla_miss"
    assert alert["title"] == "[opsguard] SLA MISSED orders: data 5h old, allowed 2h"
    assert alert["run"] == {
        "dag_id": "orders_daily",
        "dag_run_id": "scheduled__2026-11-26",
        "task_id": "orders_fresh",
        "map_index": -1,
    }
    assert alert["owner"] == "team-orders"
    assert alert["checks"][0]["observed"] == "5h" and alert["checks"][0]["expected"] == "< 2h"
    assert "where: dag orders_daily, run scheduled__2026-11-26, task orders_fresh" in alert["text"]
    assert all(not p.path.endswith("/fail-only") for p in hook.posts)


def test_a_contract_without_sla_routes_sends_nothing(hook: WebhookRecorder) -> None:
    assert send_sla_miss(contract_with(hook.url, "fail"), sensor_payload()) == []
    assert hook.posts == []


def test_the_sla_miss_alerter_is_a_callback_with_routes(
    hook: WebhookRecorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSGUARD_STORE_URL", f"sqlite:///{tmp_path / 's.db'}")
    alerter = SlaMissAlerter([{"webhook": hook.url, "backoff": 0}])
    alerter(sensor_payload())
    assert hook.events() == ["sla_miss"]
    with pytest.raises(ValueError, match="alerts"):
        SlaMissAlerter([{"on": ["later"], "log": True}])


def test_deadline_alert_builds_an_airflow_deadline_with_our_callback(
    hook: WebhookRecorder, tmp_path: Path
) -> None:
    from airflow.sdk import DAG, AsyncCallback, DeadlineAlert
    from airflow.serialization.serialized_objects import DagSerialization

    contract = tmp_path / "orders.yml"
    contract.write_text(
        "dataset: orders\nrunbook: https://wiki.example.com/orders\n"
        f'alerts:\n  - {{on: [sla_miss], webhook: "{hook.url}", backoff: 0}}\n'
    )
    alert = deadline_alert(timedelta(hours=2), contract=str(contract), store="sqlite:///x.db")
    assert isinstance(alert, DeadlineAlert)
    assert isinstance(alert.callback, AsyncCallback)
    assert alert.callback.path == "airflow_opsguard.deadlines.on_deadline_missed"
    kwargs = alert.callback.kwargs
    assert json.loads(json.dumps(kwargs)) == kwargs  # stored by the scheduler as JSON
    assert kwargs["contract"] == str(contract) and kwargs["dataset"] == "orders"
    assert kwargs["key"] == "deadline:DagRunQueuedAtDeadline+2h"
    assert hook.url not in json.dumps(kwargs)  # the contract's webhook stays in the contract
    dag = DAG("orders_deadline", schedule=None, deadline=alert)
    assert DagSerialization.serialize_dag(dag)["deadline"]


def test_deadline_alert_keeps_notifier_objects_as_their_class_and_arguments() -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    notifier = SmtpNotifier(to="oncall@example.com", smtp_conn_id="opsguard_smtp")
    alert = deadline_alert(
        timedelta(hours=1),
        routes=[notifier, {"notifier": page_on_call, "name": "pager"}],
        dataset="orders",
    )
    mail_route, page_route = alert.callback.kwargs["routes"]
    assert mail_route["notifier"] == "airflow.providers.smtp.notifications.smtp.SmtpNotifier"
    assert mail_route["args"]["to"] == "oncall@example.com"
    assert mail_route["args"]["smtp_conn_id"] == "opsguard_smtp"
    assert mail_route["on"] == ["sla_miss"]
    assert page_route == {
        "notifier": "test_sla_alerts:page_on_call",
        "name": "pager",
        "on": ["sla_miss"],
    }

    with pytest.raises(ValueError, match=r"alerts\[0\]: .*lambda.* cannot be imported"):
        deadline_alert(timedelta(hours=1), routes=[lambda context: None])
    with pytest.raises(ValueError, match=r"alerts\[0\]: the route must be JSON"):
        deadline_alert(timedelta(hours=1), routes=[{"notifier": "m.N", "args": {"x": object()}}])
    with pytest.raises(ValueError, match=r"alerts\[0\]"):
        deadline_alert(timedelta(hours=1), routes=[{"on": ["later"], "log": True}])


PAGES: list[dict[str, Any]] = []


def page_on_call(context: dict[str, Any]) -> None:
    """A plain function as a notifier (imported by its path in the callback)."""
    PAGES.append(context["opsguard"])


def deadline_context(
    deadline_id: str = "0193-dead-line", dag_id: str = "orders_daily"
) -> dict[str, Any]:
    """What the scheduler adds when the deadline passes (models/deadline.py: handle_miss)."""
    return {
        "dag_run": {
            "dag_id": dag_id,
            "dag_run_id": "scheduled__2026-11-26",
            "state": "running",
        },
        "deadline": {"id": deadline_id, "deadline_time": DUE.isoformat()},
    }


def run_callback_trigger(
    path: str, kwargs: dict[str, Any], dag_id: str = "orders_daily"
) -> list[dict[str, Any]]:
    """Run Airflow's own CallbackTrigger (what the triggerer runs) to its last event."""
    from airflow.triggers.callback import CallbackTrigger

    trigger = CallbackTrigger(path, {**kwargs, "context": deadline_context(dag_id=dag_id)})

    async def events() -> list[Any]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(events())


def test_airflows_callback_trigger_records_the_miss_and_returns_text(
    hook: WebhookRecorder, store_url: str, dataset: str
) -> None:
    from airflow_opsguard.store import ResultStore

    dag_id = f"{dataset}_daily"  # the server stores are shared by the session
    PAGES.clear()
    alert = deadline_alert(
        timedelta(hours=2),
        routes=[{"webhook": hook.url, "backoff": 0}, page_on_call],
        dataset=dataset,
        store=store_url,
        name="orders by 8",
    )
    payloads = run_callback_trigger(alert.callback.path, alert.callback.kwargs, dag_id)
    assert [p["state"] for p in payloads] == ["running", "success"]
    output = payloads[-1]["body"]
    # Airflow writes this into callback.output, a Text column: a string, never a dict.
    assert isinstance(output, str)
    assert output.startswith(f"deadline missed by {dag_id} run scheduled__2026-11-26: recorded")
    assert "sent to webhook http://127.0.0.1" in output and hook.url not in output
    (message,) = hook.bodies()
    assert message["title"] == f"[opsguard] SLA MISSED {dataset}: DAG {dag_id} missed its deadline"
    assert message["run"] == {"dag_id": dag_id, "dag_run_id": "scheduled__2026-11-26"}
    assert f"due {DUE.isoformat()}" in message["text"]
    assert [page["title"] for page in PAGES] == [message["title"]]
    with ResultStore(store_url) as opened:
        (miss,) = opened.sla_misses(dag_id=dag_id)
    assert (miss.run_id, miss.task_id, miss.dataset) == (
        "scheduled__2026-11-26",
        "deadline:orders by 8",
        dataset,
    )
    assert miss.due_at == DUE and miss.sla == timedelta(hours=2)

    # The same deadline again (a triggerer restart): recorded and sent once.
    context = deadline_context(dag_id=dag_id)
    again = asyncio.run(on_deadline_missed(context=context, **alert.callback.kwargs))
    assert "recorded before" in again
    assert len(hook.posts) == 1 and len(PAGES) == 1


def test_a_route_that_does_not_take_the_miss_fails_the_callback(
    hook: WebhookRecorder, tmp_path: Path
) -> None:
    hook.fail_with(500)
    alert = deadline_alert(
        timedelta(hours=2),
        routes=[{"webhook": hook.url, "backoff": 0, "retries": 0}],
        dataset="orders",
        store=f"sqlite:///{tmp_path / 's.db'}",
    )
    payloads = run_callback_trigger(alert.callback.path, alert.callback.kwargs)
    assert [p["state"] for p in payloads] == ["running", "failed"]
    body = payloads[-1]["body"]
    assert isinstance(body, str) and "HTTP 500" in body and "kept pending" in body
    assert hook.url not in body


def test_callbacks_serialized_before_the_move_still_import() -> None:
    from airflow.sdk._shared.module_loading import import_string

    from airflow_opsguard import deadlines

    old = import_string("airflow_opsguard.alerts.sla.on_deadline_missed")
    assert old is deadlines.on_deadline_missed
    from airflow_opsguard.alerts import SlaMissAlerter as exported

    assert exported is deadlines.SlaMissAlerter
