"""Building blocks every contract model shares: the strict base model, the vocabularies
(severity, mode, on_fail, column types), durations, regular expressions and bounds.

Each vocabulary is one ``Literal``; the tuples of its values are read from it, so a
value is added in one place.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from airflow_opsguard.contract.durations import format_duration, parse_duration

Severity = Literal["fail", "warn"]
Mode = Literal["enforce", "shadow"]
OnFail = Literal["fail", "skip", "quarantine", "warn"]
ON_FAIL: tuple[str, ...] = get_args(OnFail)

ColumnType = Literal["integer", "float", "decimal", "string", "boolean", "date", "timestamp"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)
NUMERIC_TYPES = frozenset({"integer", "float", "decimal"})
ORDERED_TYPES = NUMERIC_TYPES | {"date", "timestamp"}

Bound = int | float | Decimal | datetime | date
Scalar = str | int | float | bool | Decimal | date | datetime

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    Field(json_schema_extra={"type": "string", "examples": ["30m", "6h", "1d", "PT6H"]}),
]


class StrictModel(BaseModel):
    """Frozen, and unknown keys are errors: a typo never becomes a silent no-op."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def check_regex(pattern: str) -> str:
    """``pattern``, when Python and the SQL engines (RE2-style) can both run it."""
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


class Bounded(StrictModel):
    """The one rule for lower and upper bounds, for every model that takes them.

    ``bound_pairs`` names the model's (low, high) fields. When both of a pair are given,
    low must not exceed high; with ``bounds_required``, each pair needs at least one.
    The error starts with the low key, so the loader points at its line.
    """

    bound_pairs: ClassVar[tuple[tuple[str, str], ...]] = (("min", "max"),)
    bounds_required: ClassVar[bool] = True

    @model_validator(mode="after")
    def _ordered_bounds(self) -> Self:
        for low_key, high_key in self.bound_pairs:
            low: Any = getattr(self, low_key)
            high: Any = getattr(self, high_key)
            if low is None and high is None:
                if self.bounds_required:
                    raise ValueError(f"give {low_key!r}, {high_key!r} or both")
                continue
            if low is None or high is None:
                continue
            try:
                inverted = bool(low > high)
            except TypeError:
                raise ValueError(
                    f"{low_key}: {low_key} and {high_key} must be of the same kind"
                ) from None
            if inverted:
                raise ValueError(
                    f"{low_key}: {low_key} ({low}) is greater than {high_key} ({high})"
                )
        return self
