"""Spark Connect and time zones: a local Spark Connect server (pyspark starts one for
``remote("local")``), and a classic session, check the shared orders as a DataFrame and
as a contract's Spark path with the numbers the file engine gives, though the driver
runs in New York time and the session's SQL in Tokyo's. In processes of their own: a
Connect session cannot share a process with the other tests' classic session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from engine_backends import orders

from airflow_opsguard import validate

pytestmark = pytest.mark.usefixtures("java_runtime")  # Spark's JVM

RUNNER = Path(__file__).with_name("spark_session_run.py")
NOW = "2026-02-14T12:00:00+00:00"
CONTRACT: dict[str, Any] = {
    "dataset": "orders",
    "checks": [
        {"type": "not_null", "column": "amount"},
        {"type": "unique", "column": "customer"},
        {"type": "pattern", "column": "email", "pattern": r"^[^@]+@\w+\.com$"},
        {"type": "range", "column": "updated_at", "max": "2026-02-10T00:00:00Z"},
        {"type": "range", "column": "created_at", "min": "2026-02-03T00:00:00"},
        {"type": "allowed", "column": "country", "values": ["US", "DE", "FR"]},
    ],
    "freshness": {"column": "updated_at", "fail_after": "1d"},
}


@pytest.mark.parametrize("mode", ["connect", "classic"])
def test_spark_gives_the_file_engines_numbers_in_any_time_zone(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "orders.parquet"
    orders().to_parquet(path, index=False)
    expected = json.loads(
        json.dumps(
            [c.to_dict() for c in validate(CONTRACT, data=str(path), now=NOW).checks], default=str
        )
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "TZ": "America/New_York",
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    done = subprocess.run(
        [sys.executable, str(RUNNER), mode, str(path), json.dumps(CONTRACT), NOW],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    module = (
        "pyspark.sql.connect.dataframe" if mode == "connect" else "pyspark.sql.classic.dataframe"
    )
    assert found["frame_module"] == module
    assert found["frame"] == expected
    assert found["path"] == expected
    assert found["source"] == f"{path} on Spark"
