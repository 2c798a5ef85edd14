"""Sensitive columns and ``samples: false`` in the pure evaluation: hand-made
observations that carry failing values, and results that keep none of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from airflow_opsguard.checks.evaluate import evaluate, evaluate_check, withhold_samples
from airflow_opsguard.checks.keys import check_keys
from airflow_opsguard.checks.observations import CheckObservation, Observations, ObservedColumn
from airflow_opsguard.checks.results import CheckResult, GateResult
from airflow_opsguard.contract.models import Contract, RangeCheck

NOW = datetime(2026, 12, 7, 8, tzinfo=UTC)
SECRET = "leak-me-123@x.com"


def contract(*, samples: bool = True, **extra: Any) -> Contract:
    return Contract.model_validate(
        {
            "dataset": "people",
            "schema": {
                "columns": [
                    {"name": "id", "type": "integer"},
                    {
                        "name": "email",
                        "type": "string",
                        "sensitive": True,
                        "unique": True,
                        "pattern": "^[^@]+@[^@]+$",
                        "allowed": ["a@x.com"],
                    },
                    {"name": "card", "type": "integer", "sensitive": True, "min": 0, "max": 9},
                    {"name": "seen", "type": "timestamp", "sensitive": True},
                    {"name": "status", "type": "string", "allowed": ["new"]},
                ]
            },
            "freshness": {"column": "seen", "fail_after": "1d"},
            "checks": [
                {"type": "expression", "expression": "upper(EMAIL) <> ''", "name": "expr"},
                {"type": "statistic", "column": "card", "statistic": "max", "max": 9},
                {"type": "statistic", "column": "card", "statistic": "distinct_count", "max": 1},
                {
                    "type": "reconcile",
                    "metric": "max",
                    "column": "card",
                    "to": {"table": "other", "column": "card"},
                },
            ],
            "samples": samples,
            **extra,
        }
    )


def observations(judged: Contract) -> Observations:
    """Every check failing, with the secret in every place an engine could put it."""
    checks: dict[str, CheckObservation] = {}
    for key in check_keys(judged):
        checks[key.key] = CheckObservation(
            considered=5,
            failing=2,
            value=12345 if key.check is not None else datetime(2026, 12, 6, tzinfo=UTC),
            minimum=-4242,
            maximum=4343,
            samples=(SECRET, {"email": SECRET}),
        )
    columns = tuple(
        ObservedColumn(n, "X", t)
        for n, t in (
            ("id", "integer"),
            ("email", "string"),
            ("card", "integer"),
            ("seen", "timestamp"),
            ("status", "string"),
        )
    )
    return Observations(source="s", rows=5, columns=columns, checks=checks)


def judged_checks(judged: Contract) -> dict[str, dict[str, Any]]:
    result = evaluate(judged, observations(judged), now=NOW, clock=NOW)
    return {c["name"]: c for c in result.to_dict()["checks"]}


def test_sensitive_columns_keep_counts_and_no_value() -> None:
    checks = judged_checks(contract())
    # Every check but the plain column's, and a count of distinct values (not a value).
    text = json.dumps(
        [c for n, c in checks.items() if n != "allowed(status)" and "distinct" not in n]
    )
    for needle in (SECRET, "12345", "4242", "4343", "2026-12-06"):
        assert needle not in text, needle
    for name in ("unique(email)", "pattern(email)", "allowed(email)", "range(card)", "expr"):
        assert checks[name]["failing_count"] == 2, name
        assert checks[name]["samples"] == [], name
        assert checks[name]["status"] == "fail"
        assert "values withheld" in checks[name]["message"]
    assert "min" not in checks["range(card)"]["metrics"]
    (maximum,) = (
        c for c in checks.values() if c["type"] == "statistic" and "max of" in c["message"]
    )
    assert maximum["status"] == "fail" and maximum["observed"] is None
    assert "withheld" in maximum["message"]
    reconcile = next(c for c in checks.values() if c["type"] == "reconcile")
    assert reconcile["observed"] is None and reconcile["expected"] is None
    assert "does not agree" in reconcile["message"]
    freshness = checks["freshness(seen)"]
    assert "newest" not in freshness.get("metrics", {})
    assert freshness["observed"] == "1d 8h"  # the age is what freshness measures


def test_distinct_counts_stay_visible_on_a_sensitive_column() -> None:
    (distinct,) = (
        c for c in judged_checks(contract()).values() if "distinct_count" in c["message"]
    )
    assert distinct["observed"] == 12345


def test_a_plain_column_keeps_its_samples_unless_samples_is_false() -> None:
    shown = judged_checks(contract())["allowed(status)"]
    assert shown["samples"] == [SECRET, {"email": SECRET}]
    assert SECRET in shown["message"]
    hidden = judged_checks(contract(samples=False))["allowed(status)"]
    assert hidden["samples"] == [] and SECRET not in hidden["message"]
    assert hidden["failing_count"] == 2


def test_samples_false_hides_range_extremes_of_plain_columns_too() -> None:
    check = RangeCheck(column="n", min=0)
    seen = CheckObservation(considered=3, failing=1, minimum=-7, maximum=3, samples=(-7,))
    shown = evaluate_check(check, seen, rows=3)
    assert shown.metrics["min"] == -7 and shown.samples == (-7,)
    hidden = evaluate_check(check, seen, rows=3, withhold=True)
    assert "min" not in hidden.metrics and hidden.samples == () and "-7" not in hidden.message
    assert hidden.failing_count == 1 and hidden.status == "fail"


@pytest.mark.parametrize("samples", [True, False])
def test_withhold_samples_guards_results_judged_elsewhere(samples: bool) -> None:
    judged = contract(samples=samples)
    gx = CheckResult(
        name="gx: values in set",
        type="gx",
        status="fail",
        severity="fail",
        message=f"2 unexpected, e.g. {SECRET!r}",
        column="email",
        failing_count=2,
        samples=(SECRET,),
    )
    plain = CheckResult(
        name="gx: status",
        type="gx",
        status="fail",
        severity="fail",
        message="1 unexpected",
        column="status",
        failing_count=1,
        samples=("x",),
    )
    result = GateResult(dataset="people", status="fail", checked_at=NOW, rows=5, checks=(gx, plain))
    kept = withhold_samples(result, judged)
    assert kept.checks[0].samples == () and kept.checks[0].failing_count == 2
    assert kept.checks[0].message == "2 unexpected (values withheld)"
    assert kept.checks[1].samples == (("x",) if samples else ())
