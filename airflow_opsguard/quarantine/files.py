"""Quarantine for files: move a failing batch aside, or split it into clean and bad rows.

A batch of files (one file, a folder, or a glob's files) moves into its quarantine
folder, ``<root>/<dataset>/<batch id>/``, where ``<root>`` is the contract's
``quarantine.location`` or ``<dir>/_quarantine`` (``<dir>``: the folder that holds the
checked file or folder). The folder's sidecar, ``_opsguard_quarantine.json``, holds the
verdict, the record and every move, and is written *before* anything moves: a gate that
dies halfway finds it on retry and finishes the moves it lists. A move is an atomic
rename where the filesystem has one (a local path on one device), else, file by file,
copy, verify the size, then delete; every step can be repeated, so a crash at any point
loses and duplicates nothing.

URLs are read and written with the filesystem handed in (``fs``: the one an Airflow
connection opens, or a path object's, resolved once per batch: :attr:`FileBatch.filesystem`,
:func:`filesystem_of`), else with fsspec's own for the URL's protocol. Local paths never
use it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
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


def _fs(location: str, fs: Any = None) -> Any:
    """The filesystem of a URL: ``fs`` when one is handed in, else fsspec's own."""
    if fs is not None:
        return fs
    import fsspec

    return fsspec.filesystem(protocol_of(location))


def exists(location: str, fs: Any = None) -> bool:
    if protocol_of(location):
        return bool(_fs(location, fs).exists(location))
    return os.path.lexists(_local(location))


def read_json(location: str, fs: Any = None) -> dict[str, Any] | None:
    if not exists(location, fs):
        return None
    if protocol_of(location):
        text = _fs(location, fs).cat_file(location).decode()
    else:
        with open(_local(location), encoding="utf-8") as handle:
            text = handle.read()
    data: dict[str, Any] = json.loads(text)
    return data


def write_json(location: str, data: dict[str, Any], fs: Any = None) -> None:
    """Write atomically where the filesystem allows: a reader sees the old or the new."""
    text = json.dumps(data, indent=2, sort_keys=True, default=str)
    if protocol_of(location):
        remote = _fs(location, fs)
        remote.makedirs(parent(location), exist_ok=True)  # a no-op on object stores
        remote.pipe_file(location, text.encode())
        return
    path = _local(location)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _isdir(location: str, fs: Any = None) -> bool:
    if protocol_of(location):
        return bool(_fs(location, fs).isdir(location))
    return os.path.isdir(_local(location))


def _size(location: str, fs: Any = None) -> int:
    """The size of one file."""
    if protocol_of(location):
        return int(_fs(location, fs).size(location))
    return os.path.getsize(_local(location))


def _remove(location: str, fs: Any = None) -> None:
    if protocol_of(location):
        _fs(location, fs).rm(location, recursive=True)
    elif os.path.isdir(_local(location)):
        shutil.rmtree(_local(location))
    else:
        os.remove(_local(location))


def _copy_file(source: str, destination: str, fs: Any = None) -> None:
    if protocol_of(source):
        remote = _fs(source, fs)
        remote.makedirs(parent(destination), exist_ok=True)  # a no-op on object stores
        remote.copy(source, destination)
        return
    os.makedirs(os.path.dirname(_local(destination)), exist_ok=True)
    shutil.copy2(_local(source), _local(destination))


def _files_below(location: str, fs: Any = None) -> list[tuple[str, str]]:
    """(path, path relative to ``location``) of every file below a folder, hidden names
    and markers included: a folder moves whole."""
    if not protocol_of(location):
        root = _local(location)
        return sorted(
            (os.path.join(folder, name), os.path.relpath(os.path.join(folder, name), root))
            for folder, _, names in os.walk(root, onerror=_unlistable)
            for name in names
        )
    remote, protocol = _fs(location, fs), protocol_of(location)
    root = str(remote._strip_protocol(location)).rstrip("/")
    found = []
    for path in sorted(remote.find(location)):
        text = str(path)
        if not text.startswith(f"{root}/"):
            raise DataSourceError(f"{location}: listed {text}, which is not below it")
        found.append((text if "://" in text else f"{protocol}://{text}", text[len(root) + 1 :]))
    return found


def _unlistable(exc: OSError) -> None:
    raise DataSourceError(f"{exc.filename}: cannot list this folder: {exc.strerror or exc}")


def move(source: str, destination: str, fs: Any = None) -> None:
    """Move a file or folder; repeatable after a crash at any point of an earlier call.

    Local paths: one atomic rename. Otherwise (URLs, another device), file by file:
    copy, verify the size, delete; a file found in both places with the same size was
    copied before and only loses its source.
    """
    there, here = exists(destination, fs), exists(source, fs)
    if there and not here:
        return  # moved before
    if not here:
        raise DataSourceError(f"{source}: missing, and not at {destination} either")
    if protocol_of(source) != protocol_of(destination):
        raise DataSourceError(f"cannot move {source} to {destination}: different filesystems")
    if not protocol_of(source) and not there and _renamed(source, destination):
        return
    if not _isdir(source, fs):
        _move_file(source, destination, fs)
        return
    for path, relative in _files_below(source, fs):
        _move_file(path, join(destination, *relative.split("/")), fs)
    if exists(source, fs):  # folders left empty (a local disk, stores with folder markers)
        if _files_below(source, fs):
            raise DataSourceError(f"{source}: files appeared in it while it moved; left there")
        _remove(source, fs)


def _renamed(source: str, destination: str) -> bool:
    """One atomic rename on a local disk; False across devices."""
    os.makedirs(os.path.dirname(_local(destination)), exist_ok=True)
    try:
        os.rename(_local(source), _local(destination))
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        return False
    return True


def _move_file(source: str, destination: str, fs: Any = None) -> None:
    if exists(destination, fs) and _size(source, fs) == _size(destination, fs):
        _remove(source, fs)  # an earlier copy finished; its delete did not
        return
    _copy_file(source, destination, fs)  # over a partial copy, if there is one
    crash_point("files:copied")
    if _size(source, fs) != _size(destination, fs):
        raise DataSourceError(f"copy of {source} to {destination} is incomplete; kept both")
    _remove(source, fs)


# ------------------------------------------------------------------ batches


@dataclass(frozen=True)
class FileBatch:
    """The files a gate checked, and where their quarantine folder is.

    ``conn_id``: the Airflow connection the files are read through (the record keeps it,
    so release and drop reopen them with it); ``filesystem``: the filesystem every URL of
    the batch is read and written with (the connection's, or a path object's; None:
    fsspec's own), resolved once for the batch."""

    location: str
    dataset: str
    batch_id: str
    root: str | None = None  # the contract's quarantine.location
    conn_id: str | None = None
    filesystem: Any = field(default=None, compare=False, repr=False)

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


def filesystem_of(record: QuarantineRecord) -> Any | None:
    """The filesystem to reach a quarantined batch's files with: the one its Airflow
    connection opens (through the resolver in force: see
    :func:`~airflow_opsguard.engines.connections.using_connections`), or None (local
    paths, fsspec's own credentials)."""
    conn_id = record.details.get("conn_id")
    if not conn_id:
        return None
    from airflow_opsguard.engines.connections import resolve_filesystem

    return resolve_filesystem(str(conn_id), record.location)


def _base_of(location: str) -> str:
    """The file or folder itself; for a glob, the folder before its first wildcard."""
    if not any(ch in location for ch in "*?["):
        return location
    head = location
    while any(ch in head for ch in "*?["):
        head = head.rsplit("/", 1)[0]
    return join(head, "x")  # parent(...) of it is the glob's folder


def _members(batch: FileBatch) -> list[tuple[str, str]]:
    """(path, name inside the quarantine folder) of what moves: the file, the folder, or
    each file a glob matches (named by its path under the glob's folder), as the engine
    lists them: never _quarantine folders, markers, hidden files."""
    from airflow_opsguard.engines.listing import list_files

    location = batch.location
    if not any(ch in location for ch in "*?["):
        return [(location.rstrip("/"), basename(location))]
    base = parent(_base_of(location))
    return [
        (f.path, os.path.relpath(_local(f.path), _local(base)))
        for f in list_files(location, batch.filesystem).files
    ]


def resume(batch: FileBatch) -> tuple[QuarantineRecord, str] | None:
    """Finish the quarantine a crashed try of this batch began; its record and state
    (``quarantined``, ``released``, ``dropped``), or None when no try got as far as
    writing the sidecar."""
    sidecar = read_json(batch.sidecar, batch.filesystem)
    if sidecar is None:
        return None
    record = QuarantineRecord.from_json(sidecar["record"])
    if sidecar["state"] in ("moving", "committing"):
        _finish(batch, sidecar)
        return record, "quarantined"
    return record, str(sidecar["state"])


def _finish(batch: FileBatch, sidecar: dict[str, Any]) -> None:
    for step in sidecar.get("renames", ()):
        move(step["from"], step["to"], batch.filesystem)
    for index, step in enumerate(sidecar["moves"]):
        move(step["from"], step["to"], batch.filesystem)
        if index == 0:
            crash_point("files:between-moves")
    write_json(batch.sidecar, {**sidecar, "state": "quarantined"}, batch.filesystem)
    crash_point("files:after-moves")


def quarantine_files(
    batch: FileBatch, record: QuarantineRecord, verdict: dict[str, Any]
) -> QuarantineRecord:
    """Move the checked files (or folder) into the batch's quarantine folder, with the
    sidecar; the record, with its location and moves."""
    members = _members(batch)
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
    write_json(batch.sidecar, sidecar, batch.filesystem)
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
            "use quarantine.level: batch for URLs (object storage, with or without a "
            "connection)"
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
    moves = [{"from": p, "to": join(batch.folder, "original", name)} for p, name in _members(batch)]
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


def release_files(record: QuarantineRecord, fs: Any = None) -> str:
    """Move a quarantined batch's files back where they came from (URLs through ``fs``,
    see :func:`filesystem_of`); where they went."""
    moves = record.details.get("moves") or []
    for step in moves:
        if exists(step["from"], fs) and exists(step["to"], fs):
            raise DataSourceError(f"{step['from']} exists again; it would be overwritten")
    for step in moves:
        move(step["to"], step["from"], fs)
    _mark(record, "released", fs)
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


def drop_files(record: QuarantineRecord, fs: Any = None) -> None:
    """Delete the quarantined data (URLs through ``fs``, see :func:`filesystem_of`); the
    sidecar stays, marked dropped."""
    if record.kind == "rows":
        targets = [record.location, *(m["to"] for m in record.details.get("moves") or [])]
    else:
        targets = [m["to"] for m in record.details.get("moves") or []]
    for target in targets:
        if exists(target, fs):
            _remove(target, fs)
    _mark(record, "dropped", fs)


def _mark(record: QuarantineRecord, state: str, fs: Any = None) -> None:
    folder = record.location if record.kind != "rows" else parent(record.location)
    sidecar_path = join(folder, SIDECAR)
    sidecar = read_json(sidecar_path, fs)
    if sidecar is not None:
        write_json(sidecar_path, {**sidecar, "state": state}, fs)
