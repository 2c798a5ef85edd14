"""The dashboard in a real browser: ``airflow api-server`` with results from a real
gate run, headless Chromium signing in through SimpleAuthManager's login page.

Screenshots are kept in test-artifacts/ui/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import pytest
from data import orders_frame, quarantine_batches, seed, shop_runs
from server import (
    ARTIFACTS,
    api_server,
    browser_home,
    chromium,
    run_gate_dag,
    run_quarantine_dag,
)

from airflow_opsguard.runtime import attempt_run_id


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home, env = browser_home(tmp_path_factory, "airflow-ui")
    data = home / "orders.parquet"
    pd.DataFrame({"order_id": [1, 2, 2, 4], "amount": [10.0, 5.0, 7.5, 3.0]}).to_parquet(data)
    gate = run_gate_dag(home, data, env)
    noted = run_quarantine_dag(home, "landing_bad", good=False)  # its run gets a note
    store = f"sqlite:///{home / 'opsguard.db'}"  # the store the gate wrote to
    ids = seed(store)
    held = quarantine_batches(store, home)
    ids.update(shop_runs(store, home))
    with api_server(home, env) as base:
        yield {"base": base, "gate": gate, "ids": ids, "held": held, "noted": noted}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def shot(page: Any, name: str) -> None:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def background(page: Any) -> str:
    return str(page.evaluate("getComputedStyle(document.body).backgroundColor"))


WHITE = "rgb(255, 255, 255)"


def sign_in(page: Any, base: str, path: str, user: str, password: str) -> None:
    """Open a page as a stranger and sign in on Airflow's own login page."""
    page.goto(base + path)
    page.wait_for_url(re.compile(r"/auth/login"))
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + path)


def test_dashboard_in_the_browser(airflow: dict[str, Any], browser: Any) -> None:
    base, gate, ids = airflow["base"], airflow["gate"], airflow["ids"]
    assert gate["state"] == "failed"  # the data has a duplicate order_id
    context = browser.new_context(viewport={"width": 1360, "height": 900}, color_scheme="light")
    page = context.new_page()
    sign_in(page, base, "/opsguard/", "admin", "admin-pass")

    # Overview: the real gate's dataset and the stored ones, with their verdicts.
    assert page.locator("h1").inner_text() == "Datasets"
    rows = page.locator("table.datasets tbody tr")
    assert rows.count() == 7
    assert rows.filter(has_text="demo_orders").locator(".badge").inner_text() == "FAIL"
    assert rows.filter(has_text="payments").locator(".badge").inner_text() == "PASS"
    orders = page.get_by_role("link", name="orders", exact=True)
    assert rows.filter(has=orders).locator(".tick").count() == 7
    shot(page, "overview")

    # The gate task's "Quality report" link, as the task stored it, opens the task's
    # "Data quality" tab inside Airflow's UI.
    link = gate["xcoms"]["_link_QualityReportLink"].strip('"')
    run_path = quote(gate["run_id"], safe="")
    assert link == f"/dags/quality_demo/runs/{run_path}/tasks/gate/plugin/opsguard-task"
    page.goto(base + link)
    tab = page.frame_locator("iframe")
    tab.locator("table.checks").wait_for()
    assert "demo_orders" in tab.locator("h1").inner_text()
    failing = tab.locator("table.checks tr.row-fail")
    assert failing.count() == 1 and "unique(order_id)" in failing.inner_text()
    shot(page, "airflow-report-link")

    # The run report of the same attempt, on its own page.
    identity = {
        "dag_id": "quality_demo",
        "run_id": gate["run_id"],
        "task_id": "gate",
        "map_index": -1,
        "try_number": 1,
    }
    page.goto(f"{base}/opsguard/runs/{attempt_run_id(identity)}")
    assert page.locator("h1").inner_text().split() == ["Run", "report", "FAIL"]
    failing = page.locator("table.checks tr.row-fail")
    assert failing.count() == 1
    assert "unique(order_id)" in failing.inner_text()
    failing.locator("summary").click()
    assert failing.locator("details li").all_inner_texts() == ["2"]
    shot(page, "run-report")

    # A dataset's page: charts over time and contract versions.
    page.goto(f"{base}/opsguard/datasets/orders")
    grid = page.locator("table.status-grid")
    assert grid.locator("tr[data-check] .cell").count() == 3 * 7  # every check, every run
    hover = grid.locator("tr[data-check='unique(order_id)'] a.cell.s-fail").first
    assert "observed 3 · expected 0" in str(hover.get_attribute("title"))
    assert page.locator("svg.chart").count() == 4  # only what moves
    assert page.locator("svg.chart circle.s-fail").count() >= 2
    assert page.locator("svg.chart line.threshold").count() >= 3
    assert "shown as age 0" in page.locator("[data-panel='freshness(created_at)']").inner_text()
    assert page.locator("figure.bars tr").count() == 2  # reference against current
    shot(page, "dataset")

    # Incidents: resolving one is a POST with the page's CSRF token.
    def incident(dataset: str) -> Any:
        by_dataset = page.get_by_role("link", name=dataset, exact=True)
        return page.locator("tbody tr", has_text="unique(order_id)").filter(has=by_dataset)

    page.goto(f"{base}/opsguard/incidents")
    assert incident("demo_orders").count() == 1  # opened by the real gate run
    shot(page, "incidents")
    incident("orders").locator("button", has_text="Resolve").click()
    page.wait_for_url(f"{base}/opsguard/incidents")
    assert incident("orders").count() == 0
    assert incident("demo_orders").count() == 1
    page.goto(f"{base}/opsguard/incidents?state=resolved")
    assert "by admin" in incident("orders").inner_text()
    shot(page, "incidents-resolved")

    # Quarantine: a release checks the data again; refused until the file is repaired.
    held = airflow["held"]
    page.goto(f"{base}/opsguard/quarantine")
    batch = page.locator("tr[data-batch=batch-26]")
    assert "range(amount)" in batch.inner_text()
    shot(page, "quarantine")
    batch.locator("button", has_text="Release").click()
    page.wait_for_url(re.compile(r"/opsguard/quarantine\?refused=batch-26"))
    assert "the data still fails its contract" in page.locator(".notice").inner_text()
    shot(page, "quarantine-refused")
    repaired = Path(held["batch-26"]["location"]) / "data" / "orders-26.parquet"
    orders_frame(bad=False).to_parquet(repaired)
    batch = page.locator("tr[data-batch=batch-26]")
    batch.locator("form[action$='/release'] input[name=reason]").fill("repaired the amounts")
    batch.locator("button", has_text="Release").click()
    page.wait_for_url(f"{base}/opsguard/quarantine")
    assert page.locator("tr[data-batch=batch-26]").count() == 0
    assert held["batch-26"]["data"].exists()  # published where it came from
    # Dropping deletes the data: it takes opening "Drop…", a reason and a confirmation.
    doomed = page.locator("tr[data-batch=batch-25]")
    doomed.locator("summary", has_text="Drop").click()
    doomed.locator("button", has_text="Drop").click()  # refused by the browser: no reason
    assert page.url.endswith("/opsguard/quarantine")
    assert doomed.count() == 1
    doomed.locator("form[action$='/drop'] input[name=reason]").fill("duplicate delivery")
    doomed.locator("input[name=confirm]").check()
    doomed.locator("button", has_text="Drop").click()
    page.wait_for_url(f"{base}/opsguard/quarantine")
    page.goto(f"{base}/opsguard/quarantine?status=all")
    assert "released by admin" in page.locator("tr[data-batch=batch-26]").inner_text()
    assert "dropped by admin" in page.locator("tr[data-batch=batch-25]").inner_text()
    shot(page, "quarantine-reviewed")

    # "Data quality" in Airflow's navigation opens the overview inside Airflow's UI.
    page.goto(f"{base}/")
    # The nav icon is served by the plugin and loads (polled until it has, or time out).
    page.wait_for_function(
        "() => [...document.images].some(i => i.src.endsWith('/opsguard/static/icon.svg')"
        " && i.complete && i.naturalWidth > 0)"
    )
    page.get_by_role("link", name="Data quality").click()
    page.wait_for_url(f"{base}/plugin/opsguard")
    page.frame_locator("iframe").locator("table.datasets").wait_for()
    shot(page, "airflow-nav")

    # The task instance's "Data quality" tab inside Airflow's own UI.
    run_id = quote(gate["run_id"], safe="")
    page.goto(f"{base}/dags/quality_demo/runs/{run_id}/tasks/gate/plugin/opsguard-task")
    frame = page.frame_locator("iframe")
    frame.locator("table.checks").wait_for()
    assert "demo_orders" in frame.locator("h1").inner_text()
    shot(page, "airflow-task-tab")

    # Dark theme, from the system's preference when Airflow has no setting.
    dark = browser.new_context(viewport={"width": 1360, "height": 900}, color_scheme="dark")
    dark.add_cookies(context.cookies())
    dark_page = dark.new_page()
    dark_page.goto(f"{base}/opsguard/runs/{ids['orders-26']}")
    assert background(dark_page) != WHITE
    shot(dark_page, "run-report-dark")
    dark.close()
    context.close()


def test_triage_pages_light_and_dark(airflow: dict[str, Any], browser: Any) -> None:
    """The run report, the dataset page, the overview and the quarantine, as on-call
    reads them, in both colour modes; dark is chosen in Airflow, not by the system."""
    base, ids = airflow["base"], airflow["ids"]
    light = browser.new_context(viewport={"width": 1360, "height": 900}, color_scheme="light")
    page = light.new_page()
    sign_in(page, base, "/opsguard/", "admin", "admin-pass")
    rows = page.locator("table.datasets tbody tr")
    assert rows.first.get_attribute("data-dataset") in ("demo_orders", "orders", "shop_orders")
    assert "schema(amount)" in rows.filter(has_text="shop_orders").inner_text()
    shot(page, "overview-light")

    page.goto(f"{base}/opsguard/runs/{ids['shop-3']}")
    assert page.locator("tr.cause-row").inner_text().startswith("Cause: missing column")
    assert page.locator(".marker.m-new").count() == 4
    assert page.locator(".chip[aria-current=true]").inner_text().split() == ["Not", "passed", "5"]
    preview = page.locator("table.preview")
    assert preview.locator("tbody tr").count() == 4
    assert "u1@x.io" not in preview.inner_text() and "•••" in preview.inner_text()
    shot(page, "run-report-triage-light")
    page.locator(".chip.c-pass").click()
    page.wait_for_url(re.compile(r"show=pass$"))
    page.wait_for_load_state()
    assert page.locator("table.checks tbody tr.lead").count() == 2
    page.fill("input[name=q]", "order_id")
    page.locator("form.search button").click()
    page.wait_for_url(re.compile(r"show=pass&q=order_id$"))
    page.wait_for_load_state()
    assert page.locator("table.checks tr[data-check]").all_inner_texts()[0].find("order_id") > 0
    page.goto(f"{base}/opsguard/datasets/shop_orders")
    shot(page, "dataset-light")
    page.goto(f"{base}/opsguard/quarantine")
    shot(page, "quarantine-light")

    # Airflow set to dark on a light system: its pages and ours inside them are dark.
    page.goto(f"{base}/")
    page.evaluate("localStorage.setItem('theme', 'dark')")
    run_path = quote("scheduled__2026-11-23T00:00:00+00:00", safe="")
    page.goto(f"{base}/dags/shop_dag/runs/{run_path}/tasks/gate/plugin/opsguard-task")
    tab = page.frame_locator("iframe")
    tab.locator("tr.cause-row").wait_for()
    assert tab.locator("html").get_attribute("data-theme") == "dark"
    inner = page.frames[-1]
    assert inner.evaluate("getComputedStyle(document.body).backgroundColor") != WHITE
    shot(page, "airflow-task-tab-dark")
    for path, name in (
        ("/opsguard/", "overview-dark"),
        (f"/opsguard/runs/{ids['shop-3']}", "run-report-triage-dark"),
        ("/opsguard/datasets/orders", "dataset-dark"),
        ("/opsguard/quarantine", "quarantine-dark"),
    ):
        page.goto(base + path)
        assert page.locator("html").get_attribute("data-theme") == "dark"
        assert background(page) != WHITE
        shot(page, name)
    # A run whose data was quarantined: green in Airflow, and its note says why.
    noted = airflow["noted"]
    assert noted["state"] == "success" and "1 batch quarantined" in noted["note"]
    page.evaluate("localStorage.setItem('theme', 'light')")
    page.goto(f"{base}/dags/landing_bad/runs/{quote(noted['run_id'], safe='')}")
    page.get_by_text("Data quality: 1 batch quarantined").first.wait_for()
    shot(page, "airflow-run-note")
    # Back to light in Airflow: the same system, light pages.
    page.evaluate("localStorage.setItem('theme', 'light')")
    page.goto(f"{base}/opsguard/")
    assert background(page) == WHITE
    light.close()


def test_a_viewer_sees_no_actions_and_cannot_post(airflow: dict[str, Any], browser: Any) -> None:
    base = airflow["base"]
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "/opsguard/incidents?state=all", "reader", "reader-pass")
    assert page.locator("tbody tr").count() >= 1
    assert page.locator("button").count() == 0
    answer = page.request.post(f"{base}/opsguard/api/v1/incidents/1/resolve")
    assert answer.status == 403  # the cookie alone is not enough to change anything
    context.close()
