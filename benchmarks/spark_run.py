"""The Spark engine against the DuckDB engine: the benchmark contract on one Parquet file.

    .venv/bin/python benchmarks/spark_run.py --rows 1000000 --master 'local[2]'

Both engines check the same file (``benchmarks/.data``, see data.py) with the same
contract (schema, not_null x3, unique, range, allowed and length x2, pattern, freshness,
volume), in this process: DuckDB with ``data=<path>``, Spark through a contract's
``source: {engine: spark, path: ...}`` on a local session. The session's start (a JVM)
is timed apart from the checks; the first Spark run (the JVM still compiling) apart
from the warm ones. Both must find the same numbers, or the script stops. The report
gives the median of the warm runs.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script: import the repository's packages (appended, so that a copy put first
# on PYTHONPATH is the one measured).
if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
    del sys.path[0]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from benchmarks.agreement import NOW  # noqa: E402 - after the path set-up above
from benchmarks.contenders import CONTRACT, opsguard_numbers  # noqa: E402
from benchmarks.data import ensure  # noqa: E402

DATA = ROOT / "benchmarks" / ".data"


def timed(contract: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    from airflow_opsguard import validate

    started = time.perf_counter()
    result = validate(contract, now=NOW)
    return time.perf_counter() - started, opsguard_numbers(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--master", default="local[2]", help="the Spark master (local mode)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from pyspark.sql import SparkSession

    started = time.perf_counter()
    session = (
        SparkSession.builder.master(args.master)
        .appName("opsguard-benchmark")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    start_seconds = time.perf_counter() - started

    print(
        f"machine: {platform.machine()}, {_cores()} cores; Spark {session.version}, "
        f"master {args.master}; session start {start_seconds:.1f} s"
    )
    print("| rows | DuckDB (median) | Spark first run | Spark (median) | Spark / DuckDB |")
    print("|---:|---:|---:|---:|---:|")
    for rows in args.rows:
        path = str(ensure(DATA, rows).path)
        duckdb_contract = {**CONTRACT, "source": {"path": path}}
        spark_contract = {**CONTRACT, "source": {"engine": "spark", "path": path}}
        first, spark_numbers = timed(spark_contract)
        duck_times, spark_times = [], []
        for _ in range(args.repeats):  # interleaved: both share the machine's noise
            seconds, duck_numbers = timed(duckdb_contract)
            duck_times.append(seconds)
            seconds, again = timed(spark_contract)
            spark_times.append(seconds)
            if not spark_numbers == again == duck_numbers:
                raise SystemExit(f"the engines disagree: {duck_numbers} != {again}")
        duck, spark = statistics.median(duck_times), statistics.median(spark_times)
        print(f"| {rows:,} | {duck:.2f} s | {first:.2f} s | {spark:.2f} s | {spark / duck:.1f}x |")
    session.stop()


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
