"""``opsguard quarantine list | show | release | drop``, run as users run it."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from quarantine_helpers import (
    BAD_IDS,
    CLEAN_IDS,
    ROWS,
    contract,
    create_tables,
    gate_batch,
    ids,
    row,
)

from airflow_opsguard.formats import load_contract
from airflow_opsguard.store import ResultStore

OPSGUARD = str(Path(sys.executable).with_name("opsguard"))


def opsguard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPSGUARD, *args], capture_output=True, text=True, check=False)


@pytest.fixture
def quarantined(tmp_path: Path, store_url: str) -> str:
    """A SQLite warehouse whose staged batch was split: bad rows are in quarantine."""
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    create_tables(url, "staging", "orders", list(range(1, ROWS + 1)))
    spec = contract(source={"url": url, "table": "staging"}, level="rows", publish_to="orders")
    with ResultStore(store_url) as store:
        gate_batch(load_contract(spec), batch_id="b1", store=store)
    return url


def test_list_and_show(quarantined: str, store_url: str):
    listed = opsguard("quarantine", "list", "--store", store_url)
    assert listed.returncode == 0, listed.stderr
    assert "b1" in listed.stdout and "orders_quarantine" in listed.stdout
    as_json = json.loads(
        opsguard("quarantine", "list", "--store", store_url, "--format", "json").stdout
    )
    assert [(b["batch_id"], b["kind"], b["rows"]) for b in as_json] == [
        ("b1", "rows", len(BAD_IDS))
    ]
    shown = opsguard("quarantine", "show", "b1", "--store", store_url)
    assert shown.returncode == 0
    assert (
        "not_null(amount)" in shown.stdout
        and f"clean rows that went on: {len(CLEAN_IDS)}" in shown.stdout
    )
    empty = opsguard("quarantine", "list", "--store", store_url, "--status", "released")
    assert empty.stdout.strip() == "no batches"


def test_release_refused_then_forced(quarantined: str, store_url: str):
    refused = opsguard("quarantine", "release", "b1", "--store", store_url)
    assert refused.returncode == 1
    assert (
        refused.stderr.startswith("opsguard: release refused") and "Traceback" not in refused.stderr
    )
    assert ids(quarantined, "orders") == CLEAN_IDS
    forced = opsguard(
        "quarantine", "release", "b1", "--force", "--reason", "reviewed",
        "--store", store_url, "--format", "json",
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    done = json.loads(forced.stdout)
    assert done["released"] is True and done["released_rows"] == len(BAD_IDS)
    assert done["reviewed_by"] == getpass.getuser() and done["review_reason"] == "reviewed"
    assert done["forced"] is True
    assert ids(quarantined, "orders") == list(range(1, ROWS + 1))
    again = opsguard("quarantine", "drop", "b1", "--store", store_url)
    assert again.returncode == 2 and "released already" in again.stderr


def test_drop_records_who_and_why(quarantined: str, store_url: str):
    dropped = opsguard(
        "quarantine", "drop", "b1", "--by", "ana", "--reason", "test data", "--store", store_url
    )
    assert dropped.returncode == 0, dropped.stderr
    assert "dropped b1" in dropped.stdout
    shown = json.loads(
        opsguard("quarantine", "show", "b1", "--store", store_url, "--format", "json").stdout
    )
    assert (shown["status"], shown["reviewed_by"], shown["review_reason"]) == (
        "dropped",
        "ana",
        "test data",
    )
    assert ids(quarantined, "orders_quarantine") == []


def test_unknown_batch_and_masked_database_are_one_line_errors(tmp_path: Path, store_url: str):
    missing = opsguard("quarantine", "show", "nope", "--store", store_url)
    assert missing.returncode == 2
    assert missing.stderr.strip() == "opsguard: no quarantined batch 'nope'"
    # A batch from a database whose URL had a password: the stored URL is masked, so a
    # release must be given the URL again.
    from airflow_opsguard.store.quarantine import QuarantineRecord, insert_record

    record = QuarantineRecord(
        batch_id="b9",
        dataset="orders",
        kind="table",
        location="orders_quarantine",
        details={
            "database": {"url": "postgresql+psycopg://etl:***@127.0.0.1/dw"},
            "quarantine_table": "orders_quarantine",
            "staging": "staging",
        },
    )
    with ResultStore(store_url) as store, store.connection(write=True) as connection:
        insert_record(connection, record)
    masked = opsguard("quarantine", "drop", "b9", "--store", store_url)
    assert masked.returncode == 2
    assert "password masked" in masked.stderr and "--data" in masked.stderr
    assert len(masked.stderr.strip().splitlines()) == 1


def test_files_batch_round_trip(tmp_path: Path, store_url: str):
    data = tmp_path / "orders.parquet"
    pd.DataFrame([row(i) for i in range(1, ROWS + 1)]).to_parquet(data)
    with ResultStore(store_url) as store:
        gate_batch(load_contract(contract()), batch_id="f1", data=str(data), store=store)
    assert not data.exists()
    released = opsguard("quarantine", "release", "f1", "--force", "--store", store_url)
    assert released.returncode == 0, released.stderr
    assert f"to {data}" in released.stdout
    assert pd.read_parquet(data)["id"].tolist() == list(range(1, ROWS + 1))
    engine = sa.create_engine(store_url)
    with engine.connect() as connection:
        status = connection.execute(
            sa.text("SELECT status FROM opsguard_quarantine WHERE batch_id = 'f1'")
        ).scalar_one()
    engine.dispose()
    assert status == "released"
