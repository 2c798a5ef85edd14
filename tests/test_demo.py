"""`make demo` (dags_examples/demo.py), the README's first command, end to end: the
opsguard commands on the example data, then every example DAG in both scenarios in a
real Airflow home (an own one here), each ending as the example says it should."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DBT = ROOT / ".venv-dbt" / "bin" / "dbt"  # made by make, for the cosmos example


def test_the_demo_runs_every_example_as_expected(tmp_path: Path) -> None:
    if not DBT.exists() and os.environ.get("OPSGUARD_REQUIRE_SERVICES") != "1":
        pytest.skip(f"{DBT.relative_to(ROOT)} is not there: make builds it")
    env = dict(os.environ)
    for leftover in ("AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER", "OPSGUARD_STORE_URL"):
        env.pop(leftover, None)
    env.update(OPSGUARD_DEMO_HOME=str(tmp_path / "airflow"), OPSGUARD_HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, str(ROOT / "dags_examples" / "demo.py")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    shown = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, shown
    assert "demo finished as expected" in done.stdout, shown
    table = (tmp_path / "airflow" / "demo-table.txt").read_text()
    for dag_id in ("churn_model_drift_gate", "user_features_schema_gate", "dbt_cosmos_gate"):
        assert f"{dag_id} " in table, table
