"""Incidents in the dashboard through Airflow's real API app: an incident's member
checks and key, and the mean times to detect, acknowledge and resolve (MTTD, MTTA,
MTTR) per dataset and overall over a window, in the JSON API and on the incidents
page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from conftest import airflow_client, token
from data import NOW, seed

from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.incidents import IncidentStore

API = "/opsguard/api/v1"


@pytest.fixture(scope="module")
def client(airflow_home: Any) -> Iterator[Any]:
    with airflow_client() as client:
        yield client


@pytest.fixture(scope="module")
def tokens(client: Any) -> dict[str, str]:
    return {name: token(client, name) for name in ("reader", "editor")}


@pytest.fixture
def ids(store_url: str) -> dict[str, str]:
    found = seed(store_url)
    with ResultStore(store_url) as store:  # someone acknowledged the open one after 2h
        IncidentStore(store).acknowledge(
            int(found["incident:unique(order_id)"]), "editor", NOW + timedelta(hours=2)
        )
    return found


def get(client: Any, path: str, who: str, tokens: dict[str, str], **params: Any) -> Any:
    return client.get(API + path, headers={"Authorization": f"Bearer {tokens[who]}"}, params=params)


def test_incidents_carry_their_key_and_member_checks(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    (item,) = get(client, "/incidents", "reader", tokens).json()["items"]
    assert item["incident_key"] == f"opsguard-incident-{item['id']}"  # stored before keys
    (member,) = item["members"]
    assert (member["name"], member["status"], member["consequence_of"]) == (
        "unique(order_id)",
        "fail",
        None,
    )


def test_mean_times_per_dataset_and_overall_over_a_window(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    until = (NOW + timedelta(days=1)).isoformat()
    stats = get(client, "/incidents/stats", "reader", tokens, days=7, until=until).json()
    overall = stats["overall"]
    assert (overall["incidents"], overall["acknowledged"], overall["resolved"]) == (2, 1, 1)
    assert overall["mttr_seconds"] == 86400.0  # the freshness incident: a day
    assert overall["mtta_seconds"] == 7200.0
    assert overall["mttd_seconds"] is None  # the seeded incidents know no data time
    assert [d["dataset"] for d in stats["datasets"]] == ["orders"]
    assert stats["datasets"][0]["mttr_seconds"] == 86400.0
    assert stats["since"].startswith("2026-11-20T09:00:00")
    # A window that ends before the resolved incident opened holds nothing.
    early = get(client, "/incidents/stats", "reader", tokens, days=1, until="2026-11-21T00:00:00Z")
    assert early.json()["overall"]["incidents"] == 0 and early.json()["datasets"] == []
    assert get(client, "/incidents/stats", "reader", tokens, days=0).status_code == 422


def test_the_incidents_page_shows_the_mean_times_and_the_members(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    client.cookies.set("_token", tokens["reader"])
    try:
        html = client.get("/opsguard/incidents", params={"state": "all", "days": 3650}).text
    finally:
        client.cookies.clear()
    assert "Mean times, last 3650 days" in html
    assert '<th title="Mean time to resolve">MTTR</th>' in html
    row = html[html.index("All datasets") :]
    assert "<td>1d</td>" in row[: row.index("</tr>")]  # MTTR
    assert "<td>2h</td>" in row[: row.index("</tr>")]  # MTTA
