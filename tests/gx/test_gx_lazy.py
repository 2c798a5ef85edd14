"""Great Expectations is imported only when a contract uses it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from gx_data import orders, write_suite

SETUP = """\
import json, sys
from airflow_opsguard import validate
"""


def modules_after(code: str, cwd: Path) -> set[str]:
    probe = f"{SETUP}{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, cwd=cwd
    ).stdout
    return {name.split(".")[0] for name in json.loads(out.splitlines()[-1])}


def test_a_gate_without_a_suite_never_imports_gx(tmp_path: Path) -> None:
    orders().to_parquet(tmp_path / "orders.parquet")
    (tmp_path / "c.yml").write_text(
        "dataset: orders\nsource: {path: orders.parquet}\n"
        "schema: {columns: [{name: email, nullable: false}], extra_columns: allow}\n"
    )
    loaded = modules_after("assert validate('c.yml').status == 'pass'", tmp_path)
    assert "duckdb" in loaded  # the gate did run
    assert "great_expectations" not in loaded


def test_a_gate_with_a_suite_imports_gx(tmp_path: Path) -> None:
    orders().to_parquet(tmp_path / "orders.parquet")
    write_suite(tmp_path / "suite.json")
    (tmp_path / "c.yml").write_text(
        "dataset: orders\nsource: {path: orders.parquet}\ngx_suite: suite.json\n"
    )
    loaded = modules_after("assert validate('c.yml').status == 'pass'", tmp_path)
    assert "great_expectations" in loaded


def test_loading_a_contract_with_a_suite_reads_it_without_gx(tmp_path: Path) -> None:
    """DAG parsing loads contracts: a suite file is checked there, and GX stays unloaded."""
    write_suite(tmp_path / "suite.json")
    (tmp_path / "c.yml").write_text("dataset: orders\ngx_suite: suite.json\n")
    code = "from airflow_opsguard import load_contract\nload_contract('c.yml')"
    assert "great_expectations" not in modules_after(code, tmp_path)
    (tmp_path / "suite.json").write_text("{")
    failed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert "suite.json:1: the GX suite is not valid JSON" in failed.stderr


def test_converting_never_imports_gx(tmp_path: Path) -> None:
    write_suite(tmp_path / "suite.json")
    code = (
        "from airflow_opsguard.cli import main\n"
        "assert main(['import-gx', 'suite.json', '--out', 'c.yml']) == 0\n"
        "assert main(['export-gx', 'c.yml', '--out', 'back.json']) == 0\n"
    )
    loaded = modules_after(code, tmp_path)
    assert (tmp_path / "back.json").exists()
    assert "great_expectations" not in loaded
