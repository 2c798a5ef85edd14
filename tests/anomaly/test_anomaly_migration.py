"""Revision 0005 (run metrics) on a store that has history: it upgrades without losing a
run, older workers keep writing, and it downgrades cleanly."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic import command

from airflow_opsguard import validate
from airflow_opsguard.checks.results import CheckResult, GateResult
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.engine import create_store_engine, prepare_location
from airflow_opsguard.store.migrate import HEAD, alembic_config, current_revision, upgrade
from airflow_opsguard.store.rows import check_rows, run_row
from airflow_opsguard.store.tables import check_results, runs
from airflow_opsguard.store.urls import parse_store_url

PREVIOUS = "0004"  # the head before run metrics (0005)
T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new, empty database, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'opsguard.db'}"
        return
    server = sa.make_url(request.getfixturevalue("postgres_url"))
    name = f"opsguard_fresh_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(fresh_url: str) -> Iterator[sa.Engine]:
    url = parse_store_url(fresh_url)
    prepare_location(url)
    engine = create_store_engine(url)
    yield engine
    engine.dispose()


def old_result(minutes: int, rows: int = 1000) -> GateResult:
    """A result as a release before run metrics wrote it: no metrics."""
    return GateResult(
        dataset="orders",
        status="pass",
        checked_at=T0 + timedelta(minutes=minutes),
        rows=rows,
        checks=(
            CheckResult(
                name="volume",
                type="volume",
                status="pass",
                severity="fail",
                message=f"{rows:,} rows",
                observed=rows,
                expected=">= 10",
            ),
        ),
        run_id=uuid.uuid4().hex,
    )


def write_as_an_older_release(engine: sa.Engine, result: GateResult) -> None:
    """What a worker of the previous release does: a run and its checks, no metrics."""
    with engine.begin() as connection:
        connection.execute(runs.insert(), run_row(result))
        connection.execute(check_results.insert(), check_rows(result))


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_a_store_at_the_previous_head_with_history_upgrades(
    engine: sa.Engine, fresh_url: str
) -> None:
    upgrade(engine, PREVIOUS)
    assert "opsguard_metrics" not in table_names(engine)
    old = [old_result(m, rows=1000 + m) for m in range(3)]
    for result in old:
        write_as_an_older_release(engine, result)

    contract = {
        "dataset": "orders",
        "checks": [{"type": "row_count_change", "max_drop": 0.5}],
    }
    with ResultStore(fresh_url) as store:
        new = validate(
            contract, pd.DataFrame({"a": range(990)}), now=T0 + timedelta(days=1), store=store
        )
        with engine.connect() as connection:
            assert current_revision(connection) == HEAD
        assert "opsguard_metrics" in table_names(engine)
        for result in old:
            stored = store.get(result.run_id or "")
            assert stored is not None
            assert stored.to_dict() == result.to_dict()  # nothing lost, no metrics invented
            assert stored.metrics == {}
        # The old runs have no metrics: the history starts with the first new run.
        assert [p.value for p in store.metric_history("orders", "rows")] == [990]
        assert new.checks[-1].message.startswith("learning: 0 of 1 passing runs")
        assert store.results("orders", limit=1)[0].metrics == {"rows": 990}

        # A worker still on the previous release writes to the migrated store.
        straggler = old_result(60 * 48, rows=995)
        write_as_an_older_release(engine, straggler)
        stored = store.get(straggler.run_id or "")
        assert stored is not None and stored.metrics == {}
        assert len(store.results("orders", limit=10)) == 5


def test_downgrade_to_the_previous_head_and_back_keeps_the_runs(
    engine: sa.Engine, fresh_url: str
) -> None:
    contract = {"dataset": "orders", "checks": [{"type": "anomaly", "metric": "rows"}]}
    with ResultStore(fresh_url) as store:
        result = validate(contract, pd.DataFrame({"a": [1, 2]}), now=T0, store=store)
        assert store.metric_history("orders", "rows")[0].value == 2
    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), PREVIOUS)
        connection.commit()
        assert current_revision(connection) == PREVIOUS
    assert "opsguard_metrics" not in table_names(engine)
    with ResultStore(fresh_url) as store:  # opening it upgrades again
        stored = store.get(result.run_id or "")
        assert stored is not None
        assert stored.status == result.status and stored.metrics == {}  # metrics went with 0005
        assert store.metric_history("orders", "rows") == []
