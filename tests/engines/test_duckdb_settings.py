"""The DuckDB settings the file engine derives from its memory limit."""

from __future__ import annotations

import pytest

from airflow_opsguard.engines.files import _duckdb, _raw, parse_bytes


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
    [("2GB", "2", 25), ("1GB", "2", 24), ("16MB", "4", 17), ("1MB", "1", 15), ("10KB", "1", 12)],
)
def test_perfect_hash_tables_are_sized_from_the_memory_limit(
    monkeypatch: pytest.MonkeyPatch, limit: str, threads: str, bits: int
) -> None:
    monkeypatch.setenv("OPSGUARD_DUCKDB_MEMORY_LIMIT", limit)
    monkeypatch.setenv("OPSGUARD_DUCKDB_THREADS", threads)
    with _duckdb() as connection:
        row = _raw(connection).execute("SELECT current_setting('perfect_ht_threshold')").fetchone()
    assert int(row[0]) == bits


def test_an_unparsable_limit_keeps_duckdbs_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGUARD_DUCKDB_MEMORY_LIMIT", "50%")
    with _duckdb() as connection:
        row = _raw(connection).execute("SELECT current_setting('perfect_ht_threshold')").fetchone()
    assert int(row[0]) == 12
