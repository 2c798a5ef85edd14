"""Results are filtered by the DAGs a user may read, as the auth manager says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import airflow_client, token
from data import seed

API = "/opsguard/api/v1"


@pytest.fixture(scope="module")
def client(airflow_home: Any) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__CORE__AUTH_MANAGER", "scoped_auth.ScopedAuthManager")
        with airflow_client() as client:
            yield client
            # The next module's app must not inherit this auth manager.
            from airflow.api_fastapi.app import purge_cached_app

            purge_cached_app()


@pytest.fixture
def headers(client: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(client, 'orders_reader')}"}


@pytest.fixture
def ids(store_url: str) -> dict[str, str]:
    return seed(store_url)


def test_lists_hold_only_readable_dags(
    client: Any, headers: dict[str, str], ids: dict[str, str]
) -> None:
    datasets = client.get(f"{API}/datasets", headers=headers).json()
    # payments_dag is not readable; the CLI's "adhoc" result needs access to all DAGs.
    assert [d["dataset"] for d in datasets["items"]] == ["orders"]
    assert datasets["total"] == 1
    runs = client.get(f"{API}/runs", headers=headers).json()
    assert runs["total"] == 7 and {r["dag_id"] for r in runs["items"]} == {"orders_dag"}
    hidden = client.get(f"{API}/runs", headers=headers, params={"dataset": "payments"}).json()
    assert hidden == {"items": [], "total": 0, "limit": 50, "offset": 0}


def test_objects_of_other_dags_are_forbidden(
    client: Any, headers: dict[str, str], ids: dict[str, str]
) -> None:
    assert client.get(f"{API}/runs/{ids['orders-26']}", headers=headers).status_code == 200
    assert client.get(f"{API}/runs/{ids['payments-26']}", headers=headers).status_code == 403
    assert client.get(f"{API}/runs/{ids['cli']}", headers=headers).status_code == 403
    assert client.get(f"{API}/datasets/payments", headers=headers).status_code == 403
    task = {"dag_id": "payments_dag", "dag_run_id": "x", "task_id": "gate"}
    assert client.get(f"{API}/task-report", headers=headers, params=task).status_code == 403
    overview = client.get("/opsguard/", headers=headers)
    assert overview.status_code == 200
    assert "payments" not in overview.text and "adhoc" not in overview.text
    assert "MTTR" not in overview.text  # the store's mean times span every DAG
    # The run report compares with the previous run the user may see, never another DAG's.
    report = client.get(f"/opsguard/runs/{ids['orders-26']}", headers=headers)
    assert report.status_code == 200 and "previous run" in report.text


def test_reading_a_dag_is_not_editing_it(
    client: Any, headers: dict[str, str], ids: dict[str, str]
) -> None:
    path = f"{API}/incidents/{ids['incident:unique(order_id)']}/resolve"
    assert client.post(path, headers=headers).status_code == 403
