"""Null counts that in-memory data knows without a scan (engines/frame_counts.py) give the
same results as DuckDB's scan of the same data: pandas (numpy and Arrow-backed columns,
NaN and NaT), Arrow tables (where a NaN is no null) and polars."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from airflow_opsguard import load_contract, validate
from airflow_opsguard.engines import files
from airflow_opsguard.engines.frame_counts import distinct_integers, known_counts
from airflow_opsguard.engines.plan import PlainCount

NOW = datetime(2026, 1, 2)
CONTRACT: dict[str, Any] = {
    "dataset": "frame_counts",
    "schema": {
        "columns": [
            {"name": "id", "type": "integer", "nullable": False, "unique": True},
            {"name": "amount", "type": "float", "nullable": False, "min": 0, "max": 10},
            {"name": "label", "type": "string", "nullable": False, "allowed": ["a", "b"]},
            {"name": "note", "type": "string", "not_allowed": ["x", "q"]},
            {"name": "loose", "type": "string", "nullable": False},
            {"name": "at", "type": "timestamp", "nullable": False},
        ]
    },
    "freshness": {"column": "at", "fail_after": "1d"},
}


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": np.arange(6, dtype="int64"),
            "amount": [1.0, np.nan, 3.0, None, 20.0, 2.0],
            "label": pd.array(["a", None, "b", "c", "a", None], dtype="string[pyarrow]"),
            "note": pd.array([None, "x", "y", None, None, "z"], dtype="str"),
            "loose": pd.Series(["p", None, np.nan, "q", "r", "s"], dtype=object),
            "at": pd.to_datetime(["2026-01-01", None, "2026-01-01", "2026-01-01", None, None]),
        }
    )


def _results(data: Any) -> list[tuple[Any, ...]]:
    result = validate(load_contract(CONTRACT), data=data, now=NOW)
    assert result.status != "error", result.error
    return sorted(
        (c.name, c.status, c.failing_count, c.message, repr(c.samples)) for c in result.checks
    )


def _scanned(monkeypatch: pytest.MonkeyPatch, data: Any) -> list[tuple[Any, ...]]:
    with monkeypatch.context() as patched:
        patched.setattr(files, "known_counts", lambda data: None)
        return _results(data)


def test_pandas_counts_are_the_scans_counts() -> None:
    known = known_counts(_frame())
    assert known is not None
    assert known.rows == 6
    # NaN and None in floats, None in Arrow text, NaT: as DuckDB reads them; no object column.
    assert known.nulls == {"id": 0, "amount": 2, "label": 2, "note": 3, "at": 3}
    assert set(known.texts) == {"label", "note"}
    assert known(PlainCount("not_in", "label", ("a", "b"))) == 1  # "c"; nulls never fail
    assert known(PlainCount("in", "label", ("a", "A"))) == 2  # case counts
    assert known(PlainCount("not_in", "label", ())) == 4
    assert known(PlainCount("values", "loose")) is None  # an object column: the scan's


def test_arrow_counts_keep_nan_apart_from_null() -> None:
    table = pa.table({"x": pa.array([1.0, float("nan"), None]), "s": ["a", None, None]})
    known = known_counts(table)
    assert known is not None and known.nulls == {"x": 1, "s": 2}


@pytest.mark.parametrize("kind", ["pandas", "arrow", "polars"])
def test_results_equal_a_full_scan(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    frame = _frame()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    data = {"pandas": frame, "arrow": table, "polars": pl.from_arrow(table)}[kind]
    found = _results(data)
    assert found == _scanned(monkeypatch, data)
    failing = {name: count for name, _, count, _, _ in found}
    assert failing["not_null(label)"] == 2
    assert failing["allowed(label)"] == 1
    assert failing["not_allowed(note)"] == 1
    assert failing["not_null(loose)"] == 2
    assert failing["not_null(at)"] == 3
    assert failing["not_null(amount)"] == 2  # NaN read as null (Arrow: made null by from_pandas)


def test_an_arrow_nan_is_no_null_as_in_the_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    table = pa.Table.from_pandas(_frame(), preserve_index=False)
    amount = pa.array([1.0, float("nan"), 3.0, None, 20.0, 2.0])
    table = table.set_column(table.column_names.index("amount"), "amount", amount)
    found = _results(table)
    assert found == _scanned(monkeypatch, table)
    assert {name: count for name, _, count, _, _ in found}["not_null(amount)"] == 1


def test_other_data_knows_nothing() -> None:
    assert known_counts([1, 2, 3]) is None
    assert known_counts(pd.DataFrame({1: [1, 2]})) is None  # DuckDB names that column


def test_names_duckdb_would_rename_know_nothing() -> None:
    assert known_counts(pa.table({"a": [1], "A": [None]})) is None
    assert known_counts(pd.DataFrame({"a": [1], "A": [None]})) is None


@pytest.mark.parametrize("spread", [3, 30, 300])
def test_samples_equal_the_sample_querys(monkeypatch: pytest.MonkeyPatch, spread: int) -> None:
    """Failing values that repeat: the first five rows, then fifty, as DuckDB is asked."""
    labels = ["a"] * 400
    for i, bad in enumerate(["c", "d", "e", "f", "g", "h"]):
        labels[spread * (i + 1) % 400] = bad
        labels[spread * (i + 1) % 400 - 1] = "c"
    frame = pd.DataFrame({"label": pd.array(labels, dtype="str")})
    contract = {
        "dataset": "samples",
        "schema": {"columns": [{"name": "label", "type": "string", "allowed": ["a"]}]},
    }
    checks = {}
    for patched in (False, True):
        with monkeypatch.context() as context:
            if patched:
                context.setattr(files, "known_counts", lambda data: None)
            result = validate(load_contract(contract), data=frame)
        checks[patched] = next(c for c in result.checks if c.name == "allowed(label)")
    assert checks[False].samples == checks[True].samples
    assert checks[False].failing_count == checks[True].failing_count
    assert checks[False].samples[0] == next(v for v in labels if v != "a")  # row order


@pytest.mark.parametrize(
    ("chunks", "distinct"),
    [
        ([np.arange(10)], True),  # rising
        ([np.arange(10)[::-1].copy()], True),  # falling
        ([np.arange(5), np.arange(5, 10)], True),  # rising across chunks
        ([np.arange(5), np.arange(4, 9)], False),  # 4 twice, at the chunks' seam
        ([np.array([3, 1, 2, 0])], True),  # a dense range, shuffled: the bitmap
        ([np.array([3, 1, 2, 1])], False),  # fewer possible values than values
        ([np.array([3, 1, 7, 1, 9, 0])], False),  # a repeat inside a dense range
        ([np.array([5, 1]), np.array([9, 1])], False),  # a repeat across chunks
        ([np.array([10**12, 1, 10**15])], False),  # too sparse to prove: left to DuckDB
        ([np.array([2**63 - 1, -(2**63), 0])], False),  # the whole int64 range, no overflow
        ([np.array([2**64 - 1, 2**64 - 3, 2**64 - 2], dtype=np.uint64)], True),
        ([np.array([2**64 - 1, 2**64 - 3, 2**64 - 1], dtype=np.uint64)], False),
        ([np.array([-128, 127, 0, -1], dtype=np.int8)], False),  # sparse for 4 values
        ([np.array([-2, 1, 0, -1], dtype=np.int8)], True),
        ([np.array([], dtype=np.int64)], True),
        ([np.array([7])], True),
    ],
)
def test_distinct_integers(chunks: list[Any], distinct: bool) -> None:
    assert distinct_integers(chunks) is distinct


def _ids(kind: str, ids: list[int]) -> Any:
    table = pa.table({"id": pa.array(ids, type=pa.int64())})
    return {"pandas": table.to_pandas(), "arrow": table, "polars": pl.from_arrow(table)}[kind]


@pytest.mark.parametrize("kind", ["pandas", "arrow", "polars"])
def test_unique_integer_ids_in_memory_are_proven_without_a_group_by(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """No query beside the scan: the GROUP BY and the connection that runs it are never
    opened for ids that numpy proves distinct."""
    from airflow_opsguard.engines.duckdb_session import Session

    def refused(self: Session) -> Any:
        raise AssertionError("a connection beside the scan was opened")

    contract = {
        "dataset": "ids",
        "schema": {"columns": [{"name": "id", "type": "integer", "unique": True}]},
    }
    monkeypatch.setenv("OPSGUARD_DUCKDB_THREADS", "2")  # a GROUP BY would run beside the scan
    monkeypatch.setattr(Session, "side_connection", refused)
    result = validate(load_contract(contract), data=_ids(kind, [5, 3, 4, 1, 2, 0]))
    (check,) = [c for c in result.checks if c.name == "unique(id)"]
    assert (check.status, check.failing_count) == ("pass", 0)


@pytest.mark.parametrize("kind", ["pandas", "arrow", "polars"])
@pytest.mark.parametrize("ids", [[5, 3, 5, 1, 3, 3], [10**12, 7, 10**12, 1]])
def test_duplicated_integer_ids_are_found_as_the_scan_finds_them(
    monkeypatch: pytest.MonkeyPatch, kind: str, ids: list[int]
) -> None:
    contract = {
        "dataset": "ids",
        "schema": {"columns": [{"name": "id", "type": "integer", "unique": True}]},
    }
    data = _ids(kind, ids)
    found = validate(load_contract(contract), data=data)
    with monkeypatch.context() as patched:
        patched.setattr(files, "known_counts", lambda data: None)
        scanned = validate(load_contract(contract), data=data)
    check, expected = (
        next(c for c in r.checks if c.name == "unique(id)") for r in (found, scanned)
    )
    assert (check.status, check.failing_count) == ("fail", expected.failing_count)
    assert sorted(check.samples) == sorted(expected.samples)
    assert check.failing_count == sum(ids.count(v) for v in set(ids) if ids.count(v) > 1)


def test_polars_text_is_read_as_its_string_views() -> None:
    """No copy of polars' strings into Arrow's older layout; the allowed-set count casts
    the one column it compares."""
    frame = pl.DataFrame({"label": ["a", None, "c", "a"]})
    known = known_counts(files.in_memory(frame))
    assert known is not None
    assert pa.types.is_string_view(known.texts["label"].type)
    assert known(PlainCount("not_in", "label", ("a",))) == 1
    assert known.samples(PlainCount("not_in", "label", ("a",)), 5) == ("c",)


def test_polars_views_only_reach_a_duckdb_that_filters_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DuckDB before 2.0 failed a filtered scan (a sample query) of an Arrow table with
    any view column: there, polars text is exported in Arrow's older layout."""
    import duckdb

    frame = pl.DataFrame({"id": [1, 2], "label": ["a", "x"], "blob": [b"1", b"2"]})
    contract = {
        "dataset": "views",
        "schema": {"columns": [{"name": "id", "type": "integer", "max": 1}]},
    }
    assert pa.types.is_string_view(files.in_memory(frame).schema.field("label").type)
    failing = validate(load_contract(contract), data=frame)  # the samples filter the scan
    assert next(c for c in failing.checks if c.type == "range").samples == (2,)
    monkeypatch.setattr(duckdb, "__version__", "1.4.3")
    older = files.in_memory(frame).schema
    assert pa.types.is_large_string(older.field("label").type)
    assert not pa.types.is_binary_view(older.field("blob").type)
