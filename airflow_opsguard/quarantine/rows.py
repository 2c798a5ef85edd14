"""Which rows are bad: the row checks of a contract as one SQL predicate per row.

The same plan that counts failing rows (``engines/plan.py``) gives, per row check, the
predicate of a failing row; a row is bad when any enforced row check with severity
``fail`` says so, and its reasons are the names of those checks. Because the counts and
the split use the very same predicates, the rows set aside are exactly the rows the
verdict counted. Checks on whole batches (volume, unique, freshness, statistics,
distribution, history) say nothing about one row: they are judged again on the rows
that remain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import FromClause

from airflow_opsguard.checks.keys import check_keys
from airflow_opsguard.checks.observations import ObservedColumn
from airflow_opsguard.contract.models import ROW_CHECKS as ROW_CHECKS
from airflow_opsguard.contract.models import Contract

SEPARATOR = "; "


@dataclass(frozen=True)
class RowSplit:
    """``bad`` is 1 for a bad row and 0 for a clean one (never NULL, so every row is in
    exactly one part); ``reasons`` names the checks a bad row fails."""

    bad: ColumnElement[Any]
    reasons: ColumnElement[Any]
    checks: tuple[str, ...]
    relation: Any  # what the predicates read: the staging table


def row_rules(contract: Contract) -> list[tuple[str, Any]]:
    """The enforced row checks of severity ``fail``, with their keys."""
    if contract.mode == "shadow":
        return []
    return [
        (key.key, key.check)
        for key in check_keys(contract)
        if isinstance(key.check, ROW_CHECKS)
        and key.check.severity == "fail"
        and key.check.mode == "enforce"
    ]


def row_split(
    contract: Contract, columns: Sequence[ObservedColumn], relation: FromClause
) -> RowSplit | None:
    """The split of ``relation`` into bad and clean rows, or None when the contract has
    no row check that can be applied to these columns."""
    from airflow_opsguard.engines.plan import build_plan

    wanted = dict(row_rules(contract))
    plan = build_plan(contract, columns, relation)
    found = [
        (planned.key, planned.predicate)
        for planned in plan.checks
        if planned.key in wanted and planned.predicate is not None
    ]
    if not found:
        return None
    bad = sa.case((sa.or_(*(p for _, p in found)), 1), else_=0)
    parts: list[ColumnElement[Any]] = [
        sa.case((predicate, sa.literal(key + SEPARATOR)), else_=sa.literal(""))
        for key, predicate in found
    ]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.concat(part)
    return RowSplit(
        bad=bad,
        reasons=_strip_separator(joined),
        checks=tuple(k for k, _ in found),
        relation=relation,
    )


class _strip_separator(FunctionElement[str]):
    """The reasons without the separator after the last one."""

    type = sa.Text()
    name = "strip_separator"
    inherit_cache = True


@compiles(_strip_separator)
def _strip_default(element: _strip_separator, compiler: SQLCompiler, **kw: Any) -> str:
    return f"rtrim({compiler.process(element.clauses, **kw)}, '; ')"


@compiles(_strip_separator, "mysql")
@compiles(_strip_separator, "mariadb")
def _strip_mysql(element: _strip_separator, compiler: SQLCompiler, **kw: Any) -> str:
    return f"TRIM(TRAILING '; ' FROM {compiler.process(element.clauses, **kw)})"
