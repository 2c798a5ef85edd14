"""The HTML pages through Airflow's real API app: what they show, escaping, the
forms' CSRF tokens, and the headers that keep them safe inside Airflow's UI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from conftest import airflow_client, token
from data import seed


@pytest.fixture(scope="module")
def client(airflow_home: Any) -> Iterator[Any]:
    with airflow_client() as client:
        yield client


@pytest.fixture(scope="module")
def tokens(client: Any) -> dict[str, str]:
    return {name: token(client, name) for name in ("reader", "editor")}


@pytest.fixture
def ids(store_url: str) -> dict[str, str]:
    return seed(store_url)


def page(client: Any, path: str, who: str, tokens: dict[str, str]) -> Any:
    client.cookies.set("_token", tokens[who])  # as the browser sends it
    try:
        return client.get("/opsguard" + path)
    finally:
        client.cookies.clear()


def test_overview_shows_datasets_strips_and_incidents(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    response = page(client, "/", "reader", tokens)
    assert response.status_code == 200
    html = response.text
    assert "<h1>Datasets</h1>" in html
    for name in ("orders", "payments", "adhoc"):
        assert f'href="/opsguard/datasets/{name}"' in html
    assert html.count('class="tick s-fail"') == 2  # orders failed twice this week
    assert f'href="/opsguard/runs/{ids["orders-26"]}"' in html
    assert 'href="/dags/orders_dag" target="_top"' in html  # back into Airflow's UI
    headers = response.headers
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    policy = headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert '<script src="/opsguard/static/theme.js"></script>' in html  # our one script
    assert headers["x-content-type-options"] == "nosniff"


def test_run_report_escapes_what_the_data_holds(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    html = page(client, f"/runs/{ids['orders-26']}", "reader", tokens).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "3 duplicate order_id values" in html
    assert "Failing samples (3)" in html
    assert 'class="badge s-fail"' in html


def test_dataset_page_draws_charts_and_versions(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    html = page(client, "/datasets/orders", "reader", tokens).text
    # Charts only for what moves: three checks and the null fraction; rows never vary.
    assert html.count('<svg class="chart"') == 3 + 1
    assert 'data-panel="rows"' not in html
    assert "sha256:bbbbbbbbb" in html and "current" in html
    assert re.search(r'<polyline class="line" points="[\d., ]+"/>', html)
    missing = page(client, "/datasets/none", "reader", tokens)
    assert missing.status_code == 404 and "Not found" in missing.text


def test_task_tab_shows_the_gate_verdict_or_says_there_is_none(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    # As Airflow's UI fills in the tab's href: encodeURIComponent, "+" as %2B.
    run = quote("scheduled__2026-11-26T00:00:00+00:00", safe="")
    tab = page(
        client, f"/task?dag_id=orders_dag&run_id={run}&task_id=gate&map_index=-1", "reader", tokens
    )
    assert tab.status_code == 200
    assert 'class="topbar"' not in tab.text  # inside Airflow's task page: no own navigation
    assert "unique(order_id)" in tab.text
    other = page(client, f"/task?dag_id=orders_dag&run_id={run}&task_id=train", "reader", tokens)
    assert "No verdict stored for this task" in other.text


def test_only_editors_get_incident_forms_and_they_need_the_token(
    client: Any, tokens: dict[str, str], ids: dict[str, str]
) -> None:
    assert "Resolve</button>" not in page(client, "/incidents", "reader", tokens).text
    html = page(client, "/incidents", "editor", tokens).text
    incident = ids["incident:unique(order_id)"]
    action = f'action="/opsguard/incidents/{incident}/resolve"'
    assert action in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert csrf is not None
    client.cookies.set("_token", tokens["editor"])
    try:
        path = f"/opsguard/incidents/{incident}/resolve"
        forged = client.post(path, data={"csrf_token": "0.bad"}, follow_redirects=False)
        assert forged.status_code == 403
        done = client.post(path, data={"csrf_token": csrf.group(1)}, follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"] == "/opsguard/incidents"
    finally:
        client.cookies.clear()
    resolved = page(client, "/incidents?state=resolved", "reader", tokens).text
    assert "by editor" in resolved


def test_quarantine_page_reviews_with_a_form(
    client: Any, tokens: dict[str, str], store_url: str, tmp_path: Any
) -> None:
    from data import quarantine_batches

    quarantine_batches(store_url, tmp_path)
    assert "Release</button>" not in page(client, "/quarantine", "reader", tokens).text
    html = page(client, "/quarantine", "editor", tokens).text
    assert html.count("Release</button>") == 2 and html.count("Drop</button>") == 2
    assert "range(amount)" in html
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert csrf is not None
    client.cookies.set("_token", tokens["editor"])
    try:
        path = "/opsguard/quarantine/batch-26/release"
        refused = client.post(path, data={"csrf_token": csrf.group(1)}, follow_redirects=False)
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/opsguard/quarantine?refused=batch-26")
        notice = client.get(refused.headers["location"]).text
        assert "refused" in notice and "See the re-check" in notice
        form = {"csrf_token": csrf.group(1), "force": "true", "reason": "<b>reviewed</b>"}
        forced = client.post(path, data=form, follow_redirects=False)
        assert forced.status_code == 303 and forced.headers["location"] == "/opsguard/quarantine"
    finally:
        client.cookies.clear()
    released = page(client, "/quarantine?status=released", "reader", tokens).text
    assert "released by editor" in released and "without re-check" in released
    assert "&lt;b&gt;reviewed&lt;/b&gt;" in released


def test_overview_puts_failing_datasets_first_with_what_fails(
    client: Any, tokens: dict[str, str], ids: dict[str, str], store_url: str, tmp_path: Any
) -> None:
    from data import quarantine_batches

    quarantine_batches(store_url, tmp_path)
    html = page(client, "/", "reader", tokens).text
    order = [html.index(f'data-dataset="{name}"') for name in ("orders", "orders_landing")]
    assert order[0] < html.index('data-dataset="adhoc"') < html.index('data-dataset="payments"')
    assert order[1] < html.index('data-dataset="adhoc"')
    orders = html[order[0] : html.index("</tr>", order[0])]
    assert "freshness(created_at)" in orders and "unique(order_id)" in orders
    assert "71%" in orders  # 5 of the last 7 passed
    assert "1 open incident" in orders
    assert "2 quarantined" in html
    assert (
        '<span class="label">Awaiting review</span><span class="big s-text-warn">2</span>' in html
    )
    assert "MTTR · 30d" in html  # a viewer of every DAG sees the store's mean times


def test_quarantine_filters_by_dataset_and_shows_the_whole_location(
    client: Any, tokens: dict[str, str], store_url: str, tmp_path: Any
) -> None:
    from data import quarantine_batches

    held = quarantine_batches(store_url, tmp_path)
    html = page(client, "/quarantine?dataset=orders_landing", "reader", tokens).text
    assert html.count('<tr id="batch-') == 2
    for batch in held.values():
        assert f'<div class="muted small mono location">{batch["location"]}</div>' in html
    assert "Verdict and first rows" in html
    assert 'value="orders_landing"' in html  # the filter keeps its value
    assert "status=all&amp;dataset=orders_landing" in html  # and the tabs keep it
    other = page(client, "/quarantine?dataset=<b>nope</b>", "reader", tokens).text
    assert "&lt;b&gt;nope&lt;/b&gt;: nothing awaiting review" in other
