"""The drift suite of tests/drift, run on Spark: distribution checks (histograms over
the reference's bins, category shares) give on a Spark DataFrame the verdicts and
statistics they give on the file engine and the databases, equal to numpy's."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

DRIFT_TESTS = Path(__file__).resolve().parents[1] / "drift"
sys.path.insert(0, str(DRIFT_TESTS))  # drift_data and drift_arrays, which the suite imports

import test_drift_backends  # noqa: E402 - needs the path above
from drift_data import DriftBackend  # noqa: E402


def _drift_fixtures() -> Any:
    """tests/drift/conftest.py, loaded under a name of its own: its session fixtures
    (the frames, the reference) serve this module too."""
    spec = importlib.util.spec_from_file_location("drift_conftest", DRIFT_TESTS / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


drift_frames = _drift_fixtures().drift_frames
references = _drift_fixtures().references


@dataclass
class SparkDriftBackend(DriftBackend):
    """The current data as Parquet files, handed to ``validate`` as Spark DataFrames."""

    spark: Any = None

    def data(self, frames: dict[str, pd.DataFrame], name: str) -> dict[str, Any]:
        path = super().data(frames, name)["data"]
        return {"data": self.spark.read.parquet(path)}


@pytest.fixture(scope="session")
def drift_backend(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> SparkDriftBackend:
    return SparkDriftBackend("spark", folder=tmp_path_factory.mktemp("spark-drift"), spark=spark)


globals().update(
    {
        name: test
        for name, test in vars(test_drift_backends).items()
        if name.startswith("test_") and "drift_backend" in inspect.signature(test).parameters
    }
)
