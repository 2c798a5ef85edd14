"""One Airflow home for the whole test session, and real DAG runs with ``dag.test()``.

Airflow reads its configuration when it is first imported, so the environment is set
here, before any test module imports it. The first ``dag.test()`` of a process starts
the in-process execution API (seconds); later runs reuse it, so every DAG test shares
this process and this home.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="opsguard-airflow-"))
DAGS = AIRFLOW_HOME / "dags"
DAGS.mkdir()
LINEAGE_EVENTS = AIRFLOW_HOME / "openlineage.jsonl"
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        # OpenLineage events of the DAGs named lineage_* go to a file (the others emit
        # nothing): the provider's own file transport, read by the lineage tests.
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(LINEAGE_EVENTS), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__EMISSION_POLICY": json.dumps(
            [
                {"scope": {}, "controls": {"emit": False}},
                {
                    "scope": {"dag_id": "lineage_.*"},
                    "match_mode": "regex",
                    "controls": {"emit": True, "emit_dag_events": False},
                },
            ]
        ),
    }
)
os.environ.pop("OPSGUARD_STORE_URL", None)
STORE_URL = f"sqlite:///{AIRFLOW_HOME / 'opsguard.db'}"


@pytest.fixture(scope="session", autouse=True)
def airflow_db() -> Iterator[Path]:
    """Airflow's metadata database, migrated once for the session."""
    airflow = Path(sys.executable).with_name("airflow")
    proc = subprocess.run(
        [str(airflow), "db", "migrate"], capture_output=True, text=True, env=os.environ.copy()
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    yield AIRFLOW_HOME
    shutil.rmtree(AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _airflow_store(monkeypatch: pytest.MonkeyPatch) -> None:
    # Gates store into $AIRFLOW_HOME/opsguard.db, as inside any Airflow deployment.
    monkeypatch.delenv("OPSGUARD_STORE_URL", raising=False)


@dataclass
class DagRunOutcome:
    """What a DAG run left behind: task states, XComs, and the gate results stored."""

    dag_id: str
    run_id: str
    state: str
    states: dict[str, str]
    xcoms: dict[tuple[str, str], Any] = field(default_factory=dict)
    tries: dict[str, int] = field(default_factory=dict)


def write_dag(source: str, name: str | None = None) -> Path:
    path = DAGS / f"{name or 'dag_' + uuid.uuid4().hex[:8]}.py"
    path.write_text(source)
    return path


def parse(path: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(str(path))


def run_dag(source: str, dag_id: str, **test_kwargs: Any) -> DagRunOutcome:
    """Write ``source`` as a DAG file, parse it, run ``dag_id`` with ``dag.test()``."""
    bag = parse(write_dag(source, dag_id))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"{dag_id} not found in the DAG file"
    dag_run = dag.test(**test_kwargs)
    return outcome(dag_run)


def outcome(dag_run: Any) -> DagRunOutcome:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = dag_run.get_task_instances(session=session)
        states = {ti.task_id: str(ti.state) for ti in tis}
        tries = {ti.task_id: ti.try_number for ti in tis}
        rows = session.scalars(
            select(XComModel).where(
                XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id
            )
        ).all()
        xcoms = {(x.task_id, x.key): _value(x.value) for x in rows}
    return DagRunOutcome(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        state=str(dag_run.state),
        states=states,
        xcoms=xcoms,
        tries=tries,
    )


def _value(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
