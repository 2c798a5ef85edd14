"""Alerts that could be neither sent nor stored: one JSON line each, in a local file.

The last resort when the notifier and the results store are both down. The next run
that has a route with the same key sends them (or moves them into the store's outbox).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_opsguard.store.incidents import OutboxAlert
from airflow_opsguard.store.locks import file_lock

if TYPE_CHECKING:
    from collections.abc import Callable, Collection


class AlertSpool:
    """``<folder>/alerts-<name>.jsonl`` and its lock file."""

    def __init__(self, folder: Path, name: str) -> None:
        self.path = folder / f"alerts-{name}.jsonl"
        self._lock = folder / f"alerts-{name}.lock"

    def append(self, alert: OutboxAlert) -> None:
        """Keep one alert; raises OSError when the folder cannot be written."""
        line = json.dumps(alert.to_dict(), separators=(",", ":"), sort_keys=True) + "\n"
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with file_lock(self._lock):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)

    def pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except OSError:
            return False

    def drain(
        self, route_keys: Collection[str], handle: Callable[[OutboxAlert], bool]
    ) -> tuple[int, int]:
        """Hand each kept alert of these routes to ``handle`` (True: done with it);
        keep the rest. Returns (handled, still kept)."""
        if not self.pending():
            return 0, 0
        with file_lock(self._lock, blocking=False) as won:
            if not won:
                return 0, 0  # another process is at it
            try:
                lines = [ln for ln in self.path.read_text().splitlines() if ln.strip()]
            except OSError:
                return 0, 0
            keep: list[str] = []
            done = 0
            for line in lines:
                try:
                    alert = OutboxAlert.from_dict(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn line: nothing to send
                if alert.route_key in route_keys and handle(alert):
                    done += 1
                else:
                    keep.append(line)
            if keep:
                temporary = self.path.with_suffix(".tmp")
                temporary.write_text("".join(line + "\n" for line in keep))
                os.chmod(temporary, 0o600)
                os.replace(temporary, self.path)
            else:
                self.path.unlink(missing_ok=True)
            return done, len(keep)
