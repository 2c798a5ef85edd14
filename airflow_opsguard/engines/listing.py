"""Which files a location holds: the one lister, for the engine and the freshness sensor.

A location is a file, a folder (read recursively), a glob, or the same as an fsspec URL.
Names that start with ``_`` or ``.`` below a folder or a glob's wildcard are not data:
``_SUCCESS`` markers, ``_quarantine`` folders, hidden files (named in a glob's fixed
part, they count). A folder that cannot be read is an error, never a smaller listing:
a partition the gate cannot see must not pass on the ones it can.
"""

from __future__ import annotations

import glob as globlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow_opsguard.errors import DataSourceError

# Where fsspec backends put a file's modification time, in order of preference.
_MTIME_KEYS = ("mtime", "LastModified", "last_modified", "updated", "modified", "created")


@dataclass(frozen=True)
class Listed:
    """One file: its path as readers take it (a local path, or a URL with its protocol),
    its size, and its modification time (None when the file system does not say)."""

    path: str
    size: int
    modified: datetime | None


@dataclass(frozen=True)
class Listing:
    """The files at a location. ``kind``: ``file``, ``folder`` or ``glob``;
    ``protocol``: the fsspec protocol of a URL (None for local files)."""

    location: str
    kind: str
    protocol: str | None
    files: tuple[Listed, ...]


def protocol_of(location: str) -> str | None:
    """The fsspec protocol of a URL (``s3``, ``memory``...), or None for a local path."""
    protocol = location.partition("://")[0] if "://" in location else ""
    return None if protocol in ("", "file") else protocol


def list_files(location: str, filesystem: Any = None) -> Listing:
    """The files at ``location``, sorted by path. A URL is listed with ``filesystem``
    (an fsspec filesystem with its credentials, say an Airflow connection's) when one is
    given, else with fsspec's own for its protocol. Raises :class:`DataSourceError` when
    it does not exist or cannot be read (then ``retryable`` for a remote file system)."""
    protocol = protocol_of(location)
    if protocol is None:
        local = location.partition("://")[2] if "://" in location else location
        return _local(location, local)
    return _remote(location, protocol, filesystem)


def is_hidden(path: str, root: str) -> bool:
    """Below ``root`` (a folder), does ``path`` pass through a ``_`` or ``.`` name?"""
    relative = Path(path).relative_to(root) if Path(path).is_relative_to(root) else Path(path)
    return any(part.startswith(("_", ".")) for part in relative.parts)


def hidden_match(match: str, pattern: str) -> bool:
    """A glob's match that a wildcard found under ``_`` or ``.`` (a name written in the
    pattern's fixed part counts as data)."""
    named = {part for part in pattern.split("/") if not _is_pattern(part)}
    return any(part.startswith(("_", ".")) and part not in named for part in match.split("/"))


def _is_pattern(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def _local(location: str, local: str) -> Listing:
    path = Path(local).expanduser()
    if _is_pattern(local):
        _readable_parents(path)
        found = sorted(
            p
            for p in globlib.glob(str(path), recursive=True)
            if os.path.isfile(p) and not hidden_match(p, str(path))
        )
        kind = "glob"
    elif path.is_dir():
        found = _walk(path)
        kind = "folder"
    elif path.is_file():
        found, kind = [str(path)], "file"
    elif path.exists() or _unreadable(path):
        raise DataSourceError(f"{location}: permission denied")
    else:
        raise DataSourceError(f"{location}: no such file or directory")
    files = []
    for name in found:
        try:
            stat = os.stat(name)
        except OSError as exc:
            raise DataSourceError(f"{name}: {exc.strerror or exc}") from None
        files.append(Listed(name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
    return Listing(location, kind, None, tuple(files))


def _walk(root: Path) -> list[str]:
    """Every data file below ``root``; a folder that cannot be listed is an error."""

    found: list[str] = []
    for folder, subfolders, names in os.walk(root, onerror=_raise_listing):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(("_", ".")))
        found.extend(
            os.path.join(folder, n)
            for n in names
            if not n.startswith(("_", ".")) and os.path.isfile(os.path.join(folder, n))
        )
    return sorted(found)


def _readable_parents(pattern: Path) -> None:
    """Every folder a glob may search must be listable: glob() skips what it cannot list,
    which would make a partition that cannot be read vanish from the data."""
    parts = pattern.parts
    depth = next((i for i, part in enumerate(parts) if _is_pattern(part)), len(parts))
    root = Path(*parts[:depth]) if depth else Path(".")
    levels = len(parts) - depth - 1  # folder levels the wildcard parts span
    unbounded = "**" in parts[depth:]
    if not root.is_dir():
        return
    for folder, subfolders, _ in os.walk(root, onerror=_raise_listing):
        if not unbounded and len(Path(folder).relative_to(root).parts) >= levels:
            subfolders[:] = []
        else:
            subfolders[:] = [d for d in subfolders if not d.startswith(("_", "."))]


def _raise_listing(exc: OSError) -> None:
    raise DataSourceError(f"{exc.filename}: cannot list this folder: {exc.strerror or exc}")


def _unreadable(path: Path) -> bool:
    """A path whose folder cannot be searched (so it may exist, unseen)."""
    parent = path.parent
    return parent.is_dir() and not os.access(parent, os.X_OK)


def _remote(location: str, protocol: str, filesystem: Any) -> Listing:
    import fsspec

    try:
        if filesystem is not None:
            fs, root = filesystem, filesystem._strip_protocol(location)
        else:
            fs, root = fsspec.core.url_to_fs(location)
        if _is_pattern(root):
            found = sorted(p for p in fs.glob(root) if not hidden_match(p, root))
            kind = "glob"
        elif fs.isdir(root):
            found = sorted(p for p in fs.find(root) if not is_hidden(p, root))
            kind = "folder"
        elif fs.exists(root):
            found, kind = [root], "file"
        else:
            raise DataSourceError(f"{location}: no such file or directory")
        infos = [fs.info(p) for p in found]
    except DataSourceError:
        raise
    except Exception as exc:  # fsspec backends raise their own types
        raise DataSourceError(f"{location}: {exc}", retryable=True) from exc
    # Spelled with the location's own protocol (``local://`` stays ``local://``), so that
    # every path of a source names the same file system.
    files = tuple(
        Listed(
            p if "://" in p else f"{protocol}://{p}", int(info.get("size") or 0), _modified(info)
        )
        for p, info in zip(found, infos, strict=True)
        if info.get("type", "file") != "directory"
    )
    return Listing(location, kind, protocol, files)


def _modified(info: dict[str, Any]) -> datetime | None:
    for key in _MTIME_KEYS:
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        if isinstance(value, int | float):
            seconds = value / 1000 if value > 1e11 else value  # some backends use ms
            return datetime.fromtimestamp(seconds, UTC)
        if isinstance(value, str):
            try:
                found = datetime.fromisoformat(value)
            except ValueError:
                continue
            return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)
    return None
