"""Queries run side by side (the uniqueness GROUP BY beside the scan, a scan split by
columns) give exactly what one query after another gives, and fall back to that when
no second connection can be had."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from airflow_opsguard.contract.loader import load_contract
from airflow_opsguard.engines import files
from airflow_opsguard.engines.duckdb_session import Session, session
from airflow_opsguard.engines.executor import Parallel, measure
from airflow_opsguard.errors import DataSourceError

CONTRACT = {
    "dataset": "orders",
    "schema": {
        "columns": [
            {"name": "id", "type": "integer", "unique": True},
            {"name": "email", "type": "string", "pattern": "^[^@]+@[^@]+$"},
            {"name": "amount", "type": "float", "min": 0, "nullable": False},
            {"name": "country", "type": "string", "allowed": ["US", "DE"]},
        ]
    },
    "checks": [{"type": "unique", "columns": ["country", "amount"]}],
}


def observations(path: Path, parallel: Any) -> dict[str, Any]:
    fileset = files.resolve_files(str(path))
    with session() as opened:
        columns = files._open_files(opened, fileset, {})
        found = measure(
            opened.connection,
            load_contract(CONTRACT),
            sa.table(files.VIEW),
            columns,
            source_name="orders",
            parallel=parallel(opened) if parallel else None,
        )
    return {
        key: (o.considered, o.failing, sorted(map(str, o.samples)), o.error)
        for key, o in found.checks.items()
    }


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    frame = pd.DataFrame(
        {
            "id": [1, 2, 2, 3, 4, 4, 4, 5],
            "email": ["a@x", "bad", "c@x", None, "e@x", "f", "g@x", "h@x"],
            "amount": [1.0, -2.0, 3.0, 3.0, None, 5.0, 5.0, 1.0],
            "country": ["US", "DE", "FR", "US", "US", None, "US", "US"],
        }
    )
    frame.to_parquet(tmp_path / "orders.parquet")
    return tmp_path / "orders.parquet"


@pytest.mark.parametrize("split", [False, True])
def test_side_by_side_gives_what_one_after_another_gives(orders: Path, split: bool) -> None:
    def side_by_side(opened: Session) -> Parallel:
        return Parallel(opened.side_connection, 2, split)

    serial = observations(orders, None)
    assert serial["unique(id)"][1] == 5  # rows in duplicated groups, as GX counts them
    assert observations(orders, side_by_side) == serial


def test_without_a_second_connection_queries_run_one_after_another(orders: Path) -> None:
    @contextmanager
    def refused() -> Any:
        raise DataSourceError("too many connections", retryable=True)
        yield  # pragma: no cover

    assert observations(orders, lambda _: Parallel(refused, 2, True)) == observations(orders, None)
