"""Contracts and data for alert tests: three checks that fail with known numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from airflow_opsguard.contract.models import Contract
from airflow_opsguard.formats import load_contract

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def orders_contract(dataset: str, routes: list[dict[str, Any]], **extra: Any) -> Contract:
    """unique(order_id), range(amount) >= 0 and volume >= 5 rows."""
    return load_contract(
        {
            "dataset": dataset,
            "owner": "data-platform@example.com",
            "runbook": "https://wiki.example.com/runbooks/orders",
            "schema": {
                "columns": [
                    {"name": "order_id", "type": "integer", "unique": True},
                    {"name": "amount", "type": "float", "min": 0},
                    {"name": "created_at", "type": "timestamp"},
                ]
            },
            "freshness": {"column": "created_at", "fail_after": "1d"},
            "volume": {"min_rows": 5},
            "alerts": routes,
            **extra,
        }
    )


def bad_orders() -> pd.DataFrame:
    """3 rows (volume fails), order_id 2 twice (2 rows fail unique), one negative amount."""
    return pd.DataFrame(
        {
            "order_id": [1, 2, 2],
            "amount": [10.0, -5.0, 7.5],
            "created_at": pd.to_datetime(
                ["2026-11-26 09:00", "2026-11-26 10:00", "2026-11-26 11:00"]
            ),
        }
    )


def good_orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": list(range(1, 7)),
            "amount": [10.0, 5.0, 7.5, 1.0, 2.0, 3.0],
            "created_at": pd.to_datetime(["2026-11-26 11:00"] * 6),
        }
    )


def hook_route(url: str, *events: str, **options: Any) -> dict[str, Any]:
    return {"on": list(events or ("fail", "escalate")), "webhook": url, "backoff": 0, **options}
