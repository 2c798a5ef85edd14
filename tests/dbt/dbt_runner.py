"""Build tests/dbt/project with the real dbt (dbt-core and dbt-duckdb in .venv-dbt).

dbt lives in a venv of its own (``make`` builds .venv-dbt; docs/dbt.md says why).
Without it the tests that need dbt skip, and fail under OPSGUARD_REQUIRE_SERVICES=1
(CI), where they must run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT = Path(__file__).resolve().parent / "project"
DBT = REPO / ".venv-dbt" / "bin" / "dbt"


@dataclass(frozen=True)
class BuiltProject:
    """A copy of the project that dbt built: its folder, manifest and DuckDB file."""

    folder: Path
    manifest: Path
    database: Path

    @property
    def url(self) -> str:
        return f"duckdb:///{self.database}"


def dbt_executable() -> Path:
    """The dbt command of .venv-dbt; skips (fails in CI) when it is not installed."""
    if not DBT.exists():
        message = f"dbt is not installed in {DBT.parent.parent} (make builds it)"
        if os.environ.get("OPSGUARD_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return DBT


def run_dbt(project: Path, database: Path, *args: str) -> str:
    """Run ``dbt ARGS`` in ``project`` against the DuckDB file ``database``; its output."""
    env = {
        **os.environ,
        "OPSGUARD_DBT_DUCKDB": str(database),
        "DBT_PROFILES_DIR": str(project),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",  # dbt phones home otherwise
        "DBT_USE_COLORS": "false",
    }
    done = subprocess.run(
        [str(dbt_executable()), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"dbt {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_project(folder: Path) -> BuiltProject:
    """Copy the project into ``folder``, then ``dbt seed`` and ``dbt build`` it."""
    project = folder / "project"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns("target", "logs"))
    database = folder / "shop.duckdb"
    run_dbt(project, database, "seed")  # the source's tables, before the models read them
    run_dbt(project, database, "build")
    return BuiltProject(project, project / "target" / "manifest.json", database)
