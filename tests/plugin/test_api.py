"""The JSON API through Airflow's real API app and SimpleAuthManager: who may see and
change what, the shapes of the answers, and pagination."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import airflow_client, token, user_of
from data import quarantine_batches, seed

from airflow_opsguard.plugin.models import DatasetOverview, Page, RunReport

API = "/opsguard/api/v1"


@pytest.fixture(scope="module")
def client(airflow_home: Any) -> Iterator[Any]:
    with airflow_client() as client:
        yield client


@pytest.fixture(scope="module")
def tokens(client: Any) -> dict[str, str]:
    return {name: token(client, name) for name in ("admin", "reader", "editor")}


@pytest.fixture
def ids(store_url: str) -> dict[str, str]:
    return seed(store_url)


def get(client: Any, path: str, who: str | None, tokens: dict[str, str], **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
    return client.get(API + path, headers=headers, params=params)


@pytest.mark.parametrize(
    "path",
    ["/datasets", "/datasets/orders", "/runs", "/incidents", "/openapi.json", "/runs/x"],
)
def test_every_route_needs_a_signed_in_user(client: Any, ids: dict[str, str], path: str) -> None:
    assert client.get(API + path).status_code == 401
    bad = client.get(API + path, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code in (401, 403)


def test_pages_send_an_anonymous_browser_to_the_login(client: Any, ids: dict[str, str]) -> None:
    response = client.get("/opsguard/datasets/orders", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/login?next=/opsguard/datasets/orders"
    assert client.get("/opsguard/static/opsguard.css").status_code == 200


def test_overview_lists_every_dataset_with_its_latest_verdict(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    response = get(client, "/datasets", "reader", tokens)
    assert response.status_code == 200
    body = response.json()
    Page[DatasetOverview].model_validate(body)  # the documented model, strictly
    assert body["total"] == 3 and body["limit"] == 50 and body["offset"] == 0
    by_name = {d["dataset"]: d for d in body["items"]}
    assert list(by_name) == ["adhoc", "orders", "payments"]
    orders = by_name["orders"]
    assert orders["status"] == "fail"
    assert orders["last_run_id"] == ids["orders-26"]
    assert orders["dag_id"] == "orders_dag" and orders["task_id"] == "gate"
    assert orders["open_incidents"] == 1
    assert [v["status"] for v in orders["recent"]] == [
        "pass", "pass", "fail", "pass", "pass", "pass", "fail"
    ]  # fmt: skip
    assert orders["data_newest"].startswith("2026-11-23T09:00:00")
    assert orders["freshness_lag_seconds"] >= 3 * 86400
    assert by_name["payments"]["open_incidents"] == 0


def test_lists_are_paginated(client: Any, tokens: dict[str, str], ids: dict[str, str]) -> None:
    first = get(client, "/runs", "reader", tokens, dataset="orders", limit=3).json()
    second = get(client, "/runs", "reader", tokens, dataset="orders", limit=3, offset=3).json()
    last = get(client, "/runs", "reader", tokens, dataset="orders", limit=3, offset=6).json()
    assert first["total"] == second["total"] == last["total"] == 7
    seen = [r["run_id"] for page in (first, second, last) for r in page["items"]]
    assert seen == [ids[f"orders-{day}"] for day in range(26, 19, -1)]
    datasets = get(client, "/datasets", "reader", tokens, limit=2, offset=2).json()
    assert [d["dataset"] for d in datasets["items"]] == ["payments"]
    assert get(client, "/runs", "reader", tokens, limit=0).status_code == 422
    assert get(client, "/runs", "reader", tokens, status="fail").json()["total"] == 2


def test_run_report_has_every_check_with_samples(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    report = get(client, f"/runs/{ids['orders-26']}", "reader", tokens).json()
    RunReport.model_validate(report)
    assert report["status"] == "fail" and report["dataset"] == "orders"
    assert report["dag_id"] == "orders_dag" and report["try_number"] == 1
    assert report["dag_run_id"] == "scheduled__2026-11-26T00:00:00+00:00"
    checks = {c["name"]: c for c in report["checks"]}
    assert set(checks) == {"freshness(created_at)", "unique(order_id)", "distribution(amount)"}
    unique = checks["unique(order_id)"]
    assert (unique["observed"], unique["expected"], unique["failing_count"]) == (3, 0, 3)
    assert unique["samples"] == ["<script>alert(1)</script>", 17, 42]
    assert report["metrics"]["rows"] == 1000.0
    assert get(client, "/runs/no-such-run", "reader", tokens).status_code == 404


def test_dataset_detail_has_versions_and_series(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    detail = get(client, "/datasets/orders", "reader", tokens).json()
    assert detail["runs"] == 7 and detail["status"] == "fail"
    versions = {v["fingerprint"]: v["runs"] for v in detail["contract_versions"]}
    assert versions == {"sha256:" + "b" * 40: 3, "sha256:" + "a" * 40: 4}
    series = {s["name"]: s for s in detail["checks"]}
    drift = [p["value"] for p in series["distribution(amount)"]["points"]]
    assert drift == [0.04, 0.04, 0.31, 0.04, 0.04, 0.04, 0.31]
    metrics = {s["name"]: s for s in detail["metrics"]}
    assert [p["value"] for p in metrics["rows"]["points"]] == [1000.0] * 7
    assert get(client, "/datasets/nothing", "reader", tokens).status_code == 404


def test_task_report_finds_the_latest_attempt(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    params = {
        "dag_id": "orders_dag",
        "dag_run_id": "scheduled__2026-11-22T00:00:00+00:00",
        "task_id": "gate",
    }
    report = get(client, "/task-report", "reader", tokens, **params)
    assert report.status_code == 200
    assert report.json()["run_id"] == ids["orders-22"]
    missing = get(client, "/task-report", "reader", tokens, **{**params, "task_id": "other"})
    assert missing.status_code == 404


def test_incidents_open_and_resolved(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    open_ = get(client, "/incidents", "reader", tokens).json()
    assert [i["check"] for i in open_["items"]] == ["unique(order_id)"]
    assert open_["items"][0]["time_to_resolve_seconds"] is None
    resolved = get(client, "/incidents", "reader", tokens, state="resolved").json()
    assert resolved["items"][0]["time_to_resolve_seconds"] == 86400.0
    assert get(client, "/incidents", "reader", tokens, state="all").json()["total"] == 2


def test_changing_an_incident_needs_edit_access(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    path = f"{API}/incidents/{ids['incident:unique(order_id)']}/acknowledge"
    assert client.post(path).status_code == 401
    viewer = client.post(path, headers={"Authorization": f"Bearer {tokens['reader']}"})
    assert viewer.status_code == 403
    editor = client.post(path, headers={"Authorization": f"Bearer {tokens['editor']}"})
    assert editor.status_code == 200
    assert editor.json()["status"] == "acknowledged"
    assert editor.json()["acknowledged_by"] == "editor"
    missing = client.post(
        f"{API}/incidents/9999/resolve", headers={"Authorization": f"Bearer {tokens['admin']}"}
    )
    assert missing.status_code == 404


def test_cookie_posts_need_a_csrf_token(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    from airflow_opsguard.plugin.auth import CSRF_HEADER, csrf_token

    path = f"{API}/incidents/{ids['incident:unique(order_id)']}/resolve"
    client.cookies.set("_token", tokens["editor"])
    try:
        assert client.post(path).status_code == 403  # the cookie alone: a forged request?
        assert client.post(path, headers={CSRF_HEADER: "1.forged"}).status_code == 403
        good = {CSRF_HEADER: csrf_token(user_of(tokens["editor"]))}
        cross = client.post(path, headers={**good, "Origin": "https://evil.example"})
        assert cross.status_code == 403
        done = client.post(path, headers=good)
        assert done.status_code == 200 and done.json()["status"] == "resolved"
    finally:
        client.cookies.clear()


def test_openapi_document_describes_the_api(client: Any, tokens: dict[str, str]) -> None:
    document = get(client, "/openapi.json", "reader", tokens).json()
    paths = document["paths"]
    assert {"/api/v1/datasets", "/api/v1/runs/{run_id}", "/api/v1/incidents"} <= set(paths)
    schema = paths["/api/v1/datasets"]["get"]["responses"]["200"]["content"]
    assert schema["application/json"]["schema"]["$ref"].endswith("Page_DatasetOverview_")
    assert "RunReport" in document["components"]["schemas"]
    assert not any(p.startswith("/datasets") for p in paths)  # pages are not API


@pytest.fixture
def held(store_url: str, tmp_path: Any) -> dict[str, Any]:
    return quarantine_batches(store_url, tmp_path)


def post(client: Any, path: str, who: str, tokens: dict[str, str], body: Any) -> Any:
    headers = {"Authorization": f"Bearer {tokens[who]}"}
    return client.post(API + path, headers=headers, json=body)


def test_quarantine_lists_what_awaits_review(
    client: Any, tokens: dict[str, str], held: dict[str, Any]
) -> None:
    page = get(client, "/quarantine", "reader", tokens).json()
    assert page["total"] == 2
    assert [b["batch_id"] for b in page["items"]] == ["batch-26", "batch-25"]
    batch = page["items"][0]
    assert batch["status"] == "quarantined" and batch["kind"] == "file"
    assert batch["dag_id"] == "orders_dag" and batch["rows"] == 3
    assert [r["check"] for r in batch["reasons"]] == ["range(amount)"]
    assert "details" not in batch  # internal: the contract, the moved files
    one = get(client, "/quarantine/batch-25", "reader", tokens).json()
    assert one["location"] == held["batch-25"]["location"]
    assert get(client, "/quarantine", "reader", tokens, status="released").json()["total"] == 0


def test_release_checks_again_and_needs_edit_access(
    client: Any, tokens: dict[str, str], held: dict[str, Any]
) -> None:
    from data import orders_frame

    assert post(client, "/quarantine/batch-26/release", "reader", tokens, {}).status_code == 403
    refused = post(client, "/quarantine/batch-26/release", "editor", tokens, {})
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert detail["message"].startswith("release refused: ")
    recheck = get(client, f"/runs/{detail['run_id']}", "reader", tokens).json()
    assert recheck["status"] == "fail"  # the re-check's verdict is stored, with its report
    assert not held["batch-26"]["data"].exists()  # still held
    # The reviewer repairs the held file; the release checks it again and publishes it.
    location = Path(held["batch-26"]["location"]) / "data" / "orders-26.parquet"
    orders_frame(bad=False).to_parquet(location)
    done = post(client, "/quarantine/batch-26/release", "editor", tokens, {"reason": "fixed"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "released" and body["reviewed_by"] == "editor"
    assert body["review_reason"] == "fixed" and body["review_run_id"]
    assert body["forced"] is False
    assert held["batch-26"]["data"].exists()  # back where it came from
    again = post(client, "/quarantine/batch-26/release", "editor", tokens, {})
    assert again.status_code == 409


def test_drop_deletes_the_held_data(
    client: Any, tokens: dict[str, str], held: dict[str, Any]
) -> None:
    assert post(client, "/quarantine/batch-25/drop", "reader", tokens, {}).status_code == 403
    dropped = post(client, "/quarantine/batch-25/drop", "admin", tokens, {"reason": "junk"})
    assert dropped.status_code == 200
    assert dropped.json()["status"] == "dropped" and dropped.json()["reviewed_by"] == "admin"
    assert not (Path(held["batch-25"]["location"]) / "data" / "orders-25.parquet").exists()
    assert post(client, "/quarantine/nope/drop", "admin", tokens, {}).status_code == 404


def test_a_batch_read_through_a_connection_is_previewed_and_released_through_it(
    client: Any,
    tokens: dict[str, str],
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dashboard reaches a batch's data as the gate did: through the Airflow
    connection its contract names (a staging table here), not only by URL."""
    import json
    import re

    import sqlalchemy as sa
    from data import HELD_CONTRACT, identity, orders_frame

    from airflow_opsguard.connections import engine_for_conn_id
    from airflow_opsguard.pipeline import run_gate
    from airflow_opsguard.store import ResultStore

    database = tmp_path / "staging.db"
    engine = sa.create_engine(f"sqlite:///{database}")
    orders_frame(bad=True).to_sql("staging_orders", engine, index=False)
    connection = {"conn_type": "sqlite", "host": str(database)}
    monkeypatch.setenv("AIRFLOW_CONN_OPSGUARD_STAGING_DB", json.dumps(connection))
    contract = {
        **HELD_CONTRACT,
        "source": {"conn_id": "opsguard_staging_db", "table": "staging_orders"},
    }
    with ResultStore(store_url) as store:
        run = run_gate(
            contract,
            batch_id="batch-db",
            store=store,
            identity=identity("orders_dag", 27, task_id="landing_gate"),
            act=True,
            connections=engine_for_conn_id,
        )
    assert run.settlement is not None and run.settlement.action == "quarantined"
    assert run.result is not None

    def staged() -> list[int]:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT order_id FROM staging_orders"))
            return sorted(r[0] for r in rows)

    assert staged() == []  # set aside, into staging_orders_quarantine
    client.cookies.set("_token", tokens["reader"])
    try:
        page = client.get(f"/opsguard/runs/{run.result.run_id}")
    finally:
        client.cookies.clear()
    assert page.status_code == 200
    assert "No preview:" not in page.text and 'class="preview"' in page.text
    monkeypatch.delenv("AIRFLOW_CONN_OPSGUARD_STAGING_DB")  # a connection gone meanwhile
    unreachable = post(client, "/quarantine/batch-db/release", "editor", tokens, {"force": True})
    assert unreachable.status_code == 502
    assert "opsguard_staging_db" in unreachable.json()["detail"]
    client.cookies.set("_token", tokens["editor"])  # the same through the page's form
    try:
        html = client.get("/opsguard/quarantine").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert csrf is not None
        form = {"csrf_token": csrf.group(1), "force": "true"}
        path = "/opsguard/quarantine/batch-db/release"
        answered = client.post(path, data=form, follow_redirects=False)
        assert answered.status_code == 303
        assert answered.headers["location"] == "/opsguard/quarantine?unreachable=batch-db"
        notice = client.get(answered.headers["location"]).text
        assert "Could not reach the data of batch-db" in notice
    finally:
        client.cookies.clear()
    assert staged() == []  # still held
    monkeypatch.setenv("AIRFLOW_CONN_OPSGUARD_STAGING_DB", json.dumps(connection))
    released = post(client, "/quarantine/batch-db/release", "editor", tokens, {"force": True})
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert staged() == [1, 2, 3]  # back where the gate found them
    engine.dispose()
