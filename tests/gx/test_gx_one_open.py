"""A run opens its data once: the checks' scan, the profile kept for the next baseline and
the GX suites read the one source the file engine opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gx_data import orders, write_suite

from airflow_opsguard import promote_baseline, validate
from airflow_opsguard.engines import files
from airflow_opsguard.store import ResultStore


def counting_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every time the file engine opens files (a DuckDB view over them), by name."""
    opened: list[str] = []
    real = files._open_files

    def count(session: Any, found: files.FileSet, *args: Any, **kwargs: Any) -> Any:
        opened.append(found.name)
        return real(session, found, *args, **kwargs)

    monkeypatch.setattr(files, "_open_files", count)
    return opened


def test_a_run_with_a_suite_and_a_baseline_opens_its_files_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders().to_parquet(tmp_path / "orders.parquet")
    orders(bad=True).to_parquet(tmp_path / "bad.parquet")
    spec = {
        "dataset": "orders",
        "source": {"path": str(tmp_path / "orders.parquet")},
        "gx_suite": str(write_suite(tmp_path / "suite.json")),
        "distribution": {"columns": ["amount", "country"], "baseline": "orders-main"},
    }
    opened = counting_opens(monkeypatch)
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        first = validate(spec, store=store)
        assert first.profile is not None  # kept, to become the baseline
        promote_baseline("orders-main", dataset="orders", store=store)
        assert len(opened) == 1
        bad = validate(spec, data=str(tmp_path / "bad.parquet"), store=store)
    assert len(opened) == 2  # one open per run: the scan, the profile and GX share it
    by_name = {c.name: c for c in bad.checks}
    # The three steps did read the data: drift against the baseline, GX's expectations
    # (a null e-mail fails), and the profile of the run.
    assert by_name["distribution(country)"].status in ("warn", "fail")
    assert by_name["expect_column_values_to_not_be_null(email)"].status == "fail"
    assert bad.profile is not None and bad.profile["rows"] == 4


def test_a_run_that_cannot_hand_its_source_over_still_profiles_and_runs_gx(
    tmp_path: Path,
) -> None:
    # Every file empty: the engine measures nothing and opens nothing; the steps after
    # it open the source themselves and say why they could not read it.
    (tmp_path / "empty.csv").write_text("")
    spec = {
        "dataset": "orders",
        "source": {"path": str(tmp_path / "empty.csv")},
        "gx_suite": str(write_suite(tmp_path / "suite.json")),
    }
    result = validate(spec)
    gx = [c for c in result.checks if c.type == "gx"]
    assert gx and all(c.status == "error" for c in gx)
    assert all("GX could not read the data" in c.message for c in gx)
