"""Quarantine records keep no secret, and release reopens the data without one.

The record (store, sidecar, the data database's ledger) keeps the contract without its
alert routes and with every URL masked; release takes the credentials from the contract
file the gate read while it says the same, else from the caller (``database=``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from quarantine_helpers import ROWS, contract, create_tables, gate_batch, ids

from airflow_opsguard.checks.results import CheckResult, GateResult
from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.formats import load_contract
from airflow_opsguard.quarantine import service
from airflow_opsguard.quarantine.settlement import reasons_of
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.quarantine import contract_details

ALL = list(range(1, ROWS + 1))
QUERY = "select * from orders where note = 'see https://x.example.com/?token=keep'"


def test_a_record_keeps_the_contract_without_routes_and_with_urls_masked() -> None:
    spec = contract(
        source={
            "url": "postgresql://etl:p@ss:w/rd@db.example.com/dw?sslmode=require",
            "query": QUERY,
        }
    )
    spec["runbook"] = "https://wiki.example.com/orders?token=RbT0k"
    spec["distribution"] = {
        "reference": "https://blob.example.com/ref.parquet?sig=S1gn&sv=2024",
        "columns": ["amount"],
    }
    spec["alerts"] = [
        {
            "on": ["fail"],
            "webhook": "https://hooks.example.com/T/B/S3cretPath",
            "headers": {"Authorization": "Bearer HdrT0k"},
        },
    ]
    kept = contract_details(load_contract(spec))
    text = json.dumps(kept)
    for secret in ("p@ss", "w/rd", "RbT0k", "S1gn", "S3cretPath", "HdrT0k"):
        assert secret not in text
    assert "alerts" not in kept
    assert kept["source"] == {
        "url": "postgresql://etl:***@db.example.com/dw?sslmode=require",
        "query": QUERY,  # not a URL: as written (release checks the data, not the text)
    }
    assert kept["runbook"] == "https://wiki.example.com/orders?token=***"
    assert kept["distribution"]["reference"].endswith("?sig=***&sv=2024")
    assert kept["schema"] == spec["schema"] | {"extra_columns": "allow"}


def test_reasons_keep_no_url_password() -> None:
    result = GateResult(
        dataset="orders",
        status="fail",
        checked_at=datetime(2026, 12, 7, tzinfo=UTC),
        rows=3,
        checks=(
            CheckResult(
                name="reconcile(orders)",
                type="reconcile",
                status="error",
                severity="fail",
                message="cannot read postgresql://etl:Rz@Q:k/w@db/x: refused",
            ),
        ),
    )
    (reason,) = reasons_of(result)
    assert reason["message"] == "cannot read postgresql://etl:***@db/x: refused"


@pytest.fixture
def with_password(postgres_url: str) -> str:
    # The servers here trust local connections: a password is carried, not checked.
    return sa.make_url(postgres_url).set(password="Rel3ase-p@ss:w/rd").render_as_string(False)


@pytest.mark.postgres
def test_release_reads_the_credentials_from_the_contract_file_while_it_says_the_same(
    with_password: str, prefix: str, store_url: str, tmp_path: Path
) -> None:
    staging, target = f"{prefix}staging", f"{prefix}orders"
    create_tables(with_password, staging, target, ALL)
    path = tmp_path / "orders.yml"
    spec = contract(source={"url": with_password, "table": staging}, publish_to=target)
    path.write_text(yaml.safe_dump(spec))
    with ResultStore(store_url) as store:
        _, settled = gate_batch(load_contract(str(path)), batch_id=prefix + "b1", store=store)
        assert settled.action == "quarantined"
        record = service.get_batch(prefix + "b1", store)
        assert "Rel3ase" not in json.dumps(record.details)
        assert record.details["origin"] == str(path)
        # The file changed since: it may name another database; the caller must say.
        path.write_text(yaml.safe_dump({**spec, "volume": {"min_rows": 2}}))
        with pytest.raises(DataSourceError, match=r"password masked.*--data URL"):
            service.release(prefix + "b1", force=True, store=store)
        path.write_text(yaml.safe_dump(spec))
        released = service.release(prefix + "b1", force=True, store=store)
    assert released.rows == ROWS
    assert ids(with_password, target) == ALL


@pytest.mark.postgres
def test_an_inline_contract_needs_the_url_again_and_takes_it_as_pasted(
    with_password: str, postgres_url: str, prefix: str, store_url: str
) -> None:
    staging = f"{prefix}staging"
    create_tables(with_password, staging, None, ALL)
    spec = load_contract(contract(source={"url": with_password, "table": staging}))
    with ResultStore(store_url) as store:
        _, settled = gate_batch(spec, batch_id=prefix + "b2", store=store)
        assert settled.action == "quarantined"
        with pytest.raises(DataSourceError, match="password masked") as asked:
            service.drop(prefix + "b2", store=store)
        assert "\n" not in str(asked.value) and "Rel3ase" not in str(asked.value)
        # As pasted: "@", ":" and "/" in the password unescaped.
        pasted = postgres_url.replace("postgres@", "postgres:Rel3ase-p@ss:w/rd@", 1)
        assert "Rel3ase-p@ss:w/rd@" in pasted
        dropped = service.drop(prefix + "b2", store=store, database=pasted)
    assert dropped.status == "dropped"
    assert ids(with_password, f"{staging}_quarantine") == []
