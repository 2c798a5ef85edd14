"""Profiles: compact, versioned summaries of a dataset's distributions.

A profile holds, per column, its type, how many values and nulls it has, and

- for numbers: bin edges at the column's quantiles (``bins`` bins of equal mass, equal
  edges merged), the count and the mean of each bin, min, max, mean, standard
  deviation and quartiles;
- for categories (strings, booleans): the ``top`` most frequent values with their
  counts, and the count of every other value together (``other``).

The bins are open at both ends: the first holds every value below the first edge, the
last every value from the last edge up (JSON has no infinity, so the ends are implied).
Bin ``i`` is ``[edges[i-1], edges[i])``: a value equal to an edge belongs to the bin
above it. ``opsguard profile`` writes one; a contract's ``distribution.reference`` reads
one (or profiles data). The JSON object carries ``"opsguard_profile": <version>``;
another version is refused with a message that says what to do.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from airflow_opsguard.errors import OpsGuardError

PROFILE_KEY = "opsguard_profile"
PROFILE_VERSION = 1
DEFAULT_BINS = 20
DEFAULT_TOP = 50
NUMERIC_TYPES = frozenset({"integer", "float", "decimal"})
CATEGORICAL_TYPES = frozenset({"string", "boolean"})

Kind = Literal["numeric", "categorical"]
Category = str | bool


class ProfileError(OpsGuardError, ValueError):
    """A profile cannot be read: not JSON, not a profile, or a version this release does
    not read. The message names the file."""


def kind_of(column_type: str | None) -> Kind | None:
    """How a column of this contract type is profiled: binned numbers, categories, or
    not at all (dates, timestamps, and types that map onto none)."""
    if column_type in NUMERIC_TYPES:
        return "numeric"
    if column_type in CATEGORICAL_TYPES:
        return "categorical"
    return None


@dataclass(frozen=True)
class NumericSummary:
    """A number column: quantile bins and moments. ``counts`` and ``means`` (the mean of
    the values in each bin, None for an empty bin) have one more entry than ``edges``."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    minimum: float | None  # None: not finite (the column holds infinities)
    maximum: float | None
    mean: float | None
    std: float | None
    p25: float | None
    median: float | None
    p75: float | None
    means: tuple[float | None, ...] = ()

    def __post_init__(self) -> None:
        if len(self.counts) != len(self.edges) + 1:
            raise ValueError(f"{len(self.edges)} edges need {len(self.edges) + 1} bin counts")
        if self.means and len(self.means) != len(self.counts):
            raise ValueError(f"{len(self.counts)} bins need {len(self.counts)} bin means")
        if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
            raise ValueError("bin edges must be strictly ascending")

    def bin_label(self, index: int) -> str:
        """``< 3``, ``[3, 7.5)``, ``>= 42``: how a bin reads in messages."""
        return bin_label(self.edges, index)


def bin_label(edges: Sequence[float], index: int) -> str:
    """How bin ``index`` of bins open at both ends between ``edges`` reads: ``< 3``,
    ``[3, 7.5)``, ``>= 42`` (``all values`` without edges)."""
    if not edges:
        return "all values"
    if index == 0:
        return f"< {_number(edges[0])}"
    if index == len(edges):
        return f">= {_number(edges[-1])}"
    return f"[{_number(edges[index - 1])}, {_number(edges[index])})"


@dataclass(frozen=True)
class CategoricalSummary:
    """A string or boolean column: its most frequent values with their counts, most
    frequent first, and how many values are none of them (``other``)."""

    top: tuple[tuple[Category, int], ...]
    other: int
    distinct: int | None = None

    @property
    def values(self) -> tuple[Category, ...]:
        return tuple(value for value, _ in self.top)

    @property
    def complete(self) -> bool:
        """True when ``top`` lists every value the column had."""
        return self.other == 0


@dataclass(frozen=True)
class ColumnProfile:
    """One column: its type, how many values and nulls, and its distribution."""

    name: str
    type: str | None
    native_type: str
    count: int  # values that are not null
    nulls: int
    numeric: NumericSummary | None = None
    categorical: CategoricalSummary | None = None

    @property
    def rows(self) -> int:
        return self.count + self.nulls

    @property
    def null_fraction(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    @property
    def kind(self) -> Kind | None:
        return kind_of(self.type)


@dataclass(frozen=True)
class Profile:
    """A dataset's profile: rows and one :class:`ColumnProfile` per column."""

    rows: int
    columns: tuple[ColumnProfile, ...]
    source: str | None = None
    created_at: str | None = None
    bins: int = DEFAULT_BINS
    top: int = DEFAULT_TOP
    version: int = field(default=PROFILE_VERSION)

    def column(self, name: str) -> ColumnProfile | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    # ---------------------------------------------------------------- JSON

    def to_dict(self) -> dict[str, Any]:
        return {
            PROFILE_KEY: self.version,
            "source": self.source,
            "created_at": self.created_at,
            "rows": self.rows,
            "bins": self.bins,
            "top": self.top,
            "columns": {c.name: _column_dict(c) for c in self.columns},
        }

    def to_json(self, indent: int | None = None) -> str:
        """Compact JSON (``indent`` for people); no NaN or infinity, so any reader takes it."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Any, *, origin: str = "the profile") -> Profile:
        """A profile from its JSON object; raises :class:`ProfileError` naming ``origin``."""
        if not isinstance(data, Mapping) or PROFILE_KEY not in data:
            raise ProfileError(f"{origin}: not an opsguard profile (no {PROFILE_KEY!r} key)")
        version = data[PROFILE_KEY]
        if version != PROFILE_VERSION:
            raise ProfileError(
                f"{origin}: an opsguard profile of version {version!r}; this release reads "
                f"version {PROFILE_VERSION}: write it again with `opsguard profile`"
            )
        try:
            columns = data["columns"]
            if not isinstance(columns, Mapping):
                raise TypeError("'columns' is not a mapping")
            return cls(
                rows=_int(data["rows"]),
                columns=tuple(_column(name, raw) for name, raw in columns.items()),
                source=data.get("source"),
                created_at=data.get("created_at"),
                bins=_int(data.get("bins", DEFAULT_BINS)),
                top=_int(data.get("top", DEFAULT_TOP)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            what = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ProfileError(f"{origin}: not a valid opsguard profile: {what}") from None

    @classmethod
    def from_json(cls, text: str, *, origin: str = "the profile") -> Profile:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ProfileError(f"{origin}: not JSON: {exc}") from None
        return cls.from_dict(data, origin=origin)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Profile:
        """Read a profile file (local path or fsspec URL)."""
        location = os.fspath(path)
        return cls.from_json(read_text(location), origin=location)

    def write(self, path: str | os.PathLike[str], *, indent: int | None = None) -> None:
        """Write the profile as JSON, atomically for local files."""
        location = os.fspath(path)
        text = self.to_json(indent) + "\n"
        if "://" in location:
            import fsspec

            with fsspec.open(location, "w", encoding="utf-8") as handle:
                handle.write(text)
            return
        target = Path(location)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)


def read_text(location: str, limit: int = -1) -> str:
    """The text of a local file or an fsspec URL (its first ``limit`` characters when
    given); :class:`ProfileError` when unreadable."""
    try:
        if "://" in location:
            import fsspec

            with fsspec.open(location, "r", encoding="utf-8") as handle:
                return str(handle.read(limit))
        with open(location, encoding="utf-8") as local:
            return local.read(limit)
    except FileNotFoundError:
        raise ProfileError(f"{location}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{location}: cannot read it: {exc}") from None


def looks_like_profile(location: str) -> bool:
    """Whether a reference names a profile (JSON carrying our key) rather than data.

    Only ``.json`` files are opened to look; JSON data (an array, or objects without our
    key) is data.
    """
    if not location.lower().endswith(".json"):
        return False
    try:
        head = read_text(location, 4096)
    except ProfileError:
        return True  # let reading it as a profile say what is wrong
    return head.lstrip().startswith("{") and f'"{PROFILE_KEY}"' in head


# ------------------------------------------------------------------------------ JSON helpers


def _number(value: float) -> str:
    return f"{value:.6g}"


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _column_dict(column: ColumnProfile) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": column.type,
        "native_type": column.native_type,
        "count": column.count,
        "nulls": column.nulls,
        "null_fraction": round(column.null_fraction, 6),
    }
    if column.numeric is not None:
        n = column.numeric
        out.update(
            min=_finite(n.minimum),
            max=_finite(n.maximum),
            mean=_finite(n.mean),
            std=_finite(n.std),
            p25=_finite(n.p25),
            median=_finite(n.median),
            p75=_finite(n.p75),
            edges=list(n.edges),
            counts=list(n.counts),
            means=[_finite(m) for m in n.means],
        )
    if column.categorical is not None:
        c = column.categorical
        out.update(top=[[value, count] for value, count in c.top], other=c.other)
        if c.distinct is not None:
            out["distinct"] = c.distinct
    return out


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{value!r} is not a count")
    return value


def _float(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what}: {value!r} is not a number")
    return float(value)


def _maybe_float(value: Any, what: str) -> float | None:
    return None if value is None else _float(value, what)


def _column(name: Any, raw: Any) -> ColumnProfile:
    if not isinstance(name, str) or not isinstance(raw, Mapping):
        raise ValueError(f"column {name!r} is not a mapping")
    numeric: NumericSummary | None = None
    categorical: CategoricalSummary | None = None
    where = f"columns.{name}"
    if "edges" in raw:
        means = raw.get("means") or []
        if not isinstance(means, Sequence):
            raise ValueError(f"{where}.means: give a list of numbers or nulls")
        numeric = NumericSummary(
            edges=tuple(_float(e, f"{where}.edges") for e in raw["edges"]),
            counts=tuple(_int(c) for c in raw["counts"]),
            minimum=_maybe_float(raw["min"], f"{where}.min"),
            maximum=_maybe_float(raw["max"], f"{where}.max"),
            mean=_maybe_float(raw["mean"], f"{where}.mean"),
            std=_maybe_float(raw.get("std"), f"{where}.std"),
            p25=_maybe_float(raw["p25"], f"{where}.p25"),
            median=_maybe_float(raw["median"], f"{where}.median"),
            p75=_maybe_float(raw["p75"], f"{where}.p75"),
            means=tuple(_maybe_float(m, f"{where}.means") for m in means),
        )
    if "top" in raw:
        top: list[tuple[Category, int]] = []
        for entry in raw["top"]:
            if (
                not isinstance(entry, Sequence)
                or isinstance(entry, str)
                or len(entry) != 2
                or not isinstance(entry[0], str | bool)
            ):
                raise ValueError(f"{where}.top: {entry!r} is not a [value, count] pair")
            top.append((entry[0], _int(entry[1])))
        distinct = raw.get("distinct")
        categorical = CategoricalSummary(
            top=tuple(top),
            other=_int(raw["other"]),
            distinct=None if distinct is None else _int(distinct),
        )
    column_type = raw.get("type")
    if column_type is not None and not isinstance(column_type, str):
        raise ValueError(f"{where}.type: {column_type!r} is not a type name")
    return ColumnProfile(
        name=name,
        type=column_type,
        native_type=str(raw.get("native_type", column_type or "")),
        count=_int(raw["count"]),
        nulls=_int(raw["nulls"]),
        numeric=numeric,
        categorical=categorical,
    )
