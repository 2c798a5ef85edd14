"""The numbers every contender must agree on, and how to read them from a result.

Light on purpose (no pandas, no pyarrow): the SQL benchmark imports it into client
processes whose memory it measures.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

# The data's vocabulary and clock, shared by the file and the SQL data generators.
# The newest possible created_at is ANCHOR; the checks run at NOW.
ANCHOR = datetime(2026, 11, 25, 12, 0, 0)
NOW = ANCHOR + timedelta(hours=2)
COUNTRIES = ("US", "DE", "FR", "GB", "ES", "IT", "NL", "SE", "PL", "CA")
STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
EMAIL_PATTERN = r"^[^@]+@[^@]+$"

AMOUNT_MIN = 0
AMOUNT_MAX = 100_000
MIN_ROWS = 1_000
MAX_ROWS = 1_000_000_000
WARN_AFTER = timedelta(hours=6)
FAIL_AFTER = timedelta(days=1)
COLUMNS = ("order_id", "amount", "country", "email", "created_at", "status")

# The numbers every contender must agree on.
Numbers = dict[str, Any]


def orders_contract(*, unique: bool = True) -> dict[str, Any]:
    """The benchmarks' contract: schema, not_null, unique (unless ``unique=False``),
    range, allowed, length, pattern, freshness and volume."""
    return {
        "dataset": "orders_benchmark",
        "schema": {
            "columns": [
                {"name": "order_id", "type": "integer", "nullable": False, "unique": unique},
                {
                    "name": "amount",
                    "type": "float",
                    "nullable": False,
                    "min": AMOUNT_MIN,
                    "max": AMOUNT_MAX,
                },
                {
                    "name": "country",
                    "type": "string",
                    "allowed": list(COUNTRIES),
                    "min_length": 2,
                    "max_length": 2,
                },
                {"name": "email", "type": "string", "pattern": EMAIL_PATTERN},
                {"name": "created_at", "type": "timestamp", "nullable": False},
                {"name": "status", "type": "string", "allowed": list(STATUSES)},
            ],
            "extra_columns": "fail",
        },
        "freshness": {"column": "created_at", "warn_after": "6h", "fail_after": "1d"},
        "volume": {"min_rows": MIN_ROWS, "max_rows": MAX_ROWS},
    }


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
