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
    field_validator,
    model_validator,
)

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


RowCheck = NotNullCheck | RangeCheck | AllowedCheck | NotAllowedCheck | PatternCheck | LengthCheck
Check = Annotated[
    NotNullCheck
    | UniqueCheck
    | RangeCheck
    | StatisticCheck
    | AllowedCheck
    | NotAllowedCheck
    | PatternCheck
    | LengthCheck,
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
    on_fail: OnFail = Field("fail", description="What a gate does when the verdict is fail.")

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
    def _known_columns(self) -> Contract:
        if self.schema_ is None or not self.schema_.columns:
            return self
        declared = {c.name: c for c in self.schema_.columns}
        for index, check in enumerate(self.checks):
            for column in check.columns:
                if column not in declared:
                    raise ValueError(f"checks[{index}]: column {column!r} is not in schema.columns")
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
        return tuple(names)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the normalised contract: the same rules give the same fingerprint,
        whatever the formatting, comments or key order of the file."""
        normal = self.model_dump(mode="json", by_alias=True, exclude={"description"})
        text = json.dumps(normal, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()
