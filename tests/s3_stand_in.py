"""Local S3 servers (moto) on 127.0.0.1, standing in for S3 accounts in the object-storage
tests of the engines and of Airflow.

Each server is a process of its own: moto keeps its buckets in process-wide state, so
two servers in one process would share them, and two accounts must not.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

BUCKET = "lake"
HEALTHY = pd.DataFrame({"order_id": [1, 2, 3], "amount": [10.0, 20.0, 30.0]})
# One order without an id, one with a negative amount.
BROKEN = pd.DataFrame({"order_id": [1, 2, None, 4, 5], "amount": [1.0, -2.0, 3.0, 4.0, 5.0]})


@dataclass
class Account:
    """One stand-in S3 account: its endpoint and its keys."""

    endpoint: str
    key: str
    secret: str

    def filesystem(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(
            key=self.key, secret=self.secret, endpoint_url=self.endpoint, skip_instance_cache=True
        )

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
            region_name="us-east-1",
        )

    def connection(self) -> dict[str, Any]:
        """The account as an Airflow AWS connection (JSON of AIRFLOW_CONN_...)."""
        return {
            "conn_type": "aws",
            "login": self.key,
            "password": self.secret,
            "extra": {"endpoint_url": self.endpoint, "region_name": "us-east-1"},
        }


@contextmanager
def s3_server(name: str) -> Iterator[Account]:
    """A moto S3 server process on a free port of 127.0.0.1, stopped at the end."""
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        port = None
        for line in process.stderr:  # the server says where it listens once it does
            found = re.search(r"Running on http://127\.0\.0\.1:(\d+)", line)
            if found:
                port = int(found.group(1))
                break
        assert port is not None, "the moto server did not start"
        # Its request log must not fill the pipe and stop it.
        threading.Thread(target=process.stderr.read, daemon=True).start()
        yield Account(f"http://127.0.0.1:{port}", f"key-{name}", f"secret-{name}")
    finally:
        process.terminate()
        process.wait()


def parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@contextmanager
def two_accounts() -> Iterator[dict[str, Account]]:
    """Accounts "a" (healthy orders) and "b" (broken ones): the same bucket and keys in
    both, under orders/ (Parquet, with a _SUCCESS marker) and csv/ (CSV)."""
    with ExitStack() as stack:
        found: dict[str, Account] = {}
        for name, frame in (("a", HEALTHY), ("b", BROKEN)):
            account = stack.enter_context(s3_server(name))
            client = account.client()
            client.create_bucket(Bucket=BUCKET)
            client.put_object(Bucket=BUCKET, Key="orders/part-0.parquet", Body=parquet(frame))
            client.put_object(Bucket=BUCKET, Key="orders/_SUCCESS", Body=b"")
            client.put_object(
                Bucket=BUCKET, Key="csv/orders.csv", Body=frame.to_csv(index=False).encode()
            )
            found[name] = account
        yield found
