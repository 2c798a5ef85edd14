"""Retention: `opsguard store prune` removes old history and keeps what is still in use,
in short batches that gates writing at the same time never wait long for."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_helpers import BASE_TIME, make_result

from airflow_opsguard.store import ResultStore, prune
from airflow_opsguard.store.tables import (
    alerts,
    baselines,
    check_results,
    incidents,
    metrics,
    quarantine,
    runs,
)

OPSGUARD = str(Path(sys.executable).with_name("opsguard"))
NOW = BASE_TIME + timedelta(days=200)  # old runs are ~200 days old, new ones minutes
OLD = ("old-a", "old-b", "old-c")
USED = ("old-incident", "old-baseline", "old-held")


def incident_row(run_id: str, status: str, **more: object) -> dict[str, object]:
    return {
        "dataset": "orders",
        "check_name": "range(amount)",
        "check_type": "range",
        "status": status,
        "severity": "fail",
        "last_status": "fail",
        "failures": 1,
        "opened_at": BASE_TIME,
        "last_failed_at": BASE_TIME,
        "opened_run_id": run_id,
        "last_run_id": run_id,
        "message": "3 values out of range",
        **more,
    }


def alert_row(key: str, status: str) -> dict[str, object]:
    return {
        "dedup_key": key,
        "dataset": "orders",
        "event": "opened",
        "route_key": "r",
        "route_label": "log",
        "payload": {},
        "status": status,
        "attempts": 1,
        "created_at": BASE_TIME,
        "sent_at": BASE_TIME if status == "sent" else None,
    }


def fill(store: ResultStore) -> None:
    """Old runs (some in use), new runs, old incidents and alerts of every kind."""
    for run_id in (*OLD, *USED):
        assert store.record(make_result(run_id=run_id))
    for minutes in range(3):
        assert store.record(
            make_result(run_id=f"new-{minutes}", checked_at=NOW - timedelta(minutes=minutes))
        )
    with store.connection(write=True) as connection, connection.begin():
        # One row per insert: an executemany takes its columns from the first row.
        connection.execute(
            sa.insert(incidents), incident_row("old-incident", "open", open_key="k1")
        )
        connection.execute(
            sa.insert(incidents),
            incident_row("old-a", "resolved", open_key=None, resolved_at=BASE_TIME),
        )
        connection.execute(
            sa.insert(baselines),
            [
                {
                    "name": "b",
                    "version": 1,
                    "dataset": "orders",
                    "profile": "{}",
                    "run_id": "old-baseline",
                    "created_at": BASE_TIME,
                }
            ],
        )
        connection.execute(
            sa.insert(quarantine),
            [
                {
                    "batch_id": "q1",
                    "dataset": "orders",
                    "run_id": "old-held",
                    "kind": "file",
                    "status": "quarantined",
                    "location": "/q",
                    "created_at": BASE_TIME,
                }
            ],
        )
        connection.execute(
            sa.insert(alerts), [alert_row("sent", "sent"), alert_row("due", "pending")]
        )


def run_ids(store: ResultStore) -> set[str]:
    with store.connection() as connection:
        return set(connection.execute(sa.select(runs.c.run_id)).scalars())


def count(store: ResultStore, table: sa.Table) -> int:
    with store.connection() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_old_history_goes_and_what_is_in_use_stays(fresh_url: str) -> None:
    with ResultStore(fresh_url) as store:
        fill(store)
        before = count(store, check_results)
        report = prune(store, timedelta(days=90), now=NOW, batch_size=2)
        kept = run_ids(store)
        assert kept == {*USED, "new-0", "new-1", "new-2"}
        assert report.removed["runs"] == len(OLD) and report.kept_runs == len(USED)
        # Their check results and metrics went with them, by name (no cascade needed).
        assert count(store, check_results) == before - 3 * len(OLD)
        with store.connection() as connection:
            metric_runs = set(connection.execute(sa.select(metrics.c.run_id)).scalars())
            left = connection.execute(sa.select(incidents.c.status)).scalars().all()
            alert_states = connection.execute(sa.select(alerts.c.status)).scalars().all()
        assert metric_runs <= kept
        assert left == ["open"]  # the resolved one went; the open one stays
        assert alert_states == ["pending"]  # an alert not yet sent is never removed
        assert report.removed["resolved incidents"] == 1 and report.removed["sent alerts"] == 1
        assert count(store, baselines) == 1 and count(store, quarantine) == 1
        # A second prune finds nothing more.
        again = prune(store, timedelta(days=90), now=NOW)
        assert sum(again.removed.values()) == 0


def test_a_dry_run_counts_and_removes_nothing(fresh_url: str) -> None:
    with ResultStore(fresh_url) as store:
        fill(store)
        before = run_ids(store)
        report = prune(store, timedelta(days=90), now=NOW, dry_run=True)
        assert run_ids(store) == before
    assert report.removed == {"runs": 3, "SLA misses": 0, "sent alerts": 1, "resolved incidents": 1}
    assert report.describe().startswith("would remove 3 runs")


def test_gates_keep_writing_while_a_prune_runs(fresh_url: str) -> None:
    with ResultStore(fresh_url) as store:
        for i in range(60):
            assert store.record(make_result(run_id=f"old-{i}"))
        written: list[bool] = []

        def gate() -> None:
            with ResultStore(fresh_url) as other:
                written.extend(
                    other.record(make_result(run_id=f"now-{i}", checked_at=NOW)) for i in range(30)
                )

        writer = threading.Thread(target=gate)
        writer.start()
        report = prune(store, timedelta(days=90), now=NOW, batch_size=5)
        writer.join(timeout=300)
        assert not writer.is_alive()
        assert written == [True] * 30
        assert report.removed["runs"] == 60
        assert run_ids(store) == {f"now-{i}" for i in range(30)}


def test_the_command_prunes_and_says_what_it_removed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with ResultStore(url) as store:
        assert store.record(make_result(run_id="ancient"))  # March 2026: older than 90d
    done = subprocess.run(
        [OPSGUARD, "store", "prune", "--older-than", "90d", "--store", url, "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["removed"]["runs"] == 1
    with ResultStore(url) as store:
        assert run_ids(store) == set()


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        ((), {}, "give --older-than"),
        (("--older-than", "soon"), {}, "--older-than:"),
        (("--older-than", "0d"), {}, "longer than zero"),
        ((), {"OPSGUARD_RETENTION": "yesterday"}, "--older-than:"),
    ],
)
def test_a_prune_without_a_sensible_duration_is_one_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], fragment: str
) -> None:
    import os

    url = f"sqlite:///{tmp_path / 'store.db'}"
    environment = {k: v for k, v in os.environ.items() if k != "OPSGUARD_RETENTION"} | env
    done = subprocess.run(
        [OPSGUARD, "store", "prune", *args, "--store", url],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert fragment in line and "Traceback" not in done.stderr


def test_the_retention_setting_is_the_default(tmp_path: Path) -> None:
    import os

    url = f"sqlite:///{tmp_path / 'store.db'}"
    with ResultStore(url) as store:
        assert store.record(make_result(run_id="ancient"))
    done = subprocess.run(
        [OPSGUARD, "store", "prune", "--store", url, "--dry-run"],
        capture_output=True,
        text=True,
        env={**os.environ, "OPSGUARD_RETENTION": "30d"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("would remove 1 runs")
