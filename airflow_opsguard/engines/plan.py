"""One plan of aggregates per contract, written in SQLAlchemy Core.

The same plan runs in DuckDB (files and DataFrames) and in any SQL database: every
check becomes a few labelled aggregates in one ``SELECT`` over the source (a single
scan), except uniqueness, which needs a ``GROUP BY`` of its own. A row-level check is
one *predicate* (what a failing row looks like); the engine counts it in the scan and,
only when it fails, fetches a few samples with the very same predicate, so samples and
counts cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Select

from airflow_opsguard.checks.keys import FRESHNESS_KEY, CheckKey, check_keys
from airflow_opsguard.checks.observations import CheckObservation, ObservedColumn
from airflow_opsguard.contract.models import (
    NUMERIC_TYPES,
    AllowedCheck,
    AnomalyCheck,
    Contract,
    ExpressionCheck,
    LengthCheck,
    NotAllowedCheck,
    NotNullCheck,
    PatternCheck,
    RangeCheck,
    ReconcileCheck,
    ReferenceCheck,
    RowCountChangeCheck,
    StatisticCheck,
    UniqueCheck,
)
from airflow_opsguard.engines.dialects import char_length, count_where, exact_text, regex_search
from airflow_opsguard.engines.drift_plan import plan_distribution
from airflow_opsguard.engines.metric_plan import (
    METRIC_KEY_PREFIX,
    history_check_problem,
    metric_aggregates,
)
from airflow_opsguard.engines.relations import (
    OtherResolver,
    no_other_tables,
    plan_expression,
    plan_reconcile,
    plan_reference,
)
from airflow_opsguard.engines.types import sqlalchemy_type

if TYPE_CHECKING:
    from airflow_opsguard.drift.reference import Reference

ROWS_LABEL = "rows"
# Builds a check's observation from its aggregates and a runner of small queries.
Collector = Callable[[dict[str, Any], Callable[[Select[Any]], Sequence[Any]]], CheckObservation]


@dataclass(frozen=True)
class PlainCount:
    """An aggregate that only counts: the rows (``rows``), a column's nulls (``nulls``)
    or non-null values (``values``), or its non-null values in (``in``) or not in
    (``not_in``) a set of text values, compared exactly."""

    what: str
    column: str | None = None
    values: tuple[str, ...] = ()


class Counter(Protocol):
    """A source that knows some plain counts without a scan (in-memory data)."""

    def __call__(self, count: PlainCount) -> int | None:
        """The count, or None when the scan must count it."""

    def samples(self, count: PlainCount, limit: int) -> tuple[Any, ...] | None:
        """A few distinct values among the rows ``count`` counted, as the engine's own
        sample query finds them, or None when that query must find them."""

    def proves_unique(self, column: str) -> bool:
        """Whether ``column``'s non-null values are known to be distinct; False when
        the engine must find out (it may hold duplicates, or this cannot tell)."""


@dataclass(eq=False)
class PlannedCheck:
    """How one check is measured: labels of its aggregates in the main scan, and the
    queries it needs of its own."""

    key: str
    # role ("considered", "failing", "minimum", "maximum", "value") -> aggregate
    aggregates: dict[str, ColumnElement[Any]] = field(default_factory=dict)
    predicate: ColumnElement[bool] | None = None  # a failing row, for samples
    sample_columns: tuple[ColumnElement[Any], ...] = ()
    duplicates: Select[Any] | None = None  # unique: a row per duplicated value, count last
    # unique on one column: its distinct and its non-null values, which prove it unique
    # when they are as many (for databases that count them faster than they group).
    distinct: Select[int, int] | None = None
    distinct_column: ColumnElement[Any] | None = None  # the column ``distinct`` counts
    # The failing rows counted by a query of their own (reference: an anti-join).
    failing_query: Select[Any] | None = None
    sample_rows: bool = False  # samples are whole rows (dicts), not distinct values
    extra_statements: tuple[Select[Any], ...] = ()  # further queries, for compile checks
    error: str | None = None
    metric: str | None = None  # a dataset metric ("mean(amount)") rather than a check
    # Builds the observation from the aggregates, running small queries of its own
    # (distribution: the most frequent values the reference does not list).
    collect: Collector | None = None
    # The values it finds are withheld (a sensitive column, or samples: false): no
    # samples are fetched, duplicates are only counted, no extreme values are measured,
    # and a database's error message (which may quote a value) is not kept.
    withheld: bool = False
    # The database's constraint that proves the check (engines/proofs.py): not measured.
    proof: str | None = None
    # Roles whose aggregate is a plain count: an engine that knows the count without
    # the scan (in-memory Arrow data keeps each column's null count) fills it in.
    counts: dict[str, PlainCount] = field(default_factory=dict)


@dataclass
class Plan:
    source: FromClause
    checks: list[PlannedCheck]
    # Aggregates known without the scan, by label (see PlannedCheck.counts): left out of it.
    answered: dict[str, Any] = field(default_factory=dict)

    def main_select(self, checks: Sequence[PlannedCheck] | None = None) -> Select[Any]:
        """One aggregate SELECT over the source for the given checks (default: all)."""
        columns: list[ColumnElement[Any]] = [sa.func.count().label(ROWS_LABEL)]
        for index, planned in enumerate(self.checks):
            if checks is None or planned in checks:
                labelled = ((self.label(index, role), e) for role, e in planned.aggregates.items())
                columns.extend(e.label(name) for name, e in labelled if name not in self.answered)
        return sa.select(*columns).select_from(self.source)

    def answer_counts(self, counter: Counter, sample_size: int) -> dict[int, tuple[Any, ...]]:
        """Take the plain counts that ``counter`` knows out of the scan; the samples of
        the failing checks whose failing rows it counted, by check index."""
        samples: dict[int, tuple[Any, ...]] = {}
        for index, planned in enumerate(self.checks):
            for role, count in planned.counts.items():
                if role not in planned.aggregates:
                    continue
                found = counter(count)
                if found is None:
                    continue
                self.answered[self.label(index, role)] = found
                if role == "failing" and found and planned.sample_columns:
                    sampled = counter.samples(count, sample_size)
                    if sampled is not None:
                        samples[index] = sampled
        return samples

    def answer_uniqueness(self, counter: Counter) -> dict[int, tuple[int, tuple[Any, ...]]]:
        """Take the unique checks on one column that ``counter`` proves unique out of the
        GROUP BYs: no duplicated rows and no samples, by check index. A column it cannot
        prove unique is grouped as usual, which finds its duplicates and their values."""
        proven: dict[int, tuple[int, tuple[Any, ...]]] = {}
        for index, planned in enumerate(self.checks):
            values = planned.counts.get("considered")
            if planned.distinct is None or planned.error or values is None:
                continue
            if values.column is not None and counter.proves_unique(values.column):
                planned.duplicates = planned.distinct = planned.distinct_column = None
                proven[index] = (0, ())
        return proven

    @staticmethod
    def label(index: int, role: str) -> str:
        return f"c{index}_{role}"

    def samples_select(self, planned: PlannedCheck, limit: int) -> Select[Any] | None:
        if planned.withheld:
            return None
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
    contract: Contract,
    columns: Sequence[ObservedColumn],
    source: FromClause,
    reference: Reference | None = None,
    others: OtherResolver = no_other_tables,
) -> Plan:
    """Compile the contract's checks against the columns the source actually has.

    A check on a column that is missing, or whose type it cannot apply to, is planned
    as an error: the schema check reports the column itself, and the check says why it
    could not be measured, instead of failing the whole query. ``reference`` is the
    loaded distribution reference, whose bins and categories the histograms use;
    ``others`` finds the other tables that reference and reconcile checks name.
    """
    observed = {c.name: c for c in columns}
    planner = _Planner(source, observed, reference, others, contract)
    planned = [planner.plan(key) for key in check_keys(contract)]
    for name, aggregates, counts in metric_aggregates(contract, observed, source):
        key = f"{METRIC_KEY_PREFIX}{name}"
        counted = {role: PlainCount(what, column) for role, (what, column) in counts.items()}
        planned.append(PlannedCheck(key=key, aggregates=aggregates, metric=name, counts=counted))
    return Plan(source=source, checks=planned)


class _Planner:
    def __init__(
        self,
        source: FromClause,
        observed: dict[str, ObservedColumn],
        reference: Reference | None = None,
        others: OtherResolver = no_other_tables,
        contract: Contract | None = None,
    ) -> None:
        self.source = source
        self.observed = observed
        self.reference = reference
        self.others = others
        self.contract = contract

    def plan(self, key: CheckKey) -> PlannedCheck:
        planned = self._plan(key)
        contract = self.contract
        if contract is None:
            return planned
        if key.check is not None and contract.withholds_values(key.check):
            _withhold(planned)
        elif planned.sample_columns and planned.sample_rows:
            # Whole rows (an expression naming no column: the first few columns) never
            # show a sensitive column.
            hidden = contract.sensitive_columns
            planned.sample_columns = tuple(
                c for c in planned.sample_columns if getattr(c, "name", None) not in hidden
            )
        return planned

    def col(self, name: str) -> ColumnElement[Any]:
        column = sa.column(name, sqlalchemy_type(self.observed[name]), _selectable=self.source)
        if self.observed[name].type == "string":
            return exact_text(column)  # case counts on every database, as in Python
        return column

    def _plan(self, key: CheckKey) -> PlannedCheck:
        planned = PlannedCheck(key=key.key)
        missing = [c for c in key.columns if c not in self.observed]
        if missing:
            planned.error = (
                f"not measured: column {missing[0]!r} is not in the data (see the schema check)"
            )
            return planned
        if key.key == FRESHNESS_KEY:
            return self._freshness(planned, key.columns[0])
        if key.distribution is not None:
            return self._distribution(planned, key.columns[0])
        check = key.check
        assert check is not None
        problem = _type_problem(check, [self.observed[c] for c in key.columns])
        if problem:
            planned.error = f"not measured: {problem}"
            return planned
        if isinstance(check, AnomalyCheck | RowCountChangeCheck):
            planned.error = history_check_problem(check, self.observed)
            return planned  # its metric is measured with the dataset metrics
        if isinstance(check, UniqueCheck):
            return self._unique(planned, check)
        if isinstance(check, StatisticCheck):
            return self._statistic(planned, check)
        if isinstance(check, ExpressionCheck):
            return plan_expression(planned, check, self.observed, self.source)
        if isinstance(check, ReferenceCheck):
            return plan_reference(planned, check, self.observed, self.source, self.others)
        if isinstance(check, ReconcileCheck):
            return plan_reconcile(planned, check, self.observed, self.source, self.others)
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

    def _distribution(self, planned: PlannedCheck, name: str) -> PlannedCheck:
        """A histogram over the reference's bins, or counts over its categories."""
        found = plan_distribution(self.source, self.col(name), self.observed[name], self.reference)
        if isinstance(found, str):
            planned.error = found
            return planned
        planned.aggregates.update(found.aggregates)
        planned.collect = found.collect
        return planned

    def _statistic(self, planned: PlannedCheck, check: StatisticCheck) -> PlannedCheck:
        col = self.col(check.column)
        functions: dict[str, ColumnElement[Any]] = {
            "min": sa.func.min(col),
            "max": sa.func.max(col),
            "mean": sa.func.avg(col),
            "sum": sa.func.sum(col),
            "distinct_count": sa.func.count(sa.distinct(col)),
        }
        planned.aggregates["value"] = functions[check.statistic]
        planned.aggregates["considered"] = sa.func.count(col)
        planned.counts["considered"] = PlainCount("values", check.column)
        return planned

    def _unique(self, planned: PlannedCheck, check: UniqueCheck) -> PlannedCheck:
        cols = [self.col(c) for c in check.columns]
        # Nulls are never duplicates; for several columns a row counts unless all are null.
        compared = sa.or_(*(c.is_not(None) for c in cols))
        planned.aggregates["considered"] = count_where(compared)
        if len(cols) == 1:
            planned.counts["considered"] = PlainCount("values", check.columns[0])
            planned.distinct = sa.select(
                sa.func.count(sa.distinct(cols[0])), sa.func.count(cols[0])
            ).select_from(self.source)
            planned.distinct_column = cols[0]
        # The count is the last column; its label must not clash with a checked column's.
        count_label = "n"
        while count_label in check.columns:
            count_label += "_"
        planned.duplicates = (
            sa.select(
                *(c.label(name) for c, name in zip(cols, check.columns, strict=True)),
                sa.func.count().label(count_label),
            )
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
        considered = sa.func.count() if isinstance(check, NotNullCheck) else sa.func.count(col)
        planned.aggregates["considered"] = considered
        planned.aggregates["failing"] = count_where(predicate)
        if isinstance(check, NotNullCheck):
            planned.counts = {
                "considered": PlainCount("rows"),
                "failing": PlainCount("nulls", check.column),
            }
        else:
            planned.counts = {"considered": PlainCount("values", check.column)}
        if isinstance(check, AllowedCheck | NotAllowedCheck) and column.type == "string":
            what = "not_in" if isinstance(check, AllowedCheck) else "in"
            values = tuple(_values(check.values, column))
            planned.counts["failing"] = PlainCount(what, check.column, values)
        if isinstance(check, RangeCheck):
            planned.aggregates["minimum"] = sa.func.min(col)
            planned.aggregates["maximum"] = sa.func.max(col)
        planned.predicate = predicate
        if not isinstance(check, NotNullCheck):
            planned.sample_columns = (col,)
        return planned


def _withhold(planned: PlannedCheck) -> None:
    """Plan ``planned`` so that no value it finds is fetched: only counts."""
    planned.withheld = True
    planned.sample_columns = ()
    planned.aggregates.pop("minimum", None)
    planned.aggregates.pop("maximum", None)


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
    """Values of a set, as the column's type binds them (text sets on text columns).

    A value that no value of the column's type can equal ('cat' or 1.5 for an integer
    column) matches nothing, as in Great Expectations: it is left out of the SQL, where
    the database would fail to convert it and stop every check.
    """
    if column.type == "string":
        return [v if isinstance(v, str) else str(v) for v in values]
    if column.type is None:
        return list(values)
    kept = (_set_member(v, column) for v in values)
    return [v for v in kept if v is not _NO_MATCH]


_NO_MATCH = object()


def _set_member(value: Any, column: ObservedColumn) -> Any:
    """``value`` as the column's type, or ``_NO_MATCH`` when it cannot be one."""
    kind = column.type
    if kind == "boolean":
        return value if isinstance(value, bool) else _NO_MATCH
    if kind in NUMERIC_TYPES:
        if isinstance(value, bool | date):
            return _NO_MATCH
        try:
            number = Decimal(str(value).strip())  # str(): 1.1 stays 1.1, not its binary value
        except (InvalidOperation, ValueError):
            return _NO_MATCH
        if not number.is_finite():
            return float(number) if kind == "float" else _NO_MATCH
        if kind == "integer":
            return int(number) if number == number.to_integral_value() else _NO_MATCH
        return float(number) if kind == "float" else number
    if kind in ("date", "timestamp"):
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                return _NO_MATCH
        if not isinstance(value, date):
            return _NO_MATCH
        if kind == "date" and isinstance(value, datetime) and value.time() != datetime.min.time():
            return _NO_MATCH  # no date equals a moment within a day
    return _bound(value, column)


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
    if all(_typeless(c) for c in columns):
        # The source gives no type (DuckDB's NULL type: a DataFrame column of nothing but
        # nulls). Measure instead of refusing: value checks ignore nulls, so they pass, as
        # in Great Expectations, and a min or max has no value.
        return None
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


def _typeless(column: ObservedColumn) -> bool:
    """A column whose source states no type at all (``NULL``), as opposed to a type that
    maps onto no contract type (a list, a blob)."""
    return column.type is None and column.native_type.strip('"').upper() == "NULL"
