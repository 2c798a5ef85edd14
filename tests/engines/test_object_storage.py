"""Files on object storage read with the credentials a source brings: a filesystem handed
in through the connection resolver (an Airflow connection's, resolved by the Airflow
layer) or carried by a path object. Two local S3 servers (moto) stand in for two
accounts: each holds a bucket of the same name with different data, so a source read
through the other's filesystem gives the other's verdict. Quarantine moves a failing
batch, and release and drop move or delete it, through the same connection."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from s3_stand_in import BROKEN, BUCKET, HEALTHY, Account, parquet, two_accounts

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
from airflow_opsguard.quarantine import service
from airflow_opsguard.quarantine.settlement import target_for
from airflow_opsguard.store import ResultStore

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


# ------------------------------------------------------------------ quarantine
# Each test lands its own batch under a prefix of its own (the servers live for the
# module): the same orders in both accounts, account a's healthy, account b's broken.

HELD = "_opsguard_quarantine.json"


@pytest.fixture
def default_s3(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """fsspec's own S3 filesystem (its default credentials reach neither server): each
    time it is asked for, recorded and refused."""
    import fsspec
    import fsspec.core

    asked: list[str] = []
    filesystem, url_to_fs = fsspec.filesystem, fsspec.core.url_to_fs

    def guarded_filesystem(protocol: str, **kwargs: Any) -> Any:
        if protocol == "s3":
            asked.append(protocol)
            raise AssertionError("fsspec's default S3 filesystem")
        return filesystem(protocol, **kwargs)

    def guarded_url_to_fs(url: str, **kwargs: Any) -> Any:
        if str(url).startswith("s3://"):
            asked.append(str(url))
            raise AssertionError("fsspec's default S3 filesystem")
        return url_to_fs(url, **kwargs)

    monkeypatch.setattr(fsspec, "filesystem", guarded_filesystem)
    monkeypatch.setattr(fsspec.core, "url_to_fs", guarded_url_to_fs)
    return asked


def land(accounts: dict[str, Account]) -> str:
    """A batch of orders under a new prefix of both accounts; the prefix."""
    prefix = f"landing-{uuid.uuid4().hex[:8]}"
    for name, frame in (("a", HEALTHY), ("b", BROKEN)):
        fs = accounts[name].filesystem()
        fs.pipe_file(f"{BUCKET}/{prefix}/orders/part-0.parquet", parquet(frame))
        fs.pipe_file(f"{BUCKET}/{prefix}/orders/_SUCCESS", b"")
    return prefix


def files(account: Account, prefix: str) -> list[str]:
    """Every object under ``prefix``, without the bucket and the prefix."""
    return [p.split("/", 2)[2] for p in account.filesystem().find(f"{BUCKET}/{prefix}")]


def gated(conn_id: str, prefix: str, **quarantine: Any) -> dict[str, Any]:
    spec = {**contract(conn_id, f"s3://{BUCKET}/{prefix}/orders/"), "on_fail": "quarantine"}
    return {**spec, "quarantine": quarantine} if quarantine else spec


def sidecar(account: Account, folder: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(account.filesystem().cat_file(f"{folder}/{HELD}"))
    return found


BOX = "_quarantine/orders"
MOVED = [f"{BOX}/b-1/{HELD}", f"{BOX}/b-1/data/orders/_SUCCESS"]
MOVED.append(f"{BOX}/b-1/data/orders/part-0.parquet")
LANDED = ["orders/_SUCCESS", "orders/part-0.parquet"]


def test_a_failing_batch_moves_through_its_connection(
    accounts: dict[str, Account], default_s3: list[str], tmp_path: Path
) -> None:
    prefix, storage = land(accounts), Storage(accounts)
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        run = run_gate(
            gated("b", prefix), connections=storage, act=True, batch_id="b-1", store=store
        )
        (record,) = service.list_batches(store)
    assert run.result is not None and run.result.status == "fail"
    assert run.settlement is not None and run.settlement.action == "quarantined"
    folder = f"s3://{BUCKET}/{prefix}/{BOX}/b-1"
    assert record.location == folder and record.details["conn_id"] == "b"
    # The whole batch folder, marker included, is in b's quarantine folder; nothing is
    # left where it landed; account a's orders under the same keys are untouched.
    assert files(accounts["b"], prefix) == MOVED
    assert files(accounts["a"], prefix) == LANDED
    held = sidecar(accounts["b"], folder)
    assert held["state"] == "quarantined" and held["verdict"]["status"] == "fail"
    assert held["record"]["details"]["conn_id"] == "b"
    assert "secret-b" not in json.dumps(held) and "key-b" not in json.dumps(held)
    assert {conn_id for conn_id, _ in storage.asked} == {"b"}
    assert default_s3 == []


def test_a_retry_resumes_the_moves_and_moves_nothing_twice(
    accounts: dict[str, Account], default_s3: list[str]
) -> None:
    prefix, storage, b = land(accounts), Storage(accounts), accounts["b"]
    spec = gated("b", prefix)
    run_gate(spec, connections=storage, act=True, batch_id="b-1")
    # As if the first try had died after copying the data file and before deleting it:
    # the file in both places, the sidecar still "moving".
    folder = f"{BUCKET}/{prefix}/{BOX}/b-1"
    fs = b.filesystem()
    fs.copy(f"{folder}/data/orders/part-0.parquet", f"{BUCKET}/{prefix}/orders/part-0.parquet")
    fs.pipe_file(f"{folder}/{HELD}", json.dumps({**sidecar(b, folder), "state": "moving"}).encode())
    asked = len(storage.asked)
    retry = run_gate(spec, connections=storage, act=True, batch_id="b-1")
    assert retry.resumed and retry.settlement is not None and retry.settlement.resumed
    assert retry.settlement.action == "quarantined"
    assert files(b, prefix) == MOVED  # one copy of each file, none nested twice
    assert sidecar(b, folder)["state"] == "quarantined"
    # Not checked again (the data moved); the batch's filesystem was resolved once.
    assert storage.asked[asked:] == [("b", f"s3://{BUCKET}/{prefix}/orders/")]
    again = run_gate(spec, connections=storage, act=True, batch_id="b-1")
    assert again.resumed and files(b, prefix) == MOVED
    assert default_s3 == []


def test_release_and_drop_go_through_the_connection(
    accounts: dict[str, Account], default_s3: list[str], tmp_path: Path
) -> None:
    b, storage = accounts["b"], Storage(accounts)
    released, dropped = land(accounts), land(accounts)
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        for prefix, batch in ((released, "b-1"), (dropped, "b-2")):
            run_gate(gated("b", prefix), connections=storage, act=True, batch_id=batch, store=store)
        # The check again reads the held files through b: still broken, refused.
        with pytest.raises(service.ReleaseRefused) as refused:
            service.release("b-1", store=store, connections=storage)
        assert (refused.value.result.status, refused.value.result.rows) == ("fail", 5)
        assert files(b, released) == MOVED
        # The reviewer repairs the held file in place; now it passes and moves back.
        held = f"{BUCKET}/{released}/{BOX}/b-1"
        b.filesystem().pipe_file(f"{held}/data/orders/part-0.parquet", parquet(HEALTHY))
        done = service.release("b-1", store=store, by="ana", connections=storage)
        assert done.check is not None and (done.check.status, done.check.rows) == ("pass", 3)
        assert done.destination == f"s3://{BUCKET}/{released}/orders/"
        assert files(b, released) == [f"{BOX}/b-1/{HELD}", *LANDED]
        assert sidecar(b, held)["state"] == "released"
        service.drop("b-2", store=store, by="ana", reason="duplicate", connections=storage)
        assert files(b, dropped) == [f"{BOX}/b-2/{HELD}"]
        assert sidecar(b, f"{BUCKET}/{dropped}/{BOX}/b-2")["state"] == "dropped"
        statuses = {r.batch_id: r.status for r in service.list_batches(store)}
    assert statuses == {"b-1": "released", "b-2": "dropped"}
    assert {conn_id for conn_id, _ in storage.asked} == {"b"}
    assert default_s3 == []


def test_release_without_a_resolver_moves_nothing(
    accounts: dict[str, Account], default_s3: list[str], tmp_path: Path
) -> None:
    prefix = land(accounts)
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        storage = Storage(accounts)
        run_gate(gated("b", prefix), connections=storage, act=True, batch_id="b-1", store=store)
        with pytest.raises(DataSourceError, match="nothing resolves one here"):
            service.release("b-1", store=store, force=True)
        with pytest.raises(DataSourceError, match="nothing resolves one here"):
            service.drop("b-1", store=store)
        assert service.get_batch("b-1", store).status == "quarantined"
    assert files(accounts["b"], prefix) == MOVED and default_s3 == []


def test_a_passing_batch_stays_where_it_landed(
    accounts: dict[str, Account], default_s3: list[str]
) -> None:
    prefix = land(accounts)
    run = run_gate(gated("a", prefix), connections=Storage(accounts), act=True, batch_id="a-1")
    assert run.result is not None and run.result.status == "pass"
    assert run.settlement is not None and run.settlement.action == "none"
    assert files(accounts["a"], prefix) == LANDED and default_s3 == []


def test_a_quarantine_location_on_the_same_storage_uses_the_connection(
    accounts: dict[str, Account], default_s3: list[str]
) -> None:
    prefix = land(accounts)
    spec = gated("b", prefix, location=f"s3://{BUCKET}/{prefix}/held")
    run = run_gate(spec, connections=Storage(accounts), act=True, batch_id="b-1")
    assert run.settlement is not None
    assert run.settlement.to_dict()["location"] == f"s3://{BUCKET}/{prefix}/held/orders/b-1"
    assert files(accounts["b"], prefix) == [
        f"held/orders/b-1/{HELD}",
        "held/orders/b-1/data/orders/_SUCCESS",
        "held/orders/b-1/data/orders/part-0.parquet",
    ]
    assert default_s3 == []


def test_a_quarantine_location_on_another_filesystem_is_refused(
    accounts: dict[str, Account], tmp_path: Path
) -> None:
    prefix = land(accounts)
    spec = gated("b", prefix, location=str(tmp_path / "held"))
    with using_connections(Storage(accounts)), pytest.raises(DataSourceError) as refused:
        target_for(load_contract(spec), "b-1")
    message = str(refused.value)
    assert "quarantine.location" in message and str(tmp_path / "held") in message
    assert "\n" not in message
    with pytest.raises(QuarantineError, match=r"quarantine\.location"):
        run_gate(spec, connections=Storage(accounts), act=True, batch_id="b-1")
    assert files(accounts["b"], prefix) == LANDED and not (tmp_path / "held").exists()


@dataclass
class StoragePath:
    """What the engines see of an ``ObjectStoragePath``: its protocol, its path, its
    connection id and the filesystem the connection opens."""

    protocol: str
    path: str
    conn_id: str
    fs: Any


def test_a_path_object_with_a_connection_moves_and_releases_through_it(
    accounts: dict[str, Account], default_s3: list[str], tmp_path: Path
) -> None:
    prefix, b, storage = land(accounts), accounts["b"], Storage(accounts)
    data = StoragePath("s3", f"{BUCKET}/{prefix}/orders", "b", b.filesystem())
    spec = {"dataset": "orders", "checks": CHECKS, "on_fail": "quarantine"}
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        run = run_gate(spec, data=data, connections=storage, act=True, batch_id="b-1", store=store)
        assert run.settlement is not None and run.settlement.action == "quarantined"
        assert files(b, prefix) == MOVED
        # Gated with the path's own filesystem; released through its connection id.
        assert storage.asked == []
        service.release("b-1", store=store, force=True, connections=storage)
    assert files(b, prefix) == [f"{BOX}/b-1/{HELD}", *LANDED]
    assert storage.asked == [("b", f"s3://{BUCKET}/{prefix}/{BOX}/b-1")]
    assert default_s3 == []


def test_a_path_object_with_credentials_of_its_own_is_not_moved(
    accounts: dict[str, Account],
) -> None:
    from upath import UPath

    prefix, b = land(accounts), accounts["b"]
    path = UPath(
        f"s3://{BUCKET}/{prefix}/orders/", key=b.key, secret=b.secret, endpoint_url=b.endpoint
    )
    spec = {"dataset": "orders", "checks": CHECKS, "on_fail": "quarantine"}
    with pytest.raises(QuarantineError, match="credentials of its own"):
        run_gate(spec, data=path, act=True, batch_id="b-1")
    assert files(b, prefix) == LANDED


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
