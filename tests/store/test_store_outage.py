"""A store that is down loses nothing, never changes a verdict, and never leaks a secret."""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_helpers import make_result

from airflow_opsguard import validate
from airflow_opsguard.errors import StoreError
from airflow_opsguard.store import ResultStore, SpoolReplay

DOWN_URL = "postgresql://postgres:s3cret@127.0.0.1:1/x"
MASKED_DOWN_URL = "postgresql+psycopg://postgres:***@127.0.0.1:1/x"


def spooled(store: ResultStore) -> list[dict[str, object]]:
    if not store.spool_path.exists():
        return []
    return [json.loads(line) for line in store.spool_path.read_text().splitlines()]


def problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.fixture
def blocked(tmp_path: Path) -> tuple[str, Path]:
    """A SQLite URL that cannot be written (its folder would sit under a regular file)
    until the test removes the blocking file: the same store, down and then up."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    return f"sqlite:///{blocker / 'store' / 'opsguard.db'}", blocker


def test_an_unreachable_server_spools_and_logs_one_masked_line(
    caplog: pytest.LogCaptureFixture, opsguard_home: Path
) -> None:
    result = make_result()
    store = ResultStore(DOWN_URL)
    with caplog.at_level(logging.INFO, logger="airflow_opsguard"):
        assert store.record(result) is False
    (warning,) = problems(caplog)
    message = warning.getMessage()
    assert "\n" not in message
    assert MASKED_DOWN_URL in message
    assert result.run_id in message
    assert "s3cret" not in caplog.text
    assert store.url == MASKED_DOWN_URL
    assert "s3cret" not in repr(store)
    assert store.spool_path.parent == opsguard_home / "spool"
    assert spooled(store) == [result.to_dict()]


def test_reading_an_unreachable_store_raises_a_one_line_store_error() -> None:
    store = ResultStore(DOWN_URL)
    reads = [
        store.results,
        lambda: store.get("x"),
        store.datasets,
        lambda: store.check_history("orders", "volume"),
    ]
    for read in reads:
        with pytest.raises(StoreError) as caught:
            read()
        message = str(caught.value)
        assert message.startswith(f"cannot read results store {MASKED_DOWN_URL}: ")
        assert "\n" not in message
        assert "s3cret" not in message


def test_a_store_that_comes_back_stores_the_spool_once(
    blocked: tuple[str, Path], tmp_path: Path
) -> None:
    url, blocker = blocked
    store = ResultStore(url)
    waiting = [make_result(minutes=m) for m in range(3)]
    assert [store.record(r) for r in waiting] == [False, False, False]
    assert [line["run_id"] for line in spooled(store)] == [r.run_id for r in waiting]

    blocker.unlink()  # the store can be created now
    # One spooled result reached the store already (a replay that died before it
    # could empty the spool): replaying must skip it, not store it twice.
    with ResultStore(url, spool_dir=tmp_path / "other-spool") as other:
        assert other.record(waiting[0])

    later = make_result(minutes=10)
    assert store.record(later) is True
    stored = store.results(limit=100)
    assert sorted(r.run_id or "" for r in stored) == sorted(
        r.run_id or "" for r in [*waiting, later]
    )
    for result in waiting:
        assert (found := store.get(result.run_id or "")) is not None
        assert found.to_dict() == result.to_dict()
    assert not store.spool_path.exists()


def test_flush_spool_reports_and_raises_while_down(blocked: tuple[str, Path]) -> None:
    url, blocker = blocked
    store = ResultStore(url)
    assert not store.record(make_result(minutes=1))
    assert not store.record(make_result(minutes=2))
    with pytest.raises(StoreError, match="cannot replay the spool"):
        store.flush_spool()
    assert len(spooled(store)) == 2  # kept whole

    blocker.unlink()
    assert store.flush_spool() == SpoolReplay(stored=2)
    assert store.flush_spool() == SpoolReplay()
    assert len(store.results()) == 2


def test_a_line_cut_short_by_a_crash_spoils_nothing_else(
    blocked: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    url, blocker = blocked
    store = ResultStore(url)
    first, second = make_result(minutes=1), make_result(minutes=2)
    assert not store.record(first)
    with store.spool_path.open("ab") as spool:  # a crash in the middle of a write
        spool.write(b'{"dataset":"orders","status":"fa')
    assert not store.record(second)
    lines = store.spool_path.read_text().splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0]) == first.to_dict()
    assert lines[1] == '{"dataset":"orders","status":"fa'
    assert json.loads(lines[2]) == second.to_dict()

    blocker.unlink()
    with caplog.at_level(logging.WARNING, logger="airflow_opsguard"):
        assert store.record(make_result(minutes=3))
    assert {r.run_id for r in store.results()} >= {first.run_id, second.run_id}
    assert len(store.results()) == 3
    assert store.spool_path.with_name(
        store.spool_path.stem + ".rejected.jsonl"
    ).read_text().splitlines() == ['{"dataset":"orders","status":"fa']
    assert any("refused 1 spooled result" in r.getMessage() for r in problems(caplog))


@pytest.mark.parametrize(
    "server",
    [
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ],
)
def test_a_result_the_database_refuses_for_good_does_not_block_the_spool(
    server: str, request: pytest.FixtureRequest, dataset: str
) -> None:
    store = ResultStore(request.getfixturevalue(f"{server}_url"))
    too_long = make_result("x" * 300)
    assert store.record(too_long) is False  # the name does not fit: spooled
    good = make_result(dataset)
    assert store.record(good) is True
    assert store.get(good.run_id or "") is not None
    assert store.get(too_long.run_id or "") is None
    rejected = store.spool_path.with_name(store.spool_path.stem + ".rejected.jsonl")
    assert [json.loads(line)["run_id"] for line in rejected.read_text().splitlines()] == [
        too_long.run_id
    ]
    assert not store.spool_path.exists()
    store.close()


def test_a_read_only_sqlite_database_spools(tmp_path: Path) -> None:
    path = tmp_path / "ro" / "opsguard.db"
    with ResultStore(f"sqlite:///{path}") as writable:
        assert writable.record(make_result(minutes=1))
    read_only = ResultStore(f"sqlite:///file:{path}?mode=ro&uri=true")
    result = make_result(minutes=2)
    assert read_only.record(result) is False
    assert [line["run_id"] for line in spooled(read_only)] == [result.run_id]
    assert len(read_only.results()) == 1  # reading still works


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_sqlite_file_in_a_folder_without_write_permission_spools(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        store = ResultStore(f"sqlite:///{folder / 'opsguard.db'}")
        result = make_result()
        assert store.record(result) is False
        assert spooled(store) == [result.to_dict()]
    finally:
        folder.chmod(0o700)


@pytest.mark.postgres
def test_a_postgres_database_that_appears_later_gets_the_spool(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = sa.make_url(postgres_url)
    name = f"opsguard_later_{uuid.uuid4().hex[:8]}"
    url = f"postgresql://postgres:s3cret@{server.host}:{server.port}/{name}"
    store = ResultStore(url)
    early = make_result(minutes=1)
    with caplog.at_level(logging.WARNING, logger="airflow_opsguard"):
        assert store.record(early) is False
    assert "s3cret" not in caplog.text
    assert f"postgres:***@{server.host}" in caplog.text

    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        late = make_result(minutes=2)
        assert store.record(late) is True
        assert [r.run_id for r in store.results()] == [late.run_id, early.run_id]
        assert not store.spool_path.exists()
        store.close()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_when_even_the_spool_cannot_be_written_the_result_goes_to_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "home-blocker"
    blocker.write_text("")
    monkeypatch.setenv("OPSGUARD_HOME", str(blocker / "home"))
    result = make_result()
    with caplog.at_level(logging.WARNING, logger="airflow_opsguard"):
        assert ResultStore(DOWN_URL).record(result) is False
    (error,) = problems(caplog)
    assert error.levelno == logging.ERROR
    message = error.getMessage()
    assert "\n" not in message
    assert "s3cret" not in message
    assert json.loads(message.split("the result: ", 1)[1]) == result.to_dict()


def test_a_store_that_is_down_never_changes_the_verdict(tmp_path: Path) -> None:
    data = tmp_path / "orders.csv"
    data.write_text("order_id,amount\n1,5.0\n2,-3.0\n")
    contract = {
        "dataset": "orders",
        "schema": {
            "columns": [
                {"name": "order_id", "type": "integer"},
                {"name": "amount", "type": "float", "min": 0},
            ]
        },
        "volume": {"min_rows": 1},
    }
    now = "2026-03-01T12:00:00+00:00"
    without = validate(contract, data=str(data), now=now)
    down = ResultStore(DOWN_URL)
    with_down_store = validate(contract, data=str(data), now=now, store=down)
    assert with_down_store.status == without.status == "fail"
    assert [c.to_dict() for c in with_down_store.checks] == [c.to_dict() for c in without.checks]
    assert [line["run_id"] for line in spooled(down)] == [with_down_store.run_id]
