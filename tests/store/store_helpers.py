"""Results to store, and the worker of the parallel-writer tests (importable by spawn)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_opsguard.checks.results import CheckResult, GateResult, Status

BASE_TIME = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def make_result(
    dataset: str = "orders",
    *,
    status: Status = "fail",
    minutes: int = 0,
    run_id: str | None = "auto",
    **changes: Any,
) -> GateResult:
    """A realistic result: a failing range check with samples, a passing volume check and
    a schema check; ``minutes`` moves checked_at forward from BASE_TIME."""
    checks = (
        CheckResult(
            name="schema(amount)",
            type="schema",
            status="pass",
            severity="fail",
            message="column 'amount' is float (DOUBLE)",
            column="amount",
            observed="float (DOUBLE)",
            expected="float",
        ),
        CheckResult(
            name="range(amount)",
            type="range",
            status="fail" if status == "fail" else "pass",
            severity="fail",
            message="3 of 1000 values of amount are outside [0, 100000]",
            column="amount",
            observed=-12.5 - minutes,
            expected="[0, 100000]",
            failing_count=3 + minutes,
            failing_fraction=0.003,
            samples=(-12.5, -1.0, None),
            mostly=0.999,
            metrics={"min": -12.5, "max": 99.25, "histogram": [1, 2, 3]},
        ),
        CheckResult(
            name="volume",
            type="volume",
            status="pass",
            severity="warn",
            message="1000 rows",
            observed=1000,
            expected=">= 10",
        ),
    )
    fields: dict[str, Any] = {
        "dataset": dataset,
        "status": status,
        "checked_at": BASE_TIME + timedelta(minutes=minutes),
        "rows": 1000,
        "checks": checks,
        "contract_fingerprint": "f" * 64,
        "data_fingerprint": {"rows": 1000, "schema": "ab12", "identity": "da2e21f8"},
        "source": "data/orders.parquet",
        "duration_ms": 42,
        "run_id": uuid.uuid4().hex if run_id == "auto" else run_id,
        "context": {"dag_id": "orders", "run_id": "manual__1", "task_id": "orders_gate"},
    }
    fields.update(changes)
    return GateResult(**fields)


def write_many(url: str, worker: int, count: int, barrier: Any) -> None:
    """Record ``count`` results from one process, all starting together; fail loudly."""
    from airflow_opsguard.store import ResultStore

    store = ResultStore(url)
    barrier.wait()
    refused = [
        i
        for i in range(count)
        if not store.record(make_result("parallel", minutes=i, run_id=f"w{worker}-{i}"))
    ]
    store.close()
    if refused:
        raise SystemExit(f"worker {worker}: {len(refused)} results were not stored")
