"""Migrations as a deploy step: ``opsguard db upgrade``, and workers that may not create
tables (PostgreSQL, with the least-privilege SQL of docs/deployment.md)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_helpers import make_result

from airflow_opsguard import validate
from airflow_opsguard.alerts.service import send_alerts
from airflow_opsguard.cli import main
from airflow_opsguard.errors import StoreError
from airflow_opsguard.formats import load_contract
from airflow_opsguard.store import ResultStore, store_state, upgrade_store
from airflow_opsguard.store.engine import create_store_engine
from airflow_opsguard.store.migrate import HEAD, auto_migrate, upgrade
from airflow_opsguard.store.urls import parse_store_url

OPSGUARD = str(Path(sys.executable).with_name("opsguard"))
ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MARIADB_ADMIN = "mysql+pymysql://root@127.0.0.1:3306/test"

CONTRACT = """\
dataset: deploy_orders
schema:
  columns:
    - {name: order_id, type: integer, nullable: false, unique: true}
    - {name: amount, type: float, min: 0}
volume:
  min_rows: 2
"""


def opsguard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPSGUARD, *args], capture_output=True, text=True, check=False)


def revision_of(url: str) -> str | None:
    return store_state(url).revision


# --------------------------------------------------------------------- opsguard db upgrade


def test_db_upgrade_migrates_and_prints_one_line_with_the_masked_url(fresh_url: str) -> None:
    url = fresh_url
    if url.startswith("postgresql://"):  # trust auth ignores it; the output must not show it
        url = url.replace("postgresql://postgres@", "postgresql://postgres:s3cret-pw@")
    assert revision_of(url) is None

    first = opsguard("db", "upgrade", "--store", url)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("results store ")
    assert f"schema {HEAD} (migrated from an empty database)" in lines[0]
    assert "s3cret-pw" not in first.stdout + first.stderr
    assert revision_of(url) == HEAD

    again = opsguard("db", "upgrade", "--store", url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith(f"schema {HEAD} (current)")

    current = opsguard("db", "current", "--store", url)
    assert (current.returncode, current.stdout.strip()) == (0, again.stdout.strip())


def test_db_current_exits_1_for_an_old_schema_and_upgrade_moves_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_store_engine(parse_store_url(url))
    upgrade(engine, "0007")
    engine.dispose()

    behind = opsguard("db", "status", "--store", url)
    assert behind.returncode == 1
    assert behind.stdout.strip() == (
        f"results store {url}: schema 0007 (this release needs {HEAD}: run `opsguard db upgrade`)"
    )
    moved = opsguard("db", "upgrade", "--store", url)
    assert moved.stdout.strip() == f"results store {url}: schema {HEAD} (migrated from 0007)"
    assert revision_of(url) == HEAD


def test_db_current_does_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "none" / "opsguard.db"
    state = store_state(str(path))
    assert (state.revision, state.current) == (None, False)
    assert not path.parent.exists()


def test_db_upgrade_of_an_unreachable_store_is_one_line_on_stderr() -> None:
    proc = opsguard("db", "upgrade", "--store", "postgresql://ops:pw-123@127.0.0.1:9/nowhere")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("opsguard: cannot read results store postgresql")
    assert "pw-123" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_without_store_and_outside_airflow_the_cli_default_store_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/airflow/airflow.cfg
    monkeypatch.delenv("AIRFLOW_HOME", raising=False)
    for name in [n for n in os.environ if n.startswith("AIRFLOW__OPSGUARD__")]:
        monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'cli' / 'opsguard.db'}"
    monkeypatch.setenv("OPSGUARD_STORE_URL", url)

    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"results store {url}: schema {HEAD} (migrated from an empty database)"
    )
    assert revision_of(url) == HEAD


def test_db_help_loads_no_database_library() -> None:
    probe = (
        "import json, sys\n"
        "from airflow_opsguard.cli import main\n"
        "try:\n    main(['db', 'upgrade', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert "--store" in proc.stdout
    loaded = set(json.loads(proc.stderr.strip().splitlines()[-1]))
    assert not loaded & {"sqlalchemy", "alembic", "airflow", "pydantic"}


def test_the_store_package_exports_resolve() -> None:
    import airflow_opsguard.store as package

    for name in package.__all__:
        assert getattr(package, name) is not None
    assert package.upgrade_store is upgrade_store


def test_upgrade_store_from_python_reports_before_and_after(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'py' / 'opsguard.db'}"
    state = upgrade_store(url)
    assert (state.previous, state.revision, state.current, state.migrated) == (
        None,
        HEAD,
        True,
        True,
    )
    assert not upgrade_store(url).migrated


# ------------------------------------------------------------------- automatic migration


def test_with_auto_migrate_off_an_old_store_says_to_run_db_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'manual' / 'opsguard.db'}"
    monkeypatch.setenv("OPSGUARD_AUTO_MIGRATE", "false")
    assert auto_migrate() is False
    store = ResultStore(url)
    with pytest.raises(StoreError) as caught:
        store.results()
    message = str(caught.value)
    assert "\n" not in message
    assert f"results store {url} needs `opsguard db upgrade`" in message
    assert "automatic migration is off" in message
    assert revision_of(url) is None  # nothing was created

    upgrade_store(url)
    result = make_result("orders")
    assert store.record(result)
    assert [r.run_id for r in store.results()] == [result.run_id]


def test_auto_migrate_that_is_not_a_flag_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPSGUARD_AUTO_MIGRATE", "sometimes")
    with pytest.raises(StoreError, match=r"\$OPSGUARD_AUTO_MIGRATE: 'sometimes' is not"):
        ResultStore("sqlite://")
    monkeypatch.setenv("OPSGUARD_AUTO_MIGRATE", "0")
    assert ResultStore("sqlite://", migrate=True).record(make_result("orders"))


# ------------------------------------------------------- least privilege on PostgreSQL


@dataclass
class Roles:
    owner_url: str  # migrates (`opsguard db upgrade`)
    worker_url: str  # may read and write rows, not create tables


def docs_sql(marker: str) -> str:
    """The ```sql block of docs/deployment.md that contains ``marker``, without comments."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", text, re.DOTALL)
    return re.sub(r"--[^\n]*", "", next(b for b in blocks if marker in b))


def worker_sql(database: str, role: str, password: str) -> list[str]:
    """The least-privilege SQL of docs/deployment.md, for this database and role."""
    sql = docs_sql("GRANT CONNECT ON DATABASE opsguard TO opsguard_worker")
    sql = sql.replace("DATABASE opsguard ", f'DATABASE "{database}" ')
    sql = sql.replace("opsguard_worker", role).replace("'change-me'", f"'{password}'")
    return [s.strip() for s in sql.split(";") if s.strip()]


@pytest.fixture
def roles(postgres_url: str) -> Iterator[Roles]:
    """An empty database owned by postgres, and a worker role made with the docs' SQL."""
    name = f"opsguard_roles_{uuid.uuid4().hex[:8]}"
    role, password = f"opsguard_worker_{uuid.uuid4().hex[:8]}", "worker-pw"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    owner_url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    owner = sa.create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", isolation_level="AUTOCOMMIT"
    )
    with owner.connect() as connection:
        for statement in worker_sql(name, role, password):
            connection.execute(sa.text(statement))
    owner.dispose()
    yield Roles(owner_url, f"postgresql://{role}:{password}@127.0.0.1:5432/{name}")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'DROP ROLE "{role}"'))
    admin.dispose()


def gate_run(store: ResultStore, data: Path, contract: Path) -> None:
    """What a gate task does with its store: measure, judge, record, track incidents."""
    result = validate(str(contract), data=str(data), store=store)
    assert result.status == "fail"  # amount -1 is out of range
    report = send_alerts(result, load_contract(str(contract)), store=store)
    assert report.tracked  # the incidents were read and written in the store
    assert [t.state for t in report.transitions] == ["new"]  # an incident opened


@pytest.fixture
def gate_files(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "orders.csv"
    data.write_text("order_id,amount\n1,10.5\n2,-1.0\n3,7.25\n")
    contract = tmp_path / "deploy_orders.yml"
    contract.write_text(CONTRACT)
    return data, contract


@pytest.mark.postgres
def test_a_worker_that_cannot_create_tables_runs_gates_on_a_current_store(
    roles: Roles, gate_files: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    proc = opsguard("db", "upgrade", "--store", roles.owner_url)
    assert proc.returncode == 0, proc.stderr
    # The worker really may not create tables.
    worker = sa.create_engine(parse_store_url(roles.worker_url))
    with worker.connect() as connection, pytest.raises(sa.exc.ProgrammingError):
        connection.execute(sa.text("CREATE TABLE opsguard_intruder (id integer)"))
    worker.dispose()

    caplog.set_level(logging.WARNING)
    with ResultStore(roles.worker_url) as store:
        gate_run(store, *gate_files)
        stored = store.results(dataset="deploy_orders")
        assert not store.spool_path.exists()  # stored at once, nothing waits
    assert [(r.dataset, r.status, r.rows) for r in stored] == [("deploy_orders", "fail", 3)]
    failing = [c.name for c in stored[0].checks if c.status == "fail"]
    assert failing == ["range(amount)"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert revision_of(roles.owner_url) == HEAD


@pytest.mark.postgres
def test_a_worker_on_an_old_store_is_told_in_one_line_to_run_db_upgrade(
    roles: Roles, gate_files: tuple[Path, Path], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    store = ResultStore(roles.worker_url, spool_dir=spool)
    with pytest.raises(StoreError) as caught:
        store.results()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("results store postgresql")
    assert "needs `opsguard db upgrade`" in message
    assert f"its schema is not created yet, this release writes {HEAD}" in message
    assert "permission denied for schema public" in message
    assert "worker-pw" not in message

    # A gate still gets its verdict; the result waits in the spool, with the same line.
    caplog.set_level(logging.WARNING)
    early = make_result("deploy_orders", status="pass")
    assert store.record(early) is False
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "needs `opsguard db upgrade`" in warnings[0]
    store.close()

    # The CLI, as the worker: the same single line, exit 2.
    proc = opsguard("results", "--store", roles.worker_url)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "needs `opsguard db upgrade`" in proc.stderr

    # The deploy step, then the worker writes (default privileges cover the new tables)
    # and the spooled result arrives too.
    assert opsguard("db", "upgrade", "--store", roles.owner_url).returncode == 0
    with ResultStore(roles.worker_url, spool_dir=spool) as later:
        gate_run(later, *gate_files)
        stored = later.results(dataset="deploy_orders")
    assert sorted(r.status for r in stored) == ["fail", "pass"]
    assert early.run_id in {r.run_id for r in stored}


@pytest.mark.mariadb
def test_mariadb_accounts_made_with_the_docs_sql_split_migrating_from_writing(
    mariadb_url: str, gate_files: tuple[Path, Path], tmp_path: Path
) -> None:
    name = f"opsguard_accounts_{uuid.uuid4().hex[:8]}"
    owner, worker = f"og_owner_{uuid.uuid4().hex[:6]}", f"og_worker_{uuid.uuid4().hex[:6]}"
    sql = docs_sql("ON opsguard.* TO 'opsguard_worker'")
    sql = sql.replace("opsguard.*", f"`{name}`.*")
    sql = sql.replace("opsguard_owner", owner).replace("opsguard_worker", worker)
    admin = sa.create_engine(MARIADB_ADMIN)
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE `{name}`"))
        for statement in [s.strip() for s in sql.split(";") if s.strip()]:
            connection.execute(sa.text(statement))
    try:
        owner_url = f"mysql://{owner}:change-me-too@127.0.0.1:3306/{name}"
        worker_url = f"mysql://{worker}:change-me@127.0.0.1:3306/{name}"
        early = ResultStore(worker_url, spool_dir=tmp_path / "spool")
        with pytest.raises(StoreError, match=r"needs `opsguard db upgrade`.*CREATE command denied"):
            early.results()
        early.close()
        proc = opsguard("db", "upgrade", "--store", owner_url)
        assert proc.returncode == 0, proc.stderr
        assert "change-me-too" not in proc.stdout
        with ResultStore(worker_url, spool_dir=tmp_path / "spool") as store:
            gate_run(store, *gate_files)
            stored = store.results(dataset="deploy_orders")
        assert [(r.status, r.rows) for r in stored] == [("fail", 3)]
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
            for account in (owner, worker):
                connection.execute(sa.text(f"DROP USER IF EXISTS '{account}'@'%'"))
        admin.dispose()
