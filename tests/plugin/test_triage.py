"""The run report for on-call: failures first, grouped by cause, marked against the
previous run, filtered by status chips and searched; the held batch with its first
rows, sensitive values withheld. Pure grouping first, then the pages over real runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import airflow_client, token
from data import shop_runs

from airflow_opsguard.plugin.models import CheckOut
from airflow_opsguard.plugin.triage import group_by_cause, mark_changes, triage


def check(name: str, status: str, column: str | None = None, **more: Any) -> CheckOut:
    values: dict[str, Any] = {
        "name": name,
        "type": name.split("(")[0],
        "column": column,
        "status": status,
        "severity": "fail",
        "observed": None,
        "expected": None,
        "message": "",
        "failing_count": None,
        "failing_fraction": None,
        "samples": [],
        "mostly": None,
        "metrics": {},
        "would_be": None,
    }
    return CheckOut.model_validate({**values, **more})


RENAMED = [
    check("schema(order_id)", "pass", "order_id"),
    check("volume", "pass"),
    check("unique(order_id)", "fail", "order_id"),
    check("range(amount)", "error", "amount", message="not measured: column 'amount' is not"),
    check("distribution(country)", "warn", "country"),
    check(
        "schema(amount)",
        "fail",
        "amount",
        observed="missing",
        message="column 'amount' is missing; "
        "a column 'amount_usd' of the same type is new: renamed?",
    ),
    check("schema(extra columns)", "fail", observed="amount_usd"),
]


def test_a_missing_column_leads_its_consequences_and_failures_come_first() -> None:
    groups = group_by_cause(RENAMED)
    first = groups[0]
    assert first.cause == "missing column" and first.lead.name == "schema(amount)"
    assert [c.name for c in first.consequences] == ["range(amount)", "schema(extra columns)"]
    rest = [g.lead.name for g in groups[1:]]
    assert rest == ["unique(order_id)", "distribution(country)", "schema(order_id)", "volume"]


def test_changes_against_the_previous_run() -> None:
    previous = {"unique(order_id)": "fail", "volume": "fail", "schema(amount)": "pass"}
    marks = mark_changes(RENAMED, previous)
    assert marks["unique(order_id)"] == "still"
    assert marks["schema(amount)"] == "new"
    assert marks["range(amount)"] == "new"  # absent before counts as passing
    assert marks["volume"] == "recovered"
    assert "schema(order_id)" not in marks  # passing in both: nothing to say


def test_chips_count_and_filter_and_the_search_keeps_a_cause_with_its_consequence() -> None:
    view = triage(RENAMED)
    assert view.show == "not_passed"  # opens on what did not pass
    assert view.counts == {"fail": 3, "error": 1, "warn": 1, "pass": 2, "not_passed": 5, "all": 7}
    assert view.hidden == 2
    errors = triage(RENAMED, show="error")
    assert [g.lead.name for g in errors.groups] == ["schema(amount)"]  # the cause stays
    assert [c.name for c in errors.groups[0].consequences] == ["range(amount)"]
    found = triage(RENAMED, show="all", query="ORDER_ID")
    assert [g.lead.name for g in found.groups] == ["unique(order_id)", "schema(order_id)"]
    assert triage([check("volume", "pass")]).show == "all"  # nothing failed: show all
    assert triage(RENAMED, show="bogus").show == "not_passed"


@pytest.fixture(scope="module")
def client(airflow_home: Any) -> Iterator[Any]:
    with airflow_client() as client:
        yield client


def get(client: Any, path: str) -> str:
    client.cookies.set("_token", token(client, "reader"))
    try:
        response = client.get("/opsguard" + path)
    finally:
        client.cookies.clear()
    assert response.status_code == 200, response.text
    return str(response.text)


def test_run_report_of_a_renamed_column_with_its_quarantined_batch(
    client: Any, store_url: str, tmp_path: Path
) -> None:
    ids = shop_runs(store_url, tmp_path)
    html = get(client, f"/runs/{ids['shop-3']}")
    # The cause first, its consequences under it; the older failure is still failing.
    cause = html.index("Cause: missing column")
    assert cause < html.index("schema(extra columns)") < html.index('data-check="unique(order_id)"')
    assert html.count('class="marker m-new"') == 4
    assert html.count('class="marker m-still"') == 1
    assert "2 checks not shown" in html
    # Chips with counts; the held batch linked, its rows shown, the email withheld.
    assert 'aria-current="true">Not passed <span class="n">5</span>' in html
    assert "This verdict set the data aside" in html and "shop-batch-3" in html
    assert "amount_usd" in html and "7.25" in html
    assert "u1@x.io" not in html and html.count("•••") == 4
    assert "sensitive columns withheld: email" in html
    # The first failure is new against a passing run; the run after a failure recovers.
    second = get(client, f"/runs/{ids['shop-2']}")
    assert second.count('class="marker m-new"') == 1 and "m-still" not in second
    assert "This verdict set the data aside" in second  # shop-batch-2 held too
    first = get(client, f"/runs/{ids['shop-1']}")
    assert "nothing to compare with" in first and "This verdict set" not in first


def test_chips_and_search_filter_on_the_server(client: Any, store_url: str, tmp_path: Path) -> None:
    ids = shop_runs(store_url, tmp_path)
    passed = get(client, f"/runs/{ids['shop-3']}?show=pass")
    assert (
        'data-check="schema(order_id)"' in passed and 'data-check="unique(order_id)"' not in passed
    )
    found = get(client, f"/runs/{ids['shop-3']}?show=all&q=Order_ID")
    assert 'data-check="unique(order_id)"' in found and 'data-check="range(amount)"' not in found
    assert 'value="Order_ID"' in found
    none = get(client, f"/runs/{ids['shop-3']}?show=all&q=<b>zzz</b>")
    assert "No check matches “&lt;b&gt;zzz&lt;/b&gt;”" in none
    # The task tab keeps its task in the chips' links and the search form.
    run = quote("scheduled__2026-11-23T00:00:00+00:00", safe="")
    tab = get(client, f"/task?dag_id=shop_dag&run_id={run}&task_id=gate&map_index=-1")
    assert "Cause: missing column" in tab
    assert '<input type="hidden" name="dag_id" value="shop_dag">' in tab
    assert "?dag_id=shop_dag&amp;run_id=scheduled__2026-11-23" in tab


def test_a_batch_that_cannot_be_read_still_shows_its_report(
    client: Any, store_url: str, tmp_path: Path
) -> None:
    from airflow_opsguard.quarantine import service
    from airflow_opsguard.store import ResultStore

    ids = shop_runs(store_url, tmp_path)
    with ResultStore(store_url) as store:
        record = service.get_batch("shop-batch-3", store)
    (Path(record.location) / "data" / "shop-3.parquet").write_bytes(b"not parquet at all")
    html = get(client, f"/runs/{ids['shop-3']}")
    assert "This verdict set the data aside" in html
    assert "No preview:" in html and "Cause: missing column" in html
