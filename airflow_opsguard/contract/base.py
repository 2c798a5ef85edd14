"""Building blocks every contract model shares: the strict base model, the vocabularies
(severity, mode, on_fail, column types), durations, regular expressions and bounds.

Each vocabulary is one ``Literal``; the tuples of its values are read from it, so a
value is added in one place.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from airflow_opsguard.contract.durations import duration_text, parse_duration
from airflow_opsguard.contract.text import clip, short_repr

Severity = Literal["fail", "warn"]
Mode = Literal["enforce", "shadow"]
OnFail = Literal["fail", "skip", "quarantine", "warn"]
ON_FAIL: tuple[str, ...] = get_args(OnFail)

ColumnType = Literal["integer", "float", "decimal", "string", "boolean", "date", "timestamp"]
COLUMN_TYPES: tuple[str, ...] = get_args(ColumnType)
NUMERIC_TYPES = frozenset({"integer", "float", "decimal"})
ORDERED_TYPES = NUMERIC_TYPES | {"date", "timestamp"}

# Whole numbers in a contract fit in 64 bits: what SQL's BIGINT, DuckDB's and numpy's
# int64 hold, so that no bound or count overflows where it is compared.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# The longest regular expression a contract may give (characters).
MAX_PATTERN = 10_000


def finite(value: Any) -> Any:
    """``value``, unless it is a float that is NaN or infinite."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number")
    return value


_LARGEST = Decimal("1e308")


def in_range(value: Any) -> Any:
    """A number as a contract may give it: finite, a whole number within 64 bits, a
    decimal within the range of floats. Other values pass through unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(
            f"{short_repr(value)} is out of range: whole numbers lie between -2**63 and "
            "2**63-1 (9223372036854775807); write a float such as 1e20 for a larger bound"
        )
    finite(value)
    if isinstance(value, Decimal) and not (value.is_finite() and abs(value) <= _LARGEST):
        raise ValueError(f"{short_repr(value)} is not a finite number within the range of floats")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d")


def iso_bound(value: Any) -> Any:
    """A bound written as an ISO 8601 string, as a date (``2026-01-01``) or a timestamp
    (``2026-01-01T10:00:00``), as YAML reads the same text unquoted. Without this, the
    text of a date would be read as a timestamp at midnight, and a contract saved as
    JSON would not read back as the contract it was. NaN and infinity are refused here,
    with a message that says so."""
    value = finite(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            if _ISO_DATE.fullmatch(text):
                return date.fromisoformat(text)
            if _ISO_INSTANT.match(text):
                return datetime.fromisoformat(text)
        except ValueError:
            return value  # the type's own error says what is wrong
    return value


# in_range runs after the value is converted (a string "1e999" becomes a Decimal first).
Bound = Annotated[
    int | float | Decimal | datetime | date, BeforeValidator(iso_bound), AfterValidator(in_range)
]
Scalar = Annotated[
    str | int | float | bool | Decimal | date | datetime,
    BeforeValidator(finite),
    AfterValidator(in_range),
]
# A list of values (allowed, not_allowed): validation stops at the first bad item, so a
# list of a hundred thousand wrong items costs one error, not a hundred thousand.
Values = Annotated[tuple[Scalar, ...], Field(fail_fast=True)]
# A count (rows, characters): at least 0, at most 2**63-1.
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]

Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(duration_text, return_type=str),
    Field(json_schema_extra={"type": "string", "examples": ["30m", "6h", "1d", "PT6H"]}),
]


class StrictModel(BaseModel):
    """Frozen, and unknown keys are errors: a typo never becomes a silent no-op. Numbers
    are finite (NaN and infinity are errors, never a bound that nothing meets)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False
    )


def named_once(items: Any) -> Any:
    """``items`` (models with a ``name``), refused when a name comes twice."""
    seen: set[str] = set()
    for item in items:
        if item.name in seen:
            raise ValueError(f"column {short_repr(item.name)} is listed twice")
        seen.add(item.name)
    return items


def check_regex(pattern: str) -> str:
    """``pattern``, when Python and the SQL engines (RE2-style) can both run it."""
    if len(pattern) > MAX_PATTERN:
        raise ValueError(
            f"a regular expression of {len(pattern):,} characters; the limit is {MAX_PATTERN:,}"
        )
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        reason = exc if isinstance(exc, re.error) else "too large or nested too deeply"
        raise ValueError(f"invalid regular expression {short_repr(pattern)}: {reason}") from None
    # Databases and DuckDB use RE2-style engines: no look-around, no back-references.
    if re.search(r"\(\?<?[=!]|\\[1-9]", pattern):
        raise ValueError(
            f"{short_repr(pattern)} uses look-around or a back-reference, which SQL engines "
            "do not support"
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
                    f"{low_key}: {low_key} ({clip(str(low))}) is greater than "
                    f"{high_key} ({clip(str(high))})"
                )
        return self
