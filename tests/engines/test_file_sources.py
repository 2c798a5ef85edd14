"""The file engine on real files: formats, folders, globs, fsspec URLs, in-memory data."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import pandas as pd
import pyarrow as pa
import pytest

from airflow_opsguard import DataSourceError, validate
from airflow_opsguard.engines.files import resolve_files

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
CONTRACT = {
    "dataset": "events",
    "schema": {
        "columns": [
            {"name": "id", "type": "integer", "nullable": False, "unique": True},
            {"name": "kind", "type": "string", "allowed": ["click", "view"]},
            {"name": "ts", "type": "timestamp"},
        ]
    },
    "freshness": {"column": "ts", "fail_after": "1d"},
    "volume": {"min_rows": 1},
}


def frame(n: int = 6, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(start, start + n),
            "kind": ["click", "view"] * (n // 2),
            "ts": pd.date_range("2026-11-26 00:00", periods=n, freq="h"),
        }
    )


def statuses(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c.name: c.status for c in result.checks}


@pytest.mark.parametrize("suffix", ["parquet", "csv", "jsonl", "csv.gz"])
def test_each_format_gives_the_same_verdict(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"events.{suffix}"
    df = frame()
    if suffix == "parquet":
        df.to_parquet(path)
    elif suffix == "csv":
        df.to_csv(path, index=False)
    elif suffix == "csv.gz":
        with gzip.open(path, "wt") as handle:
            df.to_csv(handle, index=False)
    else:
        df.to_json(path, orient="records", lines=True, date_format="iso")
    result = validate(CONTRACT, data=str(path), now=NOW)
    assert result.status == "pass", [c.message for c in result.checks if c.status != "pass"]
    assert result.rows == 6
    assert result.data_fingerprint["files"] == 1


def test_a_folder_of_parts_is_one_dataset_and_markers_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    (folder / "day=1").mkdir(parents=True)
    (folder / "day=2").mkdir()
    frame(4, 0).to_parquet(folder / "day=1" / "part-0.parquet")
    frame(4, 4).to_parquet(folder / "day=2" / "part-0.parquet")
    (folder / "_SUCCESS").write_text("")
    (folder / "_quarantine").mkdir()
    frame(4, 0).to_parquet(folder / "_quarantine" / "old.parquet")  # would duplicate ids
    result = validate(CONTRACT, data=str(folder), now=NOW)
    assert result.rows == 8
    assert result.status == "pass"
    assert result.data_fingerprint["files"] == 2


def test_a_glob_reads_every_match_and_duplicates_across_files_count(tmp_path: Path) -> None:
    frame(4, 0).to_parquet(tmp_path / "a.parquet")
    frame(4, 2).to_parquet(tmp_path / "b.parquet")
    result = validate(CONTRACT, data=str(tmp_path / "*.parquet"), now=NOW)
    assert result.rows == 8
    unique = next(c for c in result.checks if c.name == "unique(id)")
    assert unique.status == "fail"
    assert unique.failing_count == 4  # ids 2 and 3, twice each
    assert sorted(unique.samples) == [2, 3]


def test_fsspec_urls(tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    with fs.open("memory://bucket/events/part-0.csv", "w") as handle:
        frame().to_csv(handle, index=False)
    result = validate(CONTRACT, data="memory://bucket/events", now=NOW)
    assert result.status == "pass"
    assert result.rows == 6
    fs.rm("memory://bucket", recursive=True)


def test_file_urls(tmp_path: Path) -> None:
    frame().to_parquet(tmp_path / "e.parquet")
    assert validate(CONTRACT, data=f"file://{tmp_path}/e.parquet", now=NOW).rows == 6


@pytest.mark.parametrize("kind", ["pandas", "arrow"])
def test_in_memory_data(kind: str) -> None:
    df = frame()
    df.loc[2, "kind"] = "purchase"
    data = df if kind == "pandas" else pa.Table.from_pandas(df)
    result = validate(CONTRACT, data=data, now=NOW)
    assert result.status == "fail"
    assert statuses(result)["allowed(kind)"] == "fail"
    assert result.data_fingerprint == {"in_memory": True, "rows": 6}


def test_a_late_value_that_breaks_the_guessed_type_is_read_correctly(tmp_path: Path) -> None:
    # DuckDB guesses CSV types from the first rows; a text id far down must not crash.
    rows = [f"{i},click,2026-11-26 01:00:00" for i in range(30_000)] + ["x1,view,2026-11-26"]
    (tmp_path / "late.csv").write_text("id,kind,ts\n" + "\n".join(rows) + "\n")
    result = validate(CONTRACT, data=str(tmp_path / "late.csv"), now=NOW)
    assert result.rows == 30_001
    assert statuses(result)["schema(id)"] == "fail"  # the column is text after all


def test_timezone_aware_timestamps(tmp_path: Path) -> None:
    df = frame()
    df["ts"] = df["ts"].dt.tz_localize("Europe/Berlin")  # 05:00 Berlin = 04:00 UTC
    df.to_parquet(tmp_path / "tz.parquet")
    result = validate(CONTRACT, data=str(tmp_path / "tz.parquet"), now=NOW)
    fresh = next(c for c in result.checks if c.type == "freshness")
    assert fresh.metrics["newest"] == "2026-11-26T04:00:00+00:00"
    assert fresh.observed == "8h"


def test_range_bounds_on_timestamps(tmp_path: Path) -> None:
    contract = {
        "dataset": "e",
        "checks": [{"type": "range", "column": "ts", "min": datetime(2026, 11, 26, 2, 0)}],
    }
    result = validate(contract, data=frame(), now=NOW)
    (check,) = result.checks
    assert check.failing_count == 2
    assert check.status == "fail"


def test_checks_on_missing_or_mistyped_columns_are_errors_beside_the_schema_failure() -> None:
    df = frame().rename(columns={"kind": "category"})
    df["ts"] = df["ts"].astype(str)
    result = validate(CONTRACT, data=df, now=NOW)
    by_name = {c.name: c for c in result.checks}
    assert by_name["schema(kind)"].status == "fail"
    assert by_name["allowed(kind)"].status == "error"
    assert "not in the data" in by_name["allowed(kind)"].message
    assert by_name["freshness(ts)"].status == "error"
    assert "freshness needs a date or timestamp" in by_name["freshness(ts)"].message
    assert result.status == "fail"  # a known failure outranks what could not be measured


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: str(d / "nothing.parquet"), "no such file or directory"),
        (lambda d: str(d / "*.parquet"), "no file matches"),
        (lambda d: (d / "empty").mkdir(exist_ok=True) or str(d / "empty"), "holds no data files"),
        (lambda d: (d / "x.txt").write_text("a") and str(d / "x.txt"), "unknown file type"),
    ],
)
def test_unreadable_locations(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataSourceError, match=message):
        resolve_files(make(tmp_path))
    result = validate(CONTRACT, data=make(tmp_path), now=NOW)
    assert result.status == "error"
    assert message in (result.error or "")


def test_mixed_formats_are_refused(tmp_path: Path) -> None:
    frame().to_parquet(tmp_path / "a.parquet")
    frame().to_csv(tmp_path / "b.csv")
    with pytest.raises(DataSourceError, match="mixes file formats"):
        resolve_files(str(tmp_path))


def test_corrupt_parquet_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    result = validate(CONTRACT, data=str(tmp_path / "bad.parquet"), now=NOW)
    assert result.status == "error"
    assert "bad.parquet" in (result.error or "")


def test_source_format_overrides_the_suffix(tmp_path: Path) -> None:
    frame().to_csv(tmp_path / "events.data", index=False)
    contract = {**CONTRACT, "source": {"path": str(tmp_path / "events.data"), "format": "csv"}}
    assert validate(contract, now=NOW).status == "pass"


def test_relative_source_paths_are_read_from_the_contract_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    (tmp_path / "contracts").mkdir()
    (tmp_path / "data").mkdir()
    frame().to_parquet(tmp_path / "data" / "events.parquet")
    contract = {**CONTRACT, "source": {"path": "../data/events.parquet"}}
    (tmp_path / "contracts" / "events.yml").write_text(yaml.safe_dump(contract))
    monkeypatch.chdir("/")
    result = validate(str(tmp_path / "contracts" / "events.yml"), now=NOW)
    assert result.status == "pass"
    assert result.source == str(tmp_path / "data" / "events.parquet")


def test_globs_skip_markers_quarantine_and_hidden_files_unless_named(tmp_path: Path) -> None:
    data = tmp_path / "batch"
    (data / "_quarantine" / "orders" / "b1").mkdir(parents=True)
    pd.DataFrame({"a": [1]}).to_parquet(data / "part-0.parquet")
    pd.DataFrame({"a": [2]}).to_parquet(data / "_quarantine" / "orders" / "b1" / "part-1.parquet")
    (data / "_SUCCESS").touch()
    (data / ".part-0.parquet.crc").touch()
    kept = [str(data / "part-0.parquet")]
    assert list(resolve_files(f"{data}/*").paths) == kept
    assert list(resolve_files(f"{data}/**/*.parquet").paths) == kept
    named = resolve_files(f"{data}/_quarantine/orders/*/*.parquet").paths
    assert list(named) == [str(data / "_quarantine" / "orders" / "b1" / "part-1.parquet")]
