"""Hostile timing: gates that run at the same moment, in processes of their own.

- N gates fail at once on one dataset, on every store backend: one incident, whose count
  of failing runs equals the runs stored (no update lost), escalated once when the count
  reaches the contract's ``after_failures``, and each route hears "fail" once and
  "escalate" once.
- Three tries of one SQL write-audit-publish batch at once, on every data backend: they
  take turns on the batch, so all report the same action and verdict, no row is lost or
  duplicated, and no try stores a ``pass`` for a batch that was quarantined.

Each gate is a real process (multiprocessing spawn, or ``tests/quarantine/run_gate.py``)
started behind a barrier; the joins have generous timeouts that must never be hit.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.incidents import IncidentStore

GATES = 6
# A guard against a hung worker, not a timing assertion.
JOIN_TIMEOUT_S = 600
TESTS = Path(__file__).resolve().parents[1]
BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


def _helpers(folder: str, name: str) -> ModuleType:
    """A helper module of another test folder (``tests/alerts/recorders.py``, ...)."""
    if name in sys.modules:
        return sys.modules[name]
    path = TESTS / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database on each backend (the server ones are shared by the session)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'opsguard.db'}"
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def dataset() -> str:
    import uuid

    return f"orders_{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------ incidents


def failing_contract(dataset: str, hooks: list[str]) -> dict[str, Any]:
    """One check that fails (amount >= 0), routes that hear fail and escalate, and an
    escalation after as many failing runs as there are gates."""
    return {
        "dataset": dataset,
        "schema": {
            "columns": [
                {"name": "id", "type": "integer"},
                {"name": "amount", "type": "float", "min": 0},
            ]
        },
        "alerts": [{"on": ["fail", "escalate"], "webhook": hook, "backoff": 0} for hook in hooks],
        "escalation": {"after_failures": GATES},
    }


def failing_gate(url: str, dataset: str, hooks: list[str], worker: int, barrier: Any) -> None:
    """One gate task's run (its own DAG run), failing, alerting; all start together."""
    import pandas as pd

    from airflow_opsguard.pipeline import run_gate

    data = pd.DataFrame({"id": [1, 2, 3], "amount": [1.0, -5.0, 2.0]})
    identity = {"dag_id": "orders", "run_id": f"scheduled__{worker}", "task_id": "gate"}
    barrier.wait(JOIN_TIMEOUT_S)
    run = run_gate(
        failing_contract(dataset, hooks), data=data, store=url, alert=True, identity=identity
    )
    assert run.result is not None and run.result.status == "fail", run.payload
    assert run.alerts is not None and run.alerts.tracked, run.alerts


def test_gates_failing_at_once_update_one_incident_and_alert_once(url: str, dataset: str) -> None:
    recorders = _helpers("alerts", "recorders")
    with recorders.webhook_server("/a") as first, recorders.webhook_server("/b") as second:
        with ResultStore(url) as store:
            store.results(dataset)  # created and migrated before the race
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(GATES)
        hooks = [first.url, second.url]
        workers = [
            context.Process(target=failing_gate, args=(url, dataset, hooks, n, barrier))
            for n in range(GATES)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(JOIN_TIMEOUT_S)
        assert [w.exitcode for w in workers] == [0] * GATES

        with ResultStore(url) as store:
            stored = store.results(dataset, limit=100)
            incidents = IncidentStore(store).incidents(dataset)
            outbox = IncidentStore(store).alerts(dataset)
        assert len(stored) == GATES and {r.status for r in stored} == {"fail"}
        (incident,) = incidents
        assert incident.check == "range(amount)"
        assert incident.failures == len(stored)
        assert incident.status == "open" and incident.escalated_at is not None
        assert sorted(a.event for a in outbox) == ["escalate", "escalate", "fail", "fail"]
        assert len({(a.event, a.route_key) for a in outbox}) == 4  # one of each per route
        assert {a.status for a in outbox} == {"sent"}
        for hook in (first, second):
            assert Counter(hook.events()) == Counter({"fail": 1, "escalate": 1})


# ------------------------------------------------------------------ one batch, three tries

TRIES = 3


@pytest.mark.parametrize("verdict", ["fail", "pass"])
def test_tries_of_one_sql_batch_at_once_agree(url: str, tmp_path: Path, verdict: str) -> None:
    """Three tries of one write-audit-publish batch at once (a retry started while the
    first try still runs, a task run twice): the first to claim the batch checks and
    settles it, the others resume what it did."""
    import uuid

    from airflow_opsguard.quarantine import service

    q = _helpers("quarantine", "quarantine_helpers")
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    staging, target = f"{prefix}staging", f"{prefix}orders"
    quarantined = f"{target}_quarantine"
    staged = list(range(1, q.ROWS + 1)) if verdict == "fail" else q.CLEAN_IDS
    q.create_tables(url, staging, target, staged)
    # min_rows 0: an emptied staging table passes, so a try that checked it would say so.
    spec = q.contract(source={"url": url, "table": staging}, publish_to=target, min_rows=0)
    store_url = f"sqlite:///{tmp_path / 'store' / 'opsguard.db'}"
    with ResultStore(store_url) as store:
        store.results("orders")  # created before the race
    job = {"batch_id": prefix + "b", "store": store_url}

    tries = [q.run_gate(spec, **job) for _ in range(TRIES)]
    outcomes = [q.finished(t) for t in tries]

    action = "quarantined" if verdict == "fail" else "published"
    assert [o["action"] for o in outcomes] == [action] * TRIES, outcomes
    assert [o["verdict"] for o in outcomes] == [verdict] * TRIES, outcomes
    assert sorted(o["resumed"] for o in outcomes) == [False] + [True] * (TRIES - 1), outcomes
    assert q.ids(url, staging) == []
    moved = q.ids(url, quarantined) if verdict == "fail" else q.ids(url, target)
    assert moved == staged
    q.assert_nothing_lost(staged, q.ids(url, target), q.ids(url, quarantined))
    with ResultStore(store_url) as store:
        stored = store.results("orders", limit=100)
    assert [r.status for r in stored] == [verdict]  # one try checked; none saw it emptied
    records = service.list_batches(store_url)
    if verdict == "fail":
        (record,) = records
        assert (record.batch_id, record.rows) == (prefix + "b", len(staged))
    else:
        assert records == []
