"""The one file lister: what a folder or a glob holds, for the engine, quarantine and the
freshness sensor alike; a folder that cannot be read is an error, never a smaller listing."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from airflow_opsguard.engines.listing import list_files
from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.freshness import newest_mtime

NOBODY = 65534


def touch(path: Path, text: str = "x", mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder others may enter (pytest's own tmp_path is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="opsguard-listing-"))
    folder.chmod(0o755)
    yield folder
    for root, dirs, _ in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
    shutil.rmtree(folder)


@contextmanager
def as_unprivileged() -> Iterator[None]:
    """Permissions as a user sees them: root reads every folder whatever its mode."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)


def partitions(root: Path) -> Path:
    touch(root / "orders" / "day=1" / "a.csv")
    touch(root / "orders" / "day=2" / "b.csv")
    os.chmod(root / "orders" / "day=2", 0o000)
    for folder in (root, root / "orders", root / "orders" / "day=1"):
        folder.chmod(0o755)
    (root / "orders" / "day=1" / "a.csv").chmod(0o644)
    return root / "orders"


def test_a_folder_with_an_unreadable_partition_is_an_error_not_a_smaller_listing(
    shared: Path,
) -> None:
    orders = partitions(shared)
    with as_unprivileged(), pytest.raises(DataSourceError, match="cannot list this folder"):
        list_files(str(orders))


def test_a_glob_over_an_unreadable_partition_is_an_error(shared: Path) -> None:
    orders = partitions(shared)
    with as_unprivileged(), pytest.raises(DataSourceError, match=r"day=2: cannot list"):
        list_files(str(orders / "*" / "*.csv"))


def test_markers_quarantine_and_hidden_names_are_not_data(tmp_path: Path) -> None:
    touch(tmp_path / "a.csv")
    touch(tmp_path / "_SUCCESS")
    touch(tmp_path / ".hidden.csv")
    touch(tmp_path / "_quarantine" / "orders" / "b1" / "data" / "old.csv")
    touch(tmp_path / "day=1" / "b.csv")
    expected = [str(tmp_path / "a.csv"), str(tmp_path / "day=1" / "b.csv")]
    assert [f.path for f in list_files(str(tmp_path)).files] == expected
    matched = list_files(str(tmp_path / "**" / "*")).files
    assert [f.path for f in matched] == expected
    # A name the pattern writes out is asked for: it counts.
    hidden = list_files(str(tmp_path / "_quarantine" / "orders" / "*" / "data" / "*.csv"))
    assert [Path(f.path).name for f in hidden.files] == ["old.csv"]


def test_the_freshness_sensor_sees_what_the_engine_reads(tmp_path: Path) -> None:
    """A _SUCCESS marker written after the data is not the data's modification time."""
    data_time = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    marker_time = datetime(2026, 12, 7, tzinfo=UTC).timestamp()
    touch(tmp_path / "part-0.csv", mtime=data_time)
    touch(tmp_path / "_SUCCESS", mtime=marker_time)
    for location in (tmp_path, tmp_path / "*"):
        assert newest_mtime(str(location)) == datetime(2026, 12, 1, tzinfo=UTC)


def test_a_url_keeps_its_own_protocol(tmp_path: Path) -> None:
    touch(tmp_path / "a.csv")
    (found,) = list_files(f"local://{tmp_path}/*.csv").files
    assert found.path == f"local://{tmp_path}/a.csv"
    assert found.size == 1 and found.modified is not None


def test_nothing_there_is_an_error_naming_the_location(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match=r"nope: no such file or directory"):
        list_files(str(tmp_path / "nope"))
    assert list_files(str(tmp_path / "*.csv")).files == ()


def test_a_gate_on_a_folder_with_an_unreadable_partition_errs_and_never_passes(
    shared: Path,
) -> None:
    from airflow_opsguard import validate

    orders = partitions(shared)
    contract = {"dataset": "orders", "volume": {"min_rows": 0}}
    with as_unprivileged():
        result = validate(contract, data=str(orders))
    assert result.status == "error"
    assert result.error is not None and "day=2: cannot list this folder" in result.error
