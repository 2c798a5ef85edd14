"""How a run report is read by whoever is on call: failures first, grouped by cause,
marked against the previous run, filtered and searched. Pure: checks in, groups out.

A cause is a failure that makes other checks fail or go unmeasured: a column missing
from the data (its schema check) takes the checks that read that column and the
"extra columns" check that names its likely new name; a source that could not be read
takes every check that was not measured. Each other failing check is a group of one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from airflow_opsguard.plugin.models import CheckOut

Change = Literal["new", "still", "recovered"]
Show = Literal["not_passed", "fail", "error", "warn", "pass", "all"]
SHOWS: tuple[Show, ...] = ("not_passed", "fail", "error", "warn", "pass", "all")
SHOW_LABELS: dict[Show, str] = {
    "not_passed": "Not passed",
    "fail": "Fail",
    "error": "Error",
    "warn": "Warn",
    "pass": "Pass",
    "all": "All",
}
# Failures first: what blocks, then what could not be measured, then warnings.
_ORDER = {"fail": 0, "error": 1, "warn": 2, "pass": 3}
_NOT_MEASURED = "not measured"
_RENAMED = re.compile(r"a column '([^']+)' of the same type is new")


@dataclass(frozen=True)
class Group:
    """A failing check and the checks it made fail or go unmeasured."""

    lead: CheckOut
    consequences: tuple[CheckOut, ...] = ()
    cause: str | None = None  # "missing column", "unreadable source", or None

    @property
    def checks(self) -> tuple[CheckOut, ...]:
        return (self.lead, *self.consequences)


@dataclass(frozen=True)
class Triage:
    """A report's checks as the page shows them."""

    groups: tuple[Group, ...]
    counts: Mapping[str, int]  # per status, and "not_passed" and "all"
    show: Show
    query: str
    changes: Mapping[str, Change] = field(default_factory=dict)
    recovered: tuple[str, ...] = ()  # checks that failed in the previous run and pass now
    hidden: int = 0  # checks the filter or the search leaves out


def triage(
    checks: Sequence[CheckOut],
    *,
    error: str | None = None,
    previous: Mapping[str, str] | None = None,
    show: str | None = None,
    query: str = "",
) -> Triage:
    """Group, order, mark and filter ``checks``. ``previous`` maps each check of the
    previous run of the dataset to its status (None: there was none); ``show`` is a
    status chip (default: only what did not pass, when anything did not); ``query``
    keeps the checks whose name, column or type contains it (any case)."""
    counts = status_counts(checks)
    chosen = _show(show, counts)
    changes = mark_changes(checks, previous) if previous is not None else {}
    recovered = tuple(n for n, c in changes.items() if c == "recovered")
    groups = group_by_cause(checks, error=error)
    kept = [g for g in (_filtered(g, chosen, query.strip().lower()) for g in groups) if g]
    shown = sum(len(g.checks) for g in kept)
    return Triage(
        groups=tuple(kept),
        counts=counts,
        show=chosen,
        query=query.strip(),
        changes=changes,
        recovered=recovered,
        hidden=len(checks) - shown,
    )


def _show(show: str | None, counts: Mapping[str, int]) -> Show:
    for key in SHOWS:
        if key == show:
            return key
    return "not_passed" if counts["not_passed"] else "all"


def status_counts(checks: Iterable[CheckOut]) -> dict[str, int]:
    """How many checks have each status, with ``not_passed`` and ``all``."""
    found = Counter(c.status for c in checks)
    counts = {s: found.get(s, 0) for s in ("fail", "error", "warn", "pass")}
    counts["not_passed"] = counts["fail"] + counts["error"] + counts["warn"]
    counts["all"] = sum(found.values())
    return counts


def mark_changes(checks: Sequence[CheckOut], previous: Mapping[str, str]) -> dict[str, Change]:
    """Each check's change since the previous run: ``new`` (failing now, not before),
    ``still`` (failing in both), ``recovered`` (failed before, passes now)."""
    marks: dict[str, Change] = {}
    for check in checks:
        before = previous.get(check.name)
        failed_before = before is not None and before != "pass"
        if check.status != "pass":
            marks[check.name] = "still" if failed_before else "new"
        elif failed_before:
            marks[check.name] = "recovered"
    return marks


def group_by_cause(checks: Sequence[CheckOut], *, error: str | None = None) -> list[Group]:
    """Failing checks grouped under their cause, causes first, then by status; passing
    checks last, each alone, in contract order."""
    failing = [c for c in checks if c.status != "pass"]
    taken: set[int] = set()
    groups: list[Group] = []
    for check in failing:
        missing = _missing_column(check)
        if missing is None:
            continue
        renamed = _renamed_to(check)
        under = [
            c
            for c in failing
            if c is not check
            and id(c) not in taken
            and (
                (c.column == missing and c.type != "schema")
                or (
                    renamed is not None
                    and c.type == "schema"
                    and c.column is None
                    and renamed in str(c.observed or "") + c.message
                )
            )
        ]
        taken.add(id(check))
        taken.update(id(c) for c in under)
        groups.append(Group(check, tuple(under), cause="missing column"))
    if error:
        unmeasured = [c for c in failing if id(c) not in taken and c.status == "error"]
        if unmeasured:
            taken.update(id(c) for c in unmeasured)
            groups.append(Group(unmeasured[0], tuple(unmeasured[1:]), cause="unreadable source"))
    rest = [Group(c) for c in failing if id(c) not in taken]
    rest.sort(key=lambda g: _ORDER.get(g.lead.status, 9))  # stable: contract order kept
    passing = [Group(c) for c in checks if c.status == "pass"]
    return groups + rest + passing


def _missing_column(check: CheckOut) -> str | None:
    if check.type == "schema" and check.column and check.observed == "missing":
        return check.column
    return None


def _renamed_to(check: CheckOut) -> str | None:
    found = _RENAMED.search(check.message)
    return found.group(1) if found else None


def _filtered(group: Group, show: Show, query: str) -> Group | None:
    """The group with only the checks the chip and the search keep (a cause stays with
    any of its consequences that is kept, so that it is never read out of context)."""

    def kept(check: CheckOut) -> bool:
        if show == "not_passed" and check.status == "pass":
            return False
        if show not in ("not_passed", "all") and check.status != show:
            return False
        if query:
            text = f"{check.name} {check.column or ''} {check.type}".lower()
            return query in text
        return True

    under = tuple(c for c in group.consequences if kept(c))
    if kept(group.lead) or under:
        return Group(group.lead, under, group.cause)
    return None


def describe(check: CheckOut) -> str:
    """``not measured`` for a check that a cause left unmeasured, else its status."""
    return _NOT_MEASURED if _NOT_MEASURED in check.message else check.status
