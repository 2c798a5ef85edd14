"""A batch folder moved file by file (URLs, another device): a try cut short anywhere is
finished by the retry, every file kept once; and a record's contract reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from quarantine_helpers import ROWS, contract, finished, gate_batch, killed, row, run_gate

from airflow_opsguard.formats import load_contract
from airflow_opsguard.quarantine import service
from airflow_opsguard.quarantine.files import SIDECAR
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.quarantine import contract_details

ALL = list(range(1, ROWS + 1))


def land(folder: Path) -> None:
    """One batch folder: two Parquet files (20 rows each) and a _SUCCESS marker."""
    folder.mkdir(parents=True)
    frame = pd.DataFrame([row(i) for i in ALL])
    frame.iloc[:20].to_parquet(folder / "part-0.parquet")
    frame.iloc[20:].to_parquet(folder / "part-1.parquet")
    (folder / "_SUCCESS").write_text("")


def ids(folder: Path) -> list[int]:
    found: list[int] = []
    for path in sorted(folder.rglob("*.parquet")):
        found.extend(pd.read_parquet(path)["id"].tolist())
    return sorted(found)


def test_a_folder_copy_killed_halfway_is_finished_by_the_retry(tmp_path: Path, store_url: str):
    # local:// is the local disk through fsspec: moved as object stores are, file by file.
    folder = tmp_path / "landing" / "orders"
    land(folder)
    spec = contract(source={"path": f"local://{folder}"})
    job = {"batch_id": "b", "store": store_url}
    box = tmp_path / "landing" / "_quarantine" / "orders" / "b" / "data" / "orders"

    killed(run_gate(spec, crash_at="files:copied", **job))
    assert (box / "_SUCCESS").exists() and ids(folder) == ALL  # copied, not yet deleted
    retry = finished(run_gate(spec, **job))
    assert retry["action"] == "quarantined" and retry["resumed"] is True
    assert not folder.exists()
    assert sorted(p.name for p in box.iterdir()) == ["_SUCCESS", "part-0.parquet", "part-1.parquet"]
    assert ids(box) == ALL


@pytest.mark.parametrize("scheme", ["", "local://"])
def test_a_delete_cut_short_loses_no_file_on_retry(tmp_path: Path, store_url: str, scheme: str):
    folder = tmp_path / "landing" / "orders"
    land(folder)
    spec = load_contract(contract(source={"path": f"{scheme}{folder}"}))
    with ResultStore(store_url) as store:
        gate_batch(spec, batch_id="b", store=store)
    held = tmp_path / "landing" / "_quarantine" / "orders" / "b"
    box = held / "data" / "orders"
    assert ids(box) == ALL and not folder.exists()
    # As if the try had copied the whole folder and died while deleting it: one file
    # still at the source, the sidecar still "moving".
    folder.mkdir()
    (folder / "part-1.parquet").write_bytes((box / "part-1.parquet").read_bytes())
    sidecar = json.loads((held / SIDECAR).read_text())
    (held / SIDECAR).write_text(json.dumps({**sidecar, "state": "moving"}))
    with ResultStore(store_url) as store:
        result, settled = gate_batch(spec, batch_id="b", store=store)
    assert result is None and settled.resumed and settled.action == "quarantined"
    assert ids(box) == ALL and not folder.exists()
    assert json.loads((held / SIDECAR).read_text())["state"] == "quarantined"


def test_a_record_keeps_the_type_of_each_check(tmp_path: Path, store_url: str):
    checks = [{"type": "not_null", "column": "amount"}, {"type": "unique", "column": "id"}]
    spec = {"dataset": "orders", "checks": checks, "on_fail": "quarantine"}
    stored = contract_details(load_contract(spec))
    assert [c["type"] for c in stored["checks"]] == ["not_null", "unique"]
    # Release reads the contract back from the record (the gate was given no file).
    data = tmp_path / "orders.parquet"
    pd.DataFrame([row(i) for i in ALL]).to_parquet(data)
    with ResultStore(store_url) as store:
        gate_batch(spec, batch_id="b", data=str(data), store=store)
        with pytest.raises(service.ReleaseRefused) as refused:
            service.release("b", store=store)
    failed = [c.name for c in refused.value.result.checks if c.status == "fail"]
    assert failed == ["not_null(amount)"] and not data.exists()
