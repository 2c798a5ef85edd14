"""What reading through a connection's own filesystem costs: one gate on a Parquet file
on a local S3 stand-in (a moto server process on 127.0.0.1), read with a filesystem
handed in (as an Airflow connection's is, under a DuckDB protocol of its own) and as a
plain ``s3://`` URL through fsspec's default filesystem (credentials from the
environment), beside the same file on local disk.

    .venv/bin/python benchmarks/object_storage.py --rows 1000000

Prints the best of ``--repeats`` runs for each. The stand-in is a Python server on the
same machine: the figures compare the two ways of reading, not S3's speed.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))

BUCKET = "bench"
KEY, SECRET = "bench-key", "bench-secret"
CONTRACT = {
    "dataset": "orders",
    "checks": [
        {"type": "not_null", "column": "order_id"},
        {"type": "unique", "column": "order_id"},
        {"type": "range", "column": "amount", "min": 0},
        {"type": "allowed", "column": "country", "values": ["US", "DE", "FR", "GB"]},
    ],
}


class Connection:
    """A resolver as the Airflow layer's: storage ids to the stand-in's filesystem."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def __call__(self, conn_id: str) -> Any:
        raise ValueError(f"{conn_id} is no database")

    def filesystem(self, conn_id: str, location: str) -> Any:
        import s3fs

        return s3fs.S3FileSystem(key=KEY, secret=SECRET, endpoint_url=self.endpoint)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from airflow_opsguard.pipeline import run_gate

    with tempfile.TemporaryDirectory() as folder, _server() as endpoint:
        body = _parquet(args.rows)
        local = Path(folder) / "orders.parquet"
        local.write_bytes(body)
        _upload(endpoint, body)
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_ENDPOINT_URL_S3": endpoint,
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
        url = f"s3://{BUCKET}/orders.parquet"
        cases = {
            "local file": lambda: run_gate(CONTRACT, data=str(local)),
            "s3:// through fsspec's default filesystem": lambda: run_gate(CONTRACT, data=url),
            "s3:// through a connection's filesystem": lambda: run_gate(
                {**CONTRACT, "source": {"path": url, "conn_id": "bench"}},
                connections=Connection(endpoint),
            ),
        }
        print(f"{args.rows:,} rows, {len(body) / 1e6:.1f} MB of Parquet")
        for label, case in cases.items():
            best = float("inf")
            for _ in range(args.repeats):
                started = time.perf_counter()
                run = case()
                best = min(best, time.perf_counter() - started)
                assert run.result is not None and run.result.status == "pass", run.result
            print(f"{label}: best {best:.2f} s of {args.repeats}")


def _parquet(rows: int) -> bytes:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "order_id": np.arange(rows),
            "amount": rng.gamma(2, 30, rows),
            "country": rng.choice(["US", "DE", "FR", "GB"], rows),
        }
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _upload(endpoint: str, body: bytes) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="orders.parquet", Body=body)


class _server:
    """A moto S3 server process on a free port of 127.0.0.1."""

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:
            found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                threading.Thread(target=self.process.stderr.read, daemon=True).start()
                return found.group(1)
        raise RuntimeError("the moto server did not start")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait()


if __name__ == "__main__":
    main()
