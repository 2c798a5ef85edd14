"""Profiles and current counts from numpy arrays, with the engines' exact semantics: a
test oracle (no part of the package).

For benchmarks and tests that generate millions of values: the same discrete quantiles
(the smallest value whose rank is at least ``q * n``), the same bins (a value equal to
an edge belongs to the bin above it) and the same categories as the SQL engines, without
writing the data to a file first. numpy is imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from airflow_opsguard.drift.observations import CurrentColumn
from airflow_opsguard.drift.profile import (
    DEFAULT_BINS,
    DEFAULT_TOP,
    CategoricalSummary,
    Category,
    ColumnProfile,
    NumericSummary,
)
from airflow_opsguard.engines.drift_sql import quantile_fractions


def numeric_profile(
    name: str, values: Any, *, column_type: str = "float", bins: int = DEFAULT_BINS
) -> ColumnProfile:
    """The profile of a number column from an array (NaN stands for null)."""
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    present = array[~np.isnan(array)]
    base: dict[str, Any] = {
        "name": name,
        "type": column_type,
        "native_type": str(array.dtype),
        "count": int(present.size),
        "nulls": int(array.size - present.size),
    }
    if not present.size:
        return ColumnProfile(**base)
    fractions = quantile_fractions(bins)
    ordered = np.sort(present)
    at = {f: float(ordered[max(1, math.ceil(f * ordered.size)) - 1]) for f in fractions}
    edges = sorted({at[f] for f in fractions if (f * bins).denominator == 1})
    counts = histogram(edges, ordered)
    index = np.searchsorted(np.asarray(edges), ordered, side="right")
    sums = np.bincount(index, weights=ordered, minlength=len(edges) + 1)
    summary = NumericSummary(
        edges=tuple(edges),
        counts=counts,
        minimum=float(ordered[0]),
        maximum=float(ordered[-1]),
        mean=float(ordered.mean()),
        std=float(ordered.std(ddof=1)) if ordered.size > 1 else None,
        p25=at[Fraction(1, 4)],
        median=at[Fraction(1, 2)],
        p75=at[Fraction(3, 4)],
        means=tuple(float(s / n) if n else None for s, n in zip(sums, counts, strict=True)),
    )
    return ColumnProfile(**base, numeric=summary)


def histogram(edges: Sequence[float], values: Any) -> tuple[int, ...]:
    """Counts of the bins over ``edges`` (open at both ends; an edge opens its bin)."""
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    array = array[~np.isnan(array)]
    index = np.searchsorted(np.asarray(edges, dtype=np.float64), array, side="right")
    return tuple(int(c) for c in np.bincount(index, minlength=len(edges) + 1))


def categorical_profile(
    name: str,
    values: Sequence[Category | None] | Any,
    *,
    column_type: str = "string",
    top: int = DEFAULT_TOP,
) -> ColumnProfile:
    """The profile of a string or boolean column (None stands for null)."""
    found = _value_counts(values)
    nulls = found.pop(None, 0)
    ordered = sorted(found.items(), key=lambda item: (-item[1], item[0]))
    kept = ordered[:top]
    count = sum(found.values())
    summary = CategoricalSummary(
        top=tuple((v, n) for v, n in kept),
        other=count - sum(n for _, n in kept),
        distinct=len(found),
    )
    return ColumnProfile(
        name=name,
        type=column_type,
        native_type=column_type,
        count=count,
        nulls=nulls,
        categorical=summary,
    )


def current_column(reference: ColumnProfile, values: Any, *, unseen: int = 10) -> CurrentColumn:
    """Current values over the reference's cells, as the engines measure them."""
    import numpy as np

    if reference.numeric is not None:
        array = np.asarray(values, dtype=np.float64)
        present = array[~np.isnan(array)]
        return CurrentColumn(
            count=int(present.size),
            nulls=int(array.size - present.size),
            cells=histogram(reference.numeric.edges, present),
            minimum=float(present.min()) if present.size else None,
            maximum=float(present.max()) if present.size else None,
            mean=float(present.mean()) if present.size else None,
            std=float(present.std(ddof=1)) if present.size > 1 else None,
        )
    assert reference.categorical is not None
    found = _value_counts(values)
    nulls = found.pop(None, 0)
    listed = reference.categorical.values
    counts = [found.pop(v, 0) for v in listed]
    rest = sorted(found.items(), key=lambda item: (-item[1], item[0]))
    return CurrentColumn(
        count=sum(counts) + sum(found.values()),
        nulls=nulls,
        cells=(*counts, sum(found.values())),
        unseen=tuple((v, n) for v, n in rest[:unseen]),
    )


def _value_counts(values: Any) -> dict[Any, int]:
    import numpy as np

    array = np.asarray(values, dtype=object)
    uniques, counts = np.unique(array[array != None], return_counts=True)  # noqa: E711
    found: dict[Any, int] = {_plain(v): int(n) for v, n in zip(uniques, counts, strict=True)}
    nulls = int(np.sum(array == None))  # noqa: E711
    if nulls:
        found[None] = nulls
    return found


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    return item() if callable(item) else value
