from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_opsguard.contract.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("6h", timedelta(hours=6)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2w", timedelta(weeks=2)),
        ("1.5h", timedelta(minutes=90)),
        ("PT6H", timedelta(hours=6)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("P1W", timedelta(weeks=1)),
        (90, timedelta(seconds=90)),
    ],
)
def test_parses_short_and_iso_forms(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["", "abc", "6 hours", "0m", "-1h", "P1M", "P1Y", "PX", True, None])
def test_rejects_what_is_not_a_positive_fixed_duration(bad: object) -> None:
    with pytest.raises(ValueError, match=r"duration|ISO 8601|years and months"):
        parse_duration(bad)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(days=3, hours=2, minutes=5), "3d 2h"),
        (timedelta(minutes=45), "45m"),
        (timedelta(seconds=12), "12s"),
        (timedelta(0), "0s"),
        (timedelta(weeks=1), "1w"),
        (timedelta(days=10), "10d"),
        (timedelta(hours=-2), "-2h"),
    ],
)
def test_formats_with_the_two_largest_units(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


@given(
    days=st.integers(0, 400),
    hours=st.integers(0, 23),
    minutes=st.integers(0, 59),
)
def test_short_form_round_trips(days: int, hours: int, minutes: int) -> None:
    duration = timedelta(days=days, hours=hours, minutes=minutes)
    if duration == timedelta(0):
        return
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n)
    assert parse_duration(text) == duration
    iso = f"P{days}DT{hours}H{minutes}M"
    assert parse_duration(iso) == duration


@given(st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=3650)))
def test_formatting_never_overstates_an_age(duration: timedelta) -> None:
    # The text keeps the two largest units: it may round down, never up past a unit.
    shown = parse_duration(format_duration(duration).replace(" ", ""))
    assert shown <= duration + timedelta(seconds=0.5)
    assert duration - shown < timedelta(days=1) or duration >= timedelta(weeks=1)
