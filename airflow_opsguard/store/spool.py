"""A local file of results that could not be stored yet, replayed when the store is back.

One JSON line per result (the object of ``GateResult.to_dict()``), appended with a
single ``write`` under an exclusive lock and fsynced, so a crash can at worst cut the
last line short; earlier lines are never rewritten in place. Replaying is idempotent:
a run the store already holds is skipped. A line the store refuses for good (too long
a name, a torn line) moves to ``<name>.rejected.jsonl`` instead of blocking the rest.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from airflow_opsguard.checks.results import GateResult
from airflow_opsguard.store.locks import file_lock

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

# Errors that concern one line, not the store: replaying that line again cannot help.
_LINE_ERRORS = (sa.exc.DataError, sa.exc.IntegrityError, ValueError, KeyError, TypeError)


@dataclass(frozen=True)
class SpoolReplay:
    """What one replay of a spool did."""

    stored: int = 0
    already_stored: int = 0
    rejected: int = 0
    remaining: int = 0


class Spool:
    """The spool of one store: ``<folder>/<name>.jsonl`` and its lock file."""

    def __init__(self, folder: Path, name: str) -> None:
        self.path = folder / f"{name}.jsonl"
        self.rejected_path = folder / f"{name}.rejected.jsonl"
        self._lock_path = folder / f"{name}.lock"

    def append(self, result: GateResult) -> None:
        """Add one result; raises OSError when the folder cannot be written."""
        line = json.dumps(result.to_dict(with_profile=True), separators=(",", ":"), sort_keys=True)
        line += "\n"
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with file_lock(self._lock_path):
            _append_lines(self.path, line.encode())

    def pending(self) -> bool:
        """Whether results wait to be replayed (cheap: no lock, no read)."""
        try:
            return self.path.stat().st_size > 0
        except OSError:
            return False

    def replay(
        self, write: Callable[[GateResult], bool], *, wait: bool = True
    ) -> SpoolReplay | None:
        """Write every spooled result with ``write`` (False: stored already), oldest first.

        Stops at the first error that is not about one line (the store went away again),
        keeps what is left, and raises that error. With ``wait=False`` it returns None at
        once when another process holds the spool.
        """
        if not self.pending():
            return SpoolReplay()
        with file_lock(self._lock_path, blocking=wait) as won:
            if not won:
                return None
            return self._replay_locked(write)

    def _replay_locked(self, write: Callable[[GateResult], bool]) -> SpoolReplay:
        try:
            lines = self.path.read_bytes().split(b"\n")
        except FileNotFoundError:
            return SpoolReplay()
        lines = [line for line in lines if line.strip()]
        stored = already = 0
        rejected: list[bytes] = []
        done = 0
        try:
            for line in lines:
                try:
                    result = GateResult.from_dict(json.loads(line))
                    if write(result):
                        stored += 1
                    else:
                        already += 1
                except _LINE_ERRORS:
                    rejected.append(line)
                done += 1
        finally:
            if rejected:
                _append_lines(self.rejected_path, b"".join(r + b"\n" for r in rejected))
            self._keep(lines[done:])
        return SpoolReplay(stored, already, len(rejected), len(lines) - done)

    def _keep(self, lines: list[bytes]) -> None:
        if not lines:
            self.path.unlink(missing_ok=True)
            return
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, b"".join(line + b"\n" for line in lines))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)


def _append_lines(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # a crash cut the last line short: keep it apart
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
