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

from airflow_opsguard.engines import files
from airflow_opsguard.engines.duckdb_session import Session, session
from airflow_opsguard.engines.executor import Parallel, run_plan
from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.formats import load_contract

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


def observations(path: Path, parallel: Any, count_distinct: bool = False) -> dict[str, Any]:
    fileset = files.resolve_files(str(path))
    with session() as opened:
        columns = files._open_files(opened, fileset, {})
        found = run_plan(
            opened.connection,
            load_contract(CONTRACT),
            sa.table(files.VIEW),
            columns,
            source_name="orders",
            parallel=parallel(opened) if parallel else None,
            count_distinct=count_distinct,
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


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize(
    ("ids", "duplicated"),
    [([1, 2, 2, 3, 4, 4, 4, 5], 5), ([1, 2, None, 3, 4, 5, 6, None], 0), ([None] * 8, 0)],
)
def test_counting_distinct_values_first_gives_what_grouping_gives(
    orders: Path, split: bool, ids: list[Any], duplicated: int
) -> None:
    """A unique column is proven unique by its distinct count, without the GROUP BY; a
    column with duplicates is grouped next, with the same count and samples."""
    frame = pd.read_parquet(orders)
    frame["id"] = pd.array(ids, dtype="Int64")
    frame.to_parquet(orders)

    def side_by_side(opened: Session) -> Parallel:
        return Parallel(opened.side_connection, 2, split)

    grouped = observations(orders, None)
    assert grouped["unique(id)"][1] == duplicated
    assert observations(orders, side_by_side, count_distinct=True) == grouped
    assert observations(orders, None, count_distinct=True) == grouped
