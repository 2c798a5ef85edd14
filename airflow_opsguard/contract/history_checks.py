"""History checks, judged against the metrics the results store kept of earlier runs:
anomaly (a metric against its own history) and row_count_change."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, model_validator

from airflow_opsguard.contract.base import NUMERIC_TYPES, StrictModel
from airflow_opsguard.contract.column_checks import BaseCheck

MetricKind = Literal[
    "rows", "null_fraction", "mean", "distinct_count", "freshness_lag_seconds", "drift"
]
METRIC_KINDS: tuple[str, ...] = get_args(MetricKind)


class SustainedRule(StrictModel):
    """``breaches`` breaches of the metric within the last ``within`` runs (this one
    included). A plain number ``k`` stands for k breaches in a row."""

    breaches: int = Field(ge=1, le=100, description="How many breaches.")
    within: int = Field(ge=1, le=100, description="Among how many of the latest runs.")

    @model_validator(mode="after")
    def _fits(self) -> SustainedRule:
        if self.within < self.breaches:
            raise ValueError(
                f"{self.breaches} breaches cannot happen within {self.within} runs; "
                "'within' must be at least 'breaches'"
            )
        return self


def _rule(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"breaches": value, "within": value}
    return value


Rule = Annotated[SustainedRule, BeforeValidator(_rule)]


class AnomalyCheck(BaseCheck):
    """A metric of this run against its own history: a robust z-score of the value
    against the level of comparable runs (the last ``window`` runs, or of its weekday
    with ``weekly``; a robust trend; counts on a log scale) and their robust spread, with
    a floor for the ordinary noise of counts (docs/drift.md); breaches beyond
    ``threshold``. Judged only once ``min_history`` runs are stored (until then the check
    passes, saying it is learning); warns and fails by the sustained rules."""

    type: Literal["anomaly"] = "anomaly"
    metric: MetricKind = Field(
        description="rows, null_fraction, mean, distinct_count, freshness_lag_seconds or "
        "drift (the drift score of a distribution column, whatever its method)."
    )
    column: str | None = Field(None, description="The column of the metric (all but rows).")
    threshold: float = Field(
        3.5, gt=0, description="The robust z-score beyond which a value breaches (3.5)."
    )
    direction: Literal["both", "up", "down"] = Field(
        "both", description="up or down: only a rise (or a fall) of the metric breaches."
    )
    weekly: bool = Field(
        False,
        description="true: expect the level of the runs on the same weekday (UTC), and "
        "measure the spread around each weekday's level.",
    )
    min_history: int | None = Field(
        None,
        ge=3,
        le=1000,
        description="Runs to learn from before judging: default 14, with weekly 4 (runs "
        "on the same weekday).",
    )
    window: int = Field(
        30, ge=3, le=1000, description="The latest runs (same-weekday runs) compared with."
    )
    warn_after: Rule = Field(
        SustainedRule(breaches=1, within=1),
        description="Warn after this many breaches (default 1: on the first).",
    )
    fail_after: Rule | None = Field(
        SustainedRule(breaches=3, within=5),
        description="Fail after this many breaches within that many runs; null: never fail.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> AnomalyCheck:
        if self.metric == "rows" and self.column is not None:
            raise ValueError("the rows metric has no column; remove 'column'")
        if self.metric != "rows" and self.column is None:
            raise ValueError(f"give the 'column' whose {self.metric} is watched")
        if self.mostly is not None:
            raise ValueError("'mostly' applies to row checks, not to an anomaly check")
        if self.history_needed > self.window:
            raise ValueError(
                f"min_history ({self.history_needed}) is larger than window ({self.window}): "
                "the check would never judge"
            )
        if self.fail_after is not None and self.warn_after.breaches > self.fail_after.breaches:
            raise ValueError("warn_after asks for more breaches than fail_after")
        return self

    @property
    def history_needed(self) -> int:
        """``min_history``, or its default: 14 runs, or 4 same-weekday runs with weekly."""
        if self.min_history is not None:
            return self.min_history
        return 4 if self.weekly else 14

    @property
    def metric_name(self) -> str:
        """The metric's name in results and the store: ``rows``, ``mean(amount)``."""
        return self.metric if self.column is None else f"{self.metric}({self.column})"

    @property
    def columns(self) -> tuple[str, ...]:
        return () if self.column is None else (self.column,)

    @property
    def display_name(self) -> str:
        return self.name or f"anomaly({self.metric_name})"


class RowCountChangeCheck(BaseCheck):
    """This run's row count against the previous passing run's, or the median of the
    last ``window`` runs: it may drop by at most ``max_drop`` and grow by at most
    ``max_growth`` (fractions of that reference: 0.5 is 50%)."""

    type: Literal["row_count_change"] = "row_count_change"
    max_drop: float | None = Field(
        None, ge=0, le=1, description="Largest allowed drop, a fraction (0.5: half the rows)."
    )
    max_growth: float | None = Field(
        None, ge=0, description="Largest allowed growth, a fraction (2.0: +200%, 3x the rows)."
    )
    relative_to: Literal["previous_pass", "median"] = Field(
        "previous_pass",
        description="previous_pass: the latest run whose verdict was pass or warn; "
        "median: the median of the last 'window' runs.",
    )
    window: int = Field(30, ge=1, le=1000, description="Runs whose median is the reference.")
    min_history: int = Field(
        1,
        ge=1,
        le=1000,
        description="Stored runs (passing runs for previous_pass) needed before judging.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> RowCountChangeCheck:
        if self.max_drop is None and self.max_growth is None:
            raise ValueError("give 'max_drop', 'max_growth' or both")
        if self.mostly is not None:
            raise ValueError("'mostly' applies to row checks, not to a row count change")
        if self.relative_to == "median" and self.min_history > self.window:
            raise ValueError(
                f"min_history ({self.min_history}) is larger than window ({self.window}): "
                "the check would never judge"
            )
        return self

    @property
    def display_name(self) -> str:
        return self.name or "row_count_change"


def metric_type_problem(metric: str, column_type: str | None) -> str | None:
    """Why a metric cannot be measured on a column of this type (None when it can)."""
    if metric == "mean" and column_type is not None and column_type not in NUMERIC_TYPES:
        return f"mean needs a number column, not {column_type}"
    if metric == "freshness_lag_seconds" and column_type not in (None, "date", "timestamp"):
        return f"freshness_lag_seconds needs a date or timestamp column, not {column_type}"
    return None
