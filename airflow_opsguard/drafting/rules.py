"""The rules a draft proposes, decided from the facts the data showed (pure: no I/O).

Each rule says why it was proposed (``reason``), with the numbers it came from, so the
draft can say it in a comment. Every rule holds on the data it came from: bounds are
rounded outwards, a pattern is proposed only when every value matches it, and the
freshness rule only when the newest value is recent enough now.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from airflow_opsguard.contract.distribution import Distribution
from airflow_opsguard.drafting.facts import MAX_ALLOWED, PATTERNS, ColumnFacts, DataFacts

# A range's bounds sit this share of the observed span outside the extremes.
RANGE_MARGIN = 0.1
# The volume band: from half to twice the rows seen.
VOLUME_LOW, VOLUME_HIGH = 0.5, 2.0
# A text column becomes an allowed set when each value appears at least this often on
# average (so a small table of names does not become a list of its names).
MIN_REPEATS = 5
# Drift is judged on at least this many values of a column (the distribution section's
# default min_rows): a column with fewer would only warn that it cannot be judged.
DRIFT_MIN_VALUES: int = Distribution.model_fields["min_rows"].default
# Durations a freshness threshold is rounded up to.
_LADDER = tuple(
    timedelta(seconds=s)
    for s in (
        3600,
        2 * 3600,
        3 * 3600,
        6 * 3600,
        12 * 3600,
        86400,
        2 * 86400,
        3 * 86400,
        7 * 86400,
        14 * 86400,
        30 * 86400,
        60 * 86400,
        90 * 86400,
        180 * 86400,
        365 * 86400,
    )
)
_KEY_NAME = re.compile(r"(^|_)(id|key|uuid|guid|code|number|no)$|[a-z]Id$|ID$", re.IGNORECASE)
_PATTERN_NAMES = {
    "uuid": "a UUID",
    "email": "an e-mail address",
    "iso2": "2 capital letters, as an ISO 3166-1 alpha-2 country code",
    "iso3": "3 capital letters, as an ISO 4217 currency or ISO 3166-1 alpha-3 country code",
}


@dataclass(frozen=True)
class ColumnRules:
    """What the draft says about one column, with the reasons, in the order written."""

    facts: ColumnFacts
    nullable: bool
    unique: bool
    minimum: Any = None
    maximum: Any = None
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    pattern_name: str | None = None
    reasons: tuple[str, ...] = ()
    personal: bool = False

    @property
    def drifts(self) -> bool:
        """A column whose distribution is worth watching: numbers that are not keys,
        and categories (allowed sets, booleans), with enough values to judge drift."""
        kind = self.facts.type
        if self.unique or self.facts.values < DRIFT_MIN_VALUES:
            return False
        return kind in ("integer", "float", "decimal", "boolean") or self.allowed is not None


@dataclass(frozen=True)
class FreshnessRule:
    """Freshness on the newest date or timestamp, from the data's cadence."""

    column: str
    newest: datetime | date
    cadence: timedelta | None
    warn_after: timedelta
    fail_after: timedelta
    # Why it cannot be enforced on this data now (too old, in the future), or None.
    blocked: str | None = None


@dataclass(frozen=True)
class VolumeRule:
    rows: int
    min_rows: int
    max_rows: int


def column_rules(facts: ColumnFacts, rows: int) -> ColumnRules:
    """The rules for one column (see the module's docstring)."""
    reasons: list[str] = []
    seen = rows > 0
    nullable = not seen or facts.nulls > 0
    if seen:
        reasons.append(
            f"no nulls in {rows:,} rows"
            if not nullable
            else f"{facts.nulls:,} nulls in {rows:,} rows ({facts.nulls / rows:.1%})"
        )
    unique = _key_like(facts, rows)
    allowed = None if unique else _allowed(facts)
    if unique:
        reasons.append(f"{facts.distinct:,} distinct values in {rows:,} rows: a key")
    elif allowed is not None:
        each = facts.values / len(allowed)
        reasons.append(
            f"{len(allowed)} values, each seen {each:,.0f} times on average: an allowed set"
        )
    elif facts.distinct is not None and seen:
        reasons.append(f"{facts.distinct:,} distinct values")
    if facts.type in ("date", "timestamp") and facts.minimum is not None:
        reasons.append(f"from {_show(facts.minimum)} to {_show(facts.maximum)}")
    minimum, maximum, why = _range(facts, key=unique)
    if why:
        reasons.append(why)
    pattern_key = None if allowed is not None else _pattern(facts)
    pattern = None
    pattern_name = None
    if pattern_key is not None:
        pattern, pattern_name = PATTERNS[pattern_key], _PATTERN_NAMES[pattern_key]
        reasons.append(f"all {facts.values:,} values are {pattern_name}")
    return ColumnRules(
        facts=facts,
        nullable=nullable,
        unique=unique,
        minimum=minimum,
        maximum=maximum,
        allowed=allowed,
        pattern=pattern,
        pattern_name=pattern_name,
        reasons=tuple(reasons),
        personal=pattern_key == "email",
    )


def _key_like(facts: ColumnFacts, rows: int) -> bool:
    """Every row has its own value, no nulls, and the column is an integer or text
    named like a key (``id``, ``order_id``, ``sku_code``, ``userId``) or holding UUIDs."""
    if facts.type not in ("integer", "string") or rows < 2 or facts.nulls:
        return False
    if facts.distinct != rows:
        return False
    uuids = facts.matches.get("uuid", 0) == facts.values > 0
    return uuids or bool(_KEY_NAME.search(facts.name))


def _range(facts: ColumnFacts, *, key: bool) -> tuple[Any, Any, str | None]:
    """Bounds around the observed extremes, RANGE_MARGIN of the span outside them,
    rounded outwards; not below 0 when nothing was negative. Keys get a lower bound
    only: they grow."""
    if facts.type not in ("integer", "float", "decimal"):
        return None, None, None
    low, high = facts.minimum, facts.maximum
    if low is None or high is None:
        return None, None, None
    span = float(high) - float(low)
    margin = span * RANGE_MARGIN if span > 0 else max(abs(float(high)) * RANGE_MARGIN, 1.0)
    step = _step(margin, integer=facts.type == "integer")
    lower = _round(Decimal(repr(float(low))) - Decimal(repr(margin)), step, ROUND_FLOOR)
    if float(low) >= 0 and lower < 0:
        lower = Decimal(0)
    upper = _round(Decimal(repr(float(high))) + Decimal(repr(margin)), step, ROUND_CEILING)
    as_type = int if facts.type == "integer" else float
    seen = f"seen {_show(low)} to {_show(high)}"
    floor = " (not below 0: nothing was negative)" if float(low) >= 0 and lower == 0 else ""
    if key:
        return as_type(lower), None, f"{seen}; a key grows, so only a lower bound{floor}"
    note = f"{seen}, {RANGE_MARGIN:.0%} of the span added each side{floor}"
    return as_type(lower), as_type(upper), note


def _step(margin: float, *, integer: bool) -> Decimal:
    exponent = math.floor(math.log10(margin)) if margin > 0 else 0
    if integer:
        exponent = max(exponent, 0)
    return Decimal(1).scaleb(exponent)


def _round(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    return (value / step).to_integral_value(rounding=rounding) * step


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, float):
        return f"{value:,.6g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _allowed(facts: ColumnFacts) -> tuple[str, ...] | None:
    if facts.categories is None or not facts.categories:
        return None
    if len(facts.categories) > MAX_ALLOWED or facts.values < MIN_REPEATS * len(facts.categories):
        return None
    return facts.categories


def _pattern(facts: ColumnFacts) -> str | None:
    if facts.type != "string" or facts.values == 0:
        return None
    return next((name for name, n in facts.matches.items() if n == facts.values), None)


def freshness_rule(data: DataFacts, now: datetime) -> FreshnessRule | None:
    """Freshness on the timestamp (else date) column with the newest value.

    The cadence is the mean gap between successive distinct values (the span over the
    distinct values less one). ``fail_after`` is twice the cadence, at least a day (two
    for dates: a date is its midnight), rounded up to a step of a ladder (1h ... 1y);
    ``warn_after`` the ladder step at or below half of it. When the newest value is
    already older than ``fail_after`` (or lies in the future), the rule is ``blocked``.
    """
    chosen: ColumnFacts | None = None
    for kind in ("timestamp", "date"):
        candidates = [c for c in data.columns if c.type == kind and c.maximum is not None]
        if candidates:
            chosen = max(candidates, key=lambda c: _as_utc(c.maximum))
            break
    if chosen is None:
        return None
    newest, oldest = _as_utc(chosen.maximum), _as_utc(chosen.minimum)
    cadence = None
    if chosen.distinct and chosen.distinct > 1:
        cadence = (newest - oldest) / (chosen.distinct - 1)
    floor = timedelta(days=2 if chosen.type == "date" else 1)
    fail_after = _ladder_up(max(floor, 2 * cadence if cadence else floor))
    warn_after = max((step for step in _LADDER if step <= fail_after / 2), default=fail_after / 2)
    age = now - newest
    blocked = None
    if age > fail_after:
        blocked = f"the newest value is already {_days(age)} old, more than fail_after"
    elif age < -timedelta(minutes=5):
        blocked = f"the newest value lies {_days(-age)} in the future"
    return FreshnessRule(
        column=chosen.name,
        newest=chosen.maximum,
        cadence=cadence,
        warn_after=warn_after,
        fail_after=fail_after,
        blocked=blocked,
    )


def _as_utc(value: datetime | date) -> datetime:
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ladder_up(duration: timedelta) -> timedelta:
    for step in _LADDER:
        if step >= duration:
            return step
    days = math.ceil(duration / timedelta(days=365))
    return timedelta(days=365 * days)


def _days(duration: timedelta) -> str:
    from airflow_opsguard.contract.durations import format_duration

    return format_duration(duration)


def volume_rule(rows: int) -> VolumeRule | None:
    """A band from half to twice the rows seen, rounded outwards to two significant
    digits; none for empty data."""
    if rows <= 0:
        return None
    low = _significant(rows * VOLUME_LOW, ROUND_FLOOR)
    high = _significant(rows * VOLUME_HIGH, ROUND_CEILING)
    return VolumeRule(rows=rows, min_rows=max(low, 1), max_rows=high)


def _significant(value: float, rounding: str) -> int:
    if value < 100:
        return int(Decimal(repr(value)).to_integral_value(rounding=rounding))
    step = Decimal(1).scaleb(math.floor(math.log10(value)) - 1)
    return int(_round(Decimal(repr(value)), step, rounding))
