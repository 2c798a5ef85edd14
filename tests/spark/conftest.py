"""One local Spark session for the Spark tests, and the engine suite's backend on Spark.

The session is made once per test session (``local[1]``, one shuffle partition, no UI,
bound to 127.0.0.1): starting a JVM costs seconds, a query on it milliseconds. The
engine tests (tests/engines) see Spark as one more ``backend``: the same twelve orders,
read by Spark from the Parquet file the file engine reads, either as a DataFrame handed
to ``validate`` or through a contract's ``source: {engine: spark, path: ...}``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ENGINE_TESTS = Path(__file__).resolve().parents[1] / "engines"
sys.path.insert(0, str(ENGINE_TESTS))  # engine_backends and the suites it runs

from spark_backend import SparkBackend  # noqa: E402 - needs the path above


@pytest.fixture(scope="session")
def spark(java_runtime: None) -> Iterator[Any]:
    """The test session's SparkSession, stopped at the end. Its JVM binds to 127.0.0.1
    (SPARK_LOCAL_IP, read when the JVM starts): tests talk to nothing else."""
    from pyspark.sql import SparkSession

    previous = os.environ.get("SPARK_LOCAL_IP")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"

    session = (
        SparkSession.builder.master("local[1]")
        .appName("opsguard-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if previous is None:
        os.environ.pop("SPARK_LOCAL_IP", None)
    else:
        os.environ["SPARK_LOCAL_IP"] = previous


@pytest.fixture(scope="session", params=["frame", "path"])
def backend(
    request: pytest.FixtureRequest, spark: Any, tmp_path_factory: pytest.TempPathFactory
) -> SparkBackend:
    """Spark, given a DataFrame (``frame``) or a contract's Spark path (``path``)."""
    return SparkBackend(
        f"spark-{request.param}", path=tmp_path_factory.mktemp("spark"), spark=spark
    )
