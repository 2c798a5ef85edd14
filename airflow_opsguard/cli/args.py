"""Argument types and options shared by the ``opsguard`` subcommands.

Whole numbers are bounded where they are read: a number a database cannot store (SQL's
BIGINT holds up to 2**63-1) is a wrong call, exit code 2 and one line, never an
OverflowError from deep inside a query.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from airflow_opsguard.errors import OpsGuardError

# The largest whole number an argument may be: SQL's BIGINT, numpy's int64.
LARGEST = 2**63 - 1
# The most days an argument may reach back (datetime ends in the year 9999).
MAX_DAYS = 36500
# Digits read at most: longer text is not a number any argument takes.
_MAX_DIGITS = 30


def positive(text: str) -> int:
    """A whole number of at least 1 (``--limit``, ``--bins``, an id)."""
    value = not_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def not_negative(text: str) -> int:
    """A whole number of at least 0 (``--offset``), at most :data:`LARGEST`."""
    shown = text if len(text) <= 40 else text[:39] + "…"
    try:
        value = int(text) if len(text.strip()) <= _MAX_DIGITS else None
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"{shown!r} is not a whole number")
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    if value > LARGEST:
        raise argparse.ArgumentTypeError(f"must be at most {LARGEST} (2**63-1)")
    return value


def days(text: str) -> int:
    """A number of days back from now: at least 1, at most 36500 (a century)."""
    value = positive(text)
    if value > MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_DAYS} days")
    return value


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--format text|json`` and ``--store URL``, for the commands that read the store."""
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--store", help="results store URL")


def parse_now(text: str | None) -> datetime | None:
    """``--now``: an ISO 8601 moment (naive is UTC) in UTC, or None for the clock."""
    if text is None:
        return None
    from datetime import UTC

    from airflow_opsguard.contract.text import short_repr

    try:
        moment = datetime.fromisoformat(text)
        # In range once in UTC too (9999-12-31T23:00-05:00 is not).
        return moment if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise OpsGuardError(
            f"--now: {short_repr(text)} is not an ISO 8601 date and time that exists in UTC"
        ) from None
