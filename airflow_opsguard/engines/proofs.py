"""Checks the database itself proves: a NOT NULL constraint, a primary key, a unique index.

A database enforces its constraints on every write, so a ``not_null`` check on a NOT
NULL column, or a ``unique`` check on the columns of a primary key or unique index, can
only pass: the check takes the catalogue's word instead of scanning (a GROUP BY over ten
million ids costs PostgreSQL seconds), and its message names the constraint. Only where
the database enforces them: warehouses declare keys they never check (see
``ENFORCE_UNIQUE``).

Only what the constraint guarantees in the check's own terms counts. A unique check
ignores nulls (a row counts unless all its columns are null), and a unique index lets
rows that are null in any of its columns repeat: so one column's index proves that
column unique; an index over columns ``S`` proves a check over columns ``C`` containing
them when every column of ``S`` is NOT NULL. Partial indexes (``WHERE ...``) and indexes
on expressions prove nothing. (SQLite lets a primary key column hold nulls unless it is
declared NOT NULL; the rule above needs nothing else for it.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.checks.keys import check_keys
from airflow_opsguard.contract.models import NotNullCheck, UniqueCheck

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from airflow_opsguard.contract.models import Contract
    from airflow_opsguard.engines.plan import Plan


@dataclass(frozen=True)
class Proofs:
    """What a table's catalogue guarantees: NOT NULL columns, and column sets that a
    primary key or unique index holds unique, each with the constraint's description."""

    not_null: Mapping[str, str] = field(default_factory=dict)
    unique: tuple[tuple[frozenset[str], str], ...] = ()

    def for_not_null(self, column: str) -> str | None:
        return self.not_null.get(column)

    def for_unique(self, columns: Sequence[str]) -> str | None:
        wanted = frozenset(columns)
        for held, what in self.unique:
            if held == wanted and len(held) == 1:
                return what
            if held <= wanted and all(c in self.not_null for c in held):
                return what
        return None


NO_PROOFS = Proofs()

# Databases that enforce what their catalogue declares. Snowflake, BigQuery and
# Databricks keep primary keys and unique constraints as information only (never
# checked on write), so they prove no uniqueness; their NOT NULL is enforced. Trino's
# guarantees are its connectors', so it proves nothing.
ENFORCE_UNIQUE = frozenset({"postgresql", "mysql", "mariadb", "sqlite"})
ENFORCE_NOT_NULL = ENFORCE_UNIQUE | {"snowflake", "bigquery", "databricks"}


def read_proofs(
    connection: Connection, table: str, schema: str | None, contract: Contract
) -> Proofs:
    """The table's proofs, read from the catalogue only when the contract has a check
    that one could prove (a few small catalogue queries)."""
    not_null_checks = [k for k in check_keys(contract) if isinstance(k.check, NotNullCheck)]
    unique = [k for k in check_keys(contract) if isinstance(k.check, UniqueCheck)]
    backend = connection.dialect.name
    if backend not in ENFORCE_UNIQUE:
        unique = []
    if backend not in ENFORCE_NOT_NULL or (not not_null_checks and not unique):
        return NO_PROOFS
    inspector = sa.inspect(connection)
    not_null = {
        str(c["name"]): "NOT NULL constraint"
        for c in inspector.get_columns(table, schema=schema)
        if not c.get("nullable", True)
    }
    if not unique:
        return Proofs(not_null=not_null)
    held: list[tuple[frozenset[str], str]] = []
    primary = inspector.get_pk_constraint(table, schema=schema)
    if primary.get("constrained_columns"):
        held.append((_names(primary["constrained_columns"]), _named("primary key", primary)))
    for constraint in inspector.get_unique_constraints(table, schema=schema):
        held.append((_names(constraint["column_names"]), _named("unique constraint", constraint)))
    for index in inspector.get_indexes(table, schema=schema):
        if not index.get("unique") or _partial_or_expression(index):
            continue
        held.append((_names(index["column_names"]), _named("unique index", index)))
    return Proofs(not_null=not_null, unique=tuple(h for h in held if h[0]))


def apply_proofs(plan: Plan, contract: Contract, proofs: Proofs) -> None:
    """Plan each proven check without the work the proof replaces: a not_null check
    keeps its count of rows and loses its count of nulls and samples; a unique check
    keeps its count of compared rows and loses its GROUP BY."""
    checks = {k.key: k.check for k in check_keys(contract)}
    for planned in plan.checks:
        check = checks.get(planned.key)
        if planned.error or check is None:
            continue
        if isinstance(check, NotNullCheck):
            planned.proof = proofs.for_not_null(check.column)
            if planned.proof:
                planned.aggregates.pop("failing", None)
                planned.predicate = None
        elif isinstance(check, UniqueCheck):
            planned.proof = proofs.for_unique(check.columns)
            if planned.proof:
                planned.duplicates = planned.distinct = planned.distinct_column = None


def _names(columns: Sequence[Any]) -> frozenset[str]:
    # An expression index reflects None for its expression columns: never a proof.
    if any(c is None for c in columns):
        return frozenset()
    return frozenset(str(c) for c in columns)


def _named(kind: str, found: Mapping[str, Any]) -> str:
    name = found.get("name")
    return f"{kind} {name}" if name else kind


def _partial_or_expression(index: Mapping[str, Any]) -> bool:
    options = index.get("dialect_options") or {}
    if any(key.endswith("_where") and value is not None for key, value in options.items()):
        return True
    return bool(index.get("expressions")) and any(
        e not in (index.get("column_names") or []) for e in index["expressions"]
    )
