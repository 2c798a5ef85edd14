"""Teams routes: an Adaptive Card posted to a local stand-in of a Teams workflow
webhook, which takes a message with one Adaptive Card attachment and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_helpers import NOW, bad_orders, orders_contract
from service_standins import StandIn, serve, teams_check, teams_problems

from airflow_opsguard import validate
from airflow_opsguard.alerts import send_alerts
from airflow_opsguard.alerts.delivery import Deliverer
from airflow_opsguard.alerts.messages import AlertMessage, LinkSettings
from airflow_opsguard.alerts.routes import to_route
from airflow_opsguard.alerts.teams import adaptive_card, escape_markdown, teams_payload
from airflow_opsguard.errors import ContractError
from airflow_opsguard.formats import load_contract
from airflow_opsguard.store import ResultStore

SECRET_PATH = "/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t"


@pytest.fixture
def teams(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    with serve(teams_check) as standin:
        monkeypatch.setenv("ORDERS_TEAMS_WORKFLOW", standin.url + SECRET_PATH)
        yield standin


def test_a_failing_run_is_one_adaptive_card_with_facts_checks_and_buttons(
    teams: StandIn, tmp_path: Path
) -> None:
    route = {"on": ["fail"], "teams": {"url": "${ORDERS_TEAMS_WORKFLOW}"}, "retries": 0}
    contract = orders_contract("orders", [route])
    context = {"dag_id": "orders_daily", "run_id": "manual__1", "task_id": "gate"}
    links = LinkSettings(base_url="https://airflow.example.com")
    with ResultStore(f"sqlite:///{tmp_path / 's.db'}") as store:
        result = validate(contract, data=bad_orders(), now=NOW, store=store, context=context)
        report = send_alerts(result, contract, store=store, now=NOW, links=links)
    assert all(d.ok for d in report.deliveries), (report.deliveries, teams.problems)
    assert report.deliveries[0].route == "teams ${ORDERS_TEAMS_WORKFLOW}"
    assert teams.problems == []
    (post,) = teams.received
    assert post.path == SECRET_PATH
    (attachment,) = post.body["attachments"]
    card = attachment["content"]
    title, facts, checks = card["body"][:3]
    assert title["text"] == "\\[opsguard\\] FAIL orders: 3 checks failed"
    assert title["color"] == "Attention"
    assert {f["title"]: f["value"] for f in facts["facts"]}["Where"] == (
        "orders\\_daily / manual\\_\\_1 / gate"
    )
    lines = [item["text"] for item in checks["items"]]
    volume = "**FAIL volume**: observed 3, expected >= 5"
    assert any(line.startswith(volume) for line in lines), lines
    assert [a["title"] for a in card["actions"]] == ["Report", "Runbook"]
    assert card["actions"][0]["url"].startswith("https://airflow.example.com/")


def test_text_from_the_data_shows_as_written() -> None:
    message = AlertMessage(
        event="fail",
        dataset="orders",
        title="[opsguard] FAIL orders: 1 check failed",
        text="",
        checks=(
            {
                "name": "expression(total_*_rate)",
                "status": "fail",
                "observed": "[click](https://evil.example.com)",
                "expected": "{{DATE(2017-02-14T06:08:39Z, SHORT)}}",
                "message": "- not a list\n1. nor this",
            },
        ),
        report_url="javascript:alert(1)",
    )
    card = adaptive_card(message)
    assert teams_problems(teams_payload(message)) == []
    (line,) = (item["text"] for item in card["body"][2]["items"])
    assert line == (
        "**FAIL expression(total\\_\\*\\_rate)**: observed \\[click\\](https://evil.example.com), "
        "expected {\u200b{DATE(2017-02-14T06:08:39Z, SHORT)}}  \n\\- not a list\n1\\. nor this"
    )
    assert "actions" not in card  # a report link that is not http(s) is no button
    assert escape_markdown("a*b") == "a\\*b"


def test_a_missing_variable_and_a_refused_card_are_failed_deliveries(
    teams: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = AlertMessage(event="fail", dataset="orders", title="t", text="")
    route = to_route({"on": ["fail"], "teams": {"url": "${NO_SUCH_HOOK}"}, "retries": 2})
    attempt = Deliverer().deliver(route, message.to_dict())
    assert (attempt.ok, attempt.attempts) == (False, 1)
    assert attempt.error == "environment variable NO_SUCH_HOOK (in the Teams route) is not set"

    # The built-in webhook's plain JSON is what a workflow refuses: why Teams has a route.
    plain = to_route({"on": ["fail"], "webhook": "${ORDERS_TEAMS_WORKFLOW}", "retries": 0})
    refused = Deliverer().deliver(plain, message.to_dict())
    assert (refused.ok, refused.error) == (False, "the webhook answered HTTP 400 Bad Request")
    assert "s3cr3t" not in str(refused)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("{url: 'ftp://teams'}", "a Teams workflow url is an http:// or https:// URL"),
        ("{}", "alerts[0].teams.url"),
        ("{url: 'https://x', card: 1}", "alerts[0].teams.card"),
    ],
)
def test_a_bad_teams_route_is_a_contract_error(tmp_path: Path, target: str, message: str) -> None:
    path = tmp_path / "orders.yml"
    path.write_text(f"dataset: orders\nalerts:\n  - on: [fail]\n    teams: {target}\n")
    with pytest.raises(ContractError) as caught:
        load_contract(str(path))
    assert "orders.yml:" in str(caught.value) and message in str(caught.value)
