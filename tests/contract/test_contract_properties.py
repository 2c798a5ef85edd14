"""Property-based tests of the contract loader and the duration parser: whatever the
input, a contract or a one-line ContractError, never another exception; a valid
contract reads back as itself; a duration written out reads back as the same duration."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_opsguard import ContractError
from airflow_opsguard.contract.base import INT64_MAX, INT64_MIN
from airflow_opsguard.contract.durations import (
    MAX_DURATION,
    duration_text,
    format_duration,
    parse_duration,
)
from airflow_opsguard.contract.loader import parse_contract_text
from airflow_opsguard.contract.models import Contract

LOADER = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_or_refuse(text: str) -> Contract | None:
    """The contract in ``text``, or None when it is refused with a proper message."""
    try:
        return parse_contract_text(text, origin="c.yml")
    except ContractError as exc:
        message = str(exc)
        assert message.startswith("c.yml"), message
        assert "\n" not in message and len(message) < 600, message
        return None


# ------------------------------------------------------------------ valid contracts

names = st.text(
    st.characters(min_codepoint=48, max_codepoint=122, categories=("Ll", "Lu", "Nd")),
    min_size=1,
    max_size=12,
)
int64 = st.integers(INT64_MIN, INT64_MAX)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
durations = st.timedeltas(timedelta(seconds=1), MAX_DURATION)
scalars = st.one_of(names, int64, finite, st.booleans())


@st.composite
def columns(draw: st.DrawFn) -> list[dict[str, Any]]:
    picked = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    out: list[dict[str, Any]] = []
    for name in picked:
        kind = draw(st.sampled_from(["integer", "float", "string", "date", "timestamp", None]))
        column: dict[str, Any] = {"name": name}
        if kind is not None:
            column["type"] = kind
        if draw(st.booleans()):
            column["nullable"] = draw(st.booleans())
        if draw(st.booleans()):
            column["unique"] = True
        if kind == "integer" and draw(st.booleans()):
            low, high = sorted(draw(st.tuples(int64, int64)))
            column.update(min=low, max=high)
        if kind == "float" and draw(st.booleans()):
            column["min"] = draw(finite)
        if kind == "date" and draw(st.booleans()):
            column["max"] = draw(st.dates())
        if kind == "timestamp" and draw(st.booleans()):
            column["min"] = draw(st.datetimes())
        if kind in ("string", None) and draw(st.booleans()):
            column["allowed"] = draw(st.lists(scalars, max_size=5))
        if kind == "string" and draw(st.booleans()):
            column["pattern"] = draw(st.sampled_from(["^[a-z]+$", "@", r"\d{3}"]))
        out.append(column)
    return out


@st.composite
def contracts(draw: st.DrawFn) -> dict[str, Any]:
    contract: dict[str, Any] = {"dataset": draw(names)}
    cols = draw(st.none() | columns())
    if cols:
        contract["schema"] = {"columns": cols}
        if draw(st.booleans()):
            contract["schema"]["extra_columns"] = draw(st.sampled_from(["fail", "warn", "allow"]))
        stamps = [c["name"] for c in cols if c.get("type") in ("date", "timestamp")]
        if stamps and draw(st.booleans()):
            warn, fail = sorted(draw(st.tuples(durations, durations)))
            contract["freshness"] = {
                "column": draw(st.sampled_from(stamps)),
                "warn_after": duration_text(warn),
                "fail_after": duration_text(fail),
                "future_tolerance": duration_text(
                    draw(st.timedeltas(timedelta(seconds=1), timedelta(days=1)))
                ),
            }
        checks = [
            {
                "type": "not_null",
                "column": c["name"],
                "severity": draw(st.sampled_from(["fail", "warn"])),
            }
            for c in cols
            if draw(st.booleans())
        ]
        if checks:
            contract["checks"] = checks
    if draw(st.booleans()):
        low, high = sorted(draw(st.tuples(st.integers(0, INT64_MAX), st.integers(0, INT64_MAX))))
        contract["volume"] = {"min_rows": low, "max_rows": high}
    if draw(st.booleans()):
        contract["on_fail"] = draw(st.sampled_from(["fail", "skip", "quarantine", "warn"]))
    if draw(st.booleans()):
        contract["escalation"] = {"after_open": duration_text(draw(durations))}
    return contract


@LOADER
@given(contracts())
def test_valid_contracts_load_and_read_back_as_themselves(mapping: dict[str, Any]) -> None:
    contract = load_or_refuse(yaml.safe_dump(mapping, allow_unicode=True))
    assert contract is not None, mapping
    for mode in ("json", "python"):
        dumped = contract.model_dump(mode=mode, by_alias=True)
        again = load_or_refuse(yaml.safe_dump(_plain(dumped), allow_unicode=True))
        assert again == contract, mode
        assert again.fingerprint == contract.fingerprint


def _plain(value: Any) -> Any:
    """A dump YAML can write: tuples as lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# ------------------------------------------------------------------ anything at all

junk_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**62, max_value=2**80),
    st.floats(),
    st.text(max_size=30),
    st.dates(),
    st.datetimes(),
)
junk = st.recursive(
    junk_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
KEYS = [
    "dataset",
    "source",
    "schema",
    "freshness",
    "volume",
    "checks",
    "distribution",
    "on_fail",
    "quarantine",
    "mode",
    "alerts",
    "escalation",
    "gx_suite",
    "owner",
    "version",
]


@LOADER
@given(st.dictionaries(st.sampled_from(KEYS), junk, max_size=5))
def test_any_value_at_any_key_is_a_contract_or_one_line_error(mapping: dict[str, Any]) -> None:
    mapping.setdefault("dataset", "orders")
    load_or_refuse(yaml.safe_dump(mapping))


@LOADER
@given(
    st.fixed_dictionaries(
        {"dataset": st.just("x")},
        optional={
            "schema": st.fixed_dictionaries(
                {
                    "columns": st.lists(
                        st.dictionaries(
                            st.sampled_from(
                                [
                                    "name",
                                    "type",
                                    "min",
                                    "max",
                                    "allowed",
                                    "pattern",
                                    "min_length",
                                    "max_length",
                                    "mostly",
                                    "nullable",
                                    "unique",
                                    "severity",
                                ]
                            ),
                            junk,
                            max_size=6,
                        ),
                        max_size=3,
                    )
                }
            ),
            "freshness": st.dictionaries(
                st.sampled_from(["column", "warn_after", "fail_after", "future_tolerance"]),
                junk,
            ),
            "volume": st.dictionaries(st.sampled_from(["min_rows", "max_rows", "severity"]), junk),
            "checks": st.lists(
                st.dictionaries(
                    st.sampled_from(
                        [
                            "type",
                            "column",
                            "min",
                            "max",
                            "values",
                            "pattern",
                            "statistic",
                            "metric",
                            "window",
                            "tolerance",
                            "to",
                        ]
                    ),
                    junk
                    | st.sampled_from(["range", "allowed", "statistic", "anomaly", "reconcile"]),
                ),
                max_size=3,
            ),
        },
    )
)
def test_junk_in_the_right_places_is_a_contract_or_one_line_error(mapping: dict[str, Any]) -> None:
    load_or_refuse(yaml.safe_dump(mapping))


@LOADER
@given(st.text(max_size=300))
def test_any_text_is_a_contract_or_one_line_error(text: str) -> None:
    load_or_refuse(text)


@LOADER
@given(
    st.lists(
        st.sampled_from(
            [
                "dataset: x\n",
                "a: &a [1, 2]\n",
                "b: *a\n",
                "  - ",
                "{",
                "}",
                "[",
                "]",
                ": ",
                "<<: *a\n",
                "? ",
                "---\n",
                "!!binary ",
                "&x ",
                "*x ",
                "\t",
                "'",
                '"',
                "#",
                "\n",
                "checks:\n",
                "dataset: y\n",
                "2026-02-30",
                "9" * 50,
                ".nan",
                "~",
            ]
        ),
        max_size=40,
    )
)
def test_yaml_made_of_tricky_pieces_is_a_contract_or_one_line_error(pieces: list[str]) -> None:
    load_or_refuse("".join(pieces))


# ------------------------------------------------------------------ durations


@settings(max_examples=300)
@given(st.timedeltas(timedelta(microseconds=1), MAX_DURATION))
def test_a_written_duration_reads_back_as_itself(duration: timedelta) -> None:
    assert parse_duration(duration_text(duration)) == duration


@settings(max_examples=300)
@given(st.timedeltas())
def test_writing_and_showing_any_duration_never_fails(duration: timedelta) -> None:
    assert duration_text(duration)
    assert format_duration(duration)


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(max_size=200),
        st.text(alphabet="0123456789.,:PTYMWDHSpdhmsw -", max_size=40),
        st.integers(),
        st.floats(),
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=3),
        st.dates(),
    )
)
def test_garbage_is_a_short_value_error_or_a_duration_within_bounds(value: object) -> None:
    try:
        duration = parse_duration(value)
    except ValueError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 250, message
    else:
        assert timedelta(0) < duration <= MAX_DURATION
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert math.isclose(duration.total_seconds(), value, rel_tol=1e-9, abs_tol=1e-6)


def test_the_dates_the_strategies_make_are_dates_and_datetimes() -> None:
    # The round trip above covers both: a date bound stays a date, a timestamp a timestamp.
    contract = load_or_refuse(
        "dataset: x\nschema:\n  columns:\n"
        "    - {name: d, type: date, max: 2026-01-01}\n"
        "    - {name: t, type: timestamp, min: 2026-01-01T00:00:00}\n"
    )
    assert contract is not None and contract.schema_ is not None
    d, t = contract.schema_.columns
    assert type(d.max) is date and type(t.min) is datetime
