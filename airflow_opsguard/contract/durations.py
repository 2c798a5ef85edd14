"""Durations as contracts write them: ``30m``, ``6h``, ``1d``, ``1h30m``, or ISO 8601 (``PT6H``)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SHORT = re.compile(r"(?:(\d+(?:\.\d+)?)\s*([smhdw]))", re.IGNORECASE)
_SHORT_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[smhdw]\s*)+$", re.IGNORECASE)


def parse_duration(value: object) -> timedelta:
    """Parse a duration; raise ``ValueError`` with the accepted forms when it is not one.

    Plain numbers are seconds. Zero and negative durations are rejected: an age limit of
    zero can never pass.
    """
    if isinstance(value, timedelta):
        duration = value
    elif isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    elif isinstance(value, int | float):
        duration = timedelta(seconds=value)
    elif isinstance(value, str) and _SHORT_WHOLE.match(value):
        parts = {unit: 0.0 for unit in _UNITS.values()}
        for number, unit in _SHORT.findall(value):
            parts[_UNITS[unit.lower()]] += float(number)
        duration = timedelta(**parts)
    elif isinstance(value, str) and value.strip().upper().startswith("P"):
        import pendulum  # only for ISO 8601 durations: it costs a third of a second to import

        try:
            parsed = pendulum.parse(value.strip())
        except (ValueError, pendulum.parsing.exceptions.ParserError) as exc:
            raise ValueError(f"{value!r} is not an ISO 8601 duration") from exc
        if not isinstance(parsed, pendulum.Duration):
            raise ValueError(f"{value!r} is not an ISO 8601 duration")
        if parsed.years or parsed.months:
            raise ValueError(f"{value!r}: years and months have no fixed length; use days")
        duration = timedelta(seconds=parsed.total_seconds())
    else:
        raise ValueError(
            f"{value!r} is not a duration; write e.g. 30m, 6h, 1d, 1h30m or ISO 8601 PT6H"
        )
    if duration <= timedelta(0):
        raise ValueError(f"{value!r}: a duration must be longer than zero")
    return duration


def format_duration(duration: timedelta) -> str:
    """Render a duration for people, with its two largest units: ``3d 2h``, ``45m``, ``12s``."""
    seconds = round(abs(duration).total_seconds())
    sign = "-" if duration < timedelta(0) else ""
    units: tuple[tuple[str, int], ...] = (
        ("w", 604800),
        ("d", 86400),
        ("h", 3600),
        ("m", 60),
        ("s", 1),
    )
    if seconds >= 604800 and seconds % 604800:
        units = units[1:]  # 10d reads better than 1w 3d
    parts: list[str] = []
    for name, size in units:
        if seconds >= size:
            parts.append(f"{seconds // size}{name}")
            seconds %= size
        if len(parts) == 2:
            break
    return sign + (" ".join(parts) if parts else "0s")
