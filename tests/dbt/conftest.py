"""The dbt project, built once per test session by the real dbt."""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt_runner import BuiltProject, build_project


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> BuiltProject:
    """tests/dbt/project, seeded and built into a DuckDB file of its own."""
    return build_project(tmp_path_factory.mktemp("dbt"))


@pytest.fixture
def fresh_copy(built_project: BuiltProject, tmp_path: Path) -> BuiltProject:
    """A copy of the built DuckDB file that a test may break."""
    database = tmp_path / "shop.duckdb"
    database.write_bytes(built_project.database.read_bytes())
    return BuiltProject(built_project.folder, built_project.manifest, database)
