"""Durations as contracts write them: ``30m``, ``6h``, ``1d``, ``1h30m``, or ISO 8601 (``PT6H``).

:func:`parse_duration` reads them (exactly, to the microsecond, and never beyond
:data:`MAX_DURATION`); :func:`duration_text` writes one back so that it reads as the
same duration (what a contract is saved with); :func:`format_duration` shows one to
people, rounded to its two largest units.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from airflow_opsguard.contract.text import short_repr

# The longest duration a contract may state: a century. Longer ones say nothing a
# century does not, and would overflow dates they are added to.
MAX_DURATION = timedelta(days=36500)
# The longest text read as a duration (characters).
_MAX_TEXT = 100

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SHORT = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_SHORT_WHOLE = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[smhdw]\s*)+$", re.IGNORECASE)
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_ISO = re.compile(
    rf"^P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$",
    re.IGNORECASE,
)
_ISO_UNITS = (None, None, 604800, 86400, 3600, 60, 1)  # Y and M have no fixed length
_FORMS = "write e.g. 30m, 6h, 1d, 1h30m or ISO 8601 PT6H"


def parse_duration(value: object) -> timedelta:
    """Parse a duration; raise ``ValueError`` with the accepted forms when it is not one.

    Plain numbers are seconds. Zero and negative durations are rejected (an age limit of
    zero can never pass), and so are durations longer than :data:`MAX_DURATION`.
    """
    if isinstance(value, timedelta):
        return _checked(value, value)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{short_repr(value)} is not a duration; {_FORMS}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} is not a duration; {_FORMS}")
    if isinstance(value, int | float):
        return _from_seconds(Decimal(value), value)
    text = value.strip()
    if len(text) > _MAX_TEXT:
        raise ValueError(f"{short_repr(value)} is not a duration (too long); {_FORMS}")
    if _SHORT_WHOLE.match(text):
        seconds = sum(
            (Decimal(number) * _SECONDS[unit.lower()] for number, unit in _SHORT.findall(text)),
            Decimal(0),
        )
        return _from_seconds(seconds, value)
    iso = _ISO.match(text)
    if iso and any(iso.groups()):
        years, months = iso.group(1), iso.group(2)
        if years or months:
            raise ValueError(
                f"{short_repr(value)}: years and months have no fixed length; use days"
            )
        seconds = sum(
            (
                Decimal(number.replace(",", ".")) * size
                for number, size in zip(iso.groups(), _ISO_UNITS, strict=True)
                if number is not None and size is not None
            ),
            Decimal(0),
        )
        return _from_seconds(seconds, value)
    if text.upper().startswith("P"):
        raise ValueError(f"{short_repr(value)} is not an ISO 8601 duration; {_FORMS}")
    raise ValueError(f"{short_repr(value)} is not a duration; {_FORMS}")


def _from_seconds(seconds: Decimal, value: object) -> timedelta:
    """A duration of ``seconds``, rounded to the microsecond, within the limits."""
    try:
        if seconds <= 0:
            raise ValueError(f"{short_repr(value)}: a duration must be longer than zero")
        if seconds > MAX_DURATION.total_seconds():
            raise _too_long(value)
        micro = int(seconds.scaleb(6).to_integral_value())
    except (InvalidOperation, OverflowError):
        raise ValueError(f"{short_repr(value)} is not a duration; {_FORMS}") from None
    return _checked(timedelta(microseconds=micro), value)


def _checked(duration: timedelta, value: object) -> timedelta:
    if duration <= timedelta(0):
        raise ValueError(f"{short_repr(value)}: a duration must be longer than zero")
    if duration > MAX_DURATION:
        raise _too_long(value)
    return duration


def _too_long(value: object) -> ValueError:
    return ValueError(
        f"{short_repr(value)}: a duration is at most {format_duration(MAX_DURATION)} (100 years)"
    )


def duration_text(duration: timedelta) -> str:
    """A duration written as a contract states it, exactly: ``1d 2h 30m``, ``1.5s``,
    ``2w``. :func:`parse_duration` reads it back as the same duration."""
    micro = abs(duration) // timedelta(microseconds=1)
    sign = "-" if duration < timedelta(0) else ""
    seconds, fraction = divmod(micro, 1_000_000)
    parts: list[str] = []
    for name, size in _units(seconds):
        if seconds >= size and name != "s":
            parts.append(f"{seconds // size}{name}")
            seconds %= size
    if seconds or fraction or not parts:
        decimals = f".{fraction:06d}".rstrip("0") if fraction else ""
        parts.append(f"{seconds}{decimals}s")
    return sign + " ".join(parts)


def format_duration(duration: timedelta) -> str:
    """Render a duration for people, with its two largest units: ``3d 2h``, ``45m``, ``12s``."""
    seconds = round(abs(duration).total_seconds())
    sign = "-" if duration < timedelta(0) else ""
    parts: list[str] = []
    for name, size in _units(seconds):
        if seconds >= size:
            parts.append(f"{seconds // size}{name}")
            seconds %= size
        if len(parts) == 2:
            break
    return sign + (" ".join(parts) if parts else "0s")


def _units(seconds: int) -> tuple[tuple[str, int], ...]:
    units = tuple((name, _SECONDS[name]) for name in "wdhms")
    if seconds >= 604800 and seconds % 604800:
        units = units[1:]  # 10d reads better than 1w 3d
    return units
