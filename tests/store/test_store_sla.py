"""Freshness SLA misses (migration 0004): recorded once per sensor task of a DAG run, by
however many processes try at once, on every backend."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from store_helpers import make_result

from airflow_opsguard.store import ResultStore, SlaMiss
from airflow_opsguard.store.engine import create_store_engine, prepare_location
from airflow_opsguard.store.migrate import HEAD, alembic_config, current_revision, upgrade
from airflow_opsguard.store.urls import parse_store_url

WORKERS = 6
JOIN_TIMEOUT_S = 300  # a guard against a hung worker, not a timing assertion
DUE = datetime(2026, 11, 26, 2, 0, 0, 250000, tzinfo=UTC)


def miss(dag_id: str, **changes: Any) -> SlaMiss:
    fields: dict[str, Any] = {
        "dag_id": dag_id,
        "run_id": "scheduled__2026-11-26T00:00:00+00:00",
        "task_id": "orders_fresh",
        "map_index": -1,
        "dataset": "orders",
        "sla": timedelta(hours=2),
        "due_at": DUE,
        "missed_at": DUE + timedelta(minutes=3),
        "limit": timedelta(days=1),
        "age": timedelta(days=3, hours=2),
        "newest": DUE - timedelta(days=3),
        "message": "orders: freshness SLA of 2h missed",
    }
    fields.update(changes)
    return SlaMiss(**fields)


@pytest.fixture
def engine(fresh_url: str) -> Iterator[sa.Engine]:
    url = parse_store_url(fresh_url)
    prepare_location(url)
    engine = create_store_engine(url)
    yield engine
    engine.dispose()


def test_a_miss_is_recorded_once_per_sensor_task_and_run(store_url: str, dataset: str) -> None:
    first = miss(dataset)
    with ResultStore(store_url) as store:
        assert store.claim_sla_miss(first)
        # The same run and task again (a later poke, a reschedule, a retry): refused.
        later = miss(dataset, missed_at=DUE + timedelta(hours=1), message="again")
        assert not store.claim_sla_miss(later)
        # Another run, task or map index is another miss.
        assert store.claim_sla_miss(miss(dataset, run_id="manual__x"))
        assert store.claim_sla_miss(miss(dataset, task_id="other"))
        assert store.claim_sla_miss(miss(dataset, map_index=3))
        stored = store.sla_misses(dag_id=dataset)
        assert len(store.sla_misses(dag_id=dataset, limit=2)) == 2
    assert len(stored) == 4
    key = (first.run_id, first.task_id, first.map_index)
    (original,) = [m for m in stored if (m.run_id, m.task_id, m.map_index) == key]
    assert original == first  # read back as written: instants, durations, message
    assert original.to_dict()["age_seconds"] == (3 * 86400 + 7200)


def test_a_miss_without_an_observed_age_is_stored(store_url: str, dataset: str) -> None:
    unknown = miss(dataset, age=None, newest=None, message="cannot read orders.csv")
    with ResultStore(store_url) as store:
        assert store.claim_sla_miss(unknown)
        assert store.sla_misses(dag_id=dataset) == [unknown]


def test_a_store_that_cannot_be_reached_raises_store_error() -> None:
    from airflow_opsguard.errors import StoreError

    store = ResultStore("postgresql://opsguard@127.0.0.1:1/nowhere")
    with store, pytest.raises(StoreError, match="cannot record an SLA miss"):
        store.claim_sla_miss(miss("down"))


def claim_in_process(url: str, dag_id: str, barrier: Any, answers: Any) -> None:
    barrier.wait()
    with ResultStore(url) as store:
        answers.put(store.claim_sla_miss(miss(dag_id)))


def test_parallel_processes_claiming_one_miss_alert_once(fresh_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    answers = context.Queue()
    workers = [
        context.Process(target=claim_in_process, args=(fresh_url, "race", barrier, answers))
        for _ in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(JOIN_TIMEOUT_S)
    assert [w.exitcode for w in workers] == [0] * WORKERS
    outcomes = sorted(answers.get(timeout=JOIN_TIMEOUT_S) for _ in range(WORKERS))
    assert outcomes == [False] * (WORKERS - 1) + [True]


# opsguard_runs as revision 0003 left it, frozen (later revisions may add columns).
RUNS_0003 = sa.table(
    "opsguard_runs",
    *(
        sa.column(name)
        for name in ("run_id", "dataset", "status", "checked_at", "retryable", "created_at")
    ),
)


def test_0004_adds_the_table_to_a_store_at_0003_and_keeps_its_results(
    engine: sa.Engine, fresh_url: str
) -> None:
    upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(
            RUNS_0003.insert().values(
                run_id="before-0004",
                dataset="orders",
                status="fail",
                checked_at=DUE.replace(tzinfo=None),
                retryable=False,
                created_at=DUE.replace(tzinfo=None),
            )
        )
    assert "opsguard_sla_misses" not in sa.inspect(engine).get_table_names()

    with ResultStore(fresh_url) as store:
        assert store.claim_sla_miss(miss("upgraded"))  # opening the store migrated it
        stored = store.get("before-0004")
        assert [m.dag_id for m in store.sla_misses()] == ["upgraded"]
    with engine.connect() as connection:
        assert current_revision(connection) == HEAD
    assert stored is not None
    assert (stored.dataset, stored.status, stored.checked_at) == ("orders", "fail", DUE)


def test_0004_downgrades_to_0003_without_touching_the_results(
    engine: sa.Engine, fresh_url: str
) -> None:
    result = make_result("orders")
    with ResultStore(fresh_url) as store:
        assert store.record(result)
        assert store.claim_sla_miss(miss("downgraded"))
    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0003")
        connection.commit()
        assert current_revision(connection) == "0003"
    assert "opsguard_sla_misses" not in sa.inspect(engine).get_table_names()
    upgrade(engine)
    with ResultStore(fresh_url) as store:
        stored = store.get(result.run_id or "")
        assert store.sla_misses() == []  # the misses went with the table
    assert stored is not None
    assert stored.to_dict() == result.to_dict()
