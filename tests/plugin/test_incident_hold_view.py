"""A flapping, recovering incident as the dashboard shows it: the JSON API carries
``recovering``, ``passing_runs`` and ``flapping``, and the incidents page marks them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from conftest import airflow_client, token

from airflow_opsguard.pipeline import run_gate
from airflow_opsguard.store import ResultStore

DAY0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
FAILING_DAYS = (1, 3, 5)  # fails, passes, fails, ...: the third start marks it flapping

CONTRACT = {
    "dataset": "payments",
    "schema": {"columns": [{"name": "amount", "type": "float", "min": 0}]},
    "resolution": {"after_passes": 2},
    "alerts": [{"on": ["fail"], "log": True}],
}


@pytest.fixture(scope="module")
def client(airflow_home: Any) -> Iterator[Any]:
    with airflow_client() as client:
        yield client


@pytest.fixture
def flapping(store_url: str) -> None:
    with ResultStore(store_url) as store:
        for day in range(7):  # ends on a passing day: open, recovering
            moment = DAY0 + timedelta(days=day)
            amount = -1.0 if day in FAILING_DAYS else 1.0
            run_gate(
                CONTRACT,
                data=pd.DataFrame({"amount": [amount, 2.0]}),
                now=moment,
                store=store,
                identity={
                    "dag_id": "orders_dag",
                    "run_id": f"scheduled__{moment.date()}",
                    "task_id": "gate",
                    "map_index": -1,
                    "try_number": 1,
                },
                alert=True,
                incident_time=moment,
            )


def test_a_recovering_flapping_incident_in_the_api_and_on_the_page(
    client: Any, flapping: None
) -> None:
    reader = token(client, "reader")
    listed = client.get(
        "/opsguard/api/v1/incidents",
        headers={"Authorization": f"Bearer {reader}"},
        params={"state": "all"},
    ).json()["items"]
    (incident,) = listed
    assert (incident["status"], incident["recovering"], incident["passing_runs"]) == (
        "open",
        True,
        1,
    )
    assert incident["flapping"] is True
    client.cookies.set("_token", reader)
    try:
        html = client.get("/opsguard/incidents", params={"state": "all"}).text
    finally:
        client.cookies.clear()
    assert "recovering (1 passing)" in html
    assert '<span class="badge i-flapping"' in html
