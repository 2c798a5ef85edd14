"""Every check kind is listed once, in the ``Check`` union; the other lists follow it."""

from __future__ import annotations

from typing import get_args

from airflow_opsguard.contract.models import (
    CHECK_MODELS,
    CHECK_TYPES,
    ROW_CHECK_TYPES,
    ROW_CHECKS,
    Contract,
    Quarantine,
    RowCheck,
)


def test_check_types_are_the_union_discriminator_tags() -> None:
    # pydantic's own reading of the union: the JSON schema's discriminator mapping.
    schema = Contract.model_json_schema(by_alias=True)
    mapping = schema["properties"]["checks"]["items"]["discriminator"]["mapping"]
    assert sorted(CHECK_TYPES) == sorted(mapping)
    assert len(set(CHECK_TYPES)) == len(CHECK_MODELS)
    for tag, model in zip(CHECK_TYPES, CHECK_MODELS, strict=True):
        assert mapping[tag] == f"#/$defs/{model.__name__}"


def test_row_checks_follow_the_row_check_union() -> None:
    assert get_args(RowCheck) == ROW_CHECKS
    assert ROW_CHECK_TYPES == ("not_null", "range", "allowed", "not_allowed", "pattern", "length")
    assert set(ROW_CHECK_TYPES) <= set(CHECK_TYPES)


def test_the_quarantine_key_names_the_row_checks() -> None:
    description = Quarantine.model_fields["level"].description or ""
    assert f"({', '.join(ROW_CHECK_TYPES)})" in description


def test_the_quarantine_uses_the_same_row_checks() -> None:
    from airflow_opsguard.quarantine.rows import ROW_CHECKS as QUARANTINED

    assert QUARANTINED is ROW_CHECKS
