"""Slack routes: Block Kit through the Slack provider's notifiers, to a local stand-in
that checks Block Kit's rules and Slack's escaping, through the Web API (a channel) and
an incoming webhook."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_helpers import NOW, bad_orders, good_orders, orders_contract
from service_standins import StandIn, block_kit_problems, serve, slack_check

from airflow_opsguard import validate
from airflow_opsguard.alerts import send_alerts
from airflow_opsguard.alerts.delivery import Deliverer
from airflow_opsguard.alerts.messages import AlertMessage, LinkSettings
from airflow_opsguard.alerts.routes import to_route
from airflow_opsguard.alerts.slack import escape_mrkdwn, slack_blocks, slack_text
from airflow_opsguard.store import ResultStore

pytest.importorskip(
    "airflow.providers.slack", reason="apache-airflow-providers-slack (slack extra)"
)

TOKEN = "xoxb-test-0000"
HOOK_SECRET = "T000/B000/s3cr3tXYZ"
LINKS = LinkSettings(base_url="https://airflow.example.com")


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    with serve(slack_check(TOKEN)) as standin:
        monkeypatch.setenv(
            "AIRFLOW_CONN_OPSGUARD_SLACK_API",
            json.dumps(
                {
                    "conn_type": "slack",
                    "password": TOKEN,
                    "extra": {"base_url": f"{standin.url}/api/"},
                }
            ),
        )
        monkeypatch.setenv(
            "AIRFLOW_CONN_OPSGUARD_SLACK_HOOK",
            json.dumps(
                {
                    "conn_type": "slackwebhook",
                    "host": f"{standin.url}/services",
                    "password": HOOK_SECRET,
                }
            ),
        )
        yield standin


def hostile_message(**changes: object) -> AlertMessage:
    """A message whose data holds Slack's control characters and a Jinja expression."""
    fields: dict[str, object] = {
        "event": "fail",
        "dataset": "orders & <refunds>",
        "title": "[opsguard] FAIL orders & <refunds>: 2 checks failed",
        "text": "[opsguard] FAIL orders: 2 checks failed",
        "status": "fail",
        "rows": 1234,
        "checks": (
            {
                "name": "schema(amount)",
                "type": "schema",
                "status": "fail",
                "observed": "missing",
                "expected": "present",
                "message": "column amount is missing <!channel> & {{ 7 * 7 }}",
                "consequence_of": None,
            },
            {
                "name": "range(amount)",
                "type": "range",
                "status": "error",
                "observed": None,
                "expected": ">= 0",
                "message": "not measured",
                "consequence_of": "schema(amount)",
            },
        ),
        "run": {"dag_id": "orders_daily", "dag_run_id": "manual__1", "task_id": "gate"},
        "report_url": "https://airflow.example.com/dags/orders_daily/runs/manual__1",
        "runbook": "https://wiki.example.com/runbooks/orders",
        "owner": "data-platform@example.com",
        "incident_event": "opened",
        "incident_key": "orders/fail/2026-11-26T12:00:00Z",
        "incident_id": 7,
        "cause": {"name": "schema(amount)", "status": "fail", "observed": "missing"},
    }
    fields.update(changes)
    return AlertMessage(**fields)  # type: ignore[arg-type]


def test_block_kit_has_a_header_facts_the_checks_as_fields_and_buttons() -> None:
    blocks = slack_blocks(hostile_message())
    assert block_kit_problems({"text": "x", "blocks": blocks}) == []
    header, facts, cause, checks, context, actions = blocks
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "[opsguard] FAIL orders & <refunds>: 2 checks failed",
        },
    }
    assert facts["fields"][0]["text"] == "*Dataset*\norders &amp; &lt;refunds&gt;"
    assert "*Verdict*\nfail, 1,234 rows" in [f["text"] for f in facts["fields"]]
    assert "*Incident*\n#7 opened" in [f["text"] for f in facts["fields"]]
    assert cause["text"]["text"].startswith("*Cause:* *FAIL schema(amount)*")
    first, second = (f["text"] for f in checks["fields"])
    assert first == (
        "*FAIL schema(amount)*\nobserved missing, expected present\n"
        "column amount is missing &lt;!channel&gt; &amp; {{ 7 * 7 }}"
    )
    assert (
        second == "*ERROR range(amount)*\nobserved -, expected &gt;= 0\n_because of schema(amount)_"
    )
    assert "incident orders/fail/2026-11-26T12:00:00Z" in context["elements"][0]["text"]
    report, runbook = actions["elements"]
    assert (report["text"]["text"], report["url"], report["style"]) == (
        "Report",
        "https://airflow.example.com/dags/orders_daily/runs/manual__1",
        "primary",
    )
    assert (runbook["text"]["text"], runbook["url"]) == (
        "Runbook",
        "https://wiki.example.com/runbooks/orders",
    )
    assert slack_text(hostile_message()) == (
        "[opsguard] FAIL orders &amp; &lt;refunds&gt;: 2 checks failed"
    )
    assert escape_mrkdwn("a&b<c>d") == "a&amp;b&lt;c&gt;d"


def test_many_checks_and_long_texts_stay_within_block_kits_limits() -> None:
    checks = tuple(
        {
            "name": f"not_null(column_{i})",
            "status": "fail",
            "observed": i,
            "expected": 0,
            "message": "<" * 3000,
        }
        for i in range(35)
    )
    message = hostile_message(title="T" * 400, checks=checks, cause=None, runbook="ftp://wiki/x")
    blocks = slack_blocks(message)
    assert block_kit_problems({"text": slack_text(message), "blocks": blocks}) == []
    assert len(blocks[0]["text"]["text"]) == 150
    field_sections = [b for b in blocks if b["type"] == "section" and len(b.get("fields", [])) > 0]
    assert [len(b["fields"]) for b in field_sections[1:]] == [10, 10]
    assert any("and 15 more failing checks" in json.dumps(b) for b in blocks)
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["opsguard_report"]  # not ftp://


def test_a_failing_run_and_its_recovery_go_to_a_channel_through_the_web_api(
    slack: StandIn, tmp_path: Path
) -> None:
    route = {
        "on": ["fail", "recover"],
        "slack": {"conn_id": "opsguard_slack_api", "channel": "#data-alerts"},
        "retries": 0,
    }
    contract = orders_contract("orders", [route])
    context = {"dag_id": "orders_daily", "run_id": "manual__1", "task_id": "gate"}
    with ResultStore(f"sqlite:///{tmp_path / 's.db'}") as store:
        for data in (bad_orders(), bad_orders(), good_orders()):
            result = validate(contract, data=data, now=NOW, store=store, context=context)
            report = send_alerts(result, contract, store=store, now=NOW, links=LINKS)
            assert all(d.ok for d in report.deliveries), (report.deliveries, slack.problems)
    assert slack.problems == []
    opened, resolved = slack.received
    assert opened.path == "/api/chat.postMessage"
    assert opened.headers["Authorization"] == f"Bearer {TOKEN}"
    assert opened.body["channel"] == "#data-alerts"
    assert opened.body["text"] == "[opsguard] FAIL orders: 3 checks failed"
    blocks = json.loads(opened.body["blocks"])  # the provider sends it JSON-encoded
    fields = [f["text"] for b in blocks for f in b.get("fields", [])]
    assert any(f.startswith("*FAIL volume*\nobserved 3, expected &gt;= 5") for f in fields), fields
    assert any(f.startswith("*FAIL unique(order_id)*\nobserved 2") for f in fields), fields
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Report", "Runbook"]
    assert buttons[0]["url"].startswith("https://airflow.example.com/")
    header = json.loads(resolved.body["blocks"])[0]
    assert header["text"]["text"].startswith("[opsguard] RESOLVED orders")


def test_an_incoming_webhook_connection_gets_the_blocks_and_jinja_is_not_rendered(
    slack: StandIn,
) -> None:
    route = to_route({"on": ["fail"], "slack": {"conn_id": "opsguard_slack_hook"}, "retries": 0})
    assert route.label == "slack opsguard_slack_hook"
    attempt = Deliverer().deliver(route, hostile_message().to_dict())
    assert attempt.ok, attempt.error
    (post,) = slack.received
    assert post.path == f"/services/{HOOK_SECRET}"
    assert "channel" not in post.body
    # The notifier is not run as a callback: Airflow's Jinja never sees the data.
    assert "{{ 7 * 7 }}" in json.dumps(post.body) and "49" not in json.dumps(post.body)
    assert "&lt;!channel&gt;" in json.dumps(post.body)


def test_slack_refusing_the_message_is_a_failed_delivery_with_slacks_reason(
    slack: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_OPSGUARD_SLACK_API",
        json.dumps(
            {
                "conn_type": "slack",
                "password": "xoxb-wrong",
                "extra": {"base_url": f"{slack.url}/api/"},
            }
        ),
    )
    route = to_route(
        {"on": ["fail"], "slack": {"conn_id": "opsguard_slack_api", "channel": "#x"}, "retries": 0}
    )
    attempt = Deliverer().deliver(route, hostile_message().to_dict())
    assert (attempt.ok, attempt.attempts) == (False, 1)  # a wrong token: not retried
    assert attempt.error == "Slack answered invalid_auth (HTTP 200)"


def test_a_webhook_that_slack_does_not_know_fails_without_showing_its_secret_path(
    slack: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = {"conn_type": "slackwebhook", "host": f"{slack.url}/old", "password": HOOK_SECRET}
    monkeypatch.setenv("AIRFLOW_CONN_OPSGUARD_SLACK_GONE", json.dumps(gone))
    route = to_route({"on": ["fail"], "slack": {"conn_id": "opsguard_slack_gone"}, "retries": 2})
    attempt = Deliverer().deliver(route, hostile_message().to_dict())
    assert (attempt.ok, attempt.attempts) == (False, 1)  # HTTP 404: another try cannot help
    assert "no_service" in (attempt.error or "") and "404" in (attempt.error or "")
    assert HOOK_SECRET not in (attempt.error or "")
    assert slack.problems == ['"no_service"']


def test_without_the_slack_provider_the_route_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As if apache-airflow-providers-slack were not installed.
    monkeypatch.setitem(sys.modules, "airflow.providers.slack.notifications.slack_webhook", None)
    route = to_route({"on": ["fail"], "slack": {"conn_id": "x"}, "retries": 3, "backoff": 0})
    attempt = Deliverer().deliver(route, hostile_message().to_dict())
    assert (attempt.ok, attempt.attempts) == (False, 1)  # not retried: it cannot help
    assert attempt.error == (
        "apache-airflow-providers-slack is not installed: pip install 'airflow-opsguard[slack]'"
    )
