"""Every URL an alert shows has its secrets masked, whoever builds the alert (a gate,
an SLA miss, a missed deadline): runbook and report links, the owner, the note, the text
and each check's message; the webhook a route calls is only ever shown as scheme and
host."""

from __future__ import annotations

import json
from datetime import timedelta

from airflow_opsguard.alerts.messages import AlertMessage
from airflow_opsguard.alerts.routes import to_route
from airflow_opsguard.alerts.sla import deadline_message, sla_message
from airflow_opsguard.formats import load_contract

SECRETS = ("RbT0k", "RpS1g", "Pw0rd", "N0teK3y", "Ch3ckPw", "0bsT0k")


def test_a_message_masks_the_urls_it_shows_however_it_is_built() -> None:
    message = AlertMessage(
        event="fail",
        dataset="orders",
        title="[opsguard] FAIL orders",
        text="runbook: https://wiki.example.com/r?token=RbT0k&page=2",
        report_url="https://reports.example.com/run/1?sig=RpS1g",
        runbook="https://wiki.example.com/r?token=RbT0k&page=2",
        owner="https://oncall.example.com/?access_token=Pw0rd",
        note="see https://status.example.com/?api_key=N0teK3y",
        checks=(
            {
                "name": "reconcile(orders)",
                "status": "error",
                "message": "cannot read postgresql://etl:Ch3ckPw@db/x",
                "observed": "https://x.example.com/?token=0bsT0k",
                "expected": 5,
            },
        ),
    )
    shown = json.dumps(message.to_dict()) + message.html() + json.dumps(message.context())
    assert [s for s in SECRETS if s in shown] == []
    assert message.runbook == "https://wiki.example.com/r?token=***&page=2"
    assert message.report_url == "https://reports.example.com/run/1?sig=***"
    assert message.checks[0]["message"] == "cannot read postgresql://etl:***@db/x"
    assert message.checks[0]["expected"] == 5
    assert AlertMessage.from_dict(message.to_dict()) == message  # masking is idempotent


def test_sla_and_deadline_alerts_mask_the_runbook() -> None:
    contract = load_contract(
        {"dataset": "orders", "runbook": "https://wiki.example.com/orders?token=RbT0k"}
    )
    payload = {
        "dataset": "orders",
        "age": timedelta(hours=3),
        "limit": timedelta(hours=1),
        "dag_id": "d",
        "run_id": "r",
        "task_id": "t",
    }
    for message in (
        sla_message(contract, payload),
        deadline_message(contract, "orders", {"dag_run": {"dag_id": "d", "run_id": "r"}}),
    ):
        assert message.runbook == "https://wiki.example.com/orders?token=***"
        assert "RbT0k" not in json.dumps(message.to_dict())
        assert "runbook: https://wiki.example.com/orders?token=***" in message.text


def test_a_webhook_route_is_named_by_scheme_and_host_only() -> None:
    route = to_route(
        {"on": ["fail"], "webhook": "https://bot:Pw0rd@hooks.example.com/T/B/S3cret?token=RbT0k"}
    )
    assert route.label == "webhook https://hooks.example.com/***"
    assert "Pw0rd" not in repr(route) and "S3cret" not in repr(route.spec)
