"""Quarantine for files: whole batches (local and fsspec URLs) and row splits."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import pandas as pd
import pytest
from quarantine_helpers import BAD_IDS, CLEAN_IDS, ROWS, contract, gate_batch, row

from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.formats import load_contract
from airflow_opsguard.quarantine import service
from airflow_opsguard.quarantine.files import SIDECAR
from airflow_opsguard.store import ResultStore

ALL = list(range(1, ROWS + 1))


def frame(ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame([row(i) for i in ids])


def test_a_failing_file_moves_to_quarantine_with_a_sidecar(tmp_path: Path, store_url: str):
    data = tmp_path / "orders.parquet"
    frame(ALL).to_parquet(data)
    with ResultStore(store_url) as store:
        result, settled = gate_batch(
            load_contract(contract()), batch_id="b1", data=str(data), store=store
        )
        assert result is not None and result.status == "fail"
        (record,) = service.list_batches(store, dataset="orders")
    folder = tmp_path / "_quarantine" / "orders" / "b1"
    assert settled.action == "quarantined" and record.location == str(folder)
    assert not data.exists()
    assert pd.read_parquet(folder / "data" / "orders.parquet")["id"].tolist() == ALL
    sidecar = json.loads((folder / SIDECAR).read_text())
    assert sidecar["state"] == "quarantined"
    assert sidecar["verdict"]["status"] == "fail" and sidecar["verdict"]["run_id"] == result.run_id
    assert sidecar["record"]["batch_id"] == "b1"


def test_a_passing_file_stays_where_it_is(tmp_path: Path, store_url: str):
    data = tmp_path / "orders.parquet"
    frame(CLEAN_IDS).to_parquet(data)
    with ResultStore(store_url) as store:
        result, settled = gate_batch(
            load_contract(contract()), batch_id="b1", data=str(data), store=store
        )
    assert result is not None and result.status == "pass" and settled.action == "none"
    assert data.exists() and not (tmp_path / "_quarantine").exists()


def test_a_batch_folder_moves_whole_to_a_configured_location(tmp_path: Path, store_url: str):
    batch = tmp_path / "landing" / "2026-11-26"
    batch.mkdir(parents=True)
    frame(ALL[:20]).to_parquet(batch / "a.parquet")
    frame(ALL[20:]).to_parquet(batch / "b.parquet")
    (batch / "_SUCCESS").write_text("")
    spec = load_contract(contract(location=str(tmp_path / "held")))
    with ResultStore(store_url) as store:
        gate_batch(spec, batch_id="b1", data=str(batch), store=store)
        service.release("b1", store=store, force=True, by="ana")
        assert service.get_batch("b1", store).status == "released"
    assert sorted(p.name for p in batch.iterdir()) == ["_SUCCESS", "a.parquet", "b.parquet"]
    assert not (tmp_path / "held" / "orders" / "b1" / "data" / "2026-11-26").exists()


def test_release_of_files_checks_them_again(tmp_path: Path, store_url: str):
    data = tmp_path / "orders.parquet"
    frame(ALL).to_parquet(data)
    with ResultStore(store_url) as store:
        gate_batch(load_contract(contract()), batch_id="b1", data=str(data), store=store)
        with pytest.raises(service.ReleaseRefused):
            service.release("b1", store=store)
        assert not data.exists()
        held = tmp_path / "_quarantine" / "orders" / "b1" / "data" / "orders.parquet"
        frame(CLEAN_IDS).to_parquet(held)  # the reviewer repaired the file
        done = service.release("b1", store=store, by="ana", reason="repaired")
        assert done.check is not None and done.check.status == "pass"
    assert pd.read_parquet(data)["id"].tolist() == CLEAN_IDS


def test_fsspec_urls_are_copied_verified_and_deleted(store_url: str):
    memory = fsspec.filesystem("memory")
    with memory.open("/lake/orders/part-0.parquet", "wb") as handle:
        frame(ALL).to_parquet(handle)
    url = "memory:///lake/orders/part-0.parquet"
    with ResultStore(store_url) as store:
        _, settled = gate_batch(load_contract(contract()), batch_id="b1", data=url, store=store)
        assert settled.record is not None
        assert settled.record.location == "memory:///lake/orders/_quarantine/orders/b1"
        assert not memory.exists("/lake/orders/part-0.parquet")
        assert memory.exists("/lake/orders/_quarantine/orders/b1/data/part-0.parquet")
        assert memory.exists(f"/lake/orders/_quarantine/orders/b1/{SIDECAR}")
        service.drop("b1", store=store, by="ana", reason="duplicate delivery")
    assert not memory.exists("/lake/orders/_quarantine/orders/b1/data/part-0.parquet")
    sidecar = json.loads(memory.cat_file(f"/lake/orders/_quarantine/orders/b1/{SIDECAR}"))
    assert sidecar["state"] == "dropped"
    memory.rm("/lake", recursive=True)


def test_rows_split_writes_clean_and_quarantined_parquet(tmp_path: Path, store_url: str):
    data = tmp_path / "orders.csv"
    frame(ALL).to_csv(data, index=False)
    spec = load_contract(contract(level="rows"))
    with ResultStore(store_url) as store:
        result, settled = gate_batch(spec, batch_id="b1", data=str(data), store=store)
        assert result is not None and result.status == "fail"
        assert settled.action == "split" and settled.remaining_status == "pass"
        assert settled.clean_path == str(tmp_path / "orders.clean.parquet")
        bad_file = tmp_path / "_quarantine" / "orders" / "b1" / "orders.quarantined.parquet"
        bad = pd.read_parquet(bad_file)
        assert pd.read_parquet(settled.clean_path)["id"].tolist() == CLEAN_IDS
        assert sorted(bad["id"]) == BAD_IDS
        assert dict(zip(bad["id"], bad["_opsguard_reasons"], strict=True))[7] == "not_null(amount)"
        # The reviewer fixes the bad rows; release checks them (row checks) and writes them
        # next to the clean file.
        bad["amount"], bad["country"] = 1.0, "DE"
        bad.to_parquet(bad_file)
        done = service.release("b1", store=store, by="ana")
    released = pd.read_parquet(done.destination)
    assert done.destination == str(tmp_path / "orders.released.parquet")
    assert sorted(released["id"]) == BAD_IDS and "_opsguard_reasons" not in released


def test_rows_split_of_a_url_is_refused_clearly(store_url: str):
    memory = fsspec.filesystem("memory")
    with memory.open("/split/orders.parquet", "wb") as handle:
        frame(ALL).to_parquet(handle)
    with ResultStore(store_url) as store, pytest.raises(DataSourceError, match="local path"):
        gate_batch(
            load_contract(contract(level="rows")),
            batch_id="b1",
            data="memory:///split/orders.parquet",
            store=store,
        )
    assert memory.exists("/split/orders.parquet")
    memory.rm("/split", recursive=True)


def test_a_store_outage_during_quarantine_is_recorded_by_the_retry(tmp_path: Path, store_url: str):
    data = tmp_path / "orders.parquet"
    frame(ALL).to_parquet(data)
    spec = load_contract(contract())
    down = ResultStore("postgresql://nobody@127.0.0.1:1/none", spool_dir=tmp_path / "spool")
    with down:
        _, settled = gate_batch(spec, batch_id="b1", data=str(data), store=down)
    assert settled.action == "quarantined" and settled.recorded is False
    assert not data.exists()  # the data is safe in quarantine; only the record is missing
    with ResultStore(store_url) as store:
        result, retried = gate_batch(spec, batch_id="b1", data=str(data), store=store)
        assert result is None and retried.resumed and retried.recorded
        (record,) = service.list_batches(store)
    assert record.batch_id == "b1" and record.rows == ROWS


def test_a_glob_batch_leaves_earlier_quarantines_and_markers_alone(tmp_path: Path, store_url: str):
    folder = tmp_path / "orders"
    folder.mkdir()
    spec = load_contract(contract(level="rows", min_rows=len(ALL)))  # rows fall back to batch
    with ResultStore(store_url) as store:
        for batch in ("b1", "b2"):
            frame(ALL).to_parquet(folder / f"{batch}.parquet")
            (folder / "_SUCCESS").write_text("")
            # A recursive glob matches the earlier batch's quarantined file too.
            pattern = str(folder / "**" / "*.parquet")
            _, settled = gate_batch(spec, batch_id=batch, data=pattern, store=store)
            assert settled.action == "quarantined"
    box = folder / "_quarantine" / "orders"
    assert sorted(p.name for p in (box / "b1" / "data").iterdir()) == ["b1.parquet"]
    assert sorted(p.name for p in (box / "b2" / "data").iterdir()) == ["b2.parquet"]
    assert (folder / "_SUCCESS").exists()


def test_a_split_glob_writes_its_clean_file_beside_the_folder(tmp_path: Path, store_url: str):
    folder = tmp_path / "orders"
    folder.mkdir()
    frame(ALL[:20]).to_parquet(folder / "part-0.parquet")
    frame(ALL[20:]).to_parquet(folder / "part-1.parquet")
    with ResultStore(store_url) as store:
        _, settled = gate_batch(
            load_contract(contract(level="rows")),
            batch_id="b1",
            data=str(folder / "*.parquet"),
            store=store,
        )
    assert settled.clean_path == str(tmp_path / "orders.clean.parquet")
    assert pd.read_parquet(settled.clean_path)["id"].tolist() == CLEAN_IDS
    assert sorted(folder.glob("*.parquet")) == []
