"""Quarantine for files: move a failing batch aside, or split it into clean and bad rows.

A batch of files (one file, a folder, or a glob's files) moves into its quarantine
folder, ``<root>/<dataset>/<batch id>/``, where ``<root>`` is the contract's
``quarantine.location`` or ``<dir>/_quarantine`` (``<dir>``: the folder that holds the
checked file or folder). The folder's sidecar, ``_opsguard_quarantine.json``, holds the
verdict, the record and every move, and is written *before* anything moves: a gate that
dies halfway finds it on retry and finishes the moves it lists. Each move is an atomic
rename where the filesystem has one (a local path on one device), else copy, verify the
size, then delete; every step can be repeated, so a crash at any point loses and
duplicates nothing.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

from airflow_opsguard.errors import DataSourceError
from airflow_opsguard.quarantine.crash import crash_point
from airflow_opsguard.store.quarantine import QuarantineRecord

SIDECAR = "_opsguard_quarantine.json"
REASONS_COLUMN = "_opsguard_reasons"
BATCH_COLUMN = "_opsguard_batch_id"
RUN_COLUMN = "_opsguard_run_id"


# ------------------------------------------------------------------ filesystem access


def protocol_of(location: str) -> str:
    protocol = location.partition("://")[0] if "://" in location else ""
    return "" if protocol == "file" else protocol


def _local(location: str) -> str:
    return location[len("file://") :] if location.startswith("file://") else location


def join(base: str, *parts: str) -> str:
    if protocol_of(base):
        return "/".join([base.rstrip("/"), *parts])
    return os.path.join(_local(base), *parts)


def parent(location: str) -> str:
    if protocol_of(location):
        head, _, _ = location.rstrip("/").rpartition("/")
        return head
    return os.path.dirname(os.path.abspath(_local(location).rstrip("/")))


def basename(location: str) -> str:
    return PurePosixPath(location.rstrip("/").replace("\\", "/")).name


def _fs(location: str) -> Any:
    import fsspec

    return fsspec.filesystem(protocol_of(location))


def exists(location: str) -> bool:
    if protocol_of(location):
        return bool(_fs(location).exists(location))
    return os.path.lexists(_local(location))


def read_json(location: str) -> dict[str, Any] | None:
    if not exists(location):
        return None
    if protocol_of(location):
        text = _fs(location).cat_file(location).decode()
    else:
        with open(_local(location), encoding="utf-8") as handle:
            text = handle.read()
    data: dict[str, Any] = json.loads(text)
    return data


def write_json(location: str, data: dict[str, Any]) -> None:
    """Write atomically where the filesystem allows: a reader sees the old or the new."""
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    if protocol_of(location):
        fs = _fs(location)
        fs.makedirs(parent(location), exist_ok=True)  # a no-op on object stores
        fs.pipe_file(location, text.encode())
        return
    path = _local(location)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _size(location: str) -> int:
    if protocol_of(location):
        fs = _fs(location)
        return int(fs.du(location)) if fs.isdir(location) else int(fs.size(location))
    path = _local(location)
    if os.path.isdir(path):
        return sum(
            os.path.getsize(os.path.join(folder, name))
            for folder, _, names in os.walk(path)
            for name in names
        )
    return os.path.getsize(path)


def _remove(location: str) -> None:
    if protocol_of(location):
        _fs(location).rm(location, recursive=True)
    elif os.path.isdir(_local(location)):
        shutil.rmtree(_local(location))
    else:
        os.remove(_local(location))


def move(source: str, destination: str) -> None:
    """Move a file or folder; repeatable after a crash at any point of an earlier call.

    Local paths: one atomic rename (copy, verify, delete across devices). fsspec URLs:
    copy, verify the size, delete.
    """
    there, here = exists(destination), exists(source)
    if there and not here:
        return  # moved before
    if not here:
        raise DataSourceError(f"{source}: missing, and not at {destination} either")
    if not protocol_of(source) and not protocol_of(destination):
        src, dst = _local(source), _local(destination)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if there and _size(source) == _size(destination):
            _remove(source)  # an earlier copy finished; its delete did not
            return
        if there:
            _remove(destination)  # a partial copy
        try:
            os.rename(src, dst)
            return
        except OSError as exc:
            if exc.errno != 18:  # EXDEV: another device; copy instead
                raise
    _copy_verify_delete(source, destination)


def _copy_verify_delete(source: str, destination: str) -> None:
    if protocol_of(source) != protocol_of(destination):
        raise DataSourceError(f"cannot move {source} to {destination}: different filesystems")
    if protocol_of(source):
        fs = _fs(source)
        recursive = bool(fs.isdir(source))
        fs.makedirs(parent(destination), exist_ok=True)
        fs.copy(source, destination, recursive=recursive)
    elif os.path.isdir(_local(source)):
        shutil.copytree(_local(source), _local(destination), dirs_exist_ok=True)
    else:
        shutil.copy2(_local(source), _local(destination))
    crash_point("files:copied")
    if _size(source) != _size(destination):
        raise DataSourceError(f"copy of {source} to {destination} is incomplete; kept both")
    _remove(source)


# ------------------------------------------------------------------ batches


@dataclass(frozen=True)
class FileBatch:
    """The files a gate checked, and where their quarantine folder is."""

    location: str
    dataset: str
    batch_id: str
    root: str | None = None  # the contract's quarantine.location

    @property
    def quarantine_root(self) -> str:
        if self.root:
            return self.root
        return join(parent(_base_of(self.location)), "_quarantine")

    @property
    def folder(self) -> str:
        return join(self.quarantine_root, self.dataset, self.batch_id)

    @property
    def sidecar(self) -> str:
        return join(self.folder, SIDECAR)


def _base_of(location: str) -> str:
    """The file or folder itself; for a glob, the folder before its first wildcard."""
    if not any(ch in location for ch in "*?["):
        return location
    head = location
    while any(ch in head for ch in "*?["):
        head = head.rsplit("/", 1)[0]
    return join(head, "x")  # parent(...) of it is the glob's folder


def _members(location: str) -> list[tuple[str, str]]:
    """(path, name inside the quarantine folder) of what moves: the file, the folder, or
    each file a glob matches (named by its path under the glob's folder), as the engine
    lists them: never _quarantine folders, markers, hidden files."""
    from airflow_opsguard.engines.listing import list_files

    if not any(ch in location for ch in "*?["):
        return [(location.rstrip("/"), basename(location))]
    base = parent(_base_of(location))
    return [
        (f.path, os.path.relpath(_local(f.path), _local(base))) for f in list_files(location).files
    ]


def resume(batch: FileBatch) -> tuple[QuarantineRecord, str] | None:
    """Finish the quarantine a crashed try of this batch began; its record and state
    (``quarantined``, ``released``, ``dropped``), or None when no try got as far as
    writing the sidecar."""
    sidecar = read_json(batch.sidecar)
    if sidecar is None:
        return None
    record = QuarantineRecord.from_json(sidecar["record"])
    if sidecar["state"] in ("moving", "committing"):
        _finish(batch, sidecar)
        return record, "quarantined"
    return record, str(sidecar["state"])


def _finish(batch: FileBatch, sidecar: dict[str, Any]) -> None:
    for step in sidecar.get("renames", ()):
        move(step["from"], step["to"])
    for index, step in enumerate(sidecar["moves"]):
        move(step["from"], step["to"])
        if index == 0:
            crash_point("files:between-moves")
    write_json(batch.sidecar, {**sidecar, "state": "quarantined"})
    crash_point("files:after-moves")


def quarantine_files(
    batch: FileBatch, record: QuarantineRecord, verdict: dict[str, Any]
) -> QuarantineRecord:
    """Move the checked files (or folder) into the batch's quarantine folder, with the
    sidecar; the record, with its location and moves."""
    members = _members(batch.location)
    if not members:
        raise DataSourceError(f"{batch.location}: nothing to quarantine")
    moves = [{"from": p, "to": join(batch.folder, "data", name)} for p, name in members]
    record = replace(
        record,
        kind="file",
        location=batch.folder,
        source=batch.location,
        details={**record.details, "moves": moves},
    )
    sidecar = {"state": "moving", "record": record.to_json(), "verdict": verdict, "moves": moves}
    write_json(batch.sidecar, sidecar)
    crash_point("files:after-sidecar")
    _finish(batch, sidecar)
    return record


# ------------------------------------------------------------------ row split


@dataclass(frozen=True)
class PreparedSplit:
    """A split written to temporary files, not yet in place."""

    clean_tmp: str
    bad_tmp: str
    clean_path: str
    bad_path: str
    clean_rows: int
    bad_rows: int


def _split_paths(batch: FileBatch) -> tuple[str, str]:
    """``<name>.clean.parquet`` beside the file or folder (for a glob: beside its folder),
    never inside a folder that is read as the data; ``<name>.quarantined.parquet`` in
    the batch's quarantine folder."""
    checked = batch.location
    if any(ch in checked for ch in "*?["):
        checked = parent(_base_of(checked))
    stem = basename(checked).split(".")[0]
    clean = join(parent(checked), f"{stem}.clean.parquet")
    bad = join(batch.folder, f"{stem}.quarantined.parquet")
    return clean, bad


def prepare_split(
    batch: FileBatch, contract: Any, record: QuarantineRecord, file_format: str | None
) -> PreparedSplit | None:
    """Write the clean rows and the bad rows (with the checks each fails) to temporary
    Parquet files; None when the contract has no row check that applies."""
    if protocol_of(batch.location):
        raise DataSourceError(
            f"{batch.location}: row-level quarantine of files needs a local path; "
            "use quarantine.level: batch for fsspec URLs"
        )
    import sqlalchemy as sa

    from airflow_opsguard.engines.files import open_data
    from airflow_opsguard.quarantine.rows import row_split

    clean_path, bad_path = _split_paths(batch)
    # Hidden (a leading dot) so that nothing reading the folder takes them for data.
    clean_tmp = join(parent(clean_path), f".{batch.batch_id}.{basename(clean_path)}")
    bad_tmp = join(batch.folder, f".tmp.{basename(bad_path)}")
    os.makedirs(_local(batch.folder), exist_ok=True)
    with open_data(batch.location, file_format=file_format) as opened:
        split = row_split(contract, opened.columns, opened.relation)
        if split is None:
            return None
        names: list[Any] = [sa.column(c.name, _selectable=opened.relation) for c in opened.columns]
        bad_select = sa.select(
            *names,
            split.reasons.label(REASONS_COLUMN),
            sa.literal(record.batch_id).label(BATCH_COLUMN),
            sa.literal(record.run_id or "").label(RUN_COLUMN),
        ).where(split.bad == 1)
        clean_select = sa.select(*names).where(split.bad == 0)
        counts = []
        for select, target in ((clean_select, clean_tmp), (bad_select, bad_tmp)):
            counts.append(_copy_to_parquet(opened.connection, select, target))
    return PreparedSplit(clean_tmp, bad_tmp, clean_path, bad_path, counts[0], counts[1])


def _copy_to_parquet(connection: Any, select: Any, target: str) -> int:
    sql = str(select.compile(connection, compile_kwargs={"literal_binds": True}))
    escaped = target.replace("'", "''")
    connection.exec_driver_sql(f"COPY ({sql}) TO '{escaped}' (FORMAT PARQUET)")
    count = connection.exec_driver_sql(
        f"SELECT count(*) FROM read_parquet('{escaped}')"
    ).scalar_one()
    return int(count)


def abandon_split(prepared: PreparedSplit) -> None:
    for path in (prepared.clean_tmp, prepared.bad_tmp):
        if exists(path):
            _remove(path)


def commit_split(
    batch: FileBatch, prepared: PreparedSplit, record: QuarantineRecord, verdict: dict[str, Any]
) -> QuarantineRecord:
    """Put the split in place: ``<name>.clean.parquet`` next to the data,
    ``<name>.quarantined.parquet`` and the original files in the quarantine folder."""
    if exists(prepared.clean_path):
        raise DataSourceError(f"{prepared.clean_path} exists already; it would be overwritten")
    moves = [
        {"from": p, "to": join(batch.folder, "original", name)}
        for p, name in _members(batch.location)
    ]
    renames = [
        {"from": prepared.clean_tmp, "to": prepared.clean_path},
        {"from": prepared.bad_tmp, "to": prepared.bad_path},
    ]
    record = replace(
        record,
        kind="rows",
        location=prepared.bad_path,
        source=batch.location,
        rows=prepared.bad_rows,
        clean_rows=prepared.clean_rows,
        details={**record.details, "moves": moves, "clean_path": prepared.clean_path},
    )
    sidecar = {
        "state": "committing",
        "record": record.to_json(),
        "verdict": verdict,
        "renames": renames,
        "moves": moves,
    }
    write_json(batch.sidecar, sidecar)
    crash_point("files:after-sidecar")
    _finish(batch, sidecar)
    return record


# ------------------------------------------------------------------ review


def quarantined_data(record: QuarantineRecord) -> str:
    """The quarantined data to check again: the moved folder or files, or the bad rows."""
    if record.kind == "rows":
        return record.location
    moves = record.details.get("moves") or []
    if len(moves) == 1:
        return str(moves[0]["to"])
    return join(record.location, "data")


def release_files(record: QuarantineRecord) -> str:
    """Move a quarantined batch's files back where they came from; where they went."""
    moves = record.details.get("moves") or []
    for step in moves:
        if exists(step["from"]) and exists(step["to"]):
            raise DataSourceError(f"{step['from']} exists again; it would be overwritten")
    for step in moves:
        move(step["to"], step["from"])
    _mark(record, "released")
    return record.source or ""


@contextmanager
def released_rows(record: QuarantineRecord) -> Iterator[str]:
    """The bad rows without the quarantine columns, in a temporary Parquet file next to
    where they will go (``<name>.released.parquet``); yields the temporary file."""
    clean = str(record.details.get("clean_path") or "")
    final = clean.replace(".clean.parquet", ".released.parquet")
    temporary = join(parent(final), f".tmp.{basename(final)}")
    from airflow_opsguard.engines.files import open_data

    with open_data(record.location) as opened:
        keep = [c.name for c in opened.columns if not c.name.startswith("_opsguard_")]
        quoted = ", ".join('"' + n.replace('"', '""') + '"' for n in keep)
        source = opened.relation.name  # type: ignore[attr-defined]
        escaped = temporary.replace("'", "''")
        opened.connection.exec_driver_sql(
            f"COPY (SELECT {quoted} FROM {source}) TO '{escaped}' (FORMAT PARQUET)"
        )
    try:
        yield temporary
    finally:
        if exists(temporary):
            _remove(temporary)


def release_rows_file(record: QuarantineRecord, temporary: str) -> str:
    clean = str(record.details.get("clean_path") or "")
    final = clean.replace(".clean.parquet", ".released.parquet")
    if exists(final):
        raise DataSourceError(f"{final} exists already; it would be overwritten")
    move(temporary, final)
    _remove(record.location)
    _mark(record, "released")
    return final


def drop_files(record: QuarantineRecord) -> None:
    """Delete the quarantined data; the sidecar stays, marked dropped."""
    if record.kind == "rows":
        targets = [record.location, *(m["to"] for m in record.details.get("moves") or [])]
    else:
        targets = [m["to"] for m in record.details.get("moves") or []]
    for target in targets:
        if exists(target):
            _remove(target)
    _mark(record, "dropped")


def _mark(record: QuarantineRecord, state: str) -> None:
    folder = record.location if record.kind != "rows" else parent(record.location)
    sidecar_path = join(folder, SIDECAR)
    sidecar = read_json(sidecar_path)
    if sidecar is not None:
        write_json(sidecar_path, {**sidecar, "state": state})
