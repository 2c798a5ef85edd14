"""ODCS SQL quality rules that our checks can state, read and written. Pure.

Two shapes map, written as ODCS's own examples write them, with the object as
``${object}``/``{object}``/``${table}``/``{table}`` or its name, and the property as
``${property}``/``{property}``/``${column}``/``{column}``:

- ``SELECT COUNT(*) FROM obj WHERE cond`` that must be 0: the rows where ``cond`` holds
  are bad, so every row must meet ``NOT (cond)`` (an ``expression`` check; a row where
  ``cond`` is NULL is not counted, so it passes: ``if_null: pass``). Written back,
  ``expression: X`` with ``if_null: pass`` is ``WHERE NOT (X)``, and with
  ``if_null: fail`` it is ``WHERE (X) IS NOT TRUE``.
- ``SELECT MIN|MAX|AVG|SUM(col)`` or ``COUNT(DISTINCT col) FROM obj`` compared with
  bounds: a ``statistic`` check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OBJECT = r"(?:\$\{(?:object|table)\}|\{(?:object|table)\}|\"?[\w.]+\"?)"
_COUNT_WHERE = re.compile(
    rf"^\s*SELECT\s+COUNT\s*\(\s*(?:\*|1)\s*\)\s+FROM\s+(?P<object>{_OBJECT})\s+WHERE\s+"
    r"(?P<condition>.+?)\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_AGGREGATE = re.compile(
    rf"^\s*SELECT\s+(?:(?P<function>MIN|MAX|AVG|SUM)\s*\(\s*(?P<column>[^()\s]+)\s*\)"
    r"|COUNT\s*\(\s*DISTINCT\s+(?P<distinct>[^()\s]+)\s*\))"
    rf"\s+FROM\s+(?P<object>{_OBJECT})\s*;?\s*$",
    re.IGNORECASE,
)
_PLACEHOLDERS = ("${property}", "{property}", "${column}", "{column}")
STATISTICS = {"MIN": "min", "MAX": "max", "AVG": "mean", "SUM": "sum"}
FUNCTIONS = {v: k for k, v in STATISTICS.items()}
OBJECT = "${object}"


@dataclass(frozen=True)
class RowCondition:
    """Every row must meet ``expression`` (``if_null``: what a NULL condition means)."""

    expression: str
    if_null: str


@dataclass(frozen=True)
class Aggregate:
    statistic: str
    column: str


def _fill(text: str, column: str | None) -> str:
    if column is None:
        return text
    for placeholder in _PLACEHOLDERS:
        text = text.replace(placeholder, column)
    return text


def _object_matches(found: str, names: set[str]) -> bool:
    bare = found.strip('"')
    return found.startswith(("${", "{")) or bare in names or bare.split(".")[-1] in names


def row_condition(query: str, names: set[str], column: str | None = None) -> RowCondition | None:
    """The row condition a ``COUNT(*) ... WHERE`` query counts the violations of."""
    match = _COUNT_WHERE.match(_fill(query, column))
    if match is None or not _object_matches(match.group("object"), names):
        return None
    condition = match.group("condition").strip()
    inner = _unwrap(condition, "NOT ")
    if inner is not None:
        return RowCondition(inner, "pass")
    suffix = re.search(r"\s+IS\s+NOT\s+TRUE$", condition, re.IGNORECASE)
    if suffix is not None:
        inner = _unwrap(condition[: suffix.start()], "")
        if inner is not None:
            return RowCondition(inner, "fail")
    return RowCondition(f"NOT ({condition})", "pass")


def aggregate(query: str, names: set[str], column: str | None = None) -> Aggregate | None:
    """The statistic a ``SELECT AVG(col) FROM obj`` query measures."""
    match = _AGGREGATE.match(_fill(query, column))
    if match is None or not _object_matches(match.group("object"), names):
        return None
    if match.group("distinct"):
        return Aggregate("distinct_count", match.group("distinct").strip('"'))
    return Aggregate(STATISTICS[match.group("function").upper()], match.group("column").strip('"'))


def _unwrap(text: str, prefix: str) -> str | None:
    """``X`` from ``prefix(X)`` when the parentheses enclose all of the rest."""
    if not text.upper().startswith(prefix.upper()):
        return None
    rest = text[len(prefix) :].strip()
    if not (rest.startswith("(") and rest.endswith(")")):
        return None
    depth = 0
    for index, char in enumerate(rest):
        depth += 1 if char == "(" else -1 if char == ")" else 0
        if depth == 0 and index < len(rest) - 1:
            return None  # "(a) AND (b)": the first parenthesis closes early
    return rest[1:-1].strip()


def count_query(expression: str, if_null: str) -> str:
    """The ODCS query counting the rows that break ``expression``."""
    if if_null == "pass":
        return f"SELECT COUNT(*) FROM {OBJECT} WHERE NOT ({expression})"
    return f"SELECT COUNT(*) FROM {OBJECT} WHERE ({expression}) IS NOT TRUE"


def aggregate_query(statistic: str, column: str) -> str:
    if statistic == "distinct_count":
        return f"SELECT COUNT(DISTINCT {column}) FROM {OBJECT}"
    return f"SELECT {FUNCTIONS[statistic]}({column}) FROM {OBJECT}"
