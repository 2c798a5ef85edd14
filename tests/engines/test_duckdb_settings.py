"""The DuckDB settings the file engine derives from its memory limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_opsguard.engines.duckdb_session import parse_bytes, session


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2GB", 2_000_000_000),
        ("512 MiB", 512 * 1024**2),
        ("1.5gb", 1_500_000_000),
        ("100", 100),
        ("64KB", 64_000),
        ("80%", None),
        ("lots", None),
    ],
)
def test_memory_sizes_parse_as_duckdb_reads_them(text: str, expected: int | None) -> None:
    assert parse_bytes(text) == expected


@pytest.mark.parametrize(
    ("limit", "threads", "bits"),
    [("2GB", "2", 25), ("1GB", "2", 24), ("16MB", "4", 17), ("1MB", "1", 15), ("1MB", "16", 12)],
)
def test_perfect_hash_tables_are_sized_from_the_memory_limit(
    monkeypatch: pytest.MonkeyPatch, limit: str, threads: str, bits: int
) -> None:
    monkeypatch.setenv("OPSGUARD_DUCKDB_MEMORY_LIMIT", limit)
    monkeypatch.setenv("OPSGUARD_DUCKDB_THREADS", threads)
    with session() as opened:
        row = opened.raw.execute("SELECT current_setting('perfect_ht_threshold')").fetchone()
    assert int(row[0]) == bits


def test_an_unparsable_limit_keeps_duckdbs_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGUARD_DUCKDB_MEMORY_LIMIT", "50%")
    with session() as opened:
        row = opened.raw.execute("SELECT current_setting('perfect_ht_threshold')").fetchone()
    assert int(row[0]) == 12


def test_checking_spills_to_a_fresh_temporary_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A uniqueness GROUP BY larger than the memory limit spills, also where the
    temporary directory holds nothing of ours yet (a fresh TMPDIR on a worker)."""
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq

    from airflow_opsguard import validate

    ids = pa.array(range(3_000_000), pa.int64())
    pq.write_table(
        pa.table({"id": pa.concat_arrays([ids, pa.array([7, 8], pa.int64())])}),
        tmp_path / "ids.parquet",
    )
    fresh = tmp_path / "tmp"
    fresh.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(fresh))
    monkeypatch.setenv("OPSGUARD_DUCKDB_MEMORY_LIMIT", "40MB")
    monkeypatch.setenv("OPSGUARD_DUCKDB_THREADS", "1")
    result = validate(
        {
            "dataset": "ids",
            "schema": {"columns": [{"name": "id", "type": "integer", "unique": True}]},
        },
        tmp_path / "ids.parquet",
    )
    unique = {c.name: c for c in result.checks}["unique(id)"]
    assert result.error is None
    assert (unique.status, unique.failing_count) == ("fail", 4)
    assert sorted(unique.samples) == [7, 8]
