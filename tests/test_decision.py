"""The pure gate decisions: a verdict and on_fail in, an action out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airflow_opsguard.checks.results import CheckResult, GateResult
from airflow_opsguard.decision import decide, summarize


def result(status: str, *, error: str | None = None, retryable: bool = False) -> GateResult:
    checks = tuple(
        CheckResult(
            name=f"range(c{i})",
            type="range",
            status="fail",
            severity="fail",
            message=f"{i} of 10 values of c{i} outside [0, 1]",
            observed=i,
        )
        for i in range(1, 8)
    )
    return GateResult(
        dataset="orders",
        status=status,  # type: ignore[arg-type]
        checked_at=datetime(2026, 11, 26, tzinfo=UTC),
        rows=10,
        checks=checks if status == "fail" else (),
        error=error,
        retryable=retryable,
    )


@pytest.mark.parametrize(
    ("status", "on_fail", "action"),
    [
        ("pass", "fail", "continue"),
        ("warn", "fail", "continue"),
        ("fail", "fail", "fail"),
        ("fail", "skip", "skip"),
        ("fail", "quarantine", "quarantine"),
        ("fail", "warn", "continue"),
    ],
)
def test_actions(status: str, on_fail: str, action: str) -> None:
    assert decide(result(status), on_fail).action == action  # type: ignore[arg-type]


@pytest.mark.parametrize("on_fail", ["fail", "skip", "quarantine", "warn"])
def test_an_error_never_lets_data_through(on_fail: str) -> None:
    final = decide(result("error", error="cannot read x.parquet"), on_fail)  # type: ignore[arg-type]
    assert final.action == "fail"
    again = decide(result("error", error="server down", retryable=True), on_fail)  # type: ignore[arg-type]
    assert again.action == "retry"


def test_the_summary_names_every_failing_check_up_to_a_limit() -> None:
    text = summarize(result("fail"), limit=5)
    assert text.splitlines()[0] == "quality gate 'orders': fail (10 rows); 7 checks did not pass:"
    assert "FAIL range(c1): 1 of 10 values of c1 outside [0, 1]" in text
    assert "and 2 more" in text
