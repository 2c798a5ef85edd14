"""A DAG run whose data a gate quarantined says so in its note (a real ``dag.test()``
in its own Airflow home, as Airflow runs the plugin's listener where runs end)."""

from __future__ import annotations

import os
from pathlib import Path

from server import environment, run, run_quarantine_dag

from airflow_opsguard.operators.quality_gate import QUARANTINED_XCOM_KEY
from airflow_opsguard.plugin import run_notes


def test_a_quarantined_run_says_so_in_its_note(tmp_path: Path) -> None:
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    env = environment(home)
    run([str(Path(os.sys.executable).with_name("airflow")), "db", "migrate"], env)
    held = run_quarantine_dag(home, "landing_bad", good=False)
    # Green in Airflow's grid: the gate and what follows are skipped, the run succeeds.
    assert held["state"] == "success"
    assert held["states"] == {"orders_gate": "skipped", "train": "skipped"}
    note = str(held["note"])
    assert note.startswith("Data quality: 1 batch quarantined: landing_notes (batch, 3 rows")
    assert "gate orders_gate" in note and "Review under Data quality > Quarantine" in note
    passed = run_quarantine_dag(home, "landing_good", good=True)
    assert passed["state"] == "success" and passed["note"] is None


def test_the_note_text() -> None:
    assert QUARANTINED_XCOM_KEY == run_notes.QUARANTINED_XCOM_KEY
    assert run_notes.note_text([]) == ""
    text = run_notes.note_text(
        [
            ("b_gate", {"dataset": "b", "action": "split", "rows": 1}),
            ("a_gate", {"dataset": "a", "action": "quarantined", "rows": None}),
        ]
    )
    assert text == (
        "Data quality: 2 batches quarantined: a (batch, gate a_gate); "
        "b (bad rows, 1 row, gate b_gate). Review under Data quality > Quarantine."
    )
    many = run_notes.note_text([(f"t{i}", {"dataset": "x" * 50}) for i in range(40)])
    assert len(many) == run_notes.NOTE_LIMIT and many.endswith("…")
