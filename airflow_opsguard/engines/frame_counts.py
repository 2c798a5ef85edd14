"""What in-memory data knows without a scan: its rows, and its columns' null counts.

An Arrow array keeps its null count beside its validity bitmap, so a not-null check or a
null fraction over an Arrow column (an Arrow table, a polars DataFrame turned into one, a
pandas column backed by Arrow, as pandas 3 keeps text) costs nothing, where DuckDB would
convert every value of the column into its own strings to count them. A numpy integer or
boolean column holds no nulls at all; numpy floats and timestamps count theirs (NaN,
NaT, which DuckDB reads as null) quickly. Other columns (object columns, Arrow floats)
are left to the scan, which counts them as it always does.
"""

from __future__ import annotations

from typing import Any

from airflow_opsguard.engines.plan import KnownCounts


def known_counts(data: Any) -> KnownCounts | None:
    """The rows and the null counts known for ``data`` (what DuckDB scans: a pandas
    DataFrame or an Arrow table), or None for anything else."""
    module = type(data).__module__.split(".")[0]
    if module == "pyarrow" and hasattr(data, "num_rows") and hasattr(data, "column_names"):
        names = list(data.column_names)
        if not _distinct(names):
            return None
        return KnownCounts(
            int(data.num_rows), {n: int(data.column(i).null_count) for i, n in enumerate(names)}
        )
    if module == "pandas" and hasattr(data, "dtypes") and hasattr(data, "columns"):
        return _pandas_counts(data)
    return None


def _pandas_counts(frame: Any) -> KnownCounts | None:
    names = list(frame.columns)
    if not all(isinstance(n, str) for n in names) or not _distinct(names):
        return None
    nulls: dict[str, int] = {}
    for index, name in enumerate(names):
        column = frame.iloc[:, index]
        kind = getattr(column.dtype, "kind", None)
        if type(column.dtype).__module__.startswith("numpy") and kind in ("i", "u", "b"):
            nulls[name] = 0  # numpy integers and booleans cannot be null
            continue
        if type(column.dtype).__module__.startswith("numpy") and kind in ("f", "M", "m"):
            # DuckDB reads NaN and NaT as null, as isna() counts them (a millisecond for
            # a million values, a fraction of the scan's CASE over them).
            nulls[name] = int(column.isna().sum())
            continue
        arrow = _arrow_of(column)
        if arrow is not None:
            nulls[name] = int(arrow.null_count)
    return KnownCounts(len(frame), nulls)


def _distinct(names: list[str]) -> bool:
    """DuckDB renames columns whose names differ in case only (or not at all), and names
    columns that are not strings itself: such data is left to the scan."""
    return len({n.lower() for n in names}) == len(names)


def _arrow_of(column: Any) -> Any:
    """The Arrow data under a pandas column backed by Arrow (``string[pyarrow]``,
    pandas 3's ``str``, ``ArrowDtype``), without a copy; None for other columns."""
    storage = getattr(column.dtype, "storage", None)
    if storage not in ("pyarrow", "pyarrow_numpy") and type(column.dtype).__name__ != "ArrowDtype":
        return None
    import pyarrow as pa

    try:
        arrow = column.array.__arrow_array__()  # the arrays pandas holds, not a copy
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, AttributeError):
        return None
    if pa.types.is_floating(arrow.type):
        return None  # a NaN in Arrow is no null; left to the scan, whatever DuckDB makes of it
    return arrow
