"""Shadow mode: measured, stored and shown; never blocking; saying what it would have done."""

from __future__ import annotations

import json

import pandas as pd
from alert_helpers import NOW, bad_orders

from airflow_opsguard import validate
from airflow_opsguard.checks.results import CheckResult, GateResult
from airflow_opsguard.checks.shadow import apply_shadow
from airflow_opsguard.decision import decide
from airflow_opsguard.formats import load_contract
from airflow_opsguard.report import render_text
from airflow_opsguard.store import ResultStore

SCHEMA = {
    "columns": [
        {"name": "order_id", "type": "integer", "unique": True},
        {"name": "amount", "type": "float", "min": -100},
    ]
}


def test_a_shadow_check_reports_what_it_would_have_done_and_does_not_block() -> None:
    contract = load_contract(
        {
            "dataset": "orders",
            "schema": {"columns": [{"name": "order_id", "type": "integer"}, {"name": "amount"}]},
            "checks": [
                {"type": "range", "column": "amount", "min": 0, "mode": "shadow"},
                {"type": "not_null", "column": "order_id"},
            ],
        }
    )
    result = validate(contract, data=bad_orders()[["order_id", "amount"]], now=NOW)
    shadow = next(c for c in result.checks if c.type == "range")
    assert (shadow.status, shadow.would_be) == ("pass", "fail")
    assert (shadow.observed, shadow.failing_count) == (1, 1)  # the numbers are kept
    assert shadow.message.startswith("shadow mode, would fail: 1 of 3 values of amount")
    assert (result.status, result.would_be) == ("pass", "fail")
    assert decide(result, "fail").action == "continue"
    payload = result.to_dict()
    assert json.loads(json.dumps(payload)) == payload
    entry = next(c for c in payload["checks"] if c["type"] == "range")
    assert (entry["mode"], entry["would_be"]) == ("shadow", "fail")
    text = render_text(result)
    assert "shadow mode, would fail" in text
    assert text.splitlines()[0] == "orders: PASS  3 rows  (shadow mode: would be FAIL)"


def test_a_shadow_check_beside_an_enforced_one_of_the_same_name() -> None:
    # The column shorthand enforces min -100; a tighter min 0 is tried out in shadow.
    contract = load_contract(
        {
            "dataset": "orders",
            "schema": SCHEMA,
            "checks": [{"type": "range", "column": "amount", "min": 0, "mode": "shadow"}],
        }
    )
    result = validate(contract, data=bad_orders()[["order_id", "amount"]], now=NOW)
    ranges = [c for c in result.checks if c.name == "range(amount)"]
    assert [(c.status, c.would_be) for c in ranges] == [("pass", None), ("pass", "fail")]
    assert result.status == "fail"  # order_id is not unique: enforced
    assert result.would_be == "fail"


def test_a_shadow_contract_never_blocks_even_when_the_data_cannot_be_read() -> None:
    contract = load_contract({"dataset": "orders", "schema": SCHEMA, "mode": "shadow"})
    result = validate(contract, data="/no/such/file.parquet", now=NOW)
    assert (result.status, result.would_be) == ("pass", "error")
    assert result.error is not None
    assert decide(result, "fail").action == "continue"


def test_shadow_results_round_trip_through_the_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    contract = load_contract({"dataset": "orders", "schema": SCHEMA, "mode": "shadow"})
    with ResultStore(f"sqlite:///{tmp_path / 's.db'}") as store:
        result = validate(contract, data=bad_orders()[["order_id", "amount"]], now=NOW, store=store)
        (stored,) = store.results()
    assert stored == result
    assert stored.would_be == "fail"
    assert all(c.would_be is not None for c in stored.checks)  # all in shadow
    assert [c.name for c in stored.checks if c.would_be == "fail"] == ["unique(order_id)"]


def test_nothing_changes_without_shadow_checks() -> None:
    contract = load_contract({"dataset": "orders", "schema": SCHEMA})
    result = GateResult(
        dataset="orders",
        status="fail",
        checked_at=NOW,
        rows=1,
        checks=(CheckResult(name="x", type="unique", status="fail", severity="fail", message="m"),),
    )
    assert apply_shadow(contract, result) is result
    assert "would_be" not in result.to_dict()


def test_a_passing_shadow_check_keeps_its_message() -> None:
    contract = load_contract({"dataset": "orders", "schema": SCHEMA, "mode": "shadow"})
    data = pd.DataFrame({"order_id": [1, 2], "amount": [1.0, 2.0]})
    result = validate(contract, data=data, now=NOW)
    assert (result.status, result.would_be) == ("pass", "pass")
    assert all(c.would_be == "pass" and "shadow" not in c.message for c in result.checks)
