"""Uniqueness of an integer column proven with a bitmap, in DuckDB.

Most unique columns are integer ids in a dense range (a sequence, a day's slice of
one). Over such a range DuckDB's ``bitstring_agg`` sets one bit per value, and the bits
set are the distinct values: as many as the non-null values proves the column unique.
It is exact, reads the column once more after a min/max, and takes about a twentieth
of the CPU of ``count(DISTINCT ...)``'s hash table (ten million ids: 0.07 s against
1.3 s). A sparse or huge range (random 64-bit keys) is left to ``count(DISTINCT ...)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from airflow_opsguard.engines.executor import DistinctCounter
    from airflow_opsguard.engines.plan import PlannedCheck

# DuckDB refuses a bitstring_agg range beyond this many values (measured, DuckDB 1.x/2.0).
MAX_BITS = 999_999_999
# A bitmap is worth it while at least one value in DENSITY of its range is present;
# below MIN_BITS the range is tiny anyway.
DENSITY = 32
MIN_BITS = 1 << 16


def bitmap_counter(memory_limit: int | None, threads: int) -> DistinctCounter:
    """A counter whose bitmaps (one per thread, while the query runs) take at most a
    quarter of ``memory_limit`` bytes (None: DuckDB's own limit, say 2 GB)."""
    budget = (memory_limit or 2_000_000_000) // 4
    max_bits = min(MAX_BITS, budget * 8 // max(threads, 1))

    def count(execute: Callable[[Any], Any], planned: PlannedCheck) -> tuple[int, int] | None:
        column = planned.distinct_column
        if column is None or not isinstance(column.type, sa.Integer):
            return None
        low, high, values = execute(
            sa.select(sa.func.min(column), sa.func.max(column), sa.func.count(column))
        ).one()
        if not values:
            return 0, 0
        bits = int(high) - int(low) + 1
        if bits > max_bits or bits > max(MIN_BITS, DENSITY * int(values)):
            return None
        # bitstring_agg takes its range as constants, not parameters: integers, printed.
        bitmap = sa.func.bitstring_agg(
            column, sa.literal_column(str(int(low))), sa.literal_column(str(int(high)))
        )
        distinct = execute(sa.select(sa.func.bit_count(bitmap))).scalar_one()
        return int(distinct), int(values)

    return count
