"""Importing the package (and the contract layer that DAG files use) stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ["airflow", "great_expectations", "pandas", "scipy", "numpy", "duckdb", "pyarrow"]


def imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


def test_import_pulls_in_no_heavy_library() -> None:
    loaded = imported_after("import airflow_opsguard")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_loading_a_contract_pulls_in_no_heavy_library() -> None:
    loaded = imported_after(
        "from airflow_opsguard import load_contract\n"
        "load_contract({'dataset': 'x', 'schema': {'columns': [{'name': 'a', 'type': 'integer'}]}})"
    )
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_the_public_names_resolve() -> None:
    import airflow_opsguard

    for name in airflow_opsguard.__all__:
        assert getattr(airflow_opsguard, name) is not None
