"""The whole reference and current distribution of a column, as a drift result keeps it.

A distribution check's ``metrics["histogram"]`` holds the shares of every cell the
statistics compared: each bin of a number column (the reference's bins, the open-ended
first and last included) or each of the reference's top categories and "other". The
UI draws it; people and tools read it from the stored JSON. Its shape is stable
(documented in docs/drift.md)::

    {"cells": "bins",                 # or "categories"
     "labels": ["< 3", "[3, 7.5)", ">= 7.5"],
     "edges": [3, 7.5],               # bins only: the edges between the cells
     "reference": [0.32, 0.35, 0.33], # shares of the values that are not null
     "current": [0.30, 0.36, 0.34],
     "merged": 1,                     # bins only: reference bins per cell
     "folded": 0,                     # categories only: categories counted in "other"
     "withheld": false}               # categories only: labels are ranks, not values

A result stays small whatever the contract's ``bins`` (up to 1,000) and ``top`` (up to
10,000): beyond :data:`MAX_CELLS` cells adjacent bins are merged (their shares add up)
and the rarer categories are counted in "other"; a category name longer than
:data:`LABEL_CHARACTERS` is cut. With ``samples: false`` the category
names, which are values, are withheld: the cells keep their shares under neutral labels
(``#1`` is the reference's most frequent value).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from airflow_opsguard.drift.observations import CurrentColumn
from airflow_opsguard.drift.profile import Category, ColumnProfile, bin_label

MAX_CELLS = 60  # the most cells a result keeps (20 bins and 51 categories by default)
LABEL_CHARACTERS = 80  # a longer category name is cut: the label names, it does not quote
OTHER = "(other)"


def histogram(
    reference: ColumnProfile, current: CurrentColumn, *, withhold: bool = False
) -> dict[str, Any]:
    """The reference's and the current shares of every cell, bounded to MAX_CELLS."""
    if reference.numeric is not None:
        return _bins(reference.numeric.edges, reference.numeric.counts, current.cells)
    assert reference.categorical is not None
    c = reference.categorical
    return _categories(c.values, [n for _, n in c.top], c.other, current.cells, withhold)


def _bins(edges: Sequence[float], counts: Sequence[int], now: Sequence[int]) -> dict[str, Any]:
    size = math.ceil(len(counts) / MAX_CELLS)
    starts = range(0, len(counts), size)
    kept = [edges[start - 1] for start in starts if start > 0]  # the edges between groups
    return {
        "cells": "bins",
        "labels": [bin_label(kept, i) for i in range(len(kept) + 1)],
        "edges": list(kept),
        "reference": _shares([sum(counts[s : s + size]) for s in starts]),
        "current": _shares([sum(now[s : s + size]) for s in starts]),
        "merged": size,
    }


def _categories(
    values: Sequence[Category],
    counts: Sequence[int],
    other: int,
    now: Sequence[int],
    withhold: bool,
) -> dict[str, Any]:
    keep = min(len(values), MAX_CELLS - 1)
    reference = [*counts[:keep], other + sum(counts[keep:])]
    current = [*now[:keep], sum(now[keep:])]  # the rest, then the current "other"
    names = [f"#{i + 1}" if withhold else _text(v) for i, v in enumerate(values[:keep])]
    return {
        "cells": "categories",
        "labels": [*names, OTHER],
        "reference": _shares(reference),
        "current": _shares(current),
        "folded": len(values) - keep,
        "withheld": withhold,
    }


def _text(value: Category) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if len(value) > LABEL_CHARACTERS:
        return value[: LABEL_CHARACTERS - 1] + "…"
    return value


def _shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [round(n / total, 4) if total else 0.0 for n in counts]
