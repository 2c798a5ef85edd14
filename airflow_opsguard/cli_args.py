"""Argument types and options shared by the ``opsguard`` subcommands."""

from __future__ import annotations

import argparse


def positive(text: str) -> int:
    """A whole number of at least 1 (``--limit``, ``--bins``, an id)."""
    value = not_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def not_negative(text: str) -> int:
    """A whole number of at least 0 (``--offset``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """``--format text|json`` and ``--store URL``, for the commands that read the store."""
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--store", help="results store URL")
