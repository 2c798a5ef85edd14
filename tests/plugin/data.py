"""Gate verdicts for the dashboard to show, written through the store's own API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from airflow_opsguard.checks.results import CheckResult, GateResult
from airflow_opsguard.runtime import attempt_run_id
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.tables import incidents

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def identity(dag_id: str, day: int, task_id: str = "gate", try_number: int = 1) -> dict[str, Any]:
    return {
        "dag_id": dag_id,
        "run_id": f"scheduled__2026-11-{day:02d}T00:00:00+00:00",
        "task_id": task_id,
        "map_index": -1,
        "try_number": try_number,
    }


def verdict(
    dataset: str, context: dict[str, Any] | None, *, at: datetime, bad: bool, rows: int = 1000
) -> GateResult:
    """A result with a freshness, a unique and a drift check; ``bad`` fails two."""
    newest = at - (timedelta(days=3) if bad else timedelta(hours=2))
    if at.day == 21:  # started by hand: the data was written after the reference time
        newest = at + timedelta(seconds=19)
    checks = (
        CheckResult(
            name="freshness(created_at)",
            type="freshness",
            column="created_at",
            status="fail" if bad else "pass",
            severity="fail",
            observed="3d" if bad else "2h",
            expected="< 1d",
            message="newest created_at is 3d old; the contract allows 1d" if bad else "fresh",
            metrics={"newest": newest.isoformat(), "age_seconds": (at - newest).total_seconds()},
        ),
        CheckResult(
            name="unique(order_id)",
            type="unique",
            column="order_id",
            status="fail" if bad else "pass",
            severity="fail",
            observed=3 if bad else 0,
            expected=0,
            message="3 duplicate order_id values" if bad else "no duplicates",
            failing_count=3 if bad else 0,
            failing_fraction=0.003 if bad else 0.0,
            samples=("<script>alert(1)</script>", 17, 42) if bad else (),
        ),
        CheckResult(
            name="distribution(amount)",
            type="distribution",
            column="amount",
            status="warn" if bad else "pass",
            severity="warn",
            observed=0.31 if bad else 0.04,
            expected="< 0.2",
            message="amount drifted (PSI 0.31)" if bad else "no drift",
            metrics={
                "method": "psi",
                "statistic": 0.31 if bad else 0.04,
                "warn": 0.1,
                "fail": 0.2,
                "bins": [
                    {"cell": ">= 500", "reference": 0.05, "current": 0.21 if bad else 0.06},
                    {"cell": "[100, 200)", "reference": 0.3, "current": 0.22 if bad else 0.29},
                ],
            },
        ),
    )
    status = "fail" if bad else "pass"
    run_id = attempt_run_id(context) if context else f"cli-{dataset}-{at:%Y%m%d%H%M}"
    return GateResult(
        dataset=dataset,
        status=status,
        checked_at=at,
        rows=rows,
        checks=checks,
        contract_fingerprint="sha256:" + ("b" * 40 if at.day > 23 else "a" * 40),
        source="data/orders.parquet",
        duration_ms=1200,
        run_id=run_id,
        context=context or {},
        metrics={"rows": float(rows), "null_fraction(email)": 0.01 * (at.day % 4)},
    )


def seed(url: str) -> dict[str, str]:
    """Two DAGs' datasets over a week, one CLI run, and incidents; their run ids."""
    ids: dict[str, str] = {}
    with ResultStore(url) as store:
        for day in range(20, 27):
            at = NOW.replace(day=day)
            orders = verdict("orders", identity("orders_dag", day), at=at, bad=day in (22, 26))
            payments = verdict(
                "payments", identity("payments_dag", day), at=at + timedelta(minutes=5), bad=False
            )
            for result in (orders, payments):
                assert store.record(result)
            ids[f"orders-{day}"] = str(orders.run_id)
            ids[f"payments-{day}"] = str(payments.run_id)
        cli = verdict("adhoc", None, at=NOW, bad=False)
        assert store.record(cli)
        ids["cli"] = str(cli.run_id)
        with store.connection(write=True) as connection, connection.begin():
            for values in _incidents(ids):
                connection.execute(incidents.insert(), values)
        with store.connection() as connection:
            found = connection.execute(sa.select(incidents.c.id, incidents.c.check_name)).all()
        for incident_id, name in found:
            ids[f"incident:{name}"] = str(incident_id)
    return ids


def _incidents(ids: dict[str, str]) -> list[dict[str, Any]]:
    base = {
        "dataset": "orders",
        "check_type": "unique",
        "column_name": "order_id",
        "severity": "fail",
        "last_status": "fail",
        "dag_id": "orders_dag",
        "task_id": "gate",
        "observed": 3,
        "expected": 0,
        "message": "3 duplicate order_id values",
    }
    return [
        {
            **base,
            "check_name": "unique(order_id)",
            "open_key": "k-unique",
            "status": "open",
            "failures": 1,
            "opened_at": NOW,
            "last_failed_at": NOW,
            "opened_run_id": ids["orders-26"],
            "last_run_id": ids["orders-26"],
        },
        {
            **base,
            "check_name": "freshness(created_at)",
            "check_type": "freshness",
            "column_name": "created_at",
            "observed": "3d",
            "expected": "< 1d",
            "message": "newest created_at is 3d old; the contract allows 1d",
            "open_key": None,
            "status": "resolved",
            "failures": 1,
            "opened_at": NOW.replace(day=22),
            "last_failed_at": NOW.replace(day=22),
            "resolved_at": NOW.replace(day=23),
            "resolved_by": "run",
            "opened_run_id": ids["orders-22"],
            "last_run_id": ids["orders-22"],
        },
    ]


HELD_CONTRACT = {
    "dataset": "orders_landing",
    "schema": {
        "columns": [
            {"name": "order_id", "type": "integer", "unique": True},
            {"name": "amount", "type": "float", "nullable": False, "min": 0},
        ]
    },
    "on_fail": "quarantine",
    "quarantine": {"level": "batch"},
}


def orders_frame(bad: bool) -> Any:
    import pandas as pd

    amounts = [10.0, -5.0, 7.5] if bad else [10.0, 5.0, 7.5]
    return pd.DataFrame({"order_id": [1, 2, 3], "amount": amounts})


def quarantine_batches(url: str, folder: Any) -> dict[str, Any]:
    """Two failing files that a real gate step set aside (orders_dag), by batch id,
    with where each is held."""
    from airflow_opsguard.formats import load_contract
    from airflow_opsguard.pipeline import run_gate
    from airflow_opsguard.quarantine import service

    held: dict[str, Any] = {}
    with ResultStore(url) as store:
        for day in (25, 26):
            data = folder / f"orders-{day}.parquet"
            orders_frame(bad=True).to_parquet(data)
            run = run_gate(
                load_contract(HELD_CONTRACT),
                batch_id=f"batch-{day}",
                data=str(data),
                store=store,
                identity=identity("orders_dag", day, task_id="landing_gate"),
                run_id=attempt_run_id(identity("orders_dag", day, task_id="landing_gate")),
                act=True,
            )
            result, settled = run.result, run.settlement
            assert settled is not None
            assert result is not None and result.status == "fail", result
            assert settled.action == "quarantined"
            record = service.get_batch(f"batch-{day}", store)
            held[record.batch_id] = {"data": data, "location": record.location}
    return held


SHOP_CONTRACT = {
    "dataset": "shop_orders",
    "schema": {
        "columns": [
            {"name": "order_id", "type": "integer", "unique": True},
            {"name": "amount", "type": "float", "nullable": False, "min": 0},
            {"name": "email", "type": "string", "sensitive": True},
        ]
    },
    "on_fail": "quarantine",
    "quarantine": {"level": "batch"},
}


def shop_frame(day: int) -> Any:
    """Day 1 passes; day 2 has a duplicate id; day 3 renames amount to amount_usd too."""
    import pandas as pd

    ids = [1, 2, 3, 4] if day == 1 else [1, 2, 2, 4]
    frame = pd.DataFrame(
        {"order_id": ids, "amount": [10.0, 5.5, 7.25, 3.0], "email": [f"u{i}@x.io" for i in ids]}
    )
    return frame.rename(columns={"amount": "amount_usd"}) if day == 3 else frame


def shop_runs(url: str, folder: Any) -> dict[str, str]:
    """Three real gate runs of shop_orders (shop_dag): pass, a new failure, then a
    renamed column on top of the still failing one, whose batch is quarantined."""
    from airflow_opsguard.formats import load_contract
    from airflow_opsguard.pipeline import run_gate

    ids: dict[str, str] = {}
    with ResultStore(url) as store:
        for day in (1, 2, 3):
            data = folder / f"shop-{day}.parquet"
            shop_frame(day).to_parquet(data)
            run = run_gate(
                load_contract(SHOP_CONTRACT),
                batch_id=f"shop-batch-{day}",
                data=str(data),
                store=store,
                now=NOW + timedelta(hours=day),
                identity=identity("shop_dag", 20 + day),
                run_id=attempt_run_id(identity("shop_dag", 20 + day)),  # as the gate does
                act=True,
            )
            assert run.result is not None and run.result.run_id is not None
            ids[f"shop-{day}"] = run.result.run_id
    return ids
