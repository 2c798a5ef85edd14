"""The distribution section: columns compared with a reference (drift)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator, model_validator

from airflow_opsguard.contract.base import NUMERIC_TYPES, Count, Severity, StrictModel, named_once
from airflow_opsguard.contract.sections import Column
from airflow_opsguard.contract.text import short_repr

DriftMethod = Literal["psi", "js", "wasserstein", "cramers_v"]
# Which methods suit which declared column types (numbers are binned, text and booleans
# are categories; dates and timestamps are not compared).
DRIFT_METHODS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(NUMERIC_TYPES, ("psi", "js", "wasserstein")),
    "string": ("psi", "js", "cramers_v"),
    "boolean": ("psi", "js", "cramers_v"),
}


def _drift_column(value: Any) -> Any:
    if isinstance(value, str):
        return {"name": value}
    if isinstance(value, dict | BaseModel):
        return value
    raise ValueError("give a column name, or a mapping such as {name: amount, method: psi}")


class DistributionColumn(StrictModel):
    """A column compared with the reference; method and thresholds override the
    defaults for its type (see docs/drift.md)."""

    name: str = Field(min_length=1, description="The column.")
    method: DriftMethod | None = Field(
        None,
        description="The statistic that decides: psi, js, wasserstein (numbers) or "
        "cramers_v (categories). Default: wasserstein for numbers, js for strings and "
        "booleans.",
    )
    warn: float | None = Field(
        None, gt=0, description="Warn when the statistic, beyond sampling noise, reaches this."
    )
    fail: float | None = Field(
        None, gt=0, description="Fail when the statistic, beyond sampling noise, reaches this."
    )
    severity: Severity | None = Field(None, description="Default: the section's severity.")
    min_rows: Count | None = Field(None, description="Default: the section's min_rows.")

    @model_validator(mode="after")
    def _levels(self) -> DistributionColumn:
        if self.warn is not None and self.fail is not None and self.warn > self.fail:
            raise ValueError(f"warn ({self.warn}) is above fail ({self.fail})")
        return self


class Distribution(StrictModel):
    """Compare columns' distributions with a reference: data, or a profile written by
    ``opsguard profile``."""

    reference: str | None = Field(
        None,
        min_length=1,
        description="Reference data (a file, folder, glob or URL, profiled when the gate "
        "runs) or a profile JSON written by `opsguard profile`. Relative paths are read "
        "from the contract file's folder. With a baseline: used until the store holds one.",
    )
    baseline: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description="A baseline kept in the results store under this name: its newest "
        "version is the reference. Each run keeps a profile of its data, so that a passing "
        "run can be promoted to the next version (`opsguard baseline promote NAME`).",
    )
    columns: tuple[Annotated[DistributionColumn, BeforeValidator(_drift_column)], ...] = Field(
        fail_fast=True,
        description="Columns to compare: names, or mappings with name, method, warn, fail, "
        "severity, min_rows.",
    )
    severity: Severity = Field("fail", description="warn: report drift without blocking.")
    min_rows: Count = Field(
        100,
        description="Fewer values than this (in the data or the reference): drift is not "
        "judged, and the check warns.",
    )
    bins: int = Field(
        20, ge=2, le=1000, description="Quantile bins of number columns when profiling data."
    )
    top: int = Field(
        50, ge=1, le=10000, description="Most frequent categories kept when profiling data."
    )

    @model_validator(mode="after")
    def _has_a_reference(self) -> Distribution:
        if self.reference is None and self.baseline is None:
            raise ValueError(
                "give a reference (data or a profile file) or a baseline (a name in the "
                "results store), or both"
            )
        return self

    @field_validator("columns")
    @classmethod
    def _unique_names(
        cls, columns: tuple[DistributionColumn, ...]
    ) -> tuple[DistributionColumn, ...]:
        if not columns:
            raise ValueError("list at least one column to compare")
        named: tuple[DistributionColumn, ...] = named_once(columns)
        return named


def known_drift_columns(section: Distribution, declared: dict[str, Column]) -> None:
    """Distribution columns must be declared (when the schema lists columns), of a type
    that is compared, with a method that suits the type."""
    for index, column in enumerate(section.columns):
        where = f"distribution.columns[{index}]"
        target = declared.get(column.name)
        if target is None:
            raise ValueError(f"{where}: column {short_repr(column.name)} is not in schema.columns")
        if target.type is None:
            continue
        methods = DRIFT_METHODS.get(target.type)
        if methods is None:
            raise ValueError(
                f"{where}: {short_repr(column.name)} is {target.type}; distributions compare "
                "numbers, strings and booleans"
            )
        if column.method is not None and column.method not in methods:
            raise ValueError(
                f"{where}.method: {column.method} does not apply to {target.type} column "
                f"{short_repr(column.name)}; use one of {', '.join(methods)}"
            )
