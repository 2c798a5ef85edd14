"""Planning the checks that reach beyond one column: expression, reference, reconcile.

- ``expression``: the contract author's SQL condition, counted in the main scan as
  ``SUM(CASE WHEN (condition) THEN 0 ELSE 1 END)``; a row passes only when the condition
  is TRUE (with ``if_null: pass``, also when it is NULL).
- ``reference``: one anti-join, ``SELECT count(*) FROM source WHERE col IS NOT NULL AND
  NOT EXISTS (SELECT 1 FROM other WHERE other.col = source.col)``, in the database (or
  DuckDB) where both tables live, so no value crosses the wire but the count.
- ``reconcile``: our aggregate in the main scan, the other table's in one small query.

The other table is found through an :data:`OtherResolver` that the engine supplies:
the SQL engine looks tables up in the catalogue of the same database (names are quoted
by SQLAlchemy, never formatted into SQL, so a name that is not a table is only a
missing table), the file engine opens another file in the same DuckDB.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause, Select

from airflow_opsguard.checks.observations import CheckObservation, ObservedColumn
from airflow_opsguard.contract.models import (
    NUMERIC_TYPES,
    ExpressionCheck,
    ReconcileCheck,
    ReconcileTarget,
    ReferenceCheck,
    ReferenceTarget,
)
from airflow_opsguard.engines.dialects import ONE, ZERO, by_dialect, exact_text
from airflow_opsguard.engines.types import sqlalchemy_type

if TYPE_CHECKING:
    from airflow_opsguard.engines.plan import PlannedCheck

OTHER_ALIAS = "opsguard_other"
_EXPRESSION_SAMPLE_COLUMNS = 5


@dataclass(frozen=True)
class OtherRelation:
    """Another table (or file) of the same database: what to select from, its columns."""

    relation: FromClause
    columns: tuple[ObservedColumn, ...]
    name: str  # how messages name it: "table 'customers'"

    def column(self, wanted: str) -> ObservedColumn | None:
        """The column, as the catalogue spells it (``ID`` finds PostgreSQL's ``id``)."""
        exact = [c for c in self.columns if c.name == wanted]
        if exact:
            return exact[0]
        folded = [c for c in self.columns if c.name.lower() == wanted.lower()]
        return folded[0] if len(folded) == 1 else None


class OtherNotFound(Exception):
    """The other table cannot be found or opened; the message says why, in one line."""


# Finds the table (or file) a reference or reconcile check names; raises OtherNotFound.
OtherResolver = Callable[[ReferenceTarget | ReconcileTarget], OtherRelation]


def no_other_tables(target: ReferenceTarget | ReconcileTarget) -> OtherRelation:
    """The resolver of an engine that reaches no other table."""
    raise OtherNotFound(f"this source cannot reach {target.shown!r}")


def _column(name: str, column: ObservedColumn, relation: FromClause) -> ColumnElement[Any]:
    found = sa.column(name, sqlalchemy_type(column), _selectable=relation)
    return exact_text(found) if column.type == "string" else found


# ------------------------------------------------------------------------- expression


def plan_expression(
    planned: PlannedCheck,
    check: ExpressionCheck,
    observed: Mapping[str, ObservedColumn],
    source: FromClause,
) -> PlannedCheck:
    """Count the rows where the condition is not TRUE, and sample them whole (the
    columns the condition names)."""
    # The author's SQL, as a dbt test is: it runs as written, in parentheses, in a
    # session that is read-only wherever the database allows it.
    condition = sa.literal_column(f"({check.expression})", sa.Boolean())
    unknown_passes = check.if_null == "pass"
    whens: list[tuple[Any, Any]] = [(condition, ZERO)]
    if unknown_passes:
        whens.append((condition.is_(None), ZERO))
    failing = sa.case(*whens, else_=ONE)
    planned.aggregates["considered"] = sa.func.count()
    planned.aggregates["failing"] = sa.func.sum(failing)
    planned.predicate = failing == ONE
    names = referenced_columns(check.expression, list(observed))
    shown = names or list(observed)[:_EXPRESSION_SAMPLE_COLUMNS]
    planned.sample_columns = tuple(
        sa.column(n, sqlalchemy_type(observed[n]), _selectable=source).label(n) for n in shown
    )
    planned.sample_rows = True
    return planned


_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_IDENTIFIER = re.compile(r'"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|\b([A-Za-z_][A-Za-z0-9_$]*)\b')


def referenced_columns(expression: str, columns: Sequence[str]) -> list[str]:
    """The data's columns that a SQL expression names, in order of first mention, at
    most five: quoted names as written, bare names in any case."""
    text = _STRING_LITERAL.sub("''", expression)
    exact = set(columns)
    folded: dict[str, list[str]] = {}
    for name in columns:
        folded.setdefault(name.lower(), []).append(name)
    found: dict[str, None] = {}
    for match in _IDENTIFIER.finditer(text):
        quoted = match.group(1) or match.group(2) or match.group(3)
        if quoted is not None:
            name = quoted.replace('""', '"')
            if name in exact:
                found[name] = None
            continue
        bare = match.group(4)
        if bare in exact:
            found[bare] = None
        elif len(folded.get(bare.lower(), ())) == 1:
            found[folded[bare.lower()][0]] = None
    return list(found)[:_EXPRESSION_SAMPLE_COLUMNS]


# -------------------------------------------------------------------------- reference


def plan_reference(
    planned: PlannedCheck,
    check: ReferenceCheck,
    observed: Mapping[str, ObservedColumn],
    source: FromClause,
    others: OtherResolver,
) -> PlannedCheck:
    """Values of the column that the other table's column lacks: one anti-join."""
    found = _resolve(planned, check.to, others)
    if found is None:
        return planned
    other, target = found, found.column(check.to.column)
    if target is None:
        planned.error = f"not measured: {other.name} has no column {check.to.column!r}"
        return planned
    ours = observed[check.column]
    clash = _type_clash(ours, target)
    if clash:
        planned.error = (
            f"not measured: {check.column!r} is {clash[0]} but {other.name}.{target.name} is "
            f"{clash[1]}; a reference compares values of the same kind"
        )
        return planned
    col = _column(check.column, ours, source)
    referenced = _column(target.name, target, other.relation)
    # NOT EXISTS: PostgreSQL, SQLite and DuckDB plan it as an anti-join. MariaDB caches
    # correlated subquery results under the outer column's own (case-blind) collation,
    # so 'Ann' would reuse the answer for 'ann': there, NOT IN over the non-null values,
    # which MariaDB materialises once, gives the same rows.
    exists = sa.exists().where(referenced == col).correlate(source)
    values = sa.select(referenced).select_from(other.relation).where(referenced.is_not(None))
    missing = by_dialect(sa.not_(exists), col.not_in(values))
    orphan = sa.and_(col.is_not(None), missing)
    planned.aggregates["considered"] = sa.func.count(col)
    planned.failing_query = sa.select(sa.func.count()).select_from(source).where(orphan)
    planned.predicate = orphan
    planned.sample_columns = (col,)
    return planned


def _type_clash(ours: ObservedColumn, theirs: ObservedColumn) -> tuple[str, str] | None:
    """The two kinds when values of one column can never equal the other's."""
    if ours.type is None or theirs.type is None:
        return None  # let the database decide
    if ours.type in NUMERIC_TYPES and theirs.type in NUMERIC_TYPES:
        return None
    if {ours.type, theirs.type} == {"date", "timestamp"} or ours.type == theirs.type:
        return None
    return ours.type, theirs.type


# -------------------------------------------------------------------------- reconcile


def plan_reconcile(
    planned: PlannedCheck,
    check: ReconcileCheck,
    observed: Mapping[str, ObservedColumn],
    source: FromClause,
    others: OtherResolver,
) -> PlannedCheck:
    """Our aggregate in the main scan; the other table's in one query of its own."""
    found = _resolve(planned, check.to, others)
    if found is None:
        return planned
    other = found
    theirs: ColumnElement[Any]
    if check.column is None:
        planned.aggregates["value"] = sa.func.count()
        theirs = sa.func.count()
    else:
        other_name = check.other_column or check.column
        target = other.column(other_name)
        if target is None:
            planned.error = f"not measured: {other.name} has no column {other_name!r}"
            return planned
        ours = observed[check.column]
        for column, where in ((ours, repr(check.column)), (target, f"{other.name}.{target.name}")):
            if check.metric in ("sum", "mean") and column.type not in (None, *NUMERIC_TYPES):
                needs = f"{check.metric} needs numbers"
                planned.error = f"not measured: {where} is {column.type}; {needs}"
                return planned
        planned.aggregates["value"] = _aggregate(check.metric, _column(check.column, ours, source))
        theirs = _aggregate(check.metric, _column(target.name, target, other.relation))
    statement = sa.select(theirs).select_from(other.relation)
    if check.to.where is not None:
        statement = statement.where(sa.text(f"({check.to.where})"))

    def collect(
        found: dict[str, Any], run: Callable[[Select[Any]], Sequence[Any]]
    ) -> CheckObservation:
        rows = run(statement)
        return CheckObservation(value=found.get("value"), compared=rows[0][0] if rows else None)

    planned.collect = collect
    planned.extra_statements = (statement,)
    return planned


def _aggregate(metric: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    functions: dict[str, Callable[[ColumnElement[Any]], ColumnElement[Any]]] = {
        "count": sa.func.count,
        "sum": sa.func.sum,
        "min": sa.func.min,
        "max": sa.func.max,
        "mean": sa.func.avg,
    }
    return functions[metric](column)


def _resolve(
    planned: PlannedCheck, target: ReferenceTarget | ReconcileTarget, others: OtherResolver
) -> OtherRelation | None:
    try:
        return others(target)
    except OtherNotFound as exc:
        planned.error = f"not measured: {exc}"
        return None
