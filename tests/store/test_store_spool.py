"""The spool file on its own: order, partial replays, locking, concurrent appends."""

from __future__ import annotations

import json
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from store_helpers import make_result

from airflow_opsguard.checks.results import GateResult
from airflow_opsguard.store.locks import file_lock
from airflow_opsguard.store.spool import Spool, SpoolReplay


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool", "abc123")


def test_replay_writes_oldest_first_and_empties_the_spool(spool: Spool) -> None:
    results = [make_result(minutes=m) for m in range(4)]
    for result in results:
        spool.append(result)
    written: list[GateResult] = []

    def write(result: GateResult) -> bool:
        written.append(result)
        return len(written) != 2  # the second one was stored already

    assert spool.replay(write) == SpoolReplay(stored=3, already_stored=1)
    assert [r.to_dict() for r in written] == [r.to_dict() for r in results]
    assert not spool.pending()
    assert not spool.path.exists()


def test_a_store_error_stops_the_replay_and_keeps_the_rest(spool: Spool) -> None:
    results = [make_result(minutes=m) for m in range(5)]
    for result in results:
        spool.append(result)
    stored: list[str | None] = []

    def write(result: GateResult) -> bool:
        if len(stored) == 2:
            raise sa.exc.OperationalError("INSERT", {}, ConnectionError("server closed"))
        stored.append(result.run_id)
        return True

    with pytest.raises(sa.exc.OperationalError):
        spool.replay(write)
    assert stored == [r.run_id for r in results[:2]]
    left = [json.loads(line)["run_id"] for line in spool.path.read_text().splitlines()]
    assert left == [r.run_id for r in results[2:]]


def test_replay_without_waiting_yields_to_another_holder(spool: Spool) -> None:
    spool.append(make_result())
    with file_lock(spool.path.with_suffix(".lock")) as won:
        assert won
        assert spool.replay(lambda result: True, wait=False) is None
    assert spool.replay(lambda result: True, wait=False) == SpoolReplay(stored=1)


def test_concurrent_appends_keep_every_line_whole(spool: Spool) -> None:
    results = [make_result(minutes=m) for m in range(200)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(spool.append, results))
    lines = spool.path.read_text().splitlines()
    assert sorted(json.loads(line)["run_id"] for line in lines) == sorted(
        r.run_id or "" for r in results
    )


def test_spool_files_are_private(spool: Spool) -> None:
    spool.append(make_result())
    assert stat.S_IMODE(spool.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(spool.path.parent.stat().st_mode) == 0o700


def test_an_empty_spool_replays_nothing(spool: Spool) -> None:
    assert not spool.pending()
    assert spool.replay(lambda result: pytest.fail("nothing to write")) == SpoolReplay()
