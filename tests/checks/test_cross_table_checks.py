"""The expression, reference and reconcile checks: their declarations and the pure
evaluation of what an engine measured."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from airflow_opsguard.checks.evaluate import evaluate_check
from airflow_opsguard.checks.observations import CheckObservation
from airflow_opsguard.checks.reconcile import allowed_difference, evaluate_reconcile
from airflow_opsguard.contract.models import ReconcileCheck
from airflow_opsguard.engines.relations import referenced_columns
from airflow_opsguard.formats import load_contract


def reconcile(**keys: Any) -> ReconcileCheck:
    fields: dict[str, Any] = {"metric": "sum", "column": "amount", "to": {"table": "archive"}}
    return ReconcileCheck.model_validate({**fields, **keys})


def load(check: dict[str, Any]) -> Any:
    return load_contract({"dataset": "orders", "checks": [check]}).checks[0]


# ------------------------------------------------------------------------ declarations


@pytest.mark.parametrize(
    ("check", "fragment"),
    [
        ({"type": "expression", "expression": "  ;"}, "the expression is empty"),
        ({"type": "expression", "expression": "a > b", "if_null": "maybe"}, "if_null"),
        ({"type": "reference", "column": "c", "to": {"column": "id"}}, "either 'table'"),
        (
            {"type": "reference", "column": "c", "to": {"table": "t", "path": "p", "column": "id"}},
            "either 'table'",
        ),
        ({"type": "reference", "column": "c", "to": {"table": "t"}}, "to.column"),
        ({"type": "reconcile", "metric": "sum", "to": {"table": "t"}}, "give the 'column'"),
        (
            {"type": "reconcile", "metric": "count", "to": {"table": "t"}, "mostly": 0.9},
            "'mostly' applies to row checks",
        ),
        (
            {"type": "reconcile", "metric": "count", "to": {"table": "t"}, "tolerance": -1},
            "tolerance",
        ),
        ({"type": "reconcile", "metric": "median", "to": {"table": "t"}}, "metric"),
    ],
)
def test_bad_declarations_are_errors_that_name_the_key(
    check: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValueError, match="checks") as caught:
        load(check)
    assert fragment in str(caught.value)


def test_default_names_say_what_is_checked() -> None:
    assert (
        load({"type": "expression", "expression": "b >= a;"}).display_name == "expression(b >= a)"
    )
    long = load({"type": "expression", "expression": "x > 1 AND " * 20 + "y"})
    assert len(long.display_name) == len("expression()") + 60
    reference = load({"type": "reference", "column": "c", "to": {"table": "cust", "column": "id"}})
    assert reference.display_name == "reference(c -> cust.id)"
    assert reconcile().display_name == "reconcile(sum(amount))"
    assert reconcile(metric="count", column=None).display_name == "reconcile(count)"
    assert reconcile(to={"table": "t", "column": "total"}).other_column == "total"


def test_the_columns_an_expression_names() -> None:
    columns = ["shipped_at", "Ordered_At", "note", "a b"]
    found = referenced_columns(
        "shipped_at >= ordered_at AND note <> 'shipped_at' AND \"a b\" > 0", columns
    )
    assert found == ["shipped_at", "Ordered_At", "note", "a b"]
    assert referenced_columns("1 = 1", columns) == []


# ------------------------------------------------------------------------- evaluation


def test_reconcile_tolerances() -> None:
    assert allowed_difference(reconcile(), 100.0) == 0.0
    assert allowed_difference(reconcile(tolerance=0.01), -200.0) == 2.0
    assert allowed_difference(reconcile(tolerance=0.01, abs_tolerance=5), 200.0) == 5.0
    within = evaluate_reconcile(
        reconcile(tolerance=0.01), CheckObservation(value=Decimal("101.5"), compared=100.5)
    )
    assert within.status == "pass"
    assert (within.observed, within.expected) == (101.5, 100.5)
    assert within.metrics["difference"] == pytest.approx(1.0)
    assert "within 0.01 relative" in within.message
    beyond = evaluate_reconcile(reconcile(abs_tolerance=0.5), CheckObservation(value=3, compared=4))
    assert beyond.status == "fail"
    assert beyond.message == (
        "sum(amount) is 3 but sum(amount) of archive is 4: a difference of 1; beyond 0.5 absolute"
    )


def test_reconcile_undefined_values_and_severity() -> None:
    both = evaluate_reconcile(reconcile(), CheckObservation(value=None, compared=None))
    assert both.status == "pass"
    one = evaluate_reconcile(reconcile(severity="warn"), CheckObservation(value=1.0, compared=None))
    assert (one.status, one.severity) == ("warn", "warn")
    assert "undefined (no values)" in one.message
    error = evaluate_reconcile(reconcile(), CheckObservation(error="not measured: no table"))
    assert (error.status, error.message) == ("error", "not measured: no table")


def test_expression_results_count_rows_and_name_the_expression() -> None:
    check = load({"type": "expression", "expression": "b >= a", "mostly": 0.5})
    result = evaluate_check(
        check, CheckObservation(considered=4, failing=1, samples=({"a": 2, "b": 1},)), 4
    )
    assert (result.status, result.failing_count, result.column) == ("pass", 1, None)
    assert result.message == (
        "1 of 4 rows where b >= a is not true (25.00%), e.g. (a=2, b=1); within mostly=0.5"
    )
    failed = evaluate_check(check, CheckObservation(error="could not be measured: syntax"), 4)
    assert failed.message == "expression 'b >= a' could not be measured: syntax"
    assert failed.to_dict()["type"] == "expression"


def test_the_contract_schema_documents_the_new_checks() -> None:
    from airflow_opsguard.contract.models import Contract

    definitions = Contract.model_json_schema(by_alias=True)["$defs"]
    for model, keys in {
        "ExpressionCheck": ("expression", "if_null"),
        "ReferenceCheck": ("column", "to"),
        "ReferenceTarget": ("table", "path", "column"),
        "ReconcileCheck": ("metric", "column", "to", "tolerance", "abs_tolerance"),
        "ReconcileTarget": ("table", "path", "column", "where"),
    }.items():
        properties = definitions[model]["properties"]
        for key in keys:
            assert properties[key].get("description"), (model, key)
        assert definitions[model]["additionalProperties"] is False
