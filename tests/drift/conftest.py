"""Drift fixtures: a reference and current datasets (healthy and drifted), and the same
current data on every backend: a Parquet file, SQLite, PostgreSQL and MariaDB.

The frames are generated once per session with a fixed seed; each backend loads each
frame once, as a table named after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from drift_data import COUNTRIES, SHARES, DriftBackend, orders

from airflow_opsguard.engines.profiler import profile


@pytest.fixture(scope="session")
def drift_frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(5)
    moved = [0.30, 0.35, 0.21, 0.14]  # US 50% -> 30%, the others in proportion
    new = [*[s * 0.9 for s in SHARES], 0.10]
    return {
        "reference": orders(rng, 20_000),
        "healthy": orders(rng, 4_000),
        "shifted": orders(rng, 4_000, shift=0.5),
        "moved": orders(rng, 4_000, shares=moved),
        "new": orders(rng, 4_000, countries=[*COUNTRIES, "XX"], shares=new),
        "vanished": orders(rng, 4_000, countries=COUNTRIES[:2], shares=[2 / 3, 1 / 3]),
        "few": orders(rng, 60),
    }


@pytest.fixture(scope="session")
def references(tmp_path_factory: pytest.TempPathFactory, drift_frames: dict[str, Any]) -> Path:
    """A folder with the reference as data (reference.parquet) and as a profile
    (reference.json)."""
    folder = tmp_path_factory.mktemp("references")
    drift_frames["reference"].to_parquet(folder / "reference.parquet", index=False)
    profile(folder / "reference.parquet").write(folder / "reference.json")
    return folder


@pytest.fixture(
    scope="session",
    params=[
        "parquet",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def drift_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> DriftBackend:
    """The Parquet file engine, SQLite, PostgreSQL and MariaDB (one each per session)."""
    name = request.param
    if name == "parquet":
        return DriftBackend(name, folder=tmp_path_factory.mktemp("current"))
    if name == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "current.db"
        return DriftBackend(name, url=f"sqlite:///{path}")
    fixture = "postgres_url" if name == "postgresql" else "mariadb_url"
    return DriftBackend(name, url=request.getfixturevalue(fixture))
