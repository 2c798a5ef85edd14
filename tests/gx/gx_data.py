"""Data and suites shared by the GX bridge tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

NOT_NULL = "expect_column_values_to_not_be_null(email)"
REGEX = "expect_column_values_to_match_regex(email)"
BETWEEN = "expect_column_values_to_be_between(amount)"
IN_SET = "expect_column_values_to_be_in_set(country)"
ROWS = "expect_table_row_count_to_be_between"
MEAN = "expect_column_mean_to_be_between(amount)"

# One failing expectation (not null), two that only warn (GX severity and meta), and
# three that pass on the bad data.
SUITE: dict[str, Any] = {
    "name": "orders_suite",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "email"}},
        {
            "type": "expect_column_values_to_match_regex",
            "kwargs": {"column": "email", "regex": "^[^@]+@[^@]+$"},
            "severity": "warning",
        },
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "amount", "min_value": 0, "max_value": 1000},
        },
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "country", "value_set": ["US", "DE"]},
            "meta": {"severity": "warn"},
        },
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        {
            "type": "expect_column_mean_to_be_between",
            "kwargs": {"column": "amount", "min_value": 0, "max_value": 500},
        },
    ],
}


def orders(bad: bool = False) -> pd.DataFrame:
    """Four orders; the bad ones have a null email, a malformed one and a new country."""
    return pd.DataFrame(
        {
            "order_id": pd.array([1, 2, 3, 4], dtype="int64"),
            "email": ["a@x.org", None if bad else "b@x.org", "nope" if bad else "c@x.org", "d@x"],
            "amount": [10.0, 20.5, 30.0, 40.0],
            "country": ["US", "DE", "FR" if bad else "US", "DE"],
        }
    )


def write_suite(path: Path, suite: dict[str, Any] | None = None) -> Path:
    path.write_text(json.dumps(suite or SUITE), encoding="utf-8")
    return path


def verdicts(result: Any) -> dict[str, tuple[str, Any]]:
    """``name -> (status, observed)`` of the gx checks of a result."""
    return {c.name: (c.status, c.observed) for c in result.checks if c.type == "gx"}
