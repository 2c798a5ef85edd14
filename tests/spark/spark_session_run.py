"""Run by test_spark_sessions.py in a process of its own (a Spark Connect session cannot
share a process with the tests' classic session, nor a session its time zone): start a
local Spark Connect server (``connect``) or a classic local session (``classic``) whose
SQL time zone is Tokyo's, check the orders through it, as a DataFrame and as a
contract's Spark path, and print each check's numbers as JSON."""

from __future__ import annotations

import json
import sys
from typing import Any


def main(mode: str, path: str, contract: dict[str, Any], now: str) -> None:
    from pyspark.sql import SparkSession

    from airflow_opsguard import validate

    if mode == "connect":
        builder = SparkSession.builder.remote("local[1]")
    else:
        builder = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
    session = builder.config("spark.sql.session.timeZone", "Asia/Tokyo").getOrCreate()
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
    main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4])
