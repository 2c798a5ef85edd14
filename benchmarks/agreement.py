"""The numbers every contender must agree on, and how to read them from a result.

Light on purpose (no pandas, no pyarrow): the SQL benchmark imports it into client
processes whose memory it measures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# The numbers every contender must agree on.
Numbers = dict[str, Any]

# Check name in our result -> the key of the number it yields.
OUR_COUNTS = {
    "not_null(order_id)": "nulls(order_id)",
    "not_null(amount)": "nulls(amount)",
    "not_null(created_at)": "nulls(created_at)",
    "unique(order_id)": "duplicated_rows(order_id)",
    "range(amount)": "out_of_range(amount)",
    "allowed(country)": "not_in_set(country)",
    "length(country)": "bad_length(country)",
    "pattern(email)": "no_match(email)",
    "allowed(status)": "not_in_set(status)",
}

# GX expectation (type, column) -> the key of the number its unexpected_count gives.
GX_COUNTS = {
    ("expect_column_values_to_not_be_null", "order_id"): "nulls(order_id)",
    ("expect_column_values_to_not_be_null", "amount"): "nulls(amount)",
    ("expect_column_values_to_not_be_null", "created_at"): "nulls(created_at)",
    ("expect_column_values_to_be_unique", "order_id"): "duplicated_rows(order_id)",
    ("expect_column_values_to_be_between", "amount"): "out_of_range(amount)",
    ("expect_column_values_to_be_in_set", "country"): "not_in_set(country)",
    ("expect_column_value_lengths_to_be_between", "country"): "bad_length(country)",
    ("expect_column_values_to_match_regex", "email"): "no_match(email)",
    ("expect_column_values_to_be_in_set", "status"): "not_in_set(status)",
}


def gx_numbers(result: Any) -> Numbers:
    numbers: Numbers = {}
    schema_ok = True
    for item in result.results:
        config = item.expectation_config
        kind, column = config.type, config.kwargs.get("column")
        if item.exception_info and item.exception_info.get("raised_exception"):
            raise RuntimeError(f"GX {kind}({column}) raised: {item.exception_info}")
        if (kind, column) in GX_COUNTS:
            numbers[GX_COUNTS[kind, column]] = int(item.result["unexpected_count"])
        elif kind == "expect_table_row_count_to_be_between":
            numbers["rows"] = int(item.result["observed_value"])
        elif kind == "expect_column_max_to_be_between":
            observed = item.result["observed_value"]  # a Timestamp, or ISO text from SQL
            if isinstance(observed, str):
                observed = datetime.fromisoformat(observed)
            elif hasattr(observed, "to_pydatetime"):
                observed = observed.to_pydatetime()
            numbers["newest(created_at)"] = observed.replace(tzinfo=None)
        elif kind in ("expect_table_columns_to_match_set", "expect_column_values_to_be_of_type"):
            schema_ok = schema_ok and bool(item.success)
    numbers["schema_ok"] = schema_ok
    return numbers


def compare(expected: Numbers, got: Numbers, who: str) -> None:
    """Raise when a contender's numbers differ from the reference's (``who`` names it)."""
    wrong = {
        key: (expected.get(key), got.get(key))
        for key in expected.keys() | got.keys()
        if expected.get(key) != got.get(key)
    }
    if wrong:
        details = ", ".join(f"{k}: {a!r} vs {b!r}" for k, (a, b) in sorted(wrong.items()))
        raise AssertionError(f"{who} disagrees with the hand-written pass: {details}")
