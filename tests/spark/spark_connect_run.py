"""Run by test_spark_connect.py in a process of its own (a Spark Connect session cannot
share a process with the tests' classic session): start a local Spark Connect server,
check the orders through it, as a DataFrame and as a contract's Spark path, and print
each check's numbers as JSON."""

from __future__ import annotations

import json
import sys
from typing import Any


def main(path: str, contract: dict[str, Any], now: str) -> None:
    from pyspark.sql import SparkSession

    from airflow_opsguard import validate

    session = SparkSession.builder.remote("local[1]").getOrCreate()
    try:
        kind = type(session.read.parquet(path)).__module__
        as_frame = validate(contract, data=session.read.parquet(path), now=now)
        as_path = validate({**contract, "source": {"engine": "spark", "path": path}}, now=now)
    finally:
        session.stop()
    print(
        json.dumps(
            {
                "frame_module": kind,
                "frame": [c.to_dict() for c in as_frame.checks],
                "path": [c.to_dict() for c in as_path.checks],
                "source": as_path.source,
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3])
