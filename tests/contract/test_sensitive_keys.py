"""The contract's keys for sensitive data: a column's ``sensitive`` and the contract's
``samples``; which checks withhold their values."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from airflow_opsguard.contract.contract import mentions
from airflow_opsguard.contract.models import Contract, ExpressionCheck, NotNullCheck


def build(**extra: Any) -> Contract:
    columns = extra.pop("columns", None) or [
        {"name": "id", "type": "integer"},
        {"name": "email", "type": "string", "sensitive": True},
    ]
    return Contract.model_validate({"dataset": "d", "schema": {"columns": columns}, **extra})


def test_defaults_leave_the_fingerprint_of_existing_contracts_alone() -> None:
    plain = [{"name": "id", "type": "integer"}, {"name": "email", "type": "string"}]
    explicit = [*plain[:1], {"name": "email", "type": "string", "sensitive": False}]
    before = build(columns=plain)
    assert build(columns=explicit, samples=True).fingerprint == before.fingerprint
    # Saying what is kept changes what a run stores: a new rule, a new fingerprint.
    assert build().fingerprint != before.fingerprint
    assert build(columns=plain, samples=False).fingerprint != before.fingerprint


def test_which_checks_withhold_their_values() -> None:
    contract = build()
    assert contract.sensitive_columns == frozenset({"email"})
    assert contract.withholds_values(NotNullCheck(column="email"))
    assert not contract.withholds_values(NotNullCheck(column="id"))
    assert contract.withholds_values(ExpressionCheck(expression="\"Email\" LIKE '%@%'"))
    assert contract.withholds_values(ExpressionCheck(expression="lower(EMAIL) = 'x'"))
    assert not contract.withholds_values(ExpressionCheck(expression="emails_sent > id"))
    everything = build(samples=False)
    assert everything.withholds_values(NotNullCheck(column="id"))
    assert everything.withholds_values(ExpressionCheck(expression="id > 0"))


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ("email IS NOT NULL", True),
        ("\"email\" <> ''", True),
        ("`EMAIL` <> ''", True),
        ("t.email = 1", True),
        ("email_domain = 'x'", False),
        ("my_email = 1", False),
        ("x = 'email'", True),  # a literal counts too: a false alarm only hides samples
    ],
)
def test_mentions(expression: str, named: bool) -> None:
    assert mentions(expression, "email") is named


def test_keys_are_strict_booleans() -> None:
    with pytest.raises(ValidationError, match="sensitve"):
        build(columns=[{"name": "email", "sensitve": True}])
    with pytest.raises(ValidationError, match="sample"):
        build(sample=False)
    with pytest.raises(ValidationError, match="samples"):
        build(samples="sometimes")


def test_a_sensitive_column_cannot_be_a_distribution_column() -> None:
    with pytest.raises(ValidationError, match="'email' is sensitive"):
        build(distribution={"reference": "ref.json", "columns": ["email"]})
    assert build(distribution={"reference": "ref.json", "columns": ["id"]}).distribution


def test_the_json_schema_documents_both_keys() -> None:
    schema = Contract.model_json_schema(by_alias=True)
    assert "samples" in schema["properties"]
    assert "sensitive" in schema["$defs"]["Column"]["properties"]


@pytest.mark.parametrize(
    ("marker", "sensitive"),
    [
        ({"classification": "confidential"}, True),
        ({"classification": "PII"}, True),
        ({"classification": "restricted"}, True),
        ({"classification": "public"}, False),
        ({"classification": "internal"}, False),
        ({"customProperties": [{"property": "pii", "value": True}]}, True),
        ({"customProperties": [{"property": "pii", "value": "false"}]}, False),
        ({}, False),
    ],
)
def test_odcs_classification_and_pii_mark_a_column_sensitive(
    marker: dict[str, Any], sensitive: bool
) -> None:
    from airflow_opsguard.odcs.reading import odcs_to_contract

    document = {
        "apiVersion": "v3.0.0",
        "kind": "DataContract",
        "id": "people",
        "schema": [
            {
                "name": "people",
                "properties": [
                    {"name": "email", "logicalType": "string", "required": True, **marker}
                ],
            }
        ],
    }
    mapping, _ = odcs_to_contract(document)
    contract = Contract.model_validate(mapping)
    assert contract.sensitive_columns == (frozenset({"email"}) if sensitive else frozenset())
