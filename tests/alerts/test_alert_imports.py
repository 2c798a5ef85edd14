"""Alerting is part of the check core: it loads neither Airflow nor the data libraries."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = {"airflow", "great_expectations", "pandas", "scipy", "numpy", "duckdb", "pyarrow"}


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


def test_the_alert_modules_import_nothing_heavy() -> None:
    loaded = loaded_after(
        "import airflow_opsguard.alerts as a\n"
        "from airflow_opsguard.alerts import send_alerts, send_sla_miss, IncidentStore\n"
        "import airflow_opsguard.cli.incidents\n"
        "from airflow_opsguard.formats import load_contract\n"
        "load_contract({'dataset': 'x', 'alerts': [{'on': ['fail'], 'log': True}]})"
    )
    assert not loaded & HEAVY, loaded & HEAVY
