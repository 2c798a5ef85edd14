"""The whole plan of a wide contract, compiled for one dialect: every statement a gate
would send, as text (the snapshot tests' subject)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from airflow_opsguard.checks.observations import ObservedColumn
from airflow_opsguard.contract.loader import parse_contract
from airflow_opsguard.engines.executor import mark_inexpressible
from airflow_opsguard.engines.plan import build_plan

# Every check kind the SQL engine measures on one table.
CONTRACT: dict[str, Any] = {
    "dataset": "orders",
    "schema": {
        "columns": [
            {"name": "order_id", "type": "integer", "nullable": False, "unique": True},
            {"name": "amount", "type": "float", "nullable": False, "min": 0, "max": 100000},
            {
                "name": "country",
                "type": "string",
                "allowed": ["US", "DE"],
                "min_length": 2,
                "max_length": 2,
            },
            {"name": "email", "type": "string", "pattern": "^[^@]+@[^@]+$"},
            {"name": "created_at", "type": "timestamp", "nullable": False},
            {"name": "Mixed Case", "type": "string", "not_allowed": ["x"]},
        ]
    },
    "freshness": {"column": "created_at", "warn_after": "6h", "fail_after": "1d"},
    "volume": {"min_rows": 1},
    "checks": [
        {"type": "unique", "columns": ["country", "email"]},
        {"type": "statistic", "column": "email", "statistic": "distinct_count", "min": 1},
        {"type": "statistic", "column": "amount", "statistic": "mean", "max": 500},
        {"type": "expression", "expression": "amount >= 0"},
    ],
}
COLUMNS = (
    ObservedColumn("order_id", "BIGINT", "integer"),
    ObservedColumn("amount", "DOUBLE", "float"),
    ObservedColumn("country", "VARCHAR", "string"),
    ObservedColumn("email", "VARCHAR", "string"),
    ObservedColumn("created_at", "TIMESTAMP WITH TIME ZONE", "timestamp", timezone_aware=True),
    ObservedColumn("Mixed Case", "VARCHAR", "string"),
)


def compiled_plan(dialect: sa.engine.Dialect, schema: str = "analytics") -> str:
    """Every statement of the plan, compiled for ``dialect`` with its values inlined,
    one block per statement, in a stable order."""
    contract = parse_contract(CONTRACT)
    plan = build_plan(contract, COLUMNS, sa.table("orders", schema=schema))
    mark_inexpressible(plan, dialect)
    blocks = [("scan", plan.main_select())]
    for planned in plan.checks:
        if planned.error:
            blocks.append((f"{planned.key}: error", sa.literal_column(repr(planned.error))))
            continue
        for label, statement in (
            ("samples", plan.samples_select(planned, 5)),
            ("duplicated rows", _duplicated_rows(planned.duplicates)),
            ("distinct", planned.distinct),
            ("failing", planned.failing_query),
        ):
            if statement is not None:
                blocks.append((f"{planned.key}: {label}", statement))
    return "\n\n".join(f"-- {label}\n{_sql(statement, dialect)};" for label, statement in blocks)


def _duplicated_rows(duplicates: Any) -> Any:
    """The executor's count of duplicated rows with a few of them (a window over the
    plan's GROUP BY)."""
    if duplicates is None:
        return None
    groups = duplicates.subquery()
    count = list(groups.c)[-1]
    return sa.select(*groups.c, sa.func.sum(count).over()).limit(5)


def _sql(statement: Any, dialect: sa.engine.Dialect) -> str:
    text = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return "\n".join(line.rstrip() for line in text.strip().splitlines())
