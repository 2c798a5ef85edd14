"""Nothing lost, nothing duplicated: a gate killed halfway, gates at once, retries.

Each gate runs in its own Python process. ``OPSGUARD_CRASH_AT`` makes the process send
itself SIGKILL at a named point between two steps; the retry is the same gate (same
batch id) started again, as Airflow retries a task.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from quarantine_helpers import (
    BAD_IDS,
    CLEAN_IDS,
    ROWS,
    assert_nothing_lost,
    contract,
    create_tables,
    finished,
    ids,
    killed,
    row,
    run_gate,
)

from airflow_opsguard.quarantine import service

ALL = list(range(1, ROWS + 1))
# Before the commit: nothing moved. After it: all moved, the store record not yet written.
SQL_POINTS = ["sql:between-copy-and-delete", "sql:before-commit", "sql:after-commit"]


@pytest.mark.parametrize("level", ["batch", "rows"])
@pytest.mark.parametrize("point", SQL_POINTS)
def test_a_gate_killed_halfway_loses_nothing_and_its_retry_finishes(
    data_url: str, prefix: str, store_url: str, point: str, level: str
):
    staging, target = f"{prefix}staging", f"{prefix}orders"
    quarantined = f"{target}_quarantine"
    create_tables(data_url, staging, target, ALL)
    spec = contract(source={"url": data_url, "table": staging}, level=level, publish_to=target)
    job = {"batch_id": prefix + "b", "store": store_url}

    killed(run_gate(spec, crash_at=point, **job))
    moved = point == "sql:after-commit"
    assert ids(data_url, staging) == ([] if moved else ALL)
    assert_nothing_lost(
        ALL, ids(data_url, staging), ids(data_url, target), ids(data_url, quarantined)
    )

    retry = finished(run_gate(spec, **job))
    assert retry["resumed"] is moved
    assert retry["action"] == ("split" if level == "rows" else "quarantined")
    expected_target = CLEAN_IDS if level == "rows" else []
    assert ids(data_url, target) == expected_target
    assert ids(data_url, staging) == []
    assert_nothing_lost(ALL, ids(data_url, target), ids(data_url, quarantined))
    (record,) = service.list_batches(store_url)
    assert record.batch_id == prefix + "b"
    assert record.rows == (len(BAD_IDS) if level == "rows" else ROWS)


@pytest.mark.parametrize("point", ["sql:before-commit", "sql:after-commit"])
def test_a_publish_killed_halfway_publishes_once(
    data_url: str, prefix: str, store_url: str, point: str
):
    staging, target = f"{prefix}staging", f"{prefix}orders"
    create_tables(data_url, staging, target, CLEAN_IDS)
    spec = contract(source={"url": data_url, "table": staging}, publish_to=target)
    job = {"batch_id": prefix + "b", "store": store_url}
    killed(run_gate(spec, crash_at=point, **job))
    retry = finished(run_gate(spec, **job))
    assert retry["action"] == "published"
    assert retry["resumed"] is (point == "sql:after-commit")
    assert ids(data_url, target) == CLEAN_IDS
    assert ids(data_url, staging) == []


@pytest.mark.parametrize("level", ["batch", "rows"])
def test_two_gates_at_once_on_different_batches(
    data_url: str, prefix: str, store_url: str, level: str
):
    target = f"{prefix}orders"
    first = list(range(1, ROWS + 1))
    second = list(range(1001, 1001 + ROWS))
    jobs = []
    for name, staged in (("a", first), ("b", second)):
        staging = f"{prefix}staging_{name}"
        create_tables(data_url, staging, target, staged)
        spec = contract(source={"url": data_url, "table": staging}, level=level, publish_to=target)
        jobs.append(run_gate(spec, batch_id=prefix + name, store=store_url))
    outcomes = [finished(job) for job in jobs]
    assert {o["resumed"] for o in outcomes} == {False}
    assert_nothing_lost(
        first + second, ids(data_url, target), ids(data_url, f"{target}_quarantine")
    )
    assert {r.batch_id for r in service.list_batches(store_url)} == {prefix + "a", prefix + "b"}


FILE_POINTS = ["files:after-sidecar", "files:between-moves", "files:after-moves"]


def write_batch(folder: Path) -> list[int]:
    """Two files of one batch (a glob takes both), 20 rows each."""
    folder.mkdir(parents=True)
    frame = pd.DataFrame([row(i) for i in ALL])
    frame.iloc[:20].to_parquet(folder / "part-0.parquet")
    frame.iloc[20:].to_parquet(folder / "part-1.parquet")
    return ALL


def parquet_ids(*paths: Path) -> list[int]:
    found: list[int] = []
    for path in paths:
        found.extend(pd.read_parquet(path)["id"].tolist())
    return sorted(found)


@pytest.mark.parametrize("point", FILE_POINTS)
def test_files_killed_halfway_lose_nothing_and_the_retry_finishes(
    tmp_path: Path, store_url: str, point: str
):
    folder = tmp_path / "landing" / "orders"
    staged = write_batch(folder)
    spec = contract(source={"path": str(folder / "*.parquet")})
    job = {"batch_id": "b", "store": store_url}
    # <dir>/_quarantine/<dataset>/<batch id>: <dir> is the folder the glob reads.
    box = folder / "_quarantine" / "orders" / "b" / "data"

    killed(run_gate(spec, crash_at=point, **job))
    everywhere = sorted(folder.glob("*.parquet")) + sorted(box.glob("*.parquet"))
    assert_nothing_lost(staged, parquet_ids(*everywhere))

    retry = finished(run_gate(spec, **job))
    assert retry["action"] == "quarantined" and retry["resumed"] is True
    assert sorted(folder.glob("*.parquet")) == []
    assert parquet_ids(*box.glob("*.parquet")) == staged
    (record,) = service.list_batches(store_url)
    assert record.kind == "file" and record.location == str(box.parent)


@pytest.mark.parametrize("point", ["files:after-sidecar", "files:after-moves"])
def test_a_row_split_of_files_killed_halfway_finishes_on_retry(
    tmp_path: Path, store_url: str, point: str
):
    data = tmp_path / "orders.parquet"
    pd.DataFrame([row(i) for i in ALL]).to_parquet(data)
    spec = contract(source={"path": str(data)}, level="rows")
    job = {"batch_id": "b", "store": store_url}
    killed(run_gate(spec, crash_at=point, **job))
    retry = finished(run_gate(spec, **job))
    assert retry["action"] == "split" and retry["resumed"] is True
    clean = tmp_path / "orders.clean.parquet"
    bad = tmp_path / "_quarantine" / "orders" / "b" / "orders.quarantined.parquet"
    assert parquet_ids(clean) == CLEAN_IDS
    assert parquet_ids(bad) == BAD_IDS
    assert not data.exists()  # kept, whole, in the quarantine folder
    assert parquet_ids(tmp_path / "_quarantine" / "orders" / "b" / "original" / data.name) == ALL


@pytest.mark.parametrize("point", ["files:copied", "files:between-moves"])
def test_copy_verify_delete_killed_halfway_loses_nothing(
    tmp_path: Path, store_url: str, point: str
):
    # local:// is the local disk through fsspec: the path that object stores take
    # (copy, verify the size, delete), on files a second process can see.
    folder = tmp_path / "landing" / "orders"
    staged = write_batch(folder)
    spec = contract(source={"path": f"local://{folder}/*.parquet"})
    job = {"batch_id": "b", "store": store_url}
    box = folder / "_quarantine" / "orders" / "b" / "data"

    killed(run_gate(spec, crash_at=point, **job))
    # Killed after a copy and before its delete, a file is in both places: the retry
    # must keep one of them, not both.
    retry = finished(run_gate(spec, **job))
    assert retry["action"] == "quarantined" and retry["resumed"] is True
    assert sorted(folder.glob("*.parquet")) == []
    assert parquet_ids(*box.glob("*.parquet")) == staged


def test_two_file_gates_at_once_on_different_batches(tmp_path: Path, store_url: str):
    folder = tmp_path / "landing"
    folder.mkdir()
    jobs = []
    for name, first in (("a", 1), ("b", 1001)):
        pd.DataFrame([row(i) for i in range(first, first + ROWS)]).to_parquet(
            folder / f"{name}.parquet"
        )
        spec = contract(source={"path": str(folder / f"{name}.parquet")}, level="rows")
        jobs.append(run_gate(spec, batch_id=name, store=store_url))
    outcomes = [finished(job) for job in jobs]
    assert [o["action"] for o in outcomes] == ["split", "split"]
    clean = parquet_ids(folder / "a.clean.parquet", folder / "b.clean.parquet")
    bad = parquet_ids(*(folder / "_quarantine" / "orders").glob("*/*.quarantined.parquet"))
    staged = list(range(1, ROWS + 1)) + list(range(1001, 1001 + ROWS))
    assert_nothing_lost(staged, clean, bad)
    assert {r.batch_id for r in service.list_batches(store_url)} == {"a", "b"}
