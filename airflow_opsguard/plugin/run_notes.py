"""A DAG run whose data a gate quarantined says so in Airflow itself: in its note.

A quarantining gate is skipped (and so is what is downstream), and the DAG run
succeeds: green in the grid, easy to miss. Tasks cannot write notes (Airflow 3's Task
SDK has no call for it), so the gate leaves a small XCom (``opsguard_quarantined``) and
this listener, run where DAG runs end (the scheduler, ``dag.test()``), writes the note
when the run finishes. A note someone already wrote is never replaced; a failure here
never touches the run (Airflow logs what a listener raises).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow.listeners import hookimpl

QUARANTINED_XCOM_KEY = "opsguard_quarantined"  # operators.quality_gate pushes it
NOTE_LIMIT = 1000  # Airflow's note column holds 1000 characters


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    """A successful run whose data was quarantined gets a note that says so."""
    note_quarantines(dag_run)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    """A failed run (e.g. ``quarantine_then="fail"``) says what was set aside, too."""
    note_quarantines(dag_run)


def note_quarantines(dag_run: Any) -> None:
    """Write the note of ``dag_run`` from its gates' quarantine XComs, if it has none.

    In the session the run came in (the scheduler's: its transaction holds the run's
    row), else, for a run handed over detached, in a session of its own."""
    from sqlalchemy import inspect

    session = inspect(dag_run).session
    if session is not None:
        _write(session, dag_run)
        return
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as own:
        attached = own.get(DagRun, dag_run.id)
        if attached is not None:
            _write(own, attached)


def _write(session: Any, dag_run: Any) -> None:
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    if dag_run.note:
        return
    rows = session.execute(
        select(XComModel.task_id, XComModel.value).where(
            XComModel.dag_run_id == dag_run.id, XComModel.key == QUARANTINED_XCOM_KEY
        )
    ).all()
    held = [(row.task_id, XComModel.deserialize_value(row)) for row in rows]
    text = note_text((task, value) for task, value in held if isinstance(value, Mapping))
    if text:
        dag_run.note = text
        session.flush()


def note_text(held: Iterable[tuple[str, Mapping[str, Any]]]) -> str:
    """``Data quality: 1 batch quarantined (orders, 3 rows, gate orders_gate). Review
    it under Data quality > Quarantine.``; empty when nothing was set aside."""
    parts = []
    for task_id, value in sorted(held, key=lambda item: item[0]):
        rows = value.get("rows")
        what = "bad rows" if value.get("action") == "split" else "batch"
        counted = f", {rows} row{'s' if rows != 1 else ''}" if isinstance(rows, int) else ""
        parts.append(f"{value.get('dataset', '?')} ({what}{counted}, gate {task_id})")
    if not parts:
        return ""
    count = len(parts)
    text = (
        f"Data quality: {count} batch{'es' if count != 1 else ''} quarantined: "
        + "; ".join(parts)
        + ". Review under Data quality > Quarantine."
    )
    return text if len(text) <= NOTE_LIMIT else text[: NOTE_LIMIT - 1] + "…"
