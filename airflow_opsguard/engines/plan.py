"""One plan of aggregates per contract, written in SQLAlchemy Core.

The same plan runs in DuckDB (files and DataFrames) and in any SQL database: every
check becomes a few labelled aggregates in one ``SELECT`` over the source (a single
scan), except uniqueness, which needs a ``GROUP BY`` of its own. A row-level check is
one *predicate* (what a failing row looks like); the engine counts it in the scan and,
only when it fails, fetches a few samples with the very same predicate, so samples and
counts cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Select

from airflow_opsguard.checks.keys import CheckKey, FRESHNESS_KEY, check_keys
from airflow_opsguard.checks.observations import ObservedColumn
from airflow_opsguard.contract.models import (
    NUMERIC_TYPES,
    AllowedCheck,
    Contract,
    LengthCheck,
    NotAllowedCheck,
    NotNullCheck,
    PatternCheck,
    RangeCheck,
    StatisticCheck,
    UniqueCheck,
)
from airflow_opsguard.engines.dialects import char_length, regex_search
from airflow_opsguard.engines.types import sqlalchemy_type

ROWS_LABEL = "rows"


@dataclass(eq=False)
class PlannedCheck:
    """How one check is measured: labels of its aggregates in the main scan, and the
    queries it needs of its own."""

    key: str
    # role ("considered", "failing", "minimum", "maximum", "value") -> aggregate
    aggregates: dict[str, ColumnElement[Any]] = field(default_factory=dict)
    predicate: ColumnElement[bool] | None = None  # a failing row, for samples
    sample_columns: tuple[ColumnElement[Any], ...] = ()
    duplicates: Select[Any] | None = None  # unique: one row per duplicated value
    error: str | None = None


@dataclass
class Plan:
    source: FromClause
    checks: list[PlannedCheck]

    def main_select(self, checks: Sequence[PlannedCheck] | None = None) -> Select[Any]:
        """One aggregate SELECT over the source for the given checks (default: all)."""
        columns: list[ColumnElement[Any]] = [sa.func.count().label(ROWS_LABEL)]
        for index, planned in enumerate(self.checks):
            if checks is None or planned in checks:
                columns.extend(
                    expr.label(self.label(index, role))
                    for role, expr in planned.aggregates.items()
                )
        return sa.select(*columns).select_from(self.source)

    @staticmethod
    def label(index: int, role: str) -> str:
        return f"c{index}_{role}"

    def samples_select(self, planned: PlannedCheck, limit: int) -> Select[Any] | None:
        if planned.duplicates is not None:
            return planned.duplicates.limit(limit)
        if planned.predicate is None or not planned.sample_columns:
            return None
        return (
            sa.select(*planned.sample_columns)
            .select_from(self.source)
            .where(planned.predicate)
            .limit(limit)
        )


def build_plan(
    contract: Contract, columns: Sequence[ObservedColumn], source: FromClause
) -> Plan:
    """Compile the contract's checks against the columns the source actually has.

    A check on a column that is missing, or whose type it cannot apply to, is planned
    as an error: the schema check reports the column itself, and the check says why it
    could not be measured, instead of failing the whole query.
    """
    observed = {c.name: c for c in columns}
    planner = _Planner(source, observed)
    planned = [planner.plan(key) for key in check_keys(contract)]
    return Plan(source=source, checks=planned)


class _Planner:
    def __init__(self, source: FromClause, observed: dict[str, ObservedColumn]) -> None:
        self.source = source
        self.observed = observed

    def col(self, name: str) -> ColumnElement[Any]:
        return sa.column(name, sqlalchemy_type(self.observed[name]), _selectable=self.source)

    def plan(self, key: CheckKey) -> PlannedCheck:
        planned = PlannedCheck(key=key.key)
        missing = [c for c in key.columns if c not in self.observed]
        if missing:
            planned.error = (
                f"not measured: column {missing[0]!r} is not in the data (see the schema check)"
            )
            return planned
        if key.key == FRESHNESS_KEY:
            return self._freshness(planned, key.columns[0])
        check = key.check
        assert check is not None
        problem = _type_problem(check, [self.observed[c] for c in key.columns])
        if problem:
            planned.error = f"not measured: {problem}"
            return planned
        if isinstance(check, UniqueCheck):
            return self._unique(planned, check)
        if isinstance(check, StatisticCheck):
            return self._statistic(planned, check)
        return self._row_check(planned, check)

    def _freshness(self, planned: PlannedCheck, name: str) -> PlannedCheck:
        column = self.observed[name]
        if column.type not in ("date", "timestamp"):
            planned.error = (
                f"not measured: {name!r} is {_describe(column)} in the data; "
                "freshness needs a date or timestamp column"
            )
            return planned
        planned.aggregates["value"] = sa.func.max(self.col(name))
        return planned

    def _statistic(self, planned: PlannedCheck, check: StatisticCheck) -> PlannedCheck:
        col = self.col(check.column)
        functions = {
            "min": lambda: sa.func.min(col),
            "max": lambda: sa.func.max(col),
            "mean": lambda: sa.func.avg(col),
            "sum": lambda: sa.func.sum(col),
            "distinct_count": lambda: sa.func.count(sa.distinct(col)),
        }
        planned.aggregates["value"] = functions[check.statistic]()
        planned.aggregates["considered"] = sa.func.count(col)
        return planned

    def _unique(self, planned: PlannedCheck, check: UniqueCheck) -> PlannedCheck:
        cols = [self.col(c) for c in check.columns]
        # Nulls are never duplicates; for several columns a row counts unless all are null.
        compared = sa.or_(*(c.is_not(None) for c in cols))
        planned.aggregates["considered"] = sa.func.sum(sa.case((compared, 1), else_=0))
        planned.duplicates = (
            sa.select(*cols, sa.func.count().label("n"))
            .select_from(self.source)
            .where(compared)
            .group_by(*cols)
            .having(sa.func.count() > 1)
        )
        return planned

    def _row_check(self, planned: PlannedCheck, check: Any) -> PlannedCheck:
        col = self.col(check.column)
        column = self.observed[check.column]
        predicate = _failing_row(check, col, column)
        considered = (
            sa.func.count() if isinstance(check, NotNullCheck) else sa.func.count(col)
        )
        planned.aggregates["considered"] = considered
        planned.aggregates["failing"] = sa.func.sum(sa.case((predicate, 1), else_=0))
        if isinstance(check, RangeCheck):
            planned.aggregates["minimum"] = sa.func.min(col)
            planned.aggregates["maximum"] = sa.func.max(col)
        planned.predicate = predicate
        if not isinstance(check, NotNullCheck):
            planned.sample_columns = (col,)
        return planned


def _failing_row(check: Any, col: ColumnElement[Any], column: ObservedColumn) -> Any:
    if isinstance(check, NotNullCheck):
        return col.is_(None)
    if isinstance(check, RangeCheck):
        outside = []
        if check.min is not None:
            low = _bound(check.min, column)
            outside.append(col <= low if check.strict_min else col < low)
        if check.max is not None:
            high = _bound(check.max, column)
            outside.append(col >= high if check.strict_max else col > high)
        return sa.and_(col.is_not(None), sa.or_(*outside))
    if isinstance(check, AllowedCheck):
        return sa.and_(col.is_not(None), col.not_in(_values(check.values, column)))
    if isinstance(check, NotAllowedCheck):
        return sa.and_(col.is_not(None), col.in_(_values(check.values, column)))
    if isinstance(check, PatternCheck):
        return sa.and_(col.is_not(None), sa.not_(regex_search(col, sa.literal(check.pattern))))
    if isinstance(check, LengthCheck):
        length = char_length(col)
        outside = []
        if check.min_length is not None:
            outside.append(length < check.min_length)
        if check.max_length is not None:
            outside.append(length > check.max_length)
        return sa.and_(col.is_not(None), sa.or_(*outside))
    raise TypeError(f"no predicate for {type(check).__name__}")


def _values(values: Sequence[Any], column: ObservedColumn) -> list[Any]:
    """Values of a set, as the column's type binds them (text sets on text columns)."""
    if column.type == "string":
        return [v if isinstance(v, str) else str(v) for v in values]
    return [_bound(v, column) for v in values]


def _bound(value: Any, column: ObservedColumn) -> Any:
    """Align a bound with the column: timestamps in UTC, naive for naive columns."""
    if column.type == "timestamp":
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, datetime):
            value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
            return value if column.timezone_aware else value.replace(tzinfo=None)
    if column.type == "date" and isinstance(value, datetime):
        return value.date()
    return value


def _describe(column: ObservedColumn) -> str:
    return column.type or f"of type {column.native_type}"


def _type_problem(check: Any, columns: list[ObservedColumn]) -> str | None:
    """Why a check cannot apply to a column of this type (None when it can)."""
    if isinstance(check, RangeCheck | StatisticCheck):
        column = columns[0]
        if isinstance(check, StatisticCheck) and check.statistic == "distinct_count":
            return None
        bounds = [b for b in (check.min, check.max) if b is not None]
        if isinstance(check, StatisticCheck) and check.statistic in ("mean", "sum"):
            if column.type not in NUMERIC_TYPES:
                return f"{check.column!r} is {_describe(column)}; {check.statistic} needs numbers"
            return None
        temporal = all(isinstance(b, date) for b in bounds)
        if column.type in NUMERIC_TYPES and not temporal:
            return None
        if column.type in ("date", "timestamp") and temporal:
            return None
        wanted = "dates or timestamps" if temporal else "numbers"
        return f"{check.column!r} is {_describe(column)}; its bounds are {wanted}"
    if isinstance(check, PatternCheck | LengthCheck) and columns[0].type != "string":
        return f"{check.column!r} is {_describe(columns[0])}; {check.type} needs strings"
    return None
