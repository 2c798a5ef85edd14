"""How the pages write times, durations and values (Jinja filters)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any


def when(value: datetime | None) -> str:
    """``2026-11-26 12:00:05 UTC``."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    """``3d 2h``, ``5m 10s``, ``0s``: the two largest units."""
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    left = int(abs(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size}{unit}")
            left %= size
    return sign + " ".join(parts[:2])


def ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "—"
    return f"{duration((now - value).total_seconds())} ago"


def value(data: Any) -> str:
    """An observed or expected value, as JSON unless it is plain text."""
    if data is None:
        return "—"
    if isinstance(data, str):
        return data
    return json.dumps(data, sort_keys=True, default=str)


def short(text: str | None, size: int = 12) -> str:
    if not text:
        return "—"
    return text if len(text) <= size else text[:size] + "…"
