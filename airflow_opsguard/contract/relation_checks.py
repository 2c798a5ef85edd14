"""Checks beyond one column: a SQL condition per row (expression), values that must
exist in another table (reference), an aggregate that must match another table's
(reconcile)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from airflow_opsguard.contract.base import StrictModel
from airflow_opsguard.contract.column_checks import BaseCheck, BaseColumnCheck


def _short_text(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class ExpressionCheck(BaseCheck):
    """Every row meets a SQL boolean condition, written in the SQL of the data's engine
    (DuckDB for files and DataFrames). The condition is the contract author's SQL,
    trusted as a dbt test is; it runs in a read-only session."""

    type: Literal["expression"] = "expression"
    expression: str = Field(
        min_length=1,
        description="A SQL boolean condition on a row, e.g. 'shipped_at >= ordered_at'.",
    )
    if_null: Literal["fail", "pass"] = Field(
        "fail",
        description="A row whose condition is NULL (unknown, e.g. a null operand): fail "
        "(default: a row passes only when the condition is TRUE), or pass (as SQL CHECK "
        "constraints and dbt's expression_is_true treat it).",
    )

    @field_validator("expression")
    @classmethod
    def _one_condition(cls, expression: str) -> str:
        text = expression.strip().rstrip(";").strip()
        if not text:
            raise ValueError("the expression is empty")
        return text

    @property
    def display_name(self) -> str:
        return self.name or f"expression({_short_text(self.expression)})"


class _Target(StrictModel):
    table: str | None = Field(
        None,
        min_length=1,
        description="A table (schema.table allowed) in the same database as the source.",
    )
    path: str | None = Field(
        None,
        min_length=1,
        description="A file, folder or glob, for file and DataFrame sources; relative "
        "paths are read from the contract file's folder.",
    )

    @model_validator(mode="after")
    def _one_place(self) -> _Target:
        if (self.table is None) == (self.path is None):
            raise ValueError("give either 'table' (a database source) or 'path' (files)")
        return self

    @property
    def shown(self) -> str:
        return self.table or self.path or ""


class ReferenceTarget(_Target):
    """Where the referenced values are: a table's (or a file's) column."""

    column: str = Field(min_length=1, description="The referenced column.")


class ReferenceCheck(BaseColumnCheck):
    """Every non-null value of ``column`` exists in another table's column (a foreign
    key). The other table is in the same database (or, for files, another file): the
    engine runs one anti-join where the data lives."""

    type: Literal["reference"] = "reference"
    to: ReferenceTarget = Field(description="The referenced table (or path) and column.")

    @property
    def display_name(self) -> str:
        return self.name or f"reference({self.column} -> {self.to.shown}.{self.to.column})"


ReconcileMetric = Literal["count", "sum", "min", "max", "mean"]


class ReconcileTarget(_Target):
    """The other table whose aggregate ours must match."""

    column: str | None = Field(None, description="Its column; default: the check's column.")
    where: str | None = Field(
        None,
        min_length=1,
        description="A SQL condition selecting the other table's rows (the author's SQL).",
    )


class ReconcileCheck(BaseCheck):
    """An aggregate of the data (row count, sum, min, max or mean of a column) matches
    the same aggregate of another table, within a tolerance."""

    type: Literal["reconcile"] = "reconcile"
    metric: ReconcileMetric = Field(description="count, sum, min, max or mean.")
    column: str | None = Field(
        None, description="The column aggregated (count without one counts rows)."
    )
    to: ReconcileTarget = Field(description="The other table (or path), column and filter.")
    tolerance: float | None = Field(
        None,
        ge=0,
        description="Allowed relative difference, a fraction of the other value (0.01: 1%).",
    )
    abs_tolerance: float | None = Field(
        None, ge=0, description="Allowed absolute difference. Default (no tolerance): equal."
    )

    @model_validator(mode="after")
    def _consistent(self) -> ReconcileCheck:
        if self.metric != "count" and self.column is None:
            raise ValueError(f"give the 'column' whose {self.metric} is reconciled")
        if self.mostly is not None:
            raise ValueError("'mostly' applies to row checks, not to a reconcile check")
        return self

    @property
    def other_column(self) -> str | None:
        """The other table's column: ``to.column``, else the check's own."""
        return self.to.column or self.column

    @property
    def columns(self) -> tuple[str, ...]:
        return () if self.column is None else (self.column,)

    @property
    def display_name(self) -> str:
        what = self.metric if self.column is None else f"{self.metric}({self.column})"
        return self.name or f"reconcile({what})"
