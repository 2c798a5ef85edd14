"""Baselines kept in the results store: learning, promotion, versions, seeds."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from drift_data import DriftBackend

from airflow_opsguard import (
    get_baseline,
    list_baselines,
    promote_baseline,
    save_baseline,
    validate,
)
from airflow_opsguard.baselines import BaselineError
from airflow_opsguard.checks.results import GateResult
from airflow_opsguard.cli import main
from airflow_opsguard.engines.profiler import profile
from airflow_opsguard.store import ResultStore

NOW = "2026-11-26T12:00:00+00:00"


def contract(**distribution: Any) -> dict[str, Any]:
    return {
        "dataset": "orders",
        "distribution": {"columns": ["amount", "country"], **distribution},
    }


def statuses(result: GateResult) -> dict[str, str]:
    return {c.name: c.status for c in result.checks}


def test_a_baseline_learns_is_promoted_and_moves_with_an_accepted_shift(
    drift_backend: DriftBackend, drift_frames: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    spec = contract(baseline="orders-main")
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        first = validate(spec, **drift_backend.data(drift_frames, "reference"), store=store)
        assert first.status == "pass"
        assert all(
            c.message.startswith("learning: no version of baseline 'orders-main'")
            for c in first.checks
        )
        made = promote_baseline("orders-main", dataset="orders", store=store, by="ana")
        assert (made.version, made.run_id, made.created_by) == (1, first.run_id, "ana")
        assert made.profile.rows == len(drift_frames["reference"])
        assert set(made.profile.names) == {"amount", "country"}

        healthy = validate(spec, **drift_backend.data(drift_frames, "healthy"), store=store)
        assert statuses(healthy) == {
            "distribution(amount)": "pass",
            "distribution(country)": "pass",
        }
        shifted = validate(spec, **drift_backend.data(drift_frames, "shifted"), store=store)
        assert statuses(shifted)["distribution(amount)"] == "fail"

        # The last passing run is the healthy one, not the shifted one.
        again = promote_baseline("orders-main", store=store)
        assert (again.version, again.run_id) == (2, healthy.run_id)
        # Accepting the shift: promote the run that failed on it, by its id.
        accepted = promote_baseline(
            "orders-main", run_id=shifted.run_id, store=store, reason="new pricing"
        )
        assert (accepted.version, accepted.reason) == (3, "new pricing")
        after = validate(spec, **drift_backend.data(drift_frames, "shifted"), store=store)
        assert statuses(after)["distribution(amount)"] == "pass"

        assert [b.version for b in list_baselines("orders-main", store=store)] == [3, 2, 1]
        newest = get_baseline("orders-main", store=store)
        assert newest is not None and newest.label == "orders-main@3"
        oldest = get_baseline("orders-main", 1, store=store)
        assert oldest is not None and oldest.run_id == first.run_id


def test_the_reference_seeds_a_baseline_until_its_first_version(
    drift_frames: dict[str, pd.DataFrame], references: Path, tmp_path: Path
) -> None:
    data = tmp_path / "shifted.parquet"
    drift_frames["shifted"].to_parquet(data)
    spec = contract(baseline="seeded", reference=str(references / "reference.json"))
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        seeded = validate(spec, data, store=store)
        assert statuses(seeded)["distribution(amount)"] == "fail"  # against the seed
        save_baseline("seeded", profile(data), dataset="orders", store=store)
        judged = validate(spec, data, store=store)
    assert statuses(judged)["distribution(amount)"] == "pass"  # against version 1


def test_without_a_store_a_baseline_falls_back_to_the_reference_or_says_why(
    drift_frames: dict[str, pd.DataFrame], references: Path, tmp_path: Path
) -> None:
    data = tmp_path / "healthy.parquet"
    drift_frames["healthy"].to_parquet(data)
    alone = validate(contract(baseline="b"), data)
    assert alone.status == "error"
    assert "is kept in a results store, and none was given" in alone.checks[0].message
    seeded = validate(contract(baseline="b", reference=str(references / "reference.json")), data)
    assert seeded.status == "pass"
    assert seeded.profile is None  # nothing to keep it in


def test_only_runs_of_a_contract_with_a_baseline_keep_a_profile(
    drift_frames: dict[str, pd.DataFrame], references: Path, tmp_path: Path
) -> None:
    data = tmp_path / "healthy.parquet"
    drift_frames["healthy"].to_parquet(data)
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        plain = validate(contract(reference=str(references / "reference.json")), data, store=store)
        assert plain.profile is None
        with pytest.raises(BaselineError, match="no passing run of 'orders' kept a profile"):
            promote_baseline("x", dataset="orders", store=store)
        with pytest.raises(BaselineError, match="has no version yet: say which dataset"):
            promote_baseline("x", store=store)
        with pytest.raises(BaselineError, match="run 'nope' of 'orders' is not stored"):
            promote_baseline("x", dataset="orders", run_id="nope", store=store)


def test_the_profile_travels_with_the_spool_but_not_in_the_json(
    drift_frames: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    data = tmp_path / "healthy.parquet"
    drift_frames["healthy"].to_parquet(data)
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        result = validate(contract(baseline="b"), data, store=store, record=False)
    assert result.profile is not None
    assert "profile" not in result.to_dict()
    spooled = GateResult.from_dict(json.loads(json.dumps(result.to_dict(with_profile=True))))
    assert spooled.profile == result.profile


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_racing_writers_get_distinct_versions(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    data = tmp_path / "tiny.parquet"
    pd.DataFrame({"amount": [1.0, 2.0, 3.0], "country": ["US", "DE", "US"]}).to_parquet(data)
    made = profile(data)
    with ResultStore(url) as store:
        store.results()  # migrate once, before the race
    start = threading.Barrier(6)
    versions: list[int] = []
    failures: list[BaseException] = []

    def write() -> None:
        try:
            with ResultStore(url) as own:
                start.wait()
                versions.append(save_baseline("race", made, dataset="orders", store=own).version)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert sorted(versions) == [1, 2, 3, 4, 5, 6]


def test_the_baseline_commands(
    drift_frames: dict[str, pd.DataFrame],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    data = tmp_path / "healthy.parquet"
    drift_frames["healthy"].to_parquet(data)
    profile(data).write(tmp_path / "p.json")

    assert main(["baseline", "promote", "b", "--store", store]) == 2
    assert capsys.readouterr().err.strip() == (
        "opsguard: baseline 'b' has no version yet: say which dataset's run to promote (--dataset)"
    )
    assert main(["baseline", "show", "b", "--store", store]) == 2
    assert capsys.readouterr().err.strip() == "opsguard: no baseline 'b' in the store"

    saved = ["baseline", "save", "b", "--profile", str(tmp_path / "p.json"), "--dataset", "orders"]
    assert main([*saved, "--by", "ana", "--reason", "day one", "--store", store]) == 0
    assert capsys.readouterr().out.startswith("baseline b@1 stored: b@1  orders  4,000 rows")
    assert main(["baseline", "list", "--format", "json", "--store", store]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(b["name"], b["version"], b["created_by"], b["reason"]) for b in listed] == [
        ("b", 1, "ana", "day one")
    ]
    out = tmp_path / "copy.json"
    assert main(["baseline", "show", "b", "--out", str(out), "--store", store]) == 0
    assert "amount: float, " in capsys.readouterr().out
    assert json.loads(out.read_text())["columns"].keys() == {
        "amount",
        "quantity",
        "country",
        "returned",
    }

    assert (
        main(["baseline", "save", "b", "--profile", str(data), "--dataset", "o", "--store", store])
        == 2
    )
    assert "healthy.parquet: cannot read it" in capsys.readouterr().err
