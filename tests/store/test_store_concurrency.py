"""Many writers at once (parallel gate tasks, several processes) lose nothing."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from store_helpers import make_result, write_many

from airflow_opsguard.store import ResultStore

WORKERS = 4
PER_WORKER = 50
# A guard against a hung worker, not a timing assertion.
JOIN_TIMEOUT_S = 300


def test_parallel_processes_first_open_and_write_a_fresh_store(
    fresh_url: str, opsguard_home: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    workers = [
        context.Process(target=write_many, args=(fresh_url, n, PER_WORKER, barrier))
        for n in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(JOIN_TIMEOUT_S)
    assert [w.exitcode for w in workers] == [0] * WORKERS

    with ResultStore(fresh_url) as store:
        stored = store.results("parallel", limit=1000)
        (summary,) = store.datasets()
    expected = {f"w{n}-{i}" for n in range(WORKERS) for i in range(PER_WORKER)}
    assert len(stored) == WORKERS * PER_WORKER
    assert {r.run_id for r in stored} == expected
    assert all(len(r.checks) == 3 for r in stored)
    assert summary.runs == WORKERS * PER_WORKER
    # Nothing had to wait in a spool.
    assert not list((opsguard_home / "spool").glob("*.jsonl"))


def test_threads_sharing_one_store_lose_nothing(store_url: str, dataset: str) -> None:
    results = [make_result(dataset, minutes=i) for i in range(80)]
    with ResultStore(store_url) as store, ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(store.record, results))
        stored = store.results(dataset, limit=1000)
    assert outcomes == [True] * len(results)
    assert {r.run_id for r in stored} == {r.run_id for r in results}


def test_sqlite_busy_is_told_from_other_store_failures(tmp_path: Path) -> None:
    """A lock SQLite did not wait for is run again; other failures go to the spool."""
    import sqlite3

    import pytest
    import sqlalchemy as sa

    from airflow_opsguard.errors import StoreError
    from airflow_opsguard.store.store import _sqlite_busy

    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with pytest.raises(sa.exc.OperationalError) as locked, engine.connect() as connection:
            connection.exec_driver_sql("SELECT * FROM t").fetchall()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _sqlite_busy(locked.value)
    assert _sqlite_busy(StoreError(f"migrating it here failed: {locked.value.orig}"))
    with pytest.raises(sa.exc.OperationalError) as missing, engine.connect() as connection:
        connection.exec_driver_sql("SELECT * FROM missing")
    engine.dispose()
    assert not _sqlite_busy(missing.value)
    assert not _sqlite_busy(StoreError("results store x needs `opsguard db upgrade`"))
