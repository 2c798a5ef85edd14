"""Files on object storage read with the credentials a source brings: a filesystem handed
in through the connection resolver (an Airflow connection's, resolved by the Airflow
layer) or carried by a path object. Two local S3 servers (moto) stand in for two
accounts: each holds a bucket of the same name with different data, so a source read
through the other's filesystem gives the other's verdict."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from s3_stand_in import BUCKET, Account, two_accounts

from airflow_opsguard import ContractError, DataSourceError
from airflow_opsguard.contract.models import Contract
from airflow_opsguard.engines.connections import using_connections
from airflow_opsguard.engines.listing import list_files
from airflow_opsguard.engines.measuring import measure
from airflow_opsguard.engines.object_storage import scoped_protocol
from airflow_opsguard.engines.sources import FileSource, resolve_source
from airflow_opsguard.formats import load_contract
from airflow_opsguard.freshness import observe, storage_only
from airflow_opsguard.pipeline import QuarantineError, run_gate
from airflow_opsguard.quarantine.settlement import target_for

CHECKS = [
    {"type": "not_null", "column": "order_id"},
    {"type": "unique", "column": "order_id"},
    {"type": "range", "column": "amount", "min": 0},
]


@pytest.fixture(scope="module")
def accounts() -> Iterator[dict[str, Account]]:
    with two_accounts() as found:
        yield found


class Storage:
    """A connection resolver as the Airflow layer's is: database ids to engines (none
    here), storage ids to the filesystem of their account."""

    def __init__(self, accounts: dict[str, Account]) -> None:
        self.accounts = accounts
        self.asked: list[tuple[str, str]] = []

    def __call__(self, conn_id: str) -> sa.Engine:
        raise AssertionError(f"{conn_id} is no database here")

    def filesystem(self, conn_id: str, location: str) -> Any:
        self.asked.append((conn_id, location))
        try:
            return self.accounts[conn_id].filesystem()
        except KeyError:
            raise DataSourceError(f"no connection {conn_id!r}") from None


def contract(conn_id: str | None, path: str = f"s3://{BUCKET}/orders/") -> dict[str, Any]:
    source: dict[str, Any] = {"path": path}
    if conn_id is not None:
        source["conn_id"] = conn_id
    return {"dataset": "orders", "source": source, "checks": CHECKS}


def test_each_connection_reads_its_own_account(accounts: dict[str, Account]) -> None:
    storage = Storage(accounts)
    verdicts = []
    # Alternating in one process: DuckDB keeps its filesystems for the whole database,
    # so the first one registered for s3:// must not serve the other connection.
    for conn_id in ("a", "b", "a", "b"):
        run = run_gate(contract(conn_id), connections=storage)
        assert run.result is not None
        verdicts.append((run.result.status, run.result.rows))
    assert verdicts == [("pass", 3), ("fail", 5), ("pass", 3), ("fail", 5)]
    assert ("a", f"s3://{BUCKET}/orders/") in storage.asked


def test_the_verdict_names_the_url_and_the_failing_checks(accounts: dict[str, Account]) -> None:
    run = run_gate(contract("b"), connections=Storage(accounts))
    result = run.result
    assert result is not None and result.source == f"s3://{BUCKET}/orders/"
    failed = {(c.type, c.column) for c in result.checks if c.status == "fail"}
    assert failed == {("not_null", "order_id"), ("range", "amount")}


def test_text_files_read_through_the_connection_too(accounts: dict[str, Account]) -> None:
    csv = contract("a", f"s3://{BUCKET}/csv/orders.csv")
    with using_connections(Storage(accounts)):
        observed = measure(load_contract(csv))
    assert observed.rows == 3
    assert [c.name for c in observed.columns] == ["order_id", "amount"]


def test_a_path_object_brings_its_filesystem(accounts: dict[str, Account]) -> None:
    from upath import UPath

    account = accounts["b"]
    path = UPath(
        f"s3://{BUCKET}/orders/",
        key=account.key,
        secret=account.secret,
        endpoint_url=account.endpoint,
    )
    source = resolve_source(load_contract(contract(None)), path)
    assert isinstance(source, FileSource)
    assert (source.location, source.conn_id) == (f"s3://{BUCKET}/orders", None)
    # No resolver is needed: the path carries its credentials.
    run = run_gate(contract(None), data=path)
    assert run.result is not None and (run.result.status, run.result.rows) == ("fail", 5)


def test_the_contract_connection_reads_a_url_given_as_data(accounts: dict[str, Account]) -> None:
    run = run_gate(
        contract("a", "s3://elsewhere/"), data=f"s3://{BUCKET}/csv/", connections=Storage(accounts)
    )
    assert run.result is not None and (run.result.status, run.result.rows) == ("pass", 3)


def test_a_missing_object_names_the_url(accounts: dict[str, Account]) -> None:
    run = run_gate(contract("a", f"s3://{BUCKET}/nothing/"), connections=Storage(accounts))
    assert run.result is not None and run.result.status == "error"
    error = run.result.error or ""
    assert f"s3://{BUCKET}/nothing/" in error and "opsguardfs" not in error


def test_an_unknown_connection_is_the_verdict_error(accounts: dict[str, Account]) -> None:
    run = run_gate(contract("nowhere"), connections=Storage(accounts))
    assert run.result is not None and run.result.status == "error"
    assert run.result.error == "no connection 'nowhere'"


def test_without_a_resolver_a_storage_connection_is_a_one_line_error() -> None:
    run = run_gate(contract("a"))
    assert run.result is not None and run.result.status == "error"
    error = run.result.error or ""
    assert "source.conn_id 'a'" in error and "nothing resolves one here" in error
    assert "\n" not in error


def test_a_database_resolver_alone_resolves_no_storage() -> None:
    def databases_only(conn_id: str) -> sa.Engine:
        raise AssertionError("not a database")

    run = run_gate(contract("a"), connections=databases_only)
    assert run.result is not None and "nothing resolves one here" in (run.result.error or "")


def test_the_listing_uses_the_filesystem(accounts: dict[str, Account]) -> None:
    listing = list_files(f"s3://{BUCKET}/orders/", accounts["a"].filesystem())
    assert [f.path for f in listing.files] == [f"s3://{BUCKET}/orders/part-0.parquet"]
    assert listing.kind == "folder" and listing.files[0].modified is not None
    assert listing.files[0].size > 0


def test_credentials_decide_the_protocol_duckdb_reads_by(accounts: dict[str, Account]) -> None:
    a, b = accounts["a"], accounts["b"]
    same_keys_elsewhere = Account(b.endpoint, a.key, a.secret)
    assert scoped_protocol(a.filesystem()) == scoped_protocol(a.filesystem())
    assert scoped_protocol(a.filesystem()) != scoped_protocol(b.filesystem())
    assert scoped_protocol(a.filesystem()) != scoped_protocol(same_keys_elsewhere.filesystem())


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"path": "orders.parquet", "conn_id": "a"}, "conn_id beside path"),
        ({"path": "s3://lake/x/", "url": "sqlite://"}, "one of path, url or conn_id"),
        ({"path": "s3://lake/x/", "conn_id": "a", "table": "t"}, "'table' and 'query' go with"),
    ],
)
def test_a_storage_connection_is_strict(source: dict[str, Any], message: str) -> None:
    with pytest.raises(ContractError, match=message):
        load_contract({"dataset": "orders", "source": source, "checks": CHECKS})


def test_quarantine_refuses_files_read_through_a_connection() -> None:
    spec = load_contract({**contract("a"), "quarantine": {"location": "s3://lake/_quarantine/"}})
    with pytest.raises(DataSourceError, match="does not move files on object storage"):
        target_for(spec, "batch-1")


def test_modification_times_are_listed_through_the_connection(
    accounts: dict[str, Account],
) -> None:
    storage = Storage(accounts)
    spec = load_contract(contract("b"))
    seen = observe("mtime", spec, connections=storage)
    assert seen.error is None and seen.newest is not None
    assert seen.source == f"s3://{BUCKET}/orders/"
    assert storage.asked == [("b", f"s3://{BUCKET}/orders/")]
    # What a deferred sensor hands its trigger: the source alone, and the location.
    reduced = storage_only(spec)
    assert reduced is not None and reduced.checks == () and reduced.alerts == ()
    travelled = Contract.model_validate(reduced.model_dump(mode="json", by_alias=True))
    again = observe("mtime", travelled, data=seen.source, connections=storage)
    assert again.newest == seen.newest and storage.asked[-1][0] == "b"
    assert storage_only(load_contract(contract(None))) is None
    missing = observe("mtime", load_contract(contract("nowhere")), connections=storage)
    assert missing.newest is None and missing.error == "no connection 'nowhere'"


def test_a_reference_on_the_same_storage_reads_with_the_source_connection(
    accounts: dict[str, Account],
) -> None:
    # Account a's orders reference its own CSV (ids 1-3); b's CSV lacks id 3, and
    # fsspec's default credentials reach no server at all.
    reference = {
        "type": "reference",
        "column": "order_id",
        "to": {"path": f"s3://{BUCKET}/csv/orders.csv", "column": "order_id"},
    }
    checked = {**contract("a"), "checks": [reference]}
    run = run_gate(checked, connections=Storage(accounts))
    assert run.result is not None and run.result.error is None
    assert [c.status for c in run.result.checks] == ["pass"]
    other = {**contract("b"), "checks": [reference]}
    run = run_gate(other, connections=Storage(accounts))
    assert run.result is not None and [c.status for c in run.result.checks] == ["pass"]


def test_a_failing_batch_on_a_storage_connection_is_not_moved(
    accounts: dict[str, Account],
) -> None:
    quarantined = {**contract("b"), "on_fail": "quarantine"}
    with pytest.raises(QuarantineError, match="does not move files on object storage"):
        run_gate(quarantined, connections=Storage(accounts), act=True, batch_id="b-1")
    assert accounts["b"].filesystem().ls(f"{BUCKET}/orders") == [
        f"{BUCKET}/orders/_SUCCESS",
        f"{BUCKET}/orders/part-0.parquet",
    ]
    passing = {**contract("a"), "on_fail": "quarantine"}
    run = run_gate(passing, connections=Storage(accounts), act=True, batch_id="a-1")
    assert run.result is not None and run.result.status == "pass"


def test_two_connections_at_once_in_one_process(accounts: dict[str, Account]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    storage = Storage(accounts)

    def verdict(conn_id: str) -> tuple[str, int | None]:
        run = run_gate(contract(conn_id), connections=storage)
        assert run.result is not None
        return run.result.status, run.result.rows

    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(verdict, ["a", "b"] * 4))
    assert found == [("pass", 3), ("fail", 5)] * 4
