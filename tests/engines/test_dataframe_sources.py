"""In-memory data at full speed: pandas, polars and Arrow give the same verdicts and numbers
as the same rows in a Parquet file, read by several DuckDB connections at once; a unique
integer column is proven unique by a bitmap over its range, and falls back to counting
distinct values when the range is sparse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from airflow_opsguard import validate
from airflow_opsguard.engines.duckdb_session import session
from airflow_opsguard.engines.duckdb_unique import MAX_BITS, bitmap_counter
from airflow_opsguard.engines.plan import PlannedCheck

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
COUNTRIES = ["US", "DE", "FR"]
CONTRACT: dict[str, Any] = {
    "dataset": "orders_in_memory",
    "schema": {
        "columns": [
            {"name": "order_id", "type": "integer", "nullable": False, "unique": True},
            {"name": "amount", "type": "float", "nullable": False, "min": 0, "max": 1000},
            {"name": "country", "type": "string", "allowed": COUNTRIES},
            {"name": "created_at", "type": "timestamp", "nullable": False},
            {"name": "status", "type": "string", "nullable": False},
        ],
        "extra_columns": "fail",
    },
    "freshness": {"column": "created_at", "fail_after": "1d"},
}


def orders(n: int, *, broken: bool, ids: np.ndarray | None = None) -> pa.Table:
    """``n`` orders; broken ones have a repeated id, a null and a negative amount, a
    country outside the set and a null status."""
    rng = np.random.default_rng(7)
    order_id = ids if ids is not None else 1_000 + rng.permutation(n).astype(np.int64)
    amount = np.round(rng.uniform(1, 900, n), 2)
    country = [COUNTRIES[i % 3] for i in range(n)]
    status: list[str | None] = ["paid"] * n
    amount_mask = np.zeros(n, dtype=bool)
    if broken:
        order_id = order_id.copy()
        order_id[5] = order_id[6]  # two rows share an id
        amount_mask[7] = True
        amount[8] = -3.5
        country[9] = "XX"
        status[10] = None
    newest = datetime(2026, 11, 26, 10, 0)
    created = [newest - timedelta(minutes=i) for i in range(n)]
    return pa.table(
        {
            "order_id": pa.array(order_id),
            "amount": pa.array(amount, mask=amount_mask),
            "country": pa.array(country),
            "created_at": pa.array(created, type=pa.timestamp("us")),
            "status": pa.array(status),
        }
    )


def as_kind(table: pa.Table, kind: str, tmp_path: Path) -> Any:
    if kind == "arrow":
        return table
    if kind == "pandas":
        return table.to_pandas()
    if kind == "pandas-object":  # strings as Python objects, as pandas 2 reads them
        return table.to_pandas().astype({"country": object, "status": object})
    if kind == "polars":
        return pl.from_arrow(table)
    if kind == "polars-lazy":
        return pl.from_arrow(table).lazy()  # type: ignore[union-attr]
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path)
    return str(path)


def outcome(result: Any) -> dict[str, tuple[str, int | None, tuple[Any, ...]]]:
    return {
        c.name: (c.status, c.failing_count, tuple(sorted(map(str, c.samples or ()))))
        for c in result.checks
    }


KINDS = ["arrow", "pandas", "pandas-object", "polars", "polars-lazy"]


@pytest.mark.parametrize("broken", [False, True], ids=["healthy", "broken"])
def test_every_in_memory_kind_agrees_with_the_parquet_file(tmp_path: Path, broken: bool) -> None:
    table = orders(3_000, broken=broken)
    expected = validate(CONTRACT, data=as_kind(table, "parquet", tmp_path), now=NOW)
    assert expected.status == ("fail" if broken else "pass")
    for kind in KINDS:
        result = validate(CONTRACT, data=as_kind(table, kind, tmp_path), now=NOW)
        assert outcome(result) == outcome(expected), kind
        assert result.rows == 3_000


def test_broken_frame_counts_each_problem(tmp_path: Path) -> None:
    result = validate(CONTRACT, data=orders(3_000, broken=True).to_pandas(), now=NOW)
    found = {c.name: (c.status, c.failing_count) for c in result.checks}
    assert found["unique(order_id)"] == ("fail", 2)
    assert found["not_null(amount)"] == ("fail", 1)
    assert found["range(amount)"] == ("fail", 1)
    assert found["allowed(country)"] == ("fail", 1)
    assert found["not_null(status)"] == ("fail", 1)
    duplicated = next(c for c in result.checks if c.name == "unique(order_id)")
    assert list(duplicated.samples or ()) == [orders(3_000, broken=True)["order_id"][6].as_py()]


@pytest.mark.parametrize(
    ("label", "ids"),
    [
        ("sparse 64-bit keys", np.array([1, 2**62, 5, 2**62, -(2**61)], dtype=np.int64)),
        ("negative range", np.array([-5, -4, -3, -4, -1], dtype=np.int64)),
        ("one value", np.array([42, 42, 42, 42, 42], dtype=np.int64)),
    ],
)
def test_unique_counts_duplicates_in_any_range(label: str, ids: np.ndarray) -> None:
    contract = {
        "dataset": "ids",
        "schema": {"columns": [{"name": "id", "type": "integer", "unique": True}]},
    }
    values, counts = np.unique(ids, return_counts=True)
    duplicated = int(counts[counts > 1].sum())
    for data in (pd.DataFrame({"id": ids}), pa.table({"id": ids}), pl.DataFrame({"id": ids})):
        check = validate(contract, data=data, now=NOW).checks[-1]
        assert (check.name, check.failing_count) == ("unique(id)", duplicated), label
        assert set(check.samples or ()) == set(values[counts > 1].tolist()), label


def _planned(view: str, name: str, type_: Any) -> PlannedCheck:
    column = sa.column(name, type_, _selectable=sa.table(view))
    return PlannedCheck(key=f"unique({name})", distinct_column=column)


def _counted(data: pa.Table, type_: Any = None, memory: int | None = None) -> Any:
    with session() as opened:
        opened.register("ids_view", data)
        planned = _planned("ids_view", "id", type_ or sa.BigInteger())
        counter = bitmap_counter(memory, 2)
        return counter(opened.connection.execute, planned)


def test_bitmap_counts_distinct_integers_exactly() -> None:
    ids = pa.array([10, 11, 12, 12, None, 15, 10], type=pa.int64())
    assert _counted(pa.table({"id": ids})) == (4, 6)  # 10, 11, 12, 15 among six values


def test_bitmap_leaves_sparse_huge_and_non_integer_columns_to_count_distinct() -> None:
    sparse = pa.table({"id": pa.array([0, 10_000_000], type=pa.int64())})
    assert _counted(sparse) is None  # two values over ten million: not worth a bitmap
    assert _counted(pa.table({"id": pa.array([0, MAX_BITS + 5], type=pa.int64())})) is None
    dense_but_over_budget = pa.table({"id": pa.array(range(0, 2_000_000, 2), type=pa.int64())})
    assert _counted(dense_but_over_budget, memory=100_000) is None  # bitmaps over a quarter
    assert _counted(dense_but_over_budget) == (1_000_000, 1_000_000)
    text = pa.table({"id": pa.array(["a", "b"])})
    assert _counted(text, sa.String()) is None
    empty = pa.table({"id": pa.array([None, None], type=pa.int64())})
    assert _counted(empty) == (0, 0)


def test_side_connections_read_registered_data() -> None:
    table = pa.table({"x": pa.array(range(100), type=pa.int64())})
    with session() as opened:
        opened.register("frame_view", table)
        with opened.side_connection() as side:
            total = side.execute(sa.text("SELECT sum(x) FROM frame_view")).scalar_one()
    assert total == sum(range(100))
