"""The SQL of distributions: histograms, category counts and quantiles as aggregates.

Written once in SQLAlchemy Core, like the rest of the plan, so that DuckDB (files and
DataFrames) and every database count the same way:

- a histogram over given edges is one cumulative count per edge,
  ``sum(case when col < e then 1 else 0 end)``: each bin is the difference of two
  neighbours (one comparison per edge and row, instead of two per bin);
- category counts are ``sum(case when col = v then 1 else 0 end)`` per value, and the
  rest of the values is ``count(col)`` minus their sum;
- discrete quantiles (the smallest value whose rank is at least ``q * n``, as
  PostgreSQL's ``percentile_disc``) are one aggregate in DuckDB (``quantile_disc``) and
  PostgreSQL (``percentile_disc``); other dialects rank the values with
  ``row_number() over (order by col)`` in one query and keep the wanted ranks, so
  SQLite, MariaDB, MySQL and the rest give the same exact quantiles (the database sorts
  the column once; only those few values cross the wire).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import FromClause, Select

from airflow_opsguard.drift.profile import Category
from airflow_opsguard.engines.dialects import count_where

QUANTILE_DIALECTS = frozenset({"duckdb", "postgresql"})


class discrete_quantiles(FunctionElement[Any]):
    """Discrete quantiles of the first argument at the fractions that follow (literal
    numbers), as one aggregate returning a list. DuckDB and PostgreSQL only."""

    name = "discrete_quantiles"
    inherit_cache = True


@compiles(discrete_quantiles)
def _quantiles_default(element: discrete_quantiles, compiler: SQLCompiler, **kw: Any) -> str:
    raise sa.exc.CompileError(f"no discrete quantile aggregate in {compiler.dialect.name}")


def _parts(element: discrete_quantiles, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    clauses = list(element.clauses)
    column = compiler.process(clauses[0], **kw)
    fractions = ", ".join(compiler.process(c, **kw) for c in clauses[1:])
    return column, fractions


@compiles(discrete_quantiles, "duckdb")
def _quantiles_duckdb(element: discrete_quantiles, compiler: SQLCompiler, **kw: Any) -> str:
    column, fractions = _parts(element, compiler, **kw)
    return f"quantile_disc({column}, [{fractions}])"


@compiles(discrete_quantiles, "postgresql")
def _quantiles_postgresql(element: discrete_quantiles, compiler: SQLCompiler, **kw: Any) -> str:
    column, fractions = _parts(element, compiler, **kw)
    return f"percentile_disc(ARRAY[{fractions}]::float8[]) WITHIN GROUP (ORDER BY {column})"


def quantile_fractions(bins: int) -> tuple[Fraction, ...]:
    """The fractions a profile needs: the ``bins - 1`` inner bin edges and the quartiles."""
    wanted = {Fraction(i, bins) for i in range(1, bins)} | {
        Fraction(1, 4),
        Fraction(1, 2),
        Fraction(3, 4),
    }
    return tuple(sorted(wanted))


def quantiles_aggregate(col: ColumnElement[Any], fractions: Sequence[Fraction]) -> Any:
    """Discrete quantiles as one aggregate (DuckDB and PostgreSQL)."""
    literals: list[ColumnElement[Any]] = [sa.literal_column(repr(float(f))) for f in fractions]
    return discrete_quantiles(col, *literals)


def rank_of(fraction: Fraction, count: int) -> int:
    """The 1-based rank of the discrete quantile: the smallest rank r with r >= q * n."""
    return max(1, math.ceil(fraction * count))


def ranked_values(source: FromClause, col: ColumnElement[Any], ranks: Sequence[int]) -> Select[Any]:
    """The values at the given ranks of the sorted non-null values, with their ranks:
    the portable way to exact quantiles, one sort inside the database."""
    rank = sa.func.row_number().over(order_by=col).label("opsguard_rank")
    ranked = (
        sa.select(col.label("opsguard_value"), rank)
        .select_from(source)
        .where(col.is_not(None))
        .subquery("opsguard_ranked")
    )
    return sa.select(ranked.c.opsguard_value, ranked.c.opsguard_rank).where(
        ranked.c.opsguard_rank.in_(sorted(set(ranks)))
    )


def number(value: float) -> Any:
    """A float bound as a float, whatever the column's type (so that 2.5 is not bound as
    an integer next to an integer column)."""
    return sa.literal(float(value), sa.Float())


def below_counts(col: ColumnElement[Any], edges: Sequence[float]) -> list[ColumnElement[Any]]:
    """Per edge, how many values lie below it."""
    return [count_where(col < number(edge)) for edge in edges]


def bin_sums(col: ColumnElement[Any], edges: Sequence[float]) -> list[ColumnElement[Any]]:
    """Per bin, the sum of its values (null for an empty bin)."""
    bounds: list[float | None] = [None, *edges, None]
    sums: list[ColumnElement[Any]] = []
    for low, high in itertools.pairwise(bounds):
        inside = []
        if low is not None:
            inside.append(col >= number(low))
        if high is not None:
            inside.append(col < number(high))
        sums.append(sa.func.sum(sa.case((sa.and_(*inside), col))))
    return sums


def bin_counts(below: Sequence[Any], count: int) -> tuple[int, ...]:
    """Bin counts from the cumulative counts below each edge and the number of values."""
    cumulative = [0, *(int(b or 0) for b in below), int(count)]
    return tuple(b - a for a, b in itertools.pairwise(cumulative))


def equal_counts(
    col: ColumnElement[Any], values: Sequence[Category], column_type: str | None
) -> list[ColumnElement[Any]]:
    """Per category, how many values equal it."""
    return [count_where(col == category_literal(v, column_type)) for v in values]


def category_literal(value: Category, column_type: str | None) -> Any:
    if column_type == "boolean":
        return sa.literal(bool(value), sa.Boolean())
    return sa.literal(str(value), sa.String())


def unseen_values(
    source: FromClause,
    col: ColumnElement[Any],
    known: Sequence[Category],
    column_type: str | None,
    limit: int,
) -> Select[Any]:
    """The most frequent values that are none of ``known``, with their counts."""
    count = sa.func.count().label("opsguard_count")
    known_values = [category_literal(v, column_type) for v in known]
    condition: ColumnElement[bool] = col.is_not(None)
    if known_values:
        condition = sa.and_(condition, col.not_in(known_values))
    return (
        sa.select(col.label("opsguard_value"), count)
        .select_from(source)
        .where(condition)
        .group_by(col)
        .order_by(count.desc(), col)
        .limit(limit)
    )


def top_values(source: FromClause, col: ColumnElement[Any], limit: int) -> Select[Any]:
    """The most frequent values with their counts (ties in value order)."""
    return unseen_values(source, col, (), None, limit)


def category_value(value: Any, column_type: str | None) -> Category:
    """A category as a profile keeps it: a bool for boolean columns (SQLite and MariaDB
    return 0 and 1), else text."""
    if column_type == "boolean":
        return bool(value)
    return value if isinstance(value, str) else str(value)


def as_float(value: Any) -> float | None:
    """A number from any driver (Decimal, numpy, int) as a float; None stays None."""
    return None if value is None else float(value)
