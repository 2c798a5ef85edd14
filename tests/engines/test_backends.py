"""The engine test suite, run alike on the file engine, SQLite, PostgreSQL and MariaDB.

Every backend holds the same twelve orders (see conftest.py); every check must give the
same verdict, the same counts and the same failing samples everywhere.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from engine_backends import Backend, utc

from airflow_opsguard.checks.results import CheckResult, GateResult

NOW = datetime(2026, 2, 14, 12, 0, tzinfo=UTC)

ALL_COLUMNS: list[dict[str, Any]] = [
    {"name": "order_id", "type": "integer"},
    {"name": "customer", "type": "string"},
    {"name": "region", "type": "string"},
    {"name": "amount", "type": "float"},
    {"name": "price", "type": "decimal"},
    {"name": "country", "type": "string"},
    {"name": "email", "type": "string"},
    {"name": "name", "type": "string"},
    {"name": "is_active", "type": "boolean"},
    {"name": "order_date", "type": "date"},
    {"name": "created_at", "type": "timestamp"},
    {"name": "updated_at", "type": "timestamp"},
]


def contract(*checks: dict[str, Any], **sections: Any) -> dict[str, Any]:
    return {"dataset": "orders", "checks": list(checks), **sections}


def only(result: GateResult, name: str) -> CheckResult:
    found = [c for c in result.checks if c.name == name]
    assert len(found) == 1, [c.name for c in result.checks]
    return found[0]


def by_name(result: GateResult) -> dict[str, CheckResult]:
    return {c.name: c for c in result.checks}


# --------------------------------------------------------------------------- row checks


def test_not_null_counts_null_rows(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "not_null", "column": "order_id"},
            {"type": "not_null", "column": "amount"},
            {"type": "not_null", "column": "created_at"},
        )
    )
    checks = by_name(result)
    assert checks["not_null(order_id)"].status == "pass"
    assert checks["not_null(order_id)"].failing_count == 0
    assert checks["not_null(amount)"].status == "fail"
    assert checks["not_null(amount)"].failing_count == 1
    assert checks["not_null(amount)"].metrics["considered"] == 12
    assert checks["not_null(created_at)"].failing_count == 1
    assert result.rows == 12
    assert result.status == "fail"


def test_unique_is_case_sensitive_and_ignores_nulls(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "unique", "column": "order_id"},
            {"type": "unique", "column": "customer"},
            {"type": "unique", "columns": ["customer", "region"]},
            {"type": "unique", "column": "country"},
        )
    )
    checks = by_name(result)
    assert checks["unique(order_id)"].status == "pass"
    # 'bob' twice; 'ann' and 'Ann' differ (MariaDB's default collation says they do not).
    customer = checks["unique(customer)"]
    assert (customer.status, customer.failing_count) == ("fail", 2)
    assert set(customer.samples) == {"bob"}
    pair = checks["unique(customer, region)"]
    assert pair.failing_count == 2
    assert list(pair.samples) == [{"customer": "bob", "region": "n"}]
    # US x3, DE x3, FR x3 duplicate; 'XX', 'us' and the null do not.
    country = checks["unique(country)"]
    assert country.failing_count == 9
    assert set(country.samples) == {"US", "DE", "FR"}
    assert country.metrics["considered"] == 11


def test_range_counts_samples_and_mostly(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "range", "column": "amount", "min": 0, "max": 500},
            {
                "type": "range",
                "column": "amount",
                "min": 0,
                "max": 500,
                "mostly": 0.8,
                "name": "amount mostly 0.8",
            },
            {
                "type": "range",
                "column": "amount",
                "min": 0,
                "max": 500,
                "mostly": 0.9,
                "name": "amount mostly 0.9",
            },
            {
                "type": "range",
                "column": "amount",
                "min": -3.5,
                "strict_min": True,
                "name": "strictly above -3.5",
            },
            {"type": "range", "column": "price", "min": 1, "max": 10},
            {"type": "range", "column": "order_date", "max": "2026-02-10"},
            {"type": "range", "column": "created_at", "min": "2026-02-02T00:00:00Z"},
            {"type": "range", "column": "updated_at", "max": "2026-02-13T18:00:00+00:00"},
        )
    )
    checks = by_name(result)
    amount = checks["range(amount)"]
    assert (amount.status, amount.failing_count) == ("fail", 2)
    assert amount.metrics["considered"] == 11
    assert sorted(amount.samples) == [-3.5, 1000.0]
    assert amount.metrics["min"] == -3.5 and amount.metrics["max"] == 1000.0
    assert checks["amount mostly 0.8"].status == "pass"  # 9 of 11 pass: 0.82 >= 0.8
    assert checks["amount mostly 0.9"].status == "fail"
    strict = checks["strictly above -3.5"]
    assert (strict.failing_count, list(strict.samples)) == (1, [-3.5])
    price = checks["range(price)"]
    assert price.failing_count == 2
    assert sorted(Decimal(str(s)) for s in price.samples) == [Decimal("10.99"), Decimal("11.99")]
    day = checks["range(order_date)"]
    assert day.failing_count == 2
    assert sorted(day.samples) == [date(2026, 2, 11), date(2026, 2, 12)]
    created = checks["range(created_at)"]
    assert created.failing_count == 1
    assert [utc(s) for s in created.samples] == [datetime(2026, 2, 1, 12, 0, tzinfo=UTC)]
    updated = checks["range(updated_at)"]
    assert updated.failing_count == 1
    assert [utc(s) for s in updated.samples] == [datetime(2026, 2, 13, 18, 30, tzinfo=UTC)]


def test_allowed_and_not_allowed_are_case_sensitive(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "allowed", "column": "country", "values": ["US", "DE", "FR"]},
            {"type": "not_allowed", "column": "country", "values": ["XX", "GB"]},
            {"type": "allowed", "column": "region", "values": ["n", "s", "e", "w"]},
            {"type": "allowed", "column": "is_active", "values": [True]},
            {"type": "allowed", "column": "order_id", "values": list(range(1, 11))},
        )
    )
    checks = by_name(result)
    allowed = checks["allowed(country)"]
    assert (allowed.status, allowed.failing_count) == ("fail", 2)
    assert set(allowed.samples) == {"XX", "us"}
    assert allowed.metrics["considered"] == 11
    forbidden = checks["not_allowed(country)"]
    assert (forbidden.failing_count, list(forbidden.samples)) == (1, ["XX"])
    assert checks["allowed(region)"].status == "pass"
    active = checks["allowed(is_active)"]
    assert (active.failing_count, [bool(s) for s in active.samples]) == (2, [False])
    ids = checks["allowed(order_id)"]
    assert (ids.failing_count, sorted(ids.samples)) == (2, [11, 12])


def test_pattern_is_a_case_sensitive_search(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "pattern", "column": "email", "pattern": r"^[a-z]+@example\.com$"},
            {"type": "pattern", "column": "email", "pattern": "example", "name": "contains"},
            {"type": "pattern", "column": "customer", "pattern": "^[a-z]", "name": "lower"},
        )
    )
    checks = by_name(result)
    email = checks["pattern(email)"]
    assert (email.status, email.failing_count) == ("fail", 2)
    assert set(email.samples) == {"Bob@example.com", "dee-at-example.com"}
    assert email.metrics["considered"] == 11
    assert checks["contains"].status == "pass"  # a search, not a whole-value match
    lower = checks["lower"]
    assert (lower.failing_count, list(lower.samples)) == (1, ["Ann"])


def test_length_counts_characters_not_bytes(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "length", "column": "name", "min_length": 2, "max_length": 3},
            {"type": "length", "column": "country", "min_length": 2, "max_length": 2},
        )
    )
    checks = by_name(result)
    name = checks["length(name)"]
    # 'Zoë' is 3 characters (4 bytes in UTF-8): it passes.
    assert (name.failing_count, set(name.samples)) == (2, {"Hope", "I"})
    assert checks["length(country)"].status == "pass"


def test_statistics(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "statistic", "column": "amount", "statistic": "min", "min": -5},
            {"type": "statistic", "column": "amount", "statistic": "max", "max": 500},
            {"type": "statistic", "column": "amount", "statistic": "sum", "min": 1436, "max": 1437},
            {"type": "statistic", "column": "amount", "statistic": "mean", "min": 130, "max": 131},
            {"type": "statistic", "column": "country", "statistic": "distinct_count", "min": 5},
            {"type": "statistic", "column": "customer", "statistic": "distinct_count", "max": 10},
        )
    )
    checks = by_name(result)
    assert checks["min(amount)"].status == "pass"
    assert float(checks["min(amount)"].observed or 0) == -3.5
    maximum = checks["max(amount)"]
    assert (maximum.status, float(maximum.observed or 0)) == ("fail", 1000.0)
    assert math.isclose(float(checks["sum(amount)"].observed or 0), 1436.25)
    assert math.isclose(float(checks["mean(amount)"].observed or 0), 1436.25 / 11)
    distinct = checks["distinct_count(country)"]
    # US, DE, FR, XX and us: five, if the database tells 'us' from 'US'.
    assert (distinct.status, distinct.observed) == ("pass", 5)
    # 'ann' and 'Ann' are two customers; 'bob' twice is one: 11 distinct.
    customers = checks["distinct_count(customer)"]
    assert (customers.status, customers.observed) == ("fail", 11)


def test_severity_warn_reports_without_failing(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "not_null", "column": "amount", "severity": "warn"},
            {
                "type": "allowed",
                "column": "country",
                "values": ["US", "DE", "FR"],
                "severity": "warn",
            },
        )
    )
    assert [c.status for c in result.checks] == ["warn", "warn"]
    assert result.status == "warn"
    assert only(result, "allowed(country)").failing_count == 2


def test_schema_column_shorthand_gives_the_same_checks(backend: Backend) -> None:
    columns = [
        {"name": "order_id", "type": "integer", "nullable": False, "unique": True},
        {"name": "amount", "type": "float", "min": 0, "mostly": 0.8},
        {"name": "country", "type": "string", "allowed": ["US", "DE", "FR"], "severity": "warn"},
        {"name": "email", "type": "string", "pattern": "^[^@]+@[^@]+$"},
    ]
    result = backend.check(
        {"dataset": "orders", "schema": {"columns": columns, "extra_columns": "allow"}}
    )
    statuses = {c.name: c.status for c in result.checks}
    assert statuses == {
        "schema(order_id)": "pass",
        "schema(amount)": "pass",
        "schema(country)": "pass",
        "schema(email)": "pass",
        "not_null(order_id)": "pass",
        "unique(order_id)": "pass",
        "range(amount)": "pass",  # 10 of 11 >= 0: within mostly 0.8
        "allowed(country)": "warn",
        "pattern(email)": "fail",
    }
    assert only(result, "pattern(email)").samples == ("dee-at-example.com",)


# --------------------------------------------------------------------------- table checks


def test_freshness_with_a_fixed_now(backend: Backend) -> None:
    naive = backend.check(
        {
            "dataset": "orders",
            "freshness": {"column": "created_at", "warn_after": "1d", "fail_after": "2d"},
        },
        now=NOW,
    )
    check = only(naive, "freshness(created_at)")
    # Newest created_at: 2026-02-11 12:00 (naive, so UTC); now: 2026-02-14 12:00 UTC.
    assert (check.status, check.observed) == ("fail", "3d")
    assert check.metrics["newest"] == "2026-02-11T12:00:00+00:00"

    # The same instant in another zone gives the same age.
    elsewhere = NOW.astimezone(timezone(timedelta(hours=-5)))
    aware = backend.check(
        {
            "dataset": "orders",
            "freshness": {"column": "updated_at", "warn_after": "12h", "fail_after": "1d"},
        },
        now=elsewhere,
    )
    check = only(aware, "freshness(updated_at)")
    # Newest updated_at: 2026-02-13 18:30 UTC: 17h30m old.
    assert check.status == "warn"
    assert check.metrics["age_seconds"] == 17.5 * 3600

    fresh = backend.check(
        {"dataset": "orders", "freshness": {"column": "order_date", "fail_after": "3d"}},
        now=NOW,
    )
    assert only(fresh, "freshness(order_date)").status == "pass"  # 2026-02-12: 2.5 days


def test_volume(backend: Backend) -> None:
    assert backend.check({"dataset": "o", "volume": {"min_rows": 12}}).status == "pass"
    small = backend.check({"dataset": "o", "volume": {"max_rows": 5}})
    assert small.status == "fail"
    assert only(small, "volume").observed == 12


# --------------------------------------------------------------------------- schema


def test_every_type_maps_onto_the_contract(backend: Backend) -> None:
    result = backend.check({"dataset": "orders", "schema": {"columns": ALL_COLUMNS}})
    failed = [(c.name, c.message) for c in result.checks if c.status != "pass"]
    assert failed == []
    assert result.status == "pass"
    assert len(result.checks) == len(ALL_COLUMNS) + 1  # and no extra columns


def test_schema_mismatches(backend: Backend) -> None:
    columns = [
        {"name": "order_id", "type": "string"},  # retyped
        {"name": "amount", "type": "integer"},  # retyped: float is not integer
        {"name": "discount", "type": "float"},  # missing
        {"name": "price", "type": "float"},  # decimal satisfies float
        {"name": "created_at", "type": "date"},  # a timestamp is not a date
    ]
    result = backend.check(
        {
            "dataset": "orders",
            "schema": {"columns": columns},
            "checks": [{"type": "not_null", "column": "discount"}],
        }
    )
    checks = by_name(result)
    assert checks["schema(order_id)"].status == "fail"
    assert checks["schema(order_id)"].observed.startswith("integer")  # type: ignore[union-attr]
    assert checks["schema(amount)"].status == "fail"
    assert checks["schema(discount)"].observed == "missing"
    assert checks["schema(price)"].status == "pass"
    assert checks["schema(created_at)"].status == "fail"
    extra = checks["schema(extra columns)"]
    assert extra.status == "fail"
    assert set(str(extra.observed).split(", ")) == {
        "customer",
        "region",
        "country",
        "email",
        "name",
        "is_active",
        "order_date",
        "updated_at",
    }
    # A check on the missing column cannot be measured: an error, beside the schema failure.
    missing = checks["not_null(discount)"]
    assert missing.status == "error"
    assert "discount" in missing.message
    assert result.status == "fail"


def test_checks_on_wrongly_typed_columns_are_errors_not_verdicts(backend: Backend) -> None:
    result = backend.check(
        contract(
            {"type": "pattern", "column": "amount", "pattern": "^1"},
            {"type": "range", "column": "country", "min": 1},
            {"type": "not_null", "column": "order_id"},
        )
    )
    checks = by_name(result)
    assert checks["pattern(amount)"].status == "error"
    assert checks["range(country)"].status == "error"
    assert checks["not_null(order_id)"].status == "pass"
    assert result.status == "error"


def test_results_name_the_source_and_count_the_rows(backend: Backend) -> None:
    result = backend.check(contract({"type": "not_null", "column": "order_id"}))
    assert result.status == "pass"
    assert result.source is not None
    if backend.is_database:
        assert result.source.startswith("table 'eng_orders' in ")
        assert result.data_fingerprint["table"].endswith("eng_orders")
    assert result.data_fingerprint["rows"] == 12
