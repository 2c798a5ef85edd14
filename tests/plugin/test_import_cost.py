"""Airflow imports every installed plugin in each task's process, in the scheduler and in
the DAG processor. What this package's entry points import there, every task of a
deployment pays for, gates or not: nothing of the dashboard may load before the API
server asks for the app."""

from __future__ import annotations

import json
import subprocess
import sys

# Loaded the way Airflow loads them: the plugin class from the ``airflow.plugins`` entry
# point, instantiated; the provider's ``get_provider_info()``.
PROBE = """
import json, sys
import airflow.plugins_manager
before = set(sys.modules)
from importlib.metadata import distribution
for ep in distribution("airflow-opsguard").entry_points:
    if ep.group in ("airflow.plugins", "apache_airflow_provider"):
        ep.load()()
print(json.dumps({"before": sorted(before), "after": sorted(sys.modules)}))
"""
HEAVY = ("pandas", "numpy", "pyarrow", "duckdb", "great_expectations", "scipy", "jinja2")


def loaded() -> tuple[set[str], set[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True
    ).stdout
    found = json.loads(out.splitlines()[-1])
    return set(found["before"]), set(found["after"])


def test_the_entry_points_build_no_app_and_import_no_api_server_module() -> None:
    before, after = loaded()
    assert "airflow_opsguard.plugin" in after  # the probe did load the plugin
    assert not {m for m in after if m.startswith("airflow.api_fastapi")}
    assert "airflow_opsguard.plugin.app" not in after
    new = {m.split(".")[0] for m in after - before}
    assert not new & {"fastapi", "starlette", "sqlalchemy", "pydantic", *HEAVY}, new
    assert new <= {"airflow_opsguard", "argparse"}, new


def test_the_api_server_gets_the_app_when_it_asks() -> None:
    from fastapi import FastAPI

    from airflow_opsguard.plugin import URL_PREFIX, OpsGuardPlugin

    plugin = OpsGuardPlugin()
    (first,) = plugin.fastapi_apps
    assert isinstance(first["app"], FastAPI)
    assert first["url_prefix"] == URL_PREFIX
    # Read again (Airflow does, for /api/v2/plugins): the same app, not a second one.
    assert OpsGuardPlugin().fastapi_apps[0]["app"] is first["app"]
