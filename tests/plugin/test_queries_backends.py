"""The dashboard's reads on every store backend: the DAG of a result is inside a JSON
column, which SQLite, PostgreSQL and MariaDB each read their own way."""

from __future__ import annotations

from pathlib import Path

import pytest
from data import NOW, identity, seed, verdict

from airflow_opsguard.plugin.service import Dashboard
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.dashboard import Scope

ORDERS_ONLY = Scope(dag_ids=frozenset({"orders_dag"}), dagless=False)
EVERYTHING = Scope(dag_ids=None, dagless=True)


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    found: str = request.getfixturevalue(f"{request.param}_url")
    return found


def wipe(store: ResultStore) -> None:
    """Empty the store: the server databases are shared by the session's tests."""
    from airflow_opsguard.store.tables import (
        check_results,
        incidents,
        metrics,
        quarantine,
        runs,
    )

    with store.connection(write=True) as connection, connection.begin():
        for table in (metrics, check_results, incidents, quarantine, runs):
            connection.execute(table.delete())


def test_reads_keep_to_the_scope(url: str) -> None:
    with ResultStore(url) as store:
        wipe(store)
        try:
            check_reads(store, seed(url))
        finally:
            wipe(store)


def check_reads(store: ResultStore, ids: dict[str, str]) -> None:
    board = Dashboard(store)
    assert board.dag_ids() == {"orders_dag", "payments_dag"}
    every = board.overview(EVERYTHING, limit=10, offset=0)
    assert [d.dataset for d in every.items] == ["adhoc", "orders", "payments"]
    some = board.overview(ORDERS_ONLY, limit=10, offset=0)
    assert [d.dataset for d in some.items] == ["orders"] and some.total == 1
    assert [v.status for v in some.items[0].recent].count("fail") == 2
    assert some.items[0].open_incidents == 1
    runs = board.runs(ORDERS_ONLY, dataset="payments", limit=10, offset=0)
    assert runs.total == 0
    detail = board.dataset(ORDERS_ONLY, "orders")
    assert detail is not None and len(detail.contract_versions) == 2
    assert board.dataset(ORDERS_ONLY, "payments") is None
    attempts = board.task_attempts("orders_dag", "scheduled__2026-11-24T00:00:00+00:00", "gate", -1)
    assert attempts == [ids["orders-24"]]
    nothing = Scope(dag_ids=frozenset(), dagless=False)
    assert board.incidents(nothing, state="all", dataset=None, limit=5, offset=0).total == 0
    # Another DAG's gate checks orders later: its reader still sees orders, as of the
    # latest run of the DAG they may read; failing first on the page, names otherwise.
    later = verdict("orders", identity("other_dag", 27), at=NOW.replace(day=27), bad=False)
    store.record(later)
    some = board.overview(ORDERS_ONLY, limit=10, offset=0)
    assert [(d.dataset, d.last_run_id, d.runs) for d in some.items] == [
        ("orders", ids["orders-26"], 7)
    ]
    first = board.overview(EVERYTHING, limit=10, offset=0, failing_first=True, count_runs=False)
    assert [d.dataset for d in first.items] == ["adhoc", "orders", "payments"]  # all pass now
    assert {d.runs for d in first.items} == {0}
