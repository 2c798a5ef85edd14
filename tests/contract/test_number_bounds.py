"""Numbers a contract may give: whole numbers within 64 bits (what SQL's BIGINT and numpy
hold), finite floats and decimals, durations of at most a century. Anything else is a
ContractError at its key and line, never an OverflowError where the number is used."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from airflow_opsguard import ContractError
from airflow_opsguard.contract.base import INT64_MAX, INT64_MIN
from airflow_opsguard.contract.loader import parse_contract_text
from airflow_opsguard.contract.models import Contract, RangeCheck

BIG = 2**64


def refused(body: str) -> str:
    with pytest.raises(ContractError) as caught:
        parse_contract_text(f"dataset: x\n{body}\n", origin="c.yml")
    message = str(caught.value)
    assert message.startswith("c.yml:2: "), message
    assert len(message) < 300
    return message


@pytest.mark.parametrize(
    ("body", "key", "says"),
    [
        (f"volume: {{min_rows: {BIG}}}", "volume.min_rows", "less than or equal to"),
        (f"volume: {{max_rows: {BIG}}}", "volume.max_rows", "less than or equal to"),
        (f"schema: {{columns: [{{name: a, min: {BIG}}}]}}", "columns[0].min", "out of range"),
        (f"schema: {{columns: [{{name: a, max: -{BIG}}}]}}", "columns[0].max", "out of range"),
        (f"schema: {{columns: [{{name: a, allowed: [1, {BIG}]}}]}}", "allowed[1]", "out of range"),
        (
            f"schema: {{columns: [{{name: a, not_allowed: [{BIG}]}}]}}",
            "not_allowed[0]",
            "out of range",
        ),
        (f"schema: {{columns: [{{name: a, max_length: {BIG}}}]}}", "max_length", "less than"),
        (
            f"checks: [{{type: range, column: a, min: {BIG}}}]",
            "checks[0].min",
            "out of range",
        ),
        (
            f"checks: [{{type: length, column: a, min_length: {BIG}}}]",
            "checks[0].min_length",
            "less than",
        ),
        (
            f"checks: [{{type: statistic, column: a, statistic: sum, max: {BIG}}}]",
            "checks[0].max",
            "out of range",
        ),
        (
            f"distribution: {{reference: r.json, columns: [a], min_rows: {BIG}}}",
            "distribution.min_rows",
            "less than",
        ),
        ("distribution: {reference: r.json, columns: [a], bins: 1e30}", "distribution.bins", ""),
        ("schema: {columns: [{name: a, min: .nan}]}", "columns[0].min", "not a finite number"),
        ("schema: {columns: [{name: a, max: .inf}]}", "columns[0].max", "not a finite number"),
        ("schema: {columns: [{name: a, min: -.inf}]}", "columns[0].min", "not a finite number"),
        ("schema: {columns: [{name: a, min: 1e999}]}", "columns[0].min", "range of floats"),
        ("schema: {columns: [{name: a, allowed: [.nan]}]}", "allowed[0]", "not a finite"),
        ("schema: {columns: [{name: a, mostly: .nan}]}", "columns[0].mostly", "finite"),
        (
            "checks: [{type: reconcile, metric: count, to: {table: t}, tolerance: .inf}]",
            "checks[0].tolerance",
            "finite",
        ),
        ("checks: [{type: anomaly, metric: rows, threshold: .nan}]", "checks[0].threshold", ""),
        ("freshness: {column: a, fail_after: 99999999999d}", "fail_after", "at most 36500d"),
        ("freshness: {column: a, fail_after: P99999999999D}", "fail_after", "at most 36500d"),
        (
            "freshness: {column: a, fail_after: PT99999999999999999999S}",
            "fail_after",
            "at most 36500d",
        ),
        ("freshness: {column: a, fail_after: 1.0e+308}", "fail_after", "at most 36500d"),
        ("freshness: {column: a, fail_after: .nan}", "fail_after", "not a duration"),
        ("freshness: {column: a, fail_after: 1d, future_tolerance: 2d}", "future_tolerance", "1d"),
        ("escalation: {after_open: 99999999999d}", "escalation.after_open", "at most"),
    ],
)
def test_numbers_out_of_range_are_errors_at_their_key(body: str, key: str, says: str) -> None:
    message = refused(body)
    assert key in message
    assert says in message


def test_the_extremes_of_64_bits_are_allowed() -> None:
    contract = parse_contract_text(
        f"dataset: x\nvolume: {{min_rows: 0, max_rows: {INT64_MAX}}}\n"
        f"schema: {{columns: [{{name: a, min: {INT64_MIN}, max: {INT64_MAX}}}]}}\n"
    )
    assert contract.volume is not None and contract.volume.max_rows == INT64_MAX
    assert contract.schema_ is not None and contract.schema_.columns[0].min == INT64_MIN


def test_a_bound_beyond_64_bits_can_be_written_as_a_float() -> None:
    contract = parse_contract_text("dataset: x\nschema: {columns: [{name: a, max: 1.0e+30}]}\n")
    assert contract.schema_ is not None and contract.schema_.columns[0].max == 1e30


def test_python_callers_meet_the_same_bounds() -> None:
    with pytest.raises(ValueError, match="out of range"):
        RangeCheck(column="a", min=BIG)
    with pytest.raises(ValueError, match="finite"):
        RangeCheck(column="a", max=Decimal("NaN"))
    with pytest.raises(ValueError, match="finite"):
        RangeCheck(column="a", max=float("inf"))
    assert RangeCheck(column="a", min=Decimal("1e300")).min == Decimal("1e300")


def test_the_default_clock_skew_allowance_leaves_fingerprints_alone() -> None:
    plain = Contract.model_validate(
        {"dataset": "x", "freshness": {"column": "ts", "fail_after": "1d"}}
    )
    stated = Contract.model_validate(
        {
            "dataset": "x",
            "freshness": {"column": "ts", "fail_after": "1d", "future_tolerance": "5m"},
        }
    )
    other = Contract.model_validate(
        {
            "dataset": "x",
            "freshness": {"column": "ts", "fail_after": "1d", "future_tolerance": "1h"},
        }
    )
    assert plain.freshness is not None
    assert plain.freshness.future_tolerance == timedelta(minutes=5)
    assert plain.fingerprint == stated.fingerprint != other.fingerprint
    # The fingerprint of a contract with a freshness section, as it was before the key.
    assert "future_tolerance" not in plain.model_dump_json(
        exclude={"freshness": {"future_tolerance"}}
    )


def test_durations_are_saved_exactly() -> None:
    contract = Contract.model_validate(
        {
            "dataset": "x",
            "freshness": {"column": "ts", "fail_after": "1d2h30m", "warn_after": "1.5s"},
        }
    )
    dumped = contract.model_dump(mode="json")["freshness"]
    assert dumped["fail_after"] == "1d 2h 30m"
    assert dumped["warn_after"] == "1.5s"
    assert Contract.model_validate(contract.model_dump(mode="json")) == contract
