"""The contract, version 1: frozen, strict models of what a dataset must look like.

A contract declares; it does not run. Engines measure what it declares and pure
functions in :mod:`airflow_opsguard.checks` judge the measurements. Every model forbids
unknown keys, so a typo is an error when the contract is loaded, never a check that
silently does nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from airflow_opsguard.contract.alerts import AlertRoute, Escalation, Mode
from airflow_opsguard.contract.durations import format_duration, parse_duration

ColumnType = Literal["integer", "float", "decimal", "string", "boolean", "date", "timestamp"]
Severity = Literal["fail", "warn"]
OnFail = Literal["fail", "skip", "quarantine", "warn"]
ExtraColumns = Literal["fail", "warn", "allow"]
Bound = int | float | Decimal | datetime | date
Scalar = str | int | float | bool | Decimal | date | datetime

COLUMN_TYPES: tuple[str, ...] = ColumnType.__args__  # type: ignore[attr-defined]
NUMERIC_TYPES = frozenset({"integer", "float", "decimal"})
ORDERED_TYPES = NUMERIC_TYPES | {"date", "timestamp"}

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    Field(json_schema_extra={"type": "string", "examples": ["30m", "6h", "1d", "PT6H"]}),
]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    # Databases and DuckDB use RE2-style engines: no look-around, no back-references.
    if re.search(r"\(\?<?[=!]|\\[1-9]", pattern):
        raise ValueError(
            f"{pattern!r} uses look-around or a back-reference, which SQL engines do not support"
        )
    return pattern


# ---------------------------------------------------------------------------------------
# Checks. The column shorthand of `schema.columns` expands into these same models, so
# every engine and the evaluation see one kind of declaration.


class _Check(_Strict):
    name: str | None = Field(None, description="A name for the check; default: type(column).")
    severity: Severity = Field("fail", description="warn: report a failure without blocking.")
    mode: Mode = Field(
        "enforce",
        description="shadow: measure, store and show the check, but never block or alert; "
        "its result says what it would have done.",
    )
    mostly: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Fraction of the non-null values (of all rows for not_null) that must "
        "pass, as in Great Expectations. Default: all of them.",
    )

    @property
    def columns(self) -> tuple[str, ...]:
        return ()

    @property
    def display_name(self) -> str:
        kind = getattr(self, "type", "check")
        return self.name or f"{kind}({', '.join(self.columns)})"


class _ColumnCheck(_Check):
    column: str = Field(description="The column checked.")

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)


class NotNullCheck(_ColumnCheck):
    """Every row has a value in the column."""

    type: Literal["not_null"] = "not_null"


class UniqueCheck(_Check):
    """No two rows share a value (or a combination of values over several columns).

    Rows where the column is null (for several columns: where all of them are null) are
    not compared, as in SQL and Great Expectations: nulls are never duplicates.
    """

    type: Literal["unique"] = "unique"
    column: str | None = Field(None, description="The column that must be unique.")
    column_list: tuple[str, ...] | None = Field(
        None, alias="columns", description="Columns whose combination must be unique."
    )

    @model_validator(mode="after")
    def _one_target(self) -> UniqueCheck:
        if (self.column is None) == (not self.column_list):
            raise ValueError("give either 'column' or 'columns' (a list of column names)")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,) if self.column is not None else tuple(self.column_list or ())


class RangeCheck(_ColumnCheck):
    """Every non-null value lies between ``min`` and ``max`` (inclusive unless strict)."""

    type: Literal["range"] = "range"
    min: Bound | None = None
    max: Bound | None = None
    strict_min: bool = False
    strict_max: bool = False

    @model_validator(mode="after")
    def _bounds(self) -> RangeCheck:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        if self.min is not None and self.max is not None:
            try:
                if self.min > self.max:  # type: ignore[operator]
                    raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
            except TypeError:
                raise ValueError("min and max must be of the same kind") from None
        return self


class StatisticCheck(_ColumnCheck):
    """A column statistic (min, max, mean, sum, distinct count) lies between bounds."""

    type: Literal["statistic"] = "statistic"
    statistic: Literal["min", "max", "mean", "sum", "distinct_count"]
    min: Bound | None = None
    max: Bound | None = None
    strict_min: bool = False
    strict_max: bool = False

    @model_validator(mode="after")
    def _bounds(self) -> StatisticCheck:
        if self.min is None and self.max is None:
            raise ValueError("give 'min', 'max' or both")
        if self.mostly is not None:
            raise ValueError("'mostly' applies to row checks, not to a statistic")
        return self

    @property
    def display_name(self) -> str:
        return self.name or f"{self.statistic}({self.column})"


class AllowedCheck(_ColumnCheck):
    """Every non-null value is one of ``values`` (an empty list allows no value)."""

    type: Literal["allowed"] = "allowed"
    values: tuple[Scalar, ...]


class NotAllowedCheck(_ColumnCheck):
    """No value is one of ``values`` (an empty list forbids nothing: a generated deny
    list may well be empty)."""

    type: Literal["not_allowed"] = "not_allowed"
    values: tuple[Scalar, ...]


class PatternCheck(_ColumnCheck):
    """Every non-null value contains a match of the regular expression (anchor it with
    ``^...$`` to match whole values), as Python's ``re.search`` and GX do."""

    type: Literal["pattern"] = "pattern"
    pattern: str

    _valid = field_validator("pattern")(_check_regex)


class LengthCheck(_ColumnCheck):
    """Every non-null value has between ``min_length`` and ``max_length`` characters."""

    type: Literal["length"] = "length"
    min_length: int | None = Field(None, ge=0)
    max_length: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> LengthCheck:
        if self.min_length is None and self.max_length is None:
            raise ValueError("give 'min_length', 'max_length' or both")
        if (
            self.min_length is not None
            and self.max_length is not None
            and self.min_length > self.max_length
        ):
            raise ValueError("min_length is greater than max_length")
        return self


# Checks beyond one column: a SQL condition per row, values that must exist in another
# table, an aggregate that must match another table's.


def _short_text(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class ExpressionCheck(_Check):
    """Every row meets a SQL boolean condition, written in the SQL of the data's engine
    (DuckDB for files and DataFrames). The condition is the contract author's SQL,
    trusted as a dbt test is; it runs in a read-only session."""

    type: Literal["expression"] = "expression"
    expression: str = Field(
        min_length=1,
        description="A SQL boolean condition on a row, e.g. 'shipped_at >= ordered_at'.",
    )
    if_null: Literal["fail", "pass"] = Field(
        "fail",
        description="A row whose condition is NULL (unknown, e.g. a null operand): fail "
        "(default: a row passes only when the condition is TRUE), or pass (as SQL CHECK "
        "constraints and dbt's expression_is_true treat it).",
    )

    @field_validator("expression")
    @classmethod
    def _one_condition(cls, expression: str) -> str:
        text = expression.strip().rstrip(";").strip()
        if not text:
            raise ValueError("the expression is empty")
        return text

    @property
    def display_name(self) -> str:
        return self.name or f"expression({_short_text(self.expression)})"


class _Target(_Strict):
    table: str | None = Field(
        None,
        min_length=1,
        description="A table (schema.table allowed) in the same database as the source.",
    )
    path: str | None = Field(
        None,
        min_length=1,
        description="A file, folder or glob, for file and DataFrame sources; relative "
        "paths are read from the contract file's folder.",
    )

    @model_validator(mode="after")
    def _one_place(self) -> _Target:
        if (self.table is None) == (self.path is None):
            raise ValueError("give either 'table' (a database source) or 'path' (files)")
        return self

    @property
    def shown(self) -> str:
        return self.table or self.path or ""


class ReferenceTarget(_Target):
    """Where the referenced values are: a table's (or a file's) column."""

    column: str = Field(min_length=1, description="The referenced column.")


class ReferenceCheck(_ColumnCheck):
    """Every non-null value of ``column`` exists in another table's column (a foreign
    key). The other table is in the same database (or, for files, another file): the
    engine runs one anti-join where the data lives."""

    type: Literal["reference"] = "reference"
    to: ReferenceTarget = Field(description="The referenced table (or path) and column.")

    @property
    def display_name(self) -> str:
        return self.name or f"reference({self.column} -> {self.to.shown}.{self.to.column})"


ReconcileMetric = Literal["count", "sum", "min", "max", "mean"]


class ReconcileTarget(_Target):
    """The other table whose aggregate ours must match."""

    column: str | None = Field(None, description="Its column; default: the check's column.")
    where: str | None = Field(
        None,
        min_length=1,
        description="A SQL condition selecting the other table's rows (the author's SQL).",
    )


class ReconcileCheck(_Check):
    """An aggregate of the data (row count, sum, min, max or mean of a column) matches
    the same aggregate of another table, within a tolerance."""

    type: Literal["reconcile"] = "reconcile"
    metric: ReconcileMetric = Field(description="count, sum, min, max or mean.")
    column: str | None = Field(
        None, description="The column aggregated (count without one counts rows)."
    )
    to: ReconcileTarget = Field(description="The other table (or path), column and filter.")
    tolerance: float | None = Field(
        None,
        ge=0,
        description="Allowed relative difference, a fraction of the other value (0.01: 1%).",
    )
    abs_tolerance: float | None = Field(
        None, ge=0, description="Allowed absolute difference. Default (no tolerance): equal."
    )

    @model_validator(mode="after")
    def _consistent(self) -> ReconcileCheck:
        if self.metric != "count" and self.column is None:
            raise ValueError(f"give the 'column' whose {self.metric} is reconciled")
        if self.mostly is not None:
            raise ValueError("'mostly' applies to row checks, not to a reconcile check")
        return self

    @property
    def other_column(self) -> str | None:
        """The other table's column: ``to.column``, else the check's own."""
        return self.to.column or self.column

    @property
    def columns(self) -> tuple[str, ...]:
        return () if self.column is None else (self.column,)

    @property
    def display_name(self) -> str:
        what = self.metric if self.column is None else f"{self.metric}({self.column})"
        return self.name or f"reconcile({what})"


# History checks: judged against the metrics the results store kept of earlier runs.

MetricKind = Literal[
    "rows", "null_fraction", "mean", "distinct_count", "freshness_lag_seconds", "drift"
]
METRIC_KINDS: tuple[str, ...] = MetricKind.__args__  # type: ignore[attr-defined]


class SustainedRule(_Strict):
    """``breaches`` breaches of the metric within the last ``within`` runs (this one
    included). A plain number ``k`` stands for k breaches in a row."""

    breaches: int = Field(ge=1, le=100, description="How many breaches.")
    within: int = Field(ge=1, le=100, description="Among how many of the latest runs.")

    @model_validator(mode="after")
    def _fits(self) -> SustainedRule:
        if self.within < self.breaches:
            raise ValueError(
                f"{self.breaches} breaches cannot happen within {self.within} runs; "
                "'within' must be at least 'breaches'"
            )
        return self


def _rule(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"breaches": value, "within": value}
    return value


Rule = Annotated[SustainedRule, BeforeValidator(_rule)]


class AnomalyCheck(_Check):
    """A metric of this run against its own history: a robust z-score, ``(value -
    median) / (1.4826 * MAD)`` over the last ``window`` runs, breaches beyond
    ``threshold``. Judged only once ``min_history`` runs are stored (until then the check
    passes, saying it is learning); warns and fails by the sustained rules."""

    type: Literal["anomaly"] = "anomaly"
    metric: MetricKind = Field(
        description="rows, null_fraction, mean, distinct_count, freshness_lag_seconds or "
        "drift (the drift score of a distribution column, whatever its method)."
    )
    column: str | None = Field(None, description="The column of the metric (all but rows).")
    threshold: float = Field(
        3.5, gt=0, description="The robust z-score beyond which a value breaches (3.5)."
    )
    direction: Literal["both", "up", "down"] = Field(
        "both", description="up or down: only a rise (or a fall) of the metric breaches."
    )
    weekly: bool = Field(
        False,
        description="true: expect the level of the runs on the same weekday (UTC), and "
        "measure the spread around each weekday's level.",
    )
    min_history: int | None = Field(
        None,
        ge=3,
        le=1000,
        description="Runs to learn from before judging: default 14, with weekly 4 (runs "
        "on the same weekday).",
    )
    window: int = Field(
        30, ge=3, le=1000, description="The latest runs (same-weekday runs) compared with."
    )
    warn_after: Rule = Field(
        SustainedRule(breaches=1, within=1),
        description="Warn after this many breaches (default 1: on the first).",
    )
    fail_after: Rule | None = Field(
        SustainedRule(breaches=3, within=5),
        description="Fail after this many breaches within that many runs; null: never fail.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> AnomalyCheck:
        if self.metric == "rows" and self.column is not None:
            raise ValueError("the rows metric has no column; remove 'column'")
        if self.metric != "rows" and self.column is None:
            raise ValueError(f"give the 'column' whose {self.metric} is watched")
        if self.mostly is not None:
            raise ValueError("'mostly' applies to row checks, not to an anomaly check")
        if self.history_needed > self.window:
            raise ValueError(
                f"min_history ({self.history_needed}) is larger than window ({self.window}): "
                "the check would never judge"
            )
        if self.fail_after is not None and self.warn_after.breaches > self.fail_after.breaches:
            raise ValueError("warn_after asks for more breaches than fail_after")
        return self

    @property
    def history_needed(self) -> int:
        """``min_history``, or its default: 14 runs, or 4 same-weekday runs with weekly."""
        if self.min_history is not None:
            return self.min_history
        return 4 if self.weekly else 14

    @property
    def metric_name(self) -> str:
        """The metric's name in results and the store: ``rows``, ``mean(amount)``."""
        return self.metric if self.column is None else f"{self.metric}({self.column})"

    @property
    def columns(self) -> tuple[str, ...]:
        return () if self.column is None else (self.column,)

    @property
    def display_name(self) -> str:
        return self.name or f"anomaly({self.metric_name})"


class RowCountChangeCheck(_Check):
    """This run's row count against the previous passing run's, or the median of the
    last ``window`` runs: it may drop by at most ``max_drop`` and grow by at most
    ``max_growth`` (fractions of that reference: 0.5 is 50%)."""

    type: Literal["row_count_change"] = "row_count_change"
    max_drop: float | None = Field(
        None, ge=0, le=1, description="Largest allowed drop, a fraction (0.5: half the rows)."
    )
    max_growth: float | None = Field(
        None, ge=0, description="Largest allowed growth, a fraction (2.0: +200%, 3x the rows)."
    )
    relative_to: Literal["previous_pass", "median"] = Field(
        "previous_pass",
        description="previous_pass: the latest run whose verdict was pass or warn; "
        "median: the median of the last 'window' runs.",
    )
    window: int = Field(30, ge=1, le=1000, description="Runs whose median is the reference.")
    min_history: int = Field(
        1,
        ge=1,
        le=1000,
        description="Stored runs (passing runs for previous_pass) needed before judging.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> RowCountChangeCheck:
        if self.max_drop is None and self.max_growth is None:
            raise ValueError("give 'max_drop', 'max_growth' or both")
        if self.mostly is not None:
            raise ValueError("'mostly' applies to row checks, not to a row count change")
        if self.relative_to == "median" and self.min_history > self.window:
            raise ValueError(
                f"min_history ({self.min_history}) is larger than window ({self.window}): "
                "the check would never judge"
            )
        return self

    @property
    def display_name(self) -> str:
        return self.name or "row_count_change"


def metric_type_problem(metric: str, column_type: str | None) -> str | None:
    """Why a metric cannot be measured on a column of this type (None when it can)."""
    if metric == "mean" and column_type is not None and column_type not in NUMERIC_TYPES:
        return f"mean needs a number column, not {column_type}"
    if metric == "freshness_lag_seconds" and column_type not in (None, "date", "timestamp"):
        return f"freshness_lag_seconds needs a date or timestamp column, not {column_type}"
    return None


HistoryCheck = AnomalyCheck | RowCountChangeCheck
RowCheck = NotNullCheck | RangeCheck | AllowedCheck | NotAllowedCheck | PatternCheck | LengthCheck
Check = Annotated[
    NotNullCheck
    | UniqueCheck
    | RangeCheck
    | StatisticCheck
    | AllowedCheck
    | NotAllowedCheck
    | PatternCheck
    | LengthCheck
    | ExpressionCheck
    | ReferenceCheck
    | ReconcileCheck
    | AnomalyCheck
    | RowCountChangeCheck,
    Field(discriminator="type"),
]


# ---------------------------------------------------------------------------------------
# Sections of the contract.


class Source(_Strict):
    """Where the data is. An operator or the CLI may override it."""

    path: str | None = Field(
        None, description="A file, directory or glob (.parquet, .csv, .jsonl), or an fsspec URL."
    )
    format: Literal["parquet", "csv", "jsonl", "json"] | None = Field(
        None, description="The file format when the path's ending does not tell it."
    )
    url: str | None = Field(None, description="A SQLAlchemy database URL.")
    conn_id: str | None = Field(None, description="An Airflow connection id (inside Airflow).")
    table: str | None = Field(None, description="A table, optionally schema-qualified.")
    query: str | None = Field(None, description="A SELECT whose rows are checked.")

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        kinds = [k for k in ("path", "url", "conn_id") if getattr(self, k)]
        if len(kinds) > 1:
            raise ValueError(f"give one of path, url or conn_id, not {' and '.join(kinds)}")
        if self.table and self.query:
            raise ValueError("give 'table' or 'query', not both")
        if self.path and (self.table or self.query):
            raise ValueError("'table' and 'query' go with 'url' or 'conn_id', not with 'path'")
        return self


class Column(_Strict):
    """One column of the schema, with shorthand for the checks on it."""

    name: str = Field(min_length=1)
    type: ColumnType | None = Field(None, description="Expected type; omit to accept any.")
    nullable: bool = Field(True, description="false: a not_null check on the column.")
    unique: bool = Field(False, description="true: a unique check on the column.")
    min: Bound | None = Field(None, description="Smallest allowed value (a range check).")
    max: Bound | None = Field(None, description="Largest allowed value (a range check).")
    strict_min: bool = False
    strict_max: bool = False
    allowed: tuple[Scalar, ...] | None = None
    not_allowed: tuple[Scalar, ...] | None = None
    pattern: str | None = Field(None, description="A regular expression values must contain.")
    min_length: int | None = Field(None, ge=0)
    max_length: int | None = Field(None, ge=0)
    severity: Severity = Field("fail", description="Severity of the checks this column implies.")
    mostly: float | None = Field(None, gt=0, le=1)

    _valid = field_validator("pattern")(lambda v: v if v is None else _check_regex(v))

    @model_validator(mode="after")
    def _consistent(self) -> Column:
        ordered = self.type is None or self.type in ORDERED_TYPES
        if (self.min is not None or self.max is not None) and not ordered:
            raise ValueError(f"min/max need a number, date or timestamp column, not {self.type}")
        if self.min is not None and self.max is not None:
            try:
                inverted = self.min > self.max  # type: ignore[operator]
            except TypeError:
                raise ValueError("min and max must be of the same kind") from None
            if inverted:
                raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if (
            self.min_length is not None
            and self.max_length is not None
            and self.min_length > self.max_length
        ):
            raise ValueError("min_length is greater than max_length")
        text = self.type in (None, "string")
        if (
            self.pattern or self.min_length is not None or self.max_length is not None
        ) and not text:
            raise ValueError(f"pattern and lengths need a string column, not {self.type}")
        return self

    def implied_checks(self) -> list[Check]:
        """The checks this column's shorthand stands for, in a stable order."""
        common: dict[str, Any] = {"column": self.name, "severity": self.severity}
        mostly = {"mostly": self.mostly} if self.mostly is not None else {}
        checks: list[Check] = []
        if not self.nullable:
            checks.append(NotNullCheck(**common, **mostly))
        if self.unique:
            checks.append(UniqueCheck(**common, **mostly))
        if self.min is not None or self.max is not None:
            checks.append(
                RangeCheck(
                    **common,
                    **mostly,
                    min=self.min,
                    max=self.max,
                    strict_min=self.strict_min,
                    strict_max=self.strict_max,
                )
            )
        if self.allowed is not None:
            checks.append(AllowedCheck(**common, **mostly, values=self.allowed))
        if self.not_allowed is not None:
            checks.append(NotAllowedCheck(**common, **mostly, values=self.not_allowed))
        if self.pattern is not None:
            checks.append(PatternCheck(**common, **mostly, pattern=self.pattern))
        if self.min_length is not None or self.max_length is not None:
            checks.append(
                LengthCheck(
                    **common, **mostly, min_length=self.min_length, max_length=self.max_length
                )
            )
        return checks


class Schema(_Strict):
    """The columns the data must have."""

    columns: tuple[Column, ...] = Field(default=(), description="The expected columns.")
    extra_columns: ExtraColumns = Field(
        "fail", description="What a column the contract does not list means."
    )
    ordered: bool = Field(False, description="true: the columns must appear in this order.")
    severity: Severity = "fail"

    @field_validator("columns")
    @classmethod
    def _unique_names(cls, columns: tuple[Column, ...]) -> tuple[Column, ...]:
        seen: set[str] = set()
        for column in columns:
            if column.name in seen:
                raise ValueError(f"column {column.name!r} is listed twice")
            seen.add(column.name)
        return columns


class Freshness(_Strict):
    """The newest value of a timestamp column must be recent enough."""

    column: str = Field(description="A date or timestamp column; naive timestamps are UTC.")
    warn_after: Duration | None = Field(None, description="Older than this: warn.")
    fail_after: Duration | None = Field(None, description="Older than this: fail.")
    severity: Severity = "fail"

    @model_validator(mode="after")
    def _limits(self) -> Freshness:
        if self.warn_after is None and self.fail_after is None:
            raise ValueError("give 'warn_after', 'fail_after' or both")
        if self.warn_after and self.fail_after and self.warn_after > self.fail_after:
            raise ValueError(
                f"warn_after ({format_duration(self.warn_after)}) is longer than "
                f"fail_after ({format_duration(self.fail_after)})"
            )
        return self


class Volume(_Strict):
    """How many rows the data may have."""

    min_rows: int | None = Field(None, ge=0)
    max_rows: int | None = Field(None, ge=0)
    severity: Severity = "fail"

    @model_validator(mode="after")
    def _limits(self) -> Volume:
        if self.min_rows is None and self.max_rows is None:
            raise ValueError("give 'min_rows', 'max_rows' or both")
        if (
            self.min_rows is not None
            and self.max_rows is not None
            and self.min_rows > self.max_rows
        ):
            raise ValueError(f"min_rows ({self.min_rows}) is above max_rows ({self.max_rows})")
        return self


DriftMethod = Literal["psi", "js", "wasserstein", "cramers_v"]
# Which methods suit which declared column types (numbers are binned, text and booleans
# are categories; dates and timestamps are not compared).
DRIFT_METHODS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(NUMERIC_TYPES, ("psi", "js", "wasserstein")),
    "string": ("psi", "js", "cramers_v"),
    "boolean": ("psi", "js", "cramers_v"),
}


def _drift_column(value: Any) -> Any:
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict | BaseModel):
        return value
    raise ValueError("give a column name, or a mapping such as {name: amount, method: psi}")


class DistributionColumn(_Strict):
    """A column compared with the reference; method and thresholds override the
    defaults for its type (see docs/drift.md)."""

    name: str = Field(min_length=1, description="The column.")
    method: DriftMethod | None = Field(
        None,
        description="The statistic that decides: psi, js, wasserstein (numbers) or "
        "cramers_v (categories). Default: wasserstein for numbers, js for strings and "
        "booleans.",
    )
    warn: float | None = Field(
        None, gt=0, description="Warn when the statistic, beyond sampling noise, reaches this."
    )
    fail: float | None = Field(
        None, gt=0, description="Fail when the statistic, beyond sampling noise, reaches this."
    )
    severity: Severity | None = Field(None, description="Default: the section's severity.")
    min_rows: int | None = Field(None, ge=0, description="Default: the section's min_rows.")

    @model_validator(mode="after")
    def _levels(self) -> DistributionColumn:
        if self.warn is not None and self.fail is not None and self.warn > self.fail:
            raise ValueError(f"warn ({self.warn}) is above fail ({self.fail})")
        return self


class Distribution(_Strict):
    """Compare columns' distributions with a reference: data, or a profile written by
    ``opsguard profile``."""

    reference: str | None = Field(
        None,
        min_length=1,
        description="Reference data (a file, folder, glob or URL, profiled when the gate "
        "runs) or a profile JSON written by `opsguard profile`. Relative paths are read "
        "from the contract file's folder. With a baseline: used until the store holds one.",
    )
    baseline: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description="A baseline kept in the results store under this name: its newest "
        "version is the reference. Each run keeps a profile of its data, so that a passing "
        "run can be promoted to the next version (`opsguard baseline promote NAME`).",
    )
    columns: tuple[Annotated[DistributionColumn, BeforeValidator(_drift_column)], ...] = Field(
        description="Columns to compare: names, or mappings with name, method, warn, fail, "
        "severity, min_rows.",
    )
    severity: Severity = Field("fail", description="warn: report drift without blocking.")
    min_rows: int = Field(
        100,
        ge=0,
        description="Fewer values than this (in the data or the reference): drift is not "
        "judged, and the check warns.",
    )
    bins: int = Field(
        20, ge=2, le=1000, description="Quantile bins of number columns when profiling data."
    )
    top: int = Field(
        50, ge=1, le=10000, description="Most frequent categories kept when profiling data."
    )

    @model_validator(mode="after")
    def _has_a_reference(self) -> Distribution:
        if self.reference is None and self.baseline is None:
            raise ValueError(
                "give a reference (data or a profile file) or a baseline (a name in the "
                "results store), or both"
            )
        return self

    @field_validator("columns")
    @classmethod
    def _unique_names(
        cls, columns: tuple[DistributionColumn, ...]
    ) -> tuple[DistributionColumn, ...]:
        if not columns:
            raise ValueError("list at least one column to compare")
        seen: set[str] = set()
        for column in columns:
            if column.name in seen:
                raise ValueError(f"column {column.name!r} is listed twice")
            seen.add(column.name)
        return columns


QuarantineLevel = Literal["batch", "rows"]


class Quarantine(_Strict):
    """Where bad data goes, and (for databases) where good data is published: see
    docs/quarantine.md."""

    level: QuarantineLevel = Field(
        "batch",
        description="batch: a failing batch is set aside whole; rows: only the rows that "
        "fail row checks (not_null, range, allowed, not_allowed, pattern, length) are set "
        "aside, and the aggregate checks are judged again on the rows that remain.",
    )
    location: str | None = Field(
        None,
        min_length=1,
        description="Files: the quarantine folder (a path or fsspec URL; default "
        "<dir>/_quarantine). Databases: the quarantine table (default <target>_quarantine).",
    )
    publish_to: str | None = Field(
        None,
        min_length=1,
        description="Databases (write-audit-publish): the target table. source.table is "
        "the staging table; a passing batch moves from it into this table in one "
        "transaction.",
    )


GxSuiteRef = str | dict[str, Any]
_GX_SUITE_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
    ]
}


def _gx_suites(value: Any) -> Any:
    """``gx_suite``: one suite or a list; a suite is a file path, a suite mapping, or a
    Great Expectations ``ExpectationSuite`` (kept as its JSON mapping, so that the
    contract stays plain data and never imports GX)."""
    if value is None:
        return ()
    items = list(value) if isinstance(value, list | tuple) else [value]
    out: list[Any] = []
    for item in items:
        to_json = getattr(item, "to_json_dict", None)
        if callable(to_json) and not isinstance(item, str | dict):
            item = to_json()
        if isinstance(item, str) and not item.strip():
            raise ValueError("a suite path is empty")
        if not isinstance(item, str | dict):
            raise ValueError(f"give a suite file path or a suite mapping, not {item!r}")
        out.append(item)
    return tuple(out)


class Contract(_Strict):
    """What a dataset must look like, and what a gate does when it does not."""

    version: Literal[1] = Field(1, description="The contract format version.")
    dataset: str = Field(
        min_length=1,
        max_length=255,
        pattern=r"^\S(.*\S)?$",
        description="The name used by results, alerts and the UI.",
    )
    description: str | None = None
    source: Source | None = None
    schema_: Schema | None = Field(None, alias="schema")
    freshness: Freshness | None = None
    volume: Volume | None = None
    checks: tuple[Check, ...] = Field(default=(), description="More checks, one per entry.")
    distribution: Distribution | None = Field(
        None, description="Compare columns' distributions with a reference (drift)."
    )
    on_fail: OnFail = Field("fail", description="What a gate does when the verdict is fail.")
    quarantine: Quarantine | None = Field(
        None,
        description="How on_fail: quarantine sets bad data aside: {level: batch|rows, "
        "location: ..., publish_to: <target table>}.",
    )
    mode: Mode = Field(
        "enforce",
        description="shadow: every check is measured, stored and shown, and never blocks "
        "or alerts; the result says what it would have done.",
    )
    owner: str | None = Field(None, description="Who answers for the data (shown in alerts).")
    runbook: str | None = Field(None, description="What to do when it fails (a URL or text).")
    alerts: tuple[AlertRoute, ...] = Field(
        default=(), description="Where alerts go: [{on: [fail, escalate], webhook: URL}, ...]."
    )
    escalation: Escalation = Field(
        default_factory=Escalation, description="When an open incident escalates."
    )
    gx_suite: Annotated[
        tuple[GxSuiteRef, ...], BeforeValidator(_gx_suites), WithJsonSchema(_GX_SUITE_SCHEMA)
    ] = Field(
        default=(),
        description="Great Expectations suites run on the same data: a suite JSON file (read "
        "from the contract file's folder when relative) or a list of them; in Python also "
        "a suite mapping or an ExpectationSuite.",
    )

    # The file the contract was loaded from: relative source paths are read from there.
    _origin: str | None = PrivateAttr(None)

    @property
    def origin(self) -> str | None:
        """The contract file's path, when it was loaded from one."""
        return self._origin

    def with_origin(self, origin: str) -> Contract:
        copy = self.model_copy()
        copy._origin = origin
        return copy

    @model_validator(mode="after")
    def _quarantine_fits_source(self) -> Contract:
        section, source = self.quarantine, self.source
        if section is None or source is None or not source.path:
            return self
        if section.publish_to is not None:
            raise ValueError(
                "quarantine.publish_to: publishing goes with a database source "
                "(source.url or source.conn_id with source.table), not with source.path"
            )
        return self

    @model_validator(mode="after")
    def _drift_anomalies(self) -> Contract:
        compared = {c.name for c in self.distribution.columns} if self.distribution else set()
        for index, check in enumerate(self.checks):
            drift = isinstance(check, AnomalyCheck) and check.metric == "drift"
            if drift and check.columns[0] not in compared:
                raise ValueError(
                    f"checks[{index}]: the drift of {check.columns[0]!r} is measured only "
                    "for a column listed in distribution.columns"
                )
        return self

    @model_validator(mode="after")
    def _known_columns(self) -> Contract:
        if self.schema_ is None or not self.schema_.columns:
            return self
        declared = {c.name: c for c in self.schema_.columns}
        for index, check in enumerate(self.checks):
            for column in check.columns:
                if column not in declared:
                    raise ValueError(f"checks[{index}]: column {column!r} is not in schema.columns")
            if isinstance(check, AnomalyCheck) and check.column is not None:
                problem = metric_type_problem(check.metric, declared[check.column].type)
                if problem:
                    raise ValueError(f"checks[{index}].metric: {problem}")
        if self.freshness is not None:
            target = declared.get(self.freshness.column)
            if target is None:
                raise ValueError(
                    f"freshness.column: {self.freshness.column!r} is not in schema.columns"
                )
            if target.type not in (None, "date", "timestamp"):
                raise ValueError(
                    f"freshness.column: {target.name!r} is {target.type}, not a date or timestamp"
                )
        if self.distribution is not None:
            _known_drift_columns(self.distribution, declared)
        return self

    @property
    def all_checks(self) -> tuple[Check, ...]:
        """The column shorthand expanded, then the explicit checks, in a stable order."""
        implied: list[Check] = []
        if self.schema_ is not None:
            for column in self.schema_.columns:
                implied.extend(column.implied_checks())
        return (*implied, *self.checks)

    @property
    def columns_used(self) -> tuple[str, ...]:
        """Every column some check reads, in first-use order."""
        names: dict[str, None] = {}
        for check in self.all_checks:
            names.update(dict.fromkeys(check.columns))
        if self.freshness is not None:
            names[self.freshness.column] = None
        if self.distribution is not None:
            names.update(dict.fromkeys(c.name for c in self.distribution.columns))
        return tuple(names)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the normalised contract: the same rules give the same fingerprint,
        whatever the formatting, comments or key order of the file."""
        # A section left out is left out of the fingerprint, so that adding a kind of
        # section to the format leaves the fingerprints of existing contracts alone.
        absent = {"distribution"} if self.distribution is None else set()
        absent |= set() if self.gx_suite else {"gx_suite"}
        # Who is told (owner, runbook, routes, escalation) is not a rule about the data;
        # the enforcement mode is, but only when it is not the default.
        absent |= {"owner", "runbook", "alerts", "escalation", "quarantine"}
        normal = self.model_dump(mode="json", by_alias=True, exclude={"description", *absent})
        _drop_default_modes(normal)
        text = json.dumps(normal, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def _drop_default_modes(normal: dict[str, Any]) -> None:
    """Leave ``mode: enforce`` out of a dumped contract, so that the key's arrival leaves
    the fingerprints of existing contracts alone."""
    for item in (normal, *normal.get("checks", ())):
        if item.get("mode") == "enforce":
            del item["mode"]
    # The same for the distribution's baseline (and reference, optional since baselines).
    section = normal.get("distribution") or {}
    for key in ("reference", "baseline"):
        if key in section and section[key] is None:
            del section[key]


def _known_drift_columns(section: Distribution, declared: dict[str, Column]) -> None:
    """Distribution columns must be declared (when the schema lists columns), of a type
    that is compared, with a method that suits the type."""
    for index, column in enumerate(section.columns):
        where = f"distribution.columns[{index}]"
        target = declared.get(column.name)
        if target is None:
            raise ValueError(f"{where}: column {column.name!r} is not in schema.columns")
        if target.type is None:
            continue
        methods = DRIFT_METHODS.get(target.type)
        if methods is None:
            raise ValueError(
                f"{where}: {column.name!r} is {target.type}; distributions compare numbers, "
                "strings and booleans"
            )
        if column.method is not None and column.method not in methods:
            raise ValueError(
                f"{where}.method: {column.method} does not apply to {target.type} column "
                f"{column.name!r}; use one of {', '.join(methods)}"
            )
