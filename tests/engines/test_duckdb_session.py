"""One DuckDB database per process: sessions that never see each other's data, a
database per setting, and a forked child that never uses its parent's database."""

from __future__ import annotations

import multiprocessing
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airflow_opsguard import validate
from airflow_opsguard.engines import duckdb_session, files
from airflow_opsguard.engines.duckdb_session import session

CONTRACT = {
    "dataset": "ids",
    "schema": {"columns": [{"name": "id", "type": "integer", "unique": True}]},
    "volume": {"min_rows": 1},
}


def ids_file(folder: Path, name: str, ids: list[int]) -> Path:
    path = folder / f"{name}.parquet"
    pd.DataFrame({"id": ids}).to_parquet(path)
    return path


def test_sessions_in_threads_see_their_own_data_under_the_same_names(tmp_path: Path) -> None:
    files = {
        ids_file(tmp_path, f"part{n}", list(range(n * 10)) + [0] * (n % 2)): n for n in range(1, 9)
    }

    def check(path: Path) -> tuple[int | None, int | None]:
        result = validate(CONTRACT, path)
        unique = {c.name: c for c in result.checks}["unique(id)"]
        return result.rows, unique.failing_count

    with ThreadPoolExecutor(4) as pool:
        found = dict(zip(files, pool.map(check, files), strict=True))
    for path, n in files.items():
        assert found[path] == (n * 10 + n % 2, 2 * (n % 2))


def test_a_sessions_views_are_gone_when_it_closes() -> None:
    with session() as first:
        first.create_view("opsguard_source", "SELECT 1 AS x")
        assert first.raw.execute("SELECT x FROM opsguard_source").fetchall() == [(1,)]
        with first.side_connection() as side:
            assert side.exec_driver_sql("SELECT x FROM opsguard_source").all() == [(1,)]
    with session() as second:
        views = second.raw.execute(
            "SELECT count(*) FROM duckdb_views() WHERE view_name = 'opsguard_source'"
        ).fetchall()
    assert views == [(0,)]


def test_each_memory_limit_has_a_database_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    limits = []
    for limit in ("300MB", "700MB", "300MB"):
        monkeypatch.setenv("OPSGUARD_DUCKDB_MEMORY_LIMIT", limit)
        with session() as opened:
            row = opened.raw.execute("SELECT current_setting('memory_limit')").fetchall()[0]
            limits.append(str(row[0]))
    assert limits[0] == limits[2] != limits[1]
    assert limits[0].startswith("286") and limits[1].startswith("667")  # MiB, as DuckDB shows


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OPSGUARD_DUCKDB_MEMORY_LIMIT", "lots"),
        ("OPSGUARD_DUCKDB_THREADS", "many"),
        ("OPSGUARD_DUCKDB_THREADS", "0"),
        ("OPSGUARD_DUCKDB_THREADS", "-2"),
    ],
)
def test_an_unreadable_setting_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = validate(CONTRACT, ids_file(tmp_path, "ids", [1, 2]))
    assert result.status == "error"
    assert result.error is not None and variable in result.error and repr(value) in result.error


def _child_checks(path: str, answers: Any) -> None:
    result = validate(CONTRACT, path)
    answers.put((os.getpid(), result.status, result.rows))


def test_a_forked_child_checks_with_a_database_of_its_own(tmp_path: Path) -> None:
    path = ids_file(tmp_path, "ids", [1, 2, 3])
    assert validate(CONTRACT, path).status == "pass"  # the parent's database is open
    assert duckdb_session._databases
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    child = context.Process(target=_child_checks, args=(str(path), answers))
    child.start()
    pid, status, rows = answers.get(timeout=120)
    child.join(timeout=120)
    assert child.exitcode == 0
    assert (pid != os.getpid(), status, rows) == (True, "pass", 3)
    # The parent closed its idle database before forking, and opens another when needed.
    assert not duckdb_session._databases
    assert validate(CONTRACT, path).status == "pass"


class _Blocking:
    """A DuckDB function that holds its query until released: a query that is surely
    running while the test looks at its progress."""

    def __init__(self, raw: Any) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        # Functions belong to the database, which the process's sessions share.
        self.name = f"hold_{uuid.uuid4().hex}"

        def hold(value: int) -> int:
            self.entered.set()
            self.release.wait(60)
            return value

        raw.create_function(self.name, hold, ["BIGINT"], "BIGINT")

    def run(self, raw: Any) -> threading.Thread:
        query = f"SELECT sum({self.name}(range)) FROM range(5000)"
        thread = threading.Thread(target=lambda: raw.execute(query).fetchall())
        thread.start()
        assert self.entered.wait(60)
        return thread


def test_progress_follows_the_running_queries_of_a_session_and_its_side_connections() -> None:
    with session() as opened:
        opened.track_progress()
        assert opened.progress() is None  # nothing running
        with opened.side_connection() as side:
            raw = side.connection.driver_connection
            blocking = _Blocking(raw)
            thread = blocking.run(raw)
            running = opened.progress()
            blocking.release.set()
            thread.join()
        assert running is not None and 0 <= running <= 100
        assert opened.progress() is None


def test_progress_reaches_the_callback_while_the_checks_run() -> None:
    seen: list[float] = []
    reported = threading.Event()

    def callback(percent: float) -> None:
        seen.append(percent)
        reported.set()

    with session() as opened, files._reporting(opened, callback):
        blocking = _Blocking(opened.raw)
        thread = blocking.run(opened.raw)
        arrived = reported.wait(60)
        blocking.release.set()
        thread.join()
    assert arrived
    assert all(0 <= value <= 100 for value in seen)
    # DuckDB was told to track progress without drawing its own bar.
    with session() as opened:
        opened.track_progress()
        printing = opened.raw.execute("SELECT current_setting('enable_progress_bar_print')")
        assert printing.fetchall() == [(False,)]
