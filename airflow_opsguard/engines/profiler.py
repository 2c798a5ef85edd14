"""Compute profiles with the engines: DuckDB for files and DataFrames, SQL pushdown for
databases. Only aggregates cross the wire, as for checks.

A profile takes a few passes over the data, each one SELECT of aggregates (or, for
categories, one GROUP BY per column):

1. rows, values, min, max and mean per column; distinct values per category column;
   and the discrete quantiles of number columns in the same SELECT where the dialect
   has an aggregate for them (DuckDB ``quantile_disc``, PostgreSQL ``percentile_disc``);
   elsewhere one ranking query per number column (see :mod:`.aggregates`);
2. per number column, the counts below each bin edge, the sum of each bin (for its
   mean), and the squared deviations from the mean (a second pass: no cancellation);
3. per category column, its ``top`` most frequent values.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from airflow_opsguard.checks.observations import ObservedColumn
from airflow_opsguard.drift.profile import (
    DEFAULT_BINS,
    DEFAULT_TOP,
    CategoricalSummary,
    ColumnProfile,
    NumericSummary,
    Profile,
    kind_of,
)
from airflow_opsguard.engines.dialects import exact_text
from airflow_opsguard.engines.drift_sql import (
    QUANTILE_DIALECTS,
    as_float,
    below_counts,
    bin_counts,
    bin_sums,
    category_value,
    number,
    quantile_fractions,
    quantiles_aggregate,
    rank_of,
    ranked_values,
    top_values,
)
from airflow_opsguard.engines.opened import OpenedSource
from airflow_opsguard.engines.types import sqlalchemy_type
from airflow_opsguard.errors import DataSourceError


def profile(
    data: Any,
    table: str | None = None,
    columns: Sequence[str] | None = None,
    *,
    bins: int = DEFAULT_BINS,
    top: int = DEFAULT_TOP,
    file_format: str | None = None,
    now: datetime | None = None,
) -> Profile:
    """Profile ``data``: a path, glob or fsspec URL (Parquet, CSV, JSON Lines), a pandas
    DataFrame or Arrow table, or a database (a SQLAlchemy URL or engine) with ``table``.

    ``columns`` limits the profile to these columns (default: all). Number columns get
    ``bins`` quantile bins, string and boolean columns their ``top`` most frequent
    values. Raises :class:`DataSourceError` when the data cannot be read.
    """
    _check_sizes(bins, top)
    with open_source(data, table, file_format) as opened:
        return profile_opened(opened, columns, bins=bins, top=top, now=now)


def _check_sizes(bins: int, top: int) -> None:
    if not 2 <= bins <= 1000:
        raise DataSourceError(f"bins: {bins} is not between 2 and 1000")
    if not 1 <= top <= 10000:
        raise DataSourceError(f"top: {top} is not between 1 and 10000")


@contextmanager
def open_source(
    data: Any, table: str | None = None, file_format: str | None = None
) -> Iterator[OpenedSource]:
    """Open a file, DataFrame or database table for profiling."""
    from airflow_opsguard.engines.reading import open_source as open_resolved
    from airflow_opsguard.engines.sources import FileSource, database_source, resolve_source

    database = database_source(None, data, table or "?")
    if database is not None and table is None:
        raise DataSourceError(f"{database.where}: say which table to profile (--table NAME)")
    source = resolve_source(None, data, table)
    if isinstance(source, FileSource) and file_format:
        source = dataclasses.replace(source, format=file_format)
    with open_resolved(source) as opened:
        yield opened


def column_expression(source: Any, column: ObservedColumn) -> ColumnElement[Any]:
    """A column of the source as the plan reads it (text compared exactly everywhere)."""
    col = sa.column(column.name, sqlalchemy_type(column), _selectable=source)
    return exact_text(col) if column.type == "string" else col


def profile_opened(
    opened: OpenedSource,
    columns: Sequence[str] | None = None,
    *,
    bins: int = DEFAULT_BINS,
    top: int = DEFAULT_TOP,
    now: datetime | None = None,
) -> Profile:
    """Profile an opened source (see :func:`profile`)."""
    observed = {c.name: c for c in opened.columns}
    names = list(columns) if columns is not None else [c.name for c in opened.columns]
    missing = [n for n in names if n not in observed]
    if missing:
        known = ", ".join(repr(c) for c in observed) or "none"
        raise DataSourceError(f"{opened.name}: no column {missing[0]!r} (its columns: {known})")
    runner = _Profiler(opened, [observed[n] for n in dict.fromkeys(names)], bins, top)
    profiled = runner.run()
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return Profile(
        rows=runner.rows,
        columns=profiled,
        source=opened.name,
        created_at=moment.isoformat(timespec="seconds"),
        bins=bins,
        top=top,
    )


class _Profiler:
    def __init__(
        self, opened: OpenedSource, columns: list[ObservedColumn], bins: int, top: int
    ) -> None:
        self.opened = opened
        self.columns = columns
        self.bins = bins
        self.top = top
        self.fractions = quantile_fractions(bins)
        self.rows = 0
        self.cols = {c.name: column_expression(opened.relation, c) for c in columns}

    def execute(self, statement: Any) -> Any:
        try:
            return self.opened.connection.execute(statement)
        except sa.exc.DBAPIError as exc:
            connection = self.opened.connection
            if connection.in_transaction():
                connection.rollback()
            raise self.opened.explain(exc) from exc

    def run(self) -> tuple[ColumnProfile, ...]:
        first = self._first_pass()
        self.rows = int(first["rows"])
        numbers: dict[str, list[float]] = {}
        for index, column in enumerate(self.columns):
            if kind_of(column.type) != "numeric" or not first[f"n{index}"]:
                continue
            quantiles = first.get(f"q{index}")
            if quantiles is None:
                quantiles = self._ranked_quantiles(column, int(first[f"n{index}"]))
            numbers[column.name] = [float(q) for q in quantiles]
        second = self._second_pass(first, numbers)
        return tuple(
            self._column(index, column, first, second, numbers)
            for index, column in enumerate(self.columns)
        )

    def _first_pass(self) -> Mapping[str, Any]:
        quantiles_inline = self.opened.connection.dialect.name in QUANTILE_DIALECTS
        aggregates: list[Any] = [sa.func.count().label("rows")]
        for index, column in enumerate(self.columns):
            col = self.cols[column.name]
            aggregates.append(sa.func.count(col).label(f"n{index}"))
            kind = kind_of(column.type)
            if kind == "numeric":
                aggregates += [
                    sa.func.min(col).label(f"min{index}"),
                    sa.func.max(col).label(f"max{index}"),
                    sa.func.avg(col).label(f"mean{index}"),
                ]
                if quantiles_inline:
                    aggregates.append(quantiles_aggregate(col, self.fractions).label(f"q{index}"))
            elif kind == "categorical":
                aggregates.append(sa.func.count(sa.distinct(col)).label(f"d{index}"))
        select = sa.select(*aggregates).select_from(self.opened.relation)
        return dict(self.execute(select).mappings().one())

    def _ranked_quantiles(self, column: ObservedColumn, count: int) -> list[Any]:
        ranks = [rank_of(f, count) for f in self.fractions]
        statement = ranked_values(self.opened.relation, self.cols[column.name], ranks)
        by_rank = {int(rank): value for value, rank in self.execute(statement).all()}
        return [by_rank[r] for r in ranks]

    def _second_pass(
        self, first: Mapping[str, Any], numbers: Mapping[str, list[float]]
    ) -> Mapping[str, Any]:
        aggregates: list[Any] = []
        for index, column in enumerate(self.columns):
            if column.name not in numbers:
                continue
            col = self.cols[column.name]
            edges = self._edges(numbers[column.name])
            mean = as_float(first[f"mean{index}"]) or 0.0
            mean = mean if math.isfinite(mean) else 0.0  # infinities: the std is infinite
            aggregates += [
                expr.label(f"b{index}_{j}") for j, expr in enumerate(below_counts(col, edges))
            ]
            aggregates += [
                expr.label(f"s{index}_{j}") for j, expr in enumerate(bin_sums(col, edges))
            ]
            aggregates.append(
                sa.func.sum((col - number(mean)) * (col - number(mean))).label(f"sq{index}")
            )
        if not aggregates:
            return {}
        select = sa.select(*aggregates).select_from(self.opened.relation)
        return dict(self.execute(select).mappings().one())

    def _edges(self, quantiles: list[float]) -> list[float]:
        inner = [q for f, q in zip(self.fractions, quantiles, strict=True) if _inner(f, self.bins)]
        return sorted({q for q in inner if math.isfinite(q)}) or [quantiles[0]]

    def _quartiles(self, quantiles: list[float]) -> dict[Fraction, float]:
        return dict(zip(self.fractions, quantiles, strict=True))

    def _column(
        self,
        index: int,
        column: ObservedColumn,
        first: Mapping[str, Any],
        second: Mapping[str, Any],
        numbers: Mapping[str, list[float]],
    ) -> ColumnProfile:
        count = int(first[f"n{index}"])
        base: dict[str, Any] = {
            "name": column.name,
            "type": column.type,
            "native_type": column.native_type,
            "count": count,
            "nulls": self.rows - count,
        }
        kind = kind_of(column.type)
        if kind == "numeric" and column.name in numbers:
            quantiles = numbers[column.name]
            edges = self._edges(quantiles)
            below = [second[f"b{index}_{j}"] for j in range(len(edges))]
            counts = bin_counts(below, count)
            quartiles = self._quartiles(quantiles)
            sq = as_float(second[f"sq{index}"]) or 0.0
            sums = [as_float(second[f"s{index}_{j}"]) for j in range(len(counts))]
            numeric = NumericSummary(
                edges=tuple(edges),
                counts=counts,
                minimum=float(first[f"min{index}"]),
                maximum=float(first[f"max{index}"]),
                mean=float(first[f"mean{index}"]),
                std=math.sqrt(sq / (count - 1)) if count > 1 else None,
                p25=quartiles[Fraction(1, 4)],
                median=quartiles[Fraction(1, 2)],
                p75=quartiles[Fraction(3, 4)],
                means=tuple(
                    total / n if total is not None and n else None
                    for total, n in zip(sums, counts, strict=True)
                ),
            )
            return ColumnProfile(**base, numeric=numeric)
        if kind == "categorical" and count:
            statement = top_values(self.opened.relation, self.cols[column.name], self.top)
            found = [
                (category_value(value, column.type), int(n))
                for value, n in self.execute(statement).all()
            ]
            categorical = CategoricalSummary(
                top=tuple(found),
                other=count - sum(n for _, n in found),
                distinct=int(first[f"d{index}"]),
            )
            return ColumnProfile(**base, categorical=categorical)
        return ColumnProfile(**base)


def _inner(fraction: Fraction, bins: int) -> bool:
    return (fraction * bins).denominator == 1
