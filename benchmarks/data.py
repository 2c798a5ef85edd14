"""Deterministic, realistic order data, written as Parquet in bounded memory.

Row group ``i`` depends only on the seed and ``i``, so a file of N rows is the first N
rows of any larger file, and generating 100M rows never holds more than one row group
(1M rows, about 70 MB) in memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks.agreement import ANCHOR, COUNTRIES, STATUSES

SEED = 20261126
ROW_GROUP = 1_000_000
HISTORY = timedelta(days=90)

COUNTRY_WEIGHTS = (0.34, 0.16, 0.12, 0.11, 0.07, 0.06, 0.05, 0.04, 0.03, 0.02)
BAD_COUNTRIES = ("XX", "USA", "de", "")  # out of the set; "USA" and "" also fail length
STATUS_WEIGHTS = (0.08, 0.12, 0.2, 0.5, 0.06, 0.04)
NAMES = (
    "anna", "ben", "chloe", "david", "emma", "felix", "grace", "hugo", "ines", "jonas",
    "karin", "leo", "maria", "noah", "olga", "paul", "queenie", "rafael", "sofia", "tom",
)  # fmt: skip
DOMAINS = ("example.com", "mail.example.org", "shop.example.net", "corp.example.de")

# Rates of the data problems the contract must find.
AMOUNT_NULL_RATE = 0.0005
AMOUNT_NEGATIVE_RATE = 0.0001
BAD_COUNTRY_RATE = 0.0002
EMAIL_NULL_RATE = 0.0001
BAD_EMAIL_RATE = 0.0003

SCHEMA = pa.schema(
    [
        ("order_id", pa.int64()),
        ("amount", pa.float64()),
        ("country", pa.string()),
        ("email", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("status", pa.string()),
    ]
)


@dataclass(frozen=True)
class DataFile:
    path: Path
    rows: int
    file_bytes: int
    uncompressed_bytes: int  # Parquet's own figure: the column data once decoded
    arrow_bytes: int  # what the table occupies in memory as Arrow


def row_group(index: int, rows: int) -> pa.Table:
    """Rows ``index * ROW_GROUP`` onwards: ``rows`` of them, the same on every call."""
    rng = np.random.default_rng([SEED, index])
    start = index * ROW_GROUP
    # Unique ids, increasing from one row group to the next, shuffled inside it (orders
    # written by several workers): no sorted-key shortcut applies.
    order_id = 10_000_000 + start + rng.permutation(rows).astype(np.int64)

    amount = np.round(rng.lognormal(mean=3.6, sigma=1.1, size=rows), 2)
    amount[rng.random(rows) < AMOUNT_NEGATIVE_RATE] *= -1  # refunds booked as orders
    amount_null = rng.random(rows) < AMOUNT_NULL_RATE

    country_idx = rng.choice(len(COUNTRIES), size=rows, p=COUNTRY_WEIGHTS)
    bad = rng.random(rows) < BAD_COUNTRY_RATE
    country_idx[bad] = len(COUNTRIES) + rng.integers(0, len(BAD_COUNTRIES), int(bad.sum()))
    country = _strings(country_idx, (*COUNTRIES, *BAD_COUNTRIES))

    customer = rng.integers(1, 5_000_000, rows)
    name = _strings(rng.integers(0, len(NAMES), rows), NAMES)
    domain = _strings(rng.integers(0, len(DOMAINS), rows), DOMAINS)
    number = pc.cast(pa.array(customer), pa.string())
    good = pc.binary_join_element_wise(name, number, "@", domain, "")
    broken = pc.binary_join_element_wise(name, number, ".", domain, "")  # no "@"
    email = pc.if_else(pa.array(rng.random(rows) < BAD_EMAIL_RATE), broken, good)
    email_null = pa.array(rng.random(rows) < EMAIL_NULL_RATE)
    email = pc.if_else(email_null, pa.nulls(rows, pa.string()), email)

    span = int(HISTORY.total_seconds() * 1_000_000)
    newest = int((ANCHOR - datetime(1970, 1, 1)).total_seconds() * 1_000_000)
    created = newest - rng.integers(0, span, rows)
    status = _strings(rng.choice(len(STATUSES), size=rows, p=STATUS_WEIGHTS), STATUSES)

    return pa.table(
        [
            pa.array(order_id),
            pa.array(amount, mask=amount_null),
            country,
            email,
            pa.array(created, type=pa.timestamp("us")),
            status,
        ],
        schema=SCHEMA,
    )


def _strings(indices: np.ndarray, values: tuple[str, ...]) -> pa.Array:
    dictionary = pa.DictionaryArray.from_arrays(
        pa.array(indices.astype(np.int32)), pa.array(values)
    )
    return dictionary.dictionary_decode()


def ensure(directory: Path, rows: int, *, log: bool = True) -> DataFile:
    """The Parquet file of ``rows`` orders under ``directory``, generated if missing."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"orders_{_label(rows)}.parquet"
    if not _complete(path, rows):
        if log:
            print(f"  generating {path} ({rows:,} rows)", flush=True)
        partial = path.with_suffix(".partial")
        with pq.ParquetWriter(partial, SCHEMA, compression="zstd") as writer:
            for index, start in enumerate(range(0, rows, ROW_GROUP)):
                writer.write_table(row_group(index, min(ROW_GROUP, rows - start)))
        os.replace(partial, path)
    return describe(path)


def describe(path: Path) -> DataFile:
    meta = pq.ParquetFile(path).metadata
    uncompressed = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    # Arrow size from the first row group, scaled: reading the whole file is the point
    # of the memory benchmark not to do.
    first = pq.ParquetFile(path).read_row_group(0)
    arrow = int(first.nbytes * meta.num_rows / max(first.num_rows, 1))
    return DataFile(path, meta.num_rows, path.stat().st_size, uncompressed, arrow)


def _complete(path: Path, rows: int) -> bool:
    if not path.exists():
        return False
    try:
        return bool(pq.ParquetFile(path).metadata.num_rows == rows)
    except (OSError, pa.ArrowInvalid):
        return False


def _label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)
