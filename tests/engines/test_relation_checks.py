"""expression, reference and reconcile checks, alike on the file engine, SQLite,
PostgreSQL and MariaDB (the shared twelve orders; see engine_backends.py)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from engine_backends import TABLE, Backend, orders

from airflow_opsguard import validate
from airflow_opsguard.checks.results import CheckResult, GateResult

CUSTOMERS = "eng_customers"


def customers() -> pd.DataFrame:
    """Nine of the orders' customers (not 'jon', not 'Ann'), and ids 1..10."""
    names = ["ann", "bob", "cid", "dee", "eve", "fay", "gus", "hal", "ivy", None]
    return pd.DataFrame({"id": list(range(1, 11)), "name": names})


def other(backend: Backend, table: str, **keys: Any) -> dict[str, Any]:
    """A ``to:`` mapping naming ``table``: a table of the same database, or a file."""
    data = backend.load(customers() if table == CUSTOMERS else orders(), table)
    if backend.is_database:
        return {"table": table, **keys}
    return {"path": data, **keys}


def contract(*checks: dict[str, Any]) -> dict[str, Any]:
    return {"dataset": "orders", "checks": [{"type": "not_null", "column": "order_id"}, *checks]}


def only(result: GateResult, name: str) -> CheckResult:
    found = [c for c in result.checks if c.name == name]
    assert len(found) == 1, [c.name for c in result.checks]
    return found[0]


# ------------------------------------------------------------------------- expression


def test_expression_counts_rows_where_the_condition_is_not_true(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "expression", "expression": "amount >= 0", "name": "nulls fail"},
            {"type": "expression", "expression": "amount >= 0", "if_null": "pass", "name": "np"},
            {"type": "expression", "expression": "order_id <= 10 AND region <> 'x'"},
        )
    )
    nulls_fail = only(result, "nulls fail")
    assert nulls_fail.status == "fail"
    assert nulls_fail.type == "expression"
    assert nulls_fail.failing_count == 2  # -3.5 and the null amount
    assert nulls_fail.metrics["considered"] == 12
    assert nulls_fail.failing_fraction == pytest.approx(2 / 12, abs=1e-6)
    assert sorted(s["amount"] for s in nulls_fail.samples if s["amount"] is not None) == [-3.5]
    assert [set(s) for s in nulls_fail.samples] == [{"amount"}, {"amount"}]
    null_passes = only(result, "np")
    assert null_passes.failing_count == 1
    assert null_passes.samples == ({"amount": -3.5},)
    two_columns = only(result, "expression(order_id <= 10 AND region <> 'x')")
    assert two_columns.failing_count == 2
    assert sorted(s["order_id"] for s in two_columns.samples) == [11, 12]
    assert all(set(s) == {"order_id", "region"} for s in two_columns.samples)
    assert "2 of 12 rows where order_id <= 10 AND region <> 'x' is not true" in (
        two_columns.message
    )


def test_expression_mostly_and_severity(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "expression", "expression": "amount >= 0", "mostly": 0.8, "name": "m"},
            {"type": "expression", "expression": "amount >= 0", "mostly": 0.9, "name": "m9"},
            {"type": "expression", "expression": "amount >= 0", "severity": "warn", "name": "w"},
        )
    )
    assert only(result, "m").status == "pass"  # 10 of 12 = 0.83 >= 0.8
    assert "within mostly=0.8" in only(result, "m").message
    assert only(result, "m9").status == "fail"
    warned = only(result, "w")
    assert (warned.status, warned.severity, warned.failing_count) == ("warn", "warn", 2)
    assert result.status == "fail"


@pytest.mark.parametrize("expression", ["amount >>> 0", "no_such_column > 1"])
def test_a_bad_expression_is_an_error_of_that_check_alone(
    backend: Backend, expression: str
) -> None:
    result = backend.check(
        contract(
            {"type": "expression", "expression": expression, "name": "bad"},
            {"type": "expression", "expression": "order_id > 0", "name": "good"},
        )
    )
    bad = only(result, "bad")
    assert bad.status == "error"
    assert bad.message.startswith(f"expression {expression!r} could not be measured: ")
    assert "\n" not in bad.message
    assert only(result, "good").status == "pass"
    assert only(result, "not_null(order_id)").status == "pass"
    assert result.status == "error"


# -------------------------------------------------------------------------- reference


def test_reference_counts_orphans_case_sensitively(backend: Backend) -> None:
    result = backend.check(
        contract(
            {
                "type": "reference",
                "column": "customer",
                "to": other(backend, CUSTOMERS, column="name"),
            },
            {
                "type": "reference",
                "column": "order_id",
                "to": other(backend, CUSTOMERS, column="id"),
            },
            {
                "type": "reference",
                "column": "customer",
                "to": other(backend, CUSTOMERS, column="name"),
                "mostly": 0.8,
                "name": "mostly",
            },
            {
                "type": "reference",
                "column": "order_id",
                "to": other(backend, CUSTOMERS, column="id"),
                "severity": "warn",
                "name": "warned",
            },
        )
    )
    where = "eng_customers" if backend.is_database else other(backend, CUSTOMERS)["path"]
    names = only(result, f"reference(customer -> {where}.name)")
    assert names.type == "reference"
    assert names.status == "fail"
    assert names.failing_count == 2
    assert set(names.samples) == {"jon", "Ann"}
    assert names.metrics["considered"] == 12
    ids = only(result, f"reference(order_id -> {where}.id)")
    assert ids.failing_count == 2
    assert sorted(ids.samples) == [11, 12]
    assert only(result, "mostly").status == "pass"  # 10 of 12 found
    warned = only(result, "warned")
    assert (warned.status, warned.failing_count) == ("warn", 2)


def test_reference_ignores_nulls_and_may_point_at_its_own_table(backend: Backend) -> None:
    # Every non-null country of the orders is a country of the orders.
    to = other(backend, TABLE, column="country")
    result = backend.check(contract({"type": "reference", "column": "country", "to": to}))
    found = result.checks[-1]
    assert (found.status, found.failing_count, found.metrics["considered"]) == ("pass", 0, 11)


def test_a_missing_reference_table_or_column_is_a_one_line_error(backend: Backend) -> None:
    missing = {"table": "eng_no_such_table"} if backend.is_database else {"path": "/nowhere.pq"}
    result = backend.check(
        contract(
            {"type": "reference", "column": "customer", "to": {**missing, "column": "id"}},
            {
                "type": "reference",
                "column": "customer",
                "to": other(backend, CUSTOMERS, column="no_such_column"),
                "name": "no column",
            },
        )
    )
    table, column = result.checks[1], only(result, "no column")
    assert table.status == column.status == "error"
    if backend.is_database:
        assert "table 'eng_no_such_table' does not exist" in table.message
    else:
        assert "/nowhere.pq: no such file or directory" in table.message
    assert "has no column 'no_such_column'" in column.message
    assert "\n" not in table.message + column.message
    assert only(result, "not_null(order_id)").status == "pass"


@pytest.mark.parametrize(
    "to",
    [
        {"table": "eng_customers; DROP TABLE eng_orders; --", "column": "id"},
        {"table": 'eng_customers" WHERE 1=1; DROP TABLE eng_orders; --', "column": "id"},
        {"table": "eng_customers", "column": "id) OR 1=1; DROP TABLE eng_orders; --"},
    ],
)
def test_an_injection_in_a_reference_name_is_a_missing_name(
    database: Backend, to: dict[str, str]
) -> None:
    database.load(customers(), CUSTOMERS)
    result = database.check(contract({"type": "reference", "column": "order_id", "to": to}))
    assert result.checks[-1].status == "error"
    assert "does not exist" in result.checks[-1].message or "has no column" in (
        result.checks[-1].message
    )
    # Both tables are still there, and whole.
    assert database.execute(f"SELECT count(*) FROM {TABLE}")[0][0] == 12
    assert database.execute(f"SELECT count(*) FROM {CUSTOMERS}")[0][0] == 10


def test_a_reference_between_values_of_different_kinds_is_an_error(backend: Backend) -> None:
    to = other(backend, CUSTOMERS, column="name")
    result = backend.check(contract({"type": "reference", "column": "order_id", "to": to}))
    assert result.checks[-1].status == "error"
    assert "'order_id' is integer but" in result.checks[-1].message


# -------------------------------------------------------------------------- reconcile


def test_reconcile_compares_aggregates_within_tolerance(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "reconcile", "metric": "count", "to": other(backend, CUSTOMERS)},
            {
                "type": "reconcile",
                "metric": "count",
                "to": other(backend, CUSTOMERS),
                "tolerance": 0.2,
                "name": "count 20%",
            },
            {
                "type": "reconcile",
                "metric": "count",
                "to": other(backend, CUSTOMERS),
                "abs_tolerance": 2,
                "severity": "warn",
                "name": "count +-2",
            },
            {"type": "reconcile", "metric": "sum", "column": "amount", "to": other(backend, TABLE)},
            {
                "type": "reconcile",
                "metric": "max",
                "column": "order_id",
                "to": other(backend, CUSTOMERS, column="id"),
            },
            {
                "type": "reconcile",
                "metric": "mean",
                "column": "amount",
                "to": other(backend, TABLE, where="amount >= 0"),
                "abs_tolerance": 0.01,
            },
            {
                "type": "reconcile",
                "metric": "min",
                "column": "order_date",
                "to": other(backend, TABLE),
            },
        )
    )
    count = only(result, "reconcile(count)")
    assert (count.status, count.observed, count.expected) == ("fail", 12, 10)
    assert count.type == "reconcile"
    assert "count is 12 but count of" in count.message
    assert "a difference of 2; they must be equal" in count.message
    assert only(result, "count 20%").status == "pass"  # 2 <= 0.2 * 10
    warned = only(result, "count +-2")
    assert warned.status == "pass"  # 2 <= 2
    total = only(result, "reconcile(sum(amount))")
    assert total.status == "pass"
    assert total.observed == pytest.approx(1436.25)
    assert total.expected == pytest.approx(1436.25)
    highest = only(result, "reconcile(max(order_id))")
    assert (highest.status, highest.observed, highest.expected) == ("fail", 12, 10)
    mean = only(result, "reconcile(mean(amount))")
    assert mean.status == "fail"  # the filtered mean leaves out -3.5
    assert mean.observed == pytest.approx(1436.25 / 11)
    assert mean.expected == pytest.approx(1439.75 / 10)
    assert only(result, "reconcile(min(order_date))").status == "pass"


def test_reconcile_errors_name_what_is_missing(backend: Backend) -> None:
    result = backend.check(
        contract(
            {
                "type": "reconcile",
                "metric": "sum",
                "column": "amount",
                "to": other(backend, CUSTOMERS, column="nope"),
                "name": "no column",
            },
            {
                "type": "reconcile",
                "metric": "count",
                "to": other(backend, TABLE, where="no_such_column > 1"),
                "name": "bad where",
            },
            {
                "type": "reconcile",
                "metric": "sum",
                "column": "customer",
                "to": other(backend, TABLE),
                "name": "sum of text",
            },
        )
    )
    assert "has no column 'nope'" in only(result, "no column").message
    bad_where = only(result, "bad where")
    assert bad_where.status == "error"
    assert bad_where.message.startswith("could not be measured: ")
    assert "sum needs numbers" in only(result, "sum of text").message
    assert {c.status for c in result.checks[1:]} == {"error"}


def test_the_checks_run_on_a_query_source(database: Backend) -> None:
    database.load(customers(), CUSTOMERS)
    database.load(orders(), TABLE)
    checks = [
        {"type": "reference", "column": "customer", "to": {"table": CUSTOMERS, "column": "name"}},
        {"type": "expression", "expression": "amount < 100", "name": "small"},
        {"type": "reconcile", "metric": "count", "to": {"table": CUSTOMERS, "where": "id > 4"}},
    ]
    query = f"SELECT * FROM {TABLE} WHERE order_id > 6"
    result = validate(
        {"dataset": "orders", "source": {"query": query}, "checks": checks}, data=database.url
    )
    reference, small, count = result.checks
    assert (reference.failing_count, set(reference.samples)) == (2, {"jon", "Ann"})
    assert reference.metrics["considered"] == 6
    assert sorted(s["amount"] for s in small.samples) == [100.0, 250.25, 1000.0]
    assert (count.status, count.observed, count.expected) == ("pass", 6, 6)
