"""PagerDuty routes: Events API v2 events to a local stand-in that checks the fields
PagerDuty documents; the incident's key is the dedup_key, so the episode triggers once
and resolves when the dataset passes again."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alert_helpers import NOW, bad_orders, good_orders, orders_contract
from service_standins import StandIn, pagerduty_check, pagerduty_problems, serve

from airflow_opsguard import validate
from airflow_opsguard.alerts import send_alerts
from airflow_opsguard.alerts.delivery import Deliverer
from airflow_opsguard.alerts.messages import AlertMessage, LinkSettings
from airflow_opsguard.alerts.pagerduty import dedup_key, event_action, pagerduty_event
from airflow_opsguard.alerts.routes import to_route
from airflow_opsguard.contract.alerts import PagerDutyTarget
from airflow_opsguard.errors import ContractError
from airflow_opsguard.formats import load_contract
from airflow_opsguard.store import ResultStore

ROUTING_KEY = "R0UT1NGKEY00000000000000000000AB"
LINKS = LinkSettings(base_url="https://airflow.example.com")


@pytest.fixture
def pagerduty(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    with serve(pagerduty_check) as standin:
        monkeypatch.setenv("ORDERS_PD_KEY", ROUTING_KEY)
        yield standin


def pd_route(url: str, **target: object) -> dict[str, object]:
    return {
        "on": ["fail", "escalate", "recover"],
        "pagerduty": {"routing_key_env": "ORDERS_PD_KEY", "events_url": url, **target},
        "retries": 0,
    }


def test_an_episode_triggers_once_escalates_and_resolves_under_one_dedup_key(
    pagerduty: StandIn, tmp_path: Path
) -> None:
    contract = orders_contract(
        "orders", [pd_route(pagerduty.url)], escalation={"after_failures": 3}
    )
    runs = [bad_orders(), bad_orders(), bad_orders(), good_orders()]
    with ResultStore(f"sqlite:///{tmp_path / 's.db'}") as store:
        for hour, data in enumerate(runs):
            now = NOW + timedelta(hours=hour)
            context = {"dag_id": "orders_daily", "run_id": f"manual__{hour}", "task_id": "gate"}
            result = validate(contract, data=data, now=now, store=store, context=context)
            report = send_alerts(result, contract, store=store, now=now, links=LINKS)
            assert all(d.ok for d in report.deliveries), (report.deliveries, pagerduty.problems)
    assert pagerduty.problems == []
    opened, escalated, resolved = pagerduty.bodies()
    assert [e["event_action"] for e in (opened, escalated, resolved)] == [
        "trigger",
        "trigger",
        "resolve",
    ]
    keys = {e["dedup_key"] for e in (opened, escalated, resolved)}
    assert len(keys) == 1 and next(iter(keys))  # one PagerDuty alert for the episode
    assert all(e["routing_key"] == ROUTING_KEY for e in (opened, escalated, resolved))
    payload = opened["payload"]
    assert payload["summary"] == "[opsguard] FAIL orders: 3 checks failed"
    assert (payload["severity"], payload["source"], payload["component"]) == (
        "error",
        "airflow-opsguard",
        "orders",
    )
    assert payload["group"] == "orders_daily"
    assert payload["class"] == "data quality"
    checks = payload["custom_details"]["checks"]
    assert "FAIL volume: observed 3, expected >= 5" in checks
    assert any(c.startswith("FAIL unique(order_id): observed 2") for c in checks)
    assert payload["custom_details"]["owner"] == "data-platform@example.com"
    assert [link["text"] for link in opened["links"]] == ["Report", "Runbook"]
    assert opened["links"][0]["href"].startswith("https://airflow.example.com/")
    assert escalated["payload"]["severity"] == "critical"
    assert set(resolved) == {"routing_key", "event_action", "dedup_key"}


def test_the_routing_key_can_come_from_the_providers_connection(
    pagerduty: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("airflow.providers.pagerduty", reason="the pagerduty extra")
    monkeypatch.setenv(
        "AIRFLOW_CONN_OPSGUARD_PD",
        json.dumps({"conn_type": "pagerduty_events", "password": "KEY-FROM-CONNECTION"}),
    )
    route = to_route(
        {
            "on": ["sla_miss"],
            "pagerduty": {"conn_id": "opsguard_pd", "events_url": pagerduty.url},
            "retries": 0,
        }
    )
    assert route.label == "pagerduty opsguard_pd"
    miss = AlertMessage(
        event="sla_miss",
        dataset="orders",
        title="[opsguard] SLA MISSED orders: DAG orders_daily missed its deadline",
        text="",
        run={"dag_id": "orders_daily", "dag_run_id": "scheduled__2026-11-26"},
        checks=({"name": "deadline(orders_daily)", "status": "fail", "observed": "running"},),
    )
    attempt = Deliverer().deliver(route, miss.to_dict())
    assert attempt.ok, attempt.error
    (event,) = pagerduty.bodies()
    assert event["routing_key"] == "KEY-FROM-CONNECTION"
    assert event["dedup_key"] == "opsguard/sla/orders_daily/scheduled__2026-11-26/orders"
    assert event["payload"]["class"] == "sla miss"
    assert pagerduty_problems(event) == []


def test_a_missing_key_or_provider_is_one_line_and_not_retried(
    pagerduty: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = AlertMessage(event="fail", dataset="orders", title="t", text="")
    monkeypatch.delenv("ORDERS_PD_KEY")
    route = to_route({**pd_route(pagerduty.url), "retries": 3, "backoff": 0})
    attempt = Deliverer().deliver(route, message.to_dict())
    assert (attempt.ok, attempt.attempts) == (False, 1)
    assert (
        attempt.error == "environment variable ORDERS_PD_KEY (the PagerDuty routing key) is not set"
    )

    monkeypatch.setitem(sys.modules, "airflow.providers.pagerduty.hooks.pagerduty_events", None)
    by_connection = to_route(
        {"on": ["fail"], "pagerduty": {"conn_id": "x", "events_url": pagerduty.url}}
    )
    attempt = Deliverer().deliver(by_connection, message.to_dict())
    assert (attempt.ok, attempt.attempts) == (False, 1)
    assert attempt.error == (
        "apache-airflow-providers-pagerduty is not installed: "
        "pip install 'airflow-opsguard[pagerduty]'"
    )
    assert pagerduty.received == []


def test_an_events_url_that_is_not_the_events_api_fails_the_delivery(pagerduty: StandIn) -> None:
    route = to_route(pd_route(pagerduty.url + "/wrong"))
    attempt = Deliverer().deliver(route, AlertMessage("fail", "orders", "t", "").to_dict())
    assert (attempt.ok, attempt.error) == (False, "the webhook answered HTTP 404 Not Found")


def test_actions_keys_and_the_summary_limit() -> None:
    target = PagerDutyTarget(routing_key_env="K", severity="warning")
    resolved = AlertMessage(
        event="recover", dataset="orders", title="t", text="", incident_key="orders/fail/1"
    )
    assert (event_action(resolved), dedup_key(resolved)) == ("resolve", "orders/fail/1")
    long = AlertMessage(event="fail", dataset="orders", title="x" * 2000, text="")
    event = pagerduty_event(long, target, "KEY")
    assert pagerduty_problems(event) == []
    assert len(event["payload"]["summary"]) == 1024
    assert event["payload"]["severity"] == "warning"  # the route's, when it says
    assert event["dedup_key"] == "opsguard/orders/fail"  # no incident: the dataset's episode


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{}", "give exactly one of conn_id and routing_key_env"),
        ("{conn_id: pd, routing_key_env: K}", "give exactly one of conn_id and routing_key_env"),
        ("{routing_key_env: K, severity: high}", "alerts[0].pagerduty.severity"),
        ("{routing_key_env: 'not a name'}", "alerts[0].pagerduty.routing_key_env"),
        ("{routing_key_env: K, events_url: 'ftp://x'}", "events_url is an http:// or https://"),
        ("{routing_key_env: K, color: red}", "alerts[0].pagerduty.color"),
    ],
)
def test_a_bad_pagerduty_route_is_a_contract_error_with_its_line(
    tmp_path: Path, target: str, message: str
) -> None:
    path = tmp_path / "orders.yml"
    path.write_text(f"dataset: orders\nalerts:\n  - on: [fail]\n    pagerduty: {target}\n")
    with pytest.raises(ContractError) as caught:
        load_contract(str(path))
    assert "orders.yml:4" in str(caught.value) or "orders.yml:3" in str(caught.value)
    assert message in str(caught.value)
