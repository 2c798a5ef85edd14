"""Write a draft as commented YAML: every rule with the reason and the numbers it came
from, in a stable order, so that the same data gives the same bytes."""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import yaml

from airflow_opsguard.drafting.rules import DRIFT_MIN_VALUES, ColumnRules, FreshnessRule, VolumeRule


@dataclass(frozen=True)
class DraftParts:
    """Everything a draft says, decided; :func:`write_draft` only lays it out."""

    dataset: str
    described: str  # the data it came from, for the header
    rows: int
    source: dict[str, str] | None
    source_note: str | None
    columns: tuple[ColumnRules, ...]
    freshness: FreshnessRule | None
    volume: VolumeRule | None
    reference: str | None  # the profile file of the distribution section
    drift_columns: tuple[str, ...]


def write_draft(parts: DraftParts) -> str:
    """The draft contract's YAML text."""
    out = _comment(
        f"Drafted by `opsguard init` from {parts.described}: {parts.rows:,} rows, "
        f"{len(parts.columns)} columns. Every rule below holds on that data; the comments "
        "say where each one came from. Review the rules, watch the gate in shadow mode "
        "for a while, then set `mode: enforce`."
    )
    out += [
        f"dataset: {_scalar(parts.dataset)}",
        "# shadow: every check is measured, stored and shown, and none blocks or alerts yet.",
        "mode: shadow",
    ]
    if parts.source_note:
        out += _comment(parts.source_note)
    if parts.source is not None:
        out.append("source:")
        out += [f"  {key}: {_scalar(value)}" for key, value in parts.source.items()]
    out += [
        "schema:",
        "  # A column that is not listed here (a new one, or one renamed upstream) fails.",
        "  extra_columns: fail",
        "  columns:",
    ]
    for rules in parts.columns:
        out += _column(rules)
    if not parts.columns:
        out[-1] = "  columns: []"
    out += _freshness(parts.freshness)
    out += _volume(parts.volume)
    out += _distribution(parts)
    return "\n".join(out) + "\n"


def _column(rules: ColumnRules) -> list[str]:
    facts = rules.facts
    kind = facts.type or f"not one of the contract's types ({facts.native_type})"
    lines = _comment("; ".join((f"{facts.name}: {kind}", *rules.reasons)) + ".", indent=4)
    if rules.personal:
        lines += _comment(
            "Looks like personal data: consider `sensitive: true` (no values kept).", indent=4
        )
    lines.append(f"    - name: {_scalar(facts.name)}")
    if facts.type is not None:
        lines.append(f"      type: {facts.type}")
    if not rules.nullable:
        lines.append("      nullable: false")
    if rules.unique:
        lines.append("      unique: true")
    if rules.minimum is not None:
        lines.append(f"      min: {_scalar(rules.minimum)}")
    if rules.maximum is not None:
        lines.append(f"      max: {_scalar(rules.maximum)}")
    if rules.allowed is not None:
        lines.append(f"      allowed: {_scalar(list(rules.allowed))}")
    if rules.pattern is not None:
        lines.append(f"      pattern: {_scalar(rules.pattern)}")
    return lines


def _freshness(rule: FreshnessRule | None) -> list[str]:
    if rule is None:
        return ["# No freshness: the data has no date or timestamp column."]
    cadence = (
        f"one new value every {_duration(rule.cadence, exact=True)} on average"
        if rule.cadence
        else "a single distinct value, so no cadence"
    )
    dated = isinstance(rule.newest, date) and not isinstance(rule.newest, datetime)
    why = _comment(
        f"Freshness on {rule.column}, whose newest value is {_moment(rule.newest)}; "
        f"{cadence}. fail_after is twice that, at least "
        f"{'2d (a date stands for its midnight)' if dated else '1d'}, rounded up to "
        "1h, 2h, 3h, 6h, 12h, 1d, 2d, 3d, 7d, 14d, 30d ...; warn_after about half of it."
    )
    body = [
        "freshness:",
        f"  column: {_scalar(rule.column)}",
        f"  warn_after: {_duration(rule.warn_after)}",
        f"  fail_after: {_duration(rule.fail_after)}",
    ]
    if rule.blocked:
        return [
            *why,
            f"# Left out: {rule.blocked}, so it would fail the data it came from.",
            "# Uncomment it once fresh data arrives.",
            *(f"# {line}" for line in body),
        ]
    return [*why, *body]


def _volume(rule: VolumeRule | None) -> list[str]:
    if rule is None:
        return ["# No volume band: the data had no rows."]
    return [
        f"# {rule.rows:,} rows seen: the band runs from half to twice that, rounded outwards.",
        "volume:",
        f"  min_rows: {rule.min_rows}",
        f"  max_rows: {rule.max_rows}",
    ]


def _distribution(parts: DraftParts) -> list[str]:
    if not parts.drift_columns:
        if 0 < parts.rows < DRIFT_MIN_VALUES:
            return _comment(
                f"No distribution section: drift is judged on at least {DRIFT_MIN_VALUES} "
                f"values of a column, and the data has {parts.rows:,} rows."
            )
        return []
    if parts.reference is None:
        return [
            "# No distribution section: drafted without a file to write the data's profile",
            "# to (`opsguard init --out`); that profile would be the first reference.",
        ]
    return [
        "# Drift: the data this was drafted from is the first reference (its profile, as",
        "# `opsguard profile` writes one). Replace it when a newer batch is the norm.",
        "distribution:",
        f"  reference: {_scalar(parts.reference)}",
        f"  columns: {_scalar(list(parts.drift_columns))}",
    ]


def _comment(text: str, indent: int = 0) -> list[str]:
    """``text`` as comment lines of at most 88 characters."""
    pad = " " * indent + "# "
    # A name from the data may hold a character that would end the comment's line in
    # YAML (NEL, LS, PS) or that YAML does not allow (controls): it reads as a space.
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return textwrap.wrap(text, width=88, initial_indent=pad, subsequent_indent=pad) or [pad]


def _scalar(value: Any) -> str:
    """A value as YAML in flow style (quoted when YAML would read it as something else).
    Text with characters that are not printable is written with JSON's escapes (a valid
    YAML double-quoted scalar), so that no line separator is written raw."""
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(item) for item in value) + "]"
    if isinstance(value, str) and not value.isprintable():
        return json.dumps(value)
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, width=1_000_000, sort_keys=False
    )
    return text.removesuffix("\n").removesuffix("\n...")


def _duration(duration: timedelta, *, exact: bool = False) -> str:
    from airflow_opsguard.contract.durations import format_duration

    if exact:
        return format_duration(duration)
    seconds = int(duration.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds // 60}m"


def _moment(value: datetime | date) -> str:
    return (
        value.isoformat(sep=" ", timespec="seconds")
        if isinstance(value, datetime)
        else value.isoformat()
    )
