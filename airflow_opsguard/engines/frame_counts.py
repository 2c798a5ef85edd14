"""Plain counts that in-memory data answers without DuckDB's scan.

An Arrow array keeps its null count beside its validity bitmap, so a not-null check or a
null fraction over an Arrow column (an Arrow table, a polars DataFrame turned into one, a
pandas column backed by Arrow, as pandas 3 keeps text) costs nothing, where DuckDB would
convert every value of the column into its own strings to count them. A numpy integer or
boolean column holds no nulls at all; numpy floats and timestamps count theirs (NaN,
NaT, which DuckDB reads as null) quickly. An allowed set over Arrow text is counted with
Arrow's hash lookup (``is_in``), several times cheaper than DuckDB's comparison of each
value with each allowed one; its samples are taken from the same lookup, as DuckDB's
sample query takes them (the first distinct values, in row order). Other columns (object
columns, Arrow floats) are left to the scan, which counts them as it always does.

An integer column without nulls is proven unique in numpy, without DuckDB's GROUP BY or
the connection beside the scan that runs it: values in strictly rising (or falling)
order are distinct, as most id columns are, and a dense range is checked with a bitmap
of one byte per possible value. A column this cannot prove unique is grouped as before, which
finds its duplicates and their values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_opsguard.engines.plan import PlainCount

# A bitmap of a unique column's range is worth it while its range is at most DENSITY
# times its values: one byte per slot, at most half the bytes of the 64-bit values.
DENSITY = 4
CHUNK = 1 << 20  # values offset into the bitmap at a time, to bound the copy


@dataclass
class FrameCounts:
    """The rows of in-memory data, the null counts of some columns and the Arrow arrays
    of its text columns: a :data:`~airflow_opsguard.engines.plan.Counter`."""

    rows: int
    nulls: dict[str, int] = field(default_factory=dict)
    texts: dict[str, Any] = field(default_factory=dict)  # column -> Arrow (chunked) array
    # column -> its values as numpy integer arrays (chunks, in row order), no nulls
    integers: dict[str, list[Any]] = field(default_factory=dict)
    # (column, values) -> which values of the column are in the set, once computed
    _members: dict[tuple[str, tuple[str, ...]], Any] = field(default_factory=dict)

    def __call__(self, count: PlainCount) -> int | None:
        if count.what == "rows":
            return self.rows
        column = count.column
        if column is None or column not in self.nulls:
            return None
        if count.what == "nulls":
            return self.nulls[column]
        if count.what == "values":
            return self.rows - self.nulls[column]
        if count.what in ("in", "not_in") and column in self.texts:
            import pyarrow.compute as pc

            inside = int(pc.sum(self._in_set(column, count.values)).as_py() or 0)
            return inside if count.what == "in" else self.rows - self.nulls[column] - inside
        return None

    def samples(self, count: PlainCount, limit: int) -> tuple[Any, ...] | None:
        """The first distinct values, in row order, of the rows an ``in``/``not_in``
        count counted: as the engine's sample query asks, ``limit`` rows and then ten
        times as many when those repeat a value."""
        column = count.column
        if count.what not in ("in", "not_in") or column is None or column not in self.texts:
            return None
        import pyarrow.compute as pc

        member = self._in_set(column, count.values)
        values = self.texts[column]  # as _in_set left it
        if count.what == "not_in":
            member = pc.and_(pc.is_valid(values), pc.invert(member))
        failing = pc.filter(values, member)
        distinct: dict[Any, None] = {}
        for wanted in (limit, limit * 10):
            rows = failing.slice(0, wanted).to_pylist()
            distinct = {}
            for row in rows:
                distinct.setdefault(row, None)
                if len(distinct) == limit:
                    break
            if len(distinct) == limit or len(rows) < wanted:
                break
        return tuple(distinct)

    def proves_unique(self, column: str) -> bool:
        chunks = self.integers.get(column)
        return chunks is not None and distinct_integers(chunks)

    def _in_set(self, column: str, values: tuple[str, ...]) -> Any:
        """Which values of ``column`` equal one of ``values``, exactly (nulls: false)."""
        key = (column, values)
        if key not in self._members:
            import pyarrow as pa
            import pyarrow.compute as pc

            arrow = self.texts[column]
            if _is_view(arrow.type):  # is_in has no kernel for views
                arrow = self.texts[column] = pc.cast(arrow, pa.large_string())
            found = pc.is_in(arrow, value_set=pa.array(values, type=arrow.type))
            self._members[key] = pc.fill_null(found, False)
        return self._members[key]


def known_counts(data: Any) -> FrameCounts | None:
    """What ``data`` (what DuckDB scans: a pandas DataFrame or an Arrow table) answers
    without a scan, or None for anything else."""
    module = type(data).__module__.split(".")[0]
    if module == "pyarrow" and hasattr(data, "num_rows") and hasattr(data, "column_names"):
        names = list(data.column_names)
        if not _distinct(names):
            return None
        found = FrameCounts(int(data.num_rows))
        for index, name in enumerate(names):
            _add_arrow(found, name, data.column(index))
        return found
    if module == "pandas" and hasattr(data, "dtypes") and hasattr(data, "columns"):
        return _pandas_counts(data)
    return None


def _pandas_counts(frame: Any) -> FrameCounts | None:
    names = list(frame.columns)
    if not all(isinstance(n, str) for n in names) or not _distinct(names):
        return None
    found = FrameCounts(len(frame))
    for index, name in enumerate(names):
        column = frame.iloc[:, index]
        kind = getattr(column.dtype, "kind", None)
        numpy = type(column.dtype).__module__.startswith("numpy")
        if numpy and kind in ("i", "u", "b"):
            found.nulls[name] = 0  # numpy integers and booleans cannot be null
            if kind != "b":
                found.integers[name] = [column.to_numpy()]
        elif numpy and kind in ("f", "M", "m"):
            # DuckDB reads NaN and NaT as null (half a millisecond for a million values,
            # a fraction of the scan's CASE over them).
            import numpy as np

            values = column.to_numpy()
            missing = np.isnan(values) if kind == "f" else np.isnat(values)
            found.nulls[name] = int(np.count_nonzero(missing))
        else:
            arrow = _arrow_of(column)
            if arrow is not None:
                _add_arrow(found, name, arrow)
    return found


def _add_arrow(found: FrameCounts, name: str, arrow: Any) -> None:
    import pyarrow as pa

    found.nulls[name] = int(arrow.null_count)
    kind = arrow.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or _is_view(kind):
        found.texts[name] = arrow
    elif pa.types.is_integer(kind) and arrow.null_count == 0:
        chunks = arrow.chunks if hasattr(arrow, "chunks") else [arrow]
        # Arrow integers without nulls are numpy arrays without a copy.
        found.integers[name] = [c.to_numpy(zero_copy_only=True) for c in chunks if len(c)]


def _is_view(kind: Any) -> bool:
    """Arrow's string views (polars' text), which pyarrow before 16 does not know."""
    import pyarrow as pa

    is_view = getattr(pa.types, "is_string_view", None)
    return bool(is_view is not None and is_view(kind))


def distinct_integers(chunks: list[Any]) -> bool:
    """Whether the integers of ``chunks`` (numpy arrays, in row order) are all distinct,
    when that is quick to prove: False when they repeat, or when their range is too
    sparse for a bitmap and they are not in order."""
    import numpy as np

    total = sum(len(c) for c in chunks)
    if total < 2:
        return True
    if _strictly_monotonic(chunks):
        return True
    low = min(int(c.min()) for c in chunks if len(c))
    high = max(int(c.max()) for c in chunks if len(c))
    span = high - low + 1  # Python integers: no overflow at the ends of int64/uint64
    if span < total:
        return False  # fewer possible values than values: some repeat
    if span > DENSITY * total:
        return False
    seen = np.zeros(span, dtype=np.bool_)
    for chunk in chunks:
        for start in range(0, len(chunk), CHUNK):
            part = chunk[start : start + CHUNK]
            # In the column's own type: every value is at least low, and the offsets
            # are below the span, so nothing overflows.
            seen[part - part.dtype.type(low)] = True
    return int(np.count_nonzero(seen)) == total


def _strictly_monotonic(chunks: list[Any]) -> bool:
    """Whether the values rise (or fall) from each to the next, across chunks too."""
    for rising in (True, False):
        previous: Any = None
        for chunk in chunks:
            if not len(chunk):
                continue
            before, after = (chunk[:-1], chunk[1:]) if rising else (chunk[1:], chunk[:-1])
            if not (after > before).all():
                break
            if previous is not None and not (
                chunk[0] > previous if rising else chunk[0] < previous
            ):
                break
            previous = chunk[-1]
        else:
            return True
    return False


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
