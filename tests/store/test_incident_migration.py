"""Revision 0009: per-check incidents become failure episodes. A store at 0008 with open
per-check incidents upgrades to one open episode per dataset and severity (the oldest
incident, the others folded into it), keeps every old row readable, continues the
episode on the next failing run without a new alert, and downgrades back."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from store_helpers import make_result

from airflow_opsguard.checks import incidents as rules
from airflow_opsguard.contract.alerts import Escalation
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.engine import create_store_engine, prepare_location
from airflow_opsguard.store.incidents import IncidentStore
from airflow_opsguard.store.migrate import HEAD, alembic_config, current_revision, upgrade
from airflow_opsguard.store.tables import incidents as incident_table
from airflow_opsguard.store.urls import parse_store_url

T0 = datetime(2026, 11, 20, 6, tzinfo=UTC)
NEW_IN_0009 = ("incident_key", "members", "merged_into")
NEW_IN_0010 = ("passing_runs", "returns", "flapping")
# The incidents table as revisions 0006 to 0008 had it.
_v8 = sa.MetaData()
INCIDENTS_0008 = sa.Table(
    "opsguard_incidents",
    _v8,
    *(
        sa.Column(c.name, c.type)
        for c in incident_table.columns
        if c.name not in (*NEW_IN_0009, *NEW_IN_0010)
    ),
)


@pytest.fixture
def engine(fresh_url: str) -> Iterator[sa.Engine]:
    url = parse_store_url(fresh_url)
    prepare_location(url)
    engine = create_store_engine(url)
    yield engine
    engine.dispose()


def per_check(
    dataset: str, check: str, *, hours: int, status: str = "open", **extra: Any
) -> dict[str, Any]:
    """An incident row as 0006-0008 wrote it: one failing (dataset, check)."""
    is_open = status != "resolved"
    row: dict[str, Any] = {
        "dataset": dataset,
        "check_name": check,
        "check_type": check.partition("(")[0],
        "column_name": None,
        "open_key": hashlib.sha256(f"{dataset}\x1f{check}".encode()).hexdigest()
        if is_open
        else None,
        "status": status,
        "severity": "fail",
        "last_status": "fail",
        "failures": 1,
        "opened_at": T0 + timedelta(hours=hours),
        "last_failed_at": T0 + timedelta(hours=hours + 1),
        "escalated_at": None,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "resolved_at": T0 + timedelta(hours=hours + 2) if not is_open else None,
        "resolved_by": "run" if not is_open else None,
        "data_newest": T0 + timedelta(hours=hours - 1),
        "opened_run_id": f"run-{hours}",
        "last_run_id": f"run-{hours}",
        "resolved_run_id": None,
        "last_run_key": f"key-{hours}",
        "dag_id": "orders_daily",
        "task_id": "gate",
        "observed": 3,
        "expected": 0,
        "message": f"{check} failed",
    }
    row.update(extra)
    return row


def test_open_per_check_incidents_fold_into_one_episode_per_dataset_and_severity(
    engine: sa.Engine, fresh_url: str
) -> None:
    upgrade(engine, "0008")
    rows = [
        per_check("orders", "range(amount)", hours=-48, status="resolved"),  # history
        per_check("orders", "volume", hours=0, failures=3, escalated_at=T0 + timedelta(hours=2)),
        per_check(
            "orders",
            "unique(id)",
            hours=1,
            status="acknowledged",
            failures=2,
            acknowledged_at=T0 + timedelta(hours=3),
        ),
        per_check("orders", "anomaly(rows)", hours=2, severity="warn", last_status="warn"),
        per_check("customers", "volume", hours=5),
    ]
    with engine.begin() as connection:
        connection.execute(INCIDENTS_0008.insert(), rows)

    with ResultStore(fresh_url) as store:
        incidents = IncidentStore(store)
        found = {(i.dataset, i.check): i for i in incidents.incidents(statuses=())}
        with engine.connect() as connection:  # the first read migrated the store
            assert current_revision(connection) == HEAD
        old = found[("orders", "range(amount)")]  # a resolved incident reads as before
        assert (old.status, [m.name for m in old.members]) == ("resolved", ["range(amount)"])
        assert old.incident_key == f"opsguard-incident-{old.id}"
        episode = found[("orders", "volume")]
        assert episode.status == "open"  # one member was still open, not acknowledged
        assert [m.name for m in episode.members] == ["volume", "unique(id)"]
        assert (episode.failures, episode.escalated_at) == (3, T0 + timedelta(hours=2))
        assert episode.last_failed_at == T0 + timedelta(hours=2)
        folded = found[("orders", "unique(id)")]
        assert (folded.status, folded.resolved_by, folded.merged_into) == (
            "resolved",
            "merged",
            episode.id,
        )
        assert found[("orders", "anomaly(rows)")].is_open  # the warning is its own episode
        assert found[("customers", "volume")].is_open
        stats = incidents.stats()
        assert stats.total == 4  # the folded row is not an incident of its own
        assert stats.mean_time_to_acknowledge is None  # the folded row's ack went with it

        # The next failing run of orders continues the episode: no new incident, no alert.
        result = make_result("orders")

        def plan(current: dict[str, rules.Incident]) -> list[rules.Transition]:
            assert current["fail"].id == episode.id
            return rules.plan(
                result,
                current,
                run_key="next",
                now=T0 + timedelta(days=1),
                escalation=Escalation(),
            )

        transitions, _ = incidents.record_run("orders", plan, lambda changes: [])
        by_severity = {t.incident.severity: t for t in transitions}
        assert by_severity["fail"].state == "ongoing"
        assert by_severity["fail"].recovered == ("volume", "unique(id)")
        assert by_severity["fail"].added == ("range(amount)",)
        assert rules.events(transitions) == {"change"}  # nothing for fail-only routes
        assert by_severity["warn"].state == "resolved" and by_severity["warn"].silent

    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0008")
        connection.commit()
        keys = dict(
            connection.execute(
                sa.select(INCIDENTS_0008.c.check_name, INCIDENTS_0008.c.open_key).where(
                    INCIDENTS_0008.c.open_key.is_not(None)
                )
            ).all()
        )
    # The open episodes carry their headline check's per-check key again.
    assert keys == {
        "range(amount)": hashlib.sha256(b"orders\x1frange(amount)").hexdigest(),
        "volume": hashlib.sha256(b"customers\x1fvolume").hexdigest(),
    }
