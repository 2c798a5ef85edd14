"""GX results as our check results: pure mappings in, CheckResult out."""

from __future__ import annotations

import json
import math

import pytest

from airflow_opsguard.gx.results import check_result, exception_message, expectation_name

NOT_NULL = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "email"}}


def test_names_follow_the_expectation_and_its_columns() -> None:
    assert expectation_name("expect_column_values_to_be_unique", {"column": "id"}) == (
        "expect_column_values_to_be_unique(id)"
    )
    assert expectation_name(
        "expect_compound_columns_to_be_unique", {"column_list": ["a", "b"]}
    ) == ("expect_compound_columns_to_be_unique(a, b)")
    assert expectation_name(
        "expect_column_pair_values_to_be_equal", {"column_A": "a", "column_B": "b"}
    ) == ("expect_column_pair_values_to_be_equal(a, b)")
    assert expectation_name("expect_table_row_count_to_be_between", {"min_value": 1}) == (
        "expect_table_row_count_to_be_between"
    )


@pytest.mark.parametrize(
    "info",
    [
        {"raised_exception": True, "exception_message": "boom\nTraceback ..."},
        {"MetricConfigurationID(x)": {"raised_exception": True, "exception_message": "boom"}},
    ],
)
def test_an_exception_in_either_shape_is_an_error(info: dict) -> None:
    outcome = {"success": False, "result": {}, "exception_info": info}
    result = check_result(NOT_NULL, outcome, "s")
    assert result.status == "error"
    assert result.message == "GX raised: boom"
    assert exception_message(info) == "boom"


@pytest.mark.parametrize("outcome", [None, {"success": None, "result": {}}])
def test_no_result_or_no_verdict_is_an_error_never_a_pass(outcome: dict | None) -> None:
    assert check_result(NOT_NULL, outcome, "s").status == "error"


def test_a_column_map_result_keeps_counts_and_samples_without_missing_values() -> None:
    outcome = {
        "success": False,
        "result": {
            "element_count": 10,
            "missing_count": 2,
            "unexpected_count": 3,
            "unexpected_percent": 37.5,
            "partial_unexpected_list": ["x", None, math.nan, "y", "z", "w", "v"],
        },
        "exception_info": {"raised_exception": False},
    }
    regex = {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "e", "regex": "@"}}
    result = check_result(regex, outcome, "s")
    assert (result.status, result.observed, result.expected) == ("fail", 3, 0)
    assert result.failing_fraction == 0.375
    assert result.samples == ("x", "y", "z", "w", "v")
    assert result.metrics["considered"] == 8
    assert "3 unexpected of 8 values (37.50%)" in result.message
    json.dumps(result.to_dict())


def test_mostly_and_severities() -> None:
    mostly = {**NOT_NULL, "kwargs": {"column": "email", "mostly": 0.8}}
    outcome = {"success": True, "result": {"element_count": 10, "unexpected_count": 1}}
    passed = check_result(mostly, outcome, "s")
    assert passed.status == "pass" and passed.expected == "<= 0.2 of values"
    assert "within mostly=0.8" in passed.message
    failed = {"success": False, "result": {"element_count": 10, "unexpected_count": 5}}
    for warning in ({"severity": "warning"}, {"severity": "info"}, {"meta": {"severity": "warn"}}):
        result = check_result({**NOT_NULL, **warning}, failed, "s")
        assert (result.status, result.severity) == ("warn", "warn")
    assert check_result({**NOT_NULL, "severity": "critical"}, failed, "s").status == "fail"


def test_an_aggregate_result_shows_observed_and_expected() -> None:
    mean = {
        "type": "expect_column_mean_to_be_between",
        "kwargs": {"column": "a", "min_value": 0, "max_value": 1, "strict_max": True},
    }
    result = check_result(mean, {"success": False, "result": {"observed_value": 2.5}}, "s")
    assert (result.status, result.observed, result.expected) == ("fail", 2.5, "[0, 1)")
    columns = {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["a"]}}
    listed = check_result(
        columns, {"success": False, "result": {"observed_value": ["a", "b"]}}, "s"
    )
    assert listed.observed == "a, b" and listed.expected == "{'a'}"
