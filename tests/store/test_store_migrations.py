"""The schema is versioned: Alembic migrations, shipped in the package, run on open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from store_helpers import make_result

from airflow_opsguard.checks.results import GateResult
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.engine import create_store_engine, prepare_location
from airflow_opsguard.store.migrate import (
    HEAD,
    MIGRATIONS,
    alembic_config,
    current_revision,
    upgrade,
)
from airflow_opsguard.store.rows import check_rows, run_row
from airflow_opsguard.store.tables import VERSION_TABLE, metadata, runs
from airflow_opsguard.store.urls import parse_store_url

# The check results table as revision 0001 made it (no dataset, no checked_at).
_v1 = sa.MetaData()
CHECKS_0001 = sa.Table(
    "opsguard_check_results",
    _v1,
    *(
        sa.Column(c.name, c.type)
        for c in metadata.tables["opsguard_check_results"].columns
        if c.name not in ("dataset", "checked_at")
    ),
)


@pytest.fixture
def engine(fresh_url: str) -> Iterator[sa.Engine]:
    url = parse_store_url(fresh_url)
    prepare_location(url)
    engine = create_store_engine(url)
    yield engine
    engine.dispose()


def insert_as_0001(engine: sa.Engine, result: GateResult) -> None:
    with engine.begin() as connection:
        row = {k: v for k, v in run_row(result).items() if k != "retryable"}  # since 0003
        connection.execute(runs.insert(), row)
        rows = [
            {k: v for k, v in row.items() if k not in ("dataset", "checked_at")}
            for row in check_rows(result)
        ]
        connection.execute(CHECKS_0001.insert(), rows)


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_head_is_the_newest_shipped_revision() -> None:
    scripts = ScriptDirectory(str(MIGRATIONS))
    assert scripts.get_heads() == [HEAD]
    chain = [rev.revision for rev in scripts.walk_revisions("base", "heads")]
    assert chain == ["0010", "0009", "0008", "0007", "0006", "0005", "0004", "0003", "0002", "0001"]


def test_migration_scripts_are_package_data() -> None:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    text = pyproject.read_text()
    assert '"store/migrations/**/*.py"' in text
    assert (MIGRATIONS / "env.py").is_file()
    assert sorted(p.name for p in (MIGRATIONS / "versions").glob("0*.py")) == [
        "0001_initial.py",
        "0002_check_history.py",
        "0003_retryable.py",
        "0004_sla_misses.py",
        "0005_run_metrics.py",
        "0006_incidents_alerts.py",
        "0007_quarantine.py",
        "0008_baselines.py",
        "0009_incident_episodes.py",
        "0010_incident_hold.py",
    ]


def test_opening_a_new_store_creates_its_tables_at_head(engine: sa.Engine) -> None:
    assert table_names(engine) == set()
    upgrade(engine)
    assert table_names(engine) == {
        "opsguard_runs",
        "opsguard_check_results",
        "opsguard_sla_misses",
        "opsguard_metrics",
        "opsguard_incidents",
        "opsguard_alerts",
        "opsguard_quarantine",
        "opsguard_baselines",
        "opsguard_run_profiles",
        VERSION_TABLE,
    }
    with engine.connect() as connection:
        assert current_revision(connection) == HEAD


def test_the_migrated_schema_matches_the_tables_module(engine: sa.Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_a_store_at_0001_with_history_upgrades_without_losing_it(
    engine: sa.Engine, fresh_url: str
) -> None:
    upgrade(engine, "0001")
    with engine.connect() as connection:
        assert current_revision(connection) == "0001"
    old = [make_result("orders", minutes=m) for m in range(5)]
    old.append(make_result("customers", minutes=7, status="pass"))
    for result in old:
        insert_as_0001(engine, result)

    with ResultStore(fresh_url) as store:
        new = make_result("orders", minutes=10)
        assert store.record(new)  # opening the store migrated it first
        with engine.connect() as connection:
            assert current_revision(connection) == HEAD
        for result in old:
            stored = store.get(result.run_id or "")
            assert stored is not None
            assert stored.to_dict() == result.to_dict()
        assert [r.run_id for r in store.results("orders", limit=10)] == [
            r.run_id for r in [new, *reversed(old[:5])]
        ]
        history = store.check_history("orders", "range(amount)")
        summaries = {s.dataset: (s.status, s.runs) for s in store.datasets()}
    # The history of the old runs comes from the columns 0002 filled in.
    assert [h.failing_count for h in history] == [13, 7, 6, 5, 4, 3]
    assert [h.checked_at for h in history[1:]] == [r.checked_at for r in reversed(old[:5])]
    assert summaries == {"orders": ("fail", 6), "customers": ("pass", 1)}


def test_downgrade_to_0001_and_back_keeps_the_runs(engine: sa.Engine, fresh_url: str) -> None:
    upgrade(engine)
    result = make_result("orders")
    with ResultStore(fresh_url) as store:
        assert store.record(result)
    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0001")
        connection.commit()
        assert current_revision(connection) == "0001"
    upgrade(engine)
    with ResultStore(fresh_url) as store:
        stored = store.get(result.run_id or "")
        assert stored is not None
        assert stored.to_dict() == result.to_dict()
        assert len(store.check_history("orders", "volume")) == 1


def test_airflows_alembic_version_table_is_left_alone(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        connection.execute(sa.text("INSERT INTO alembic_version VALUES ('airflow_3_1')"))
    upgrade(engine)
    with engine.connect() as connection:
        theirs = connection.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert current_revision(connection) == HEAD
    assert theirs == [("airflow_3_1",)]
    assert {name for name in table_names(engine) if not name.startswith("opsguard_")} == {
        "alembic_version"
    }


def test_a_store_migrated_by_a_newer_release_is_still_used(
    engine: sa.Engine, fresh_url: str
) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    result = make_result("orders")
    with ResultStore(fresh_url) as store:
        assert store.record(result)
        stored = store.get(result.run_id or "")
    assert stored is not None
    assert stored.to_dict() == result.to_dict()
    with engine.connect() as connection:
        assert current_revision(connection) == "9999"  # never "downgraded"
