"""Checks on the values of columns: not_null, unique, range, statistic, allowed,
not_allowed, pattern, length; and the base every check builds on.

The column shorthand of ``schema.columns`` expands into these same models, so every
engine and the evaluation see one kind of declaration.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from airflow_opsguard.contract.base import (
    Bound,
    Bounded,
    Count,
    Mode,
    Severity,
    StrictModel,
    Values,
    check_regex,
)


class BaseCheck(StrictModel):
    """What every check has: a name, a severity, a mode and ``mostly``."""

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


class BaseColumnCheck(BaseCheck):
    column: str = Field(description="The column checked.")

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)


class NotNullCheck(BaseColumnCheck):
    """Every row has a value in the column."""

    type: Literal["not_null"] = "not_null"


class UniqueCheck(BaseCheck):
    """No two rows share a value (or a combination of values over several columns).

    Rows where the column is null (for several columns: where all of them are null) are
    not compared, as in SQL and Great Expectations: nulls are never duplicates.
    """

    type: Literal["unique"] = "unique"
    column: str | None = Field(None, description="The column that must be unique.")
    column_list: tuple[str, ...] | None = Field(
        None,
        alias="columns",
        fail_fast=True,
        description="Columns whose combination must be unique.",
    )

    @model_validator(mode="after")
    def _one_target(self) -> UniqueCheck:
        if (self.column is None) == (not self.column_list):
            raise ValueError("give either 'column' or 'columns' (a list of column names)")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,) if self.column is not None else tuple(self.column_list or ())


class RangeCheck(BaseColumnCheck, Bounded):
    """Every non-null value lies between ``min`` and ``max`` (inclusive unless strict)."""

    type: Literal["range"] = "range"
    min: Bound | None = None
    max: Bound | None = None
    strict_min: bool = False
    strict_max: bool = False


class StatisticCheck(BaseColumnCheck, Bounded):
    """A column statistic (min, max, mean, sum, distinct count) lies between bounds."""

    type: Literal["statistic"] = "statistic"
    statistic: Literal["min", "max", "mean", "sum", "distinct_count"]
    min: Bound | None = None
    max: Bound | None = None
    strict_min: bool = False
    strict_max: bool = False

    @model_validator(mode="after")
    def _no_mostly(self) -> StatisticCheck:
        if self.mostly is not None:
            raise ValueError("'mostly' applies to row checks, not to a statistic")
        return self

    @property
    def display_name(self) -> str:
        return self.name or f"{self.statistic}({self.column})"


class AllowedCheck(BaseColumnCheck):
    """Every non-null value is one of ``values`` (an empty list allows no value)."""

    type: Literal["allowed"] = "allowed"
    values: Values


class NotAllowedCheck(BaseColumnCheck):
    """No value is one of ``values`` (an empty list forbids nothing: a generated deny
    list may well be empty)."""

    type: Literal["not_allowed"] = "not_allowed"
    values: Values


class PatternCheck(BaseColumnCheck):
    """Every non-null value contains a match of the regular expression (anchor it with
    ``^...$`` to match whole values), as Python's ``re.search`` and GX do."""

    type: Literal["pattern"] = "pattern"
    pattern: str

    _valid = field_validator("pattern")(check_regex)


class LengthCheck(BaseColumnCheck, Bounded):
    """Every non-null value has between ``min_length`` and ``max_length`` characters."""

    bound_pairs = (("min_length", "max_length"),)

    type: Literal["length"] = "length"
    min_length: Count | None = None
    max_length: Count | None = None
