"""Every check kind, listed once: the ``Check`` union. The lists that other code needs
(the check types, the row checks) are read from the unions, so a new kind of check is
added here and nowhere else."""

from __future__ import annotations

from typing import Annotated, get_args

from pydantic import Field

from airflow_opsguard.contract.column_checks import (
    AllowedCheck,
    BaseCheck,
    BaseColumnCheck,
    LengthCheck,
    NotAllowedCheck,
    NotNullCheck,
    PatternCheck,
    RangeCheck,
    StatisticCheck,
    UniqueCheck,
)
from airflow_opsguard.contract.history_checks import AnomalyCheck, RowCountChangeCheck
from airflow_opsguard.contract.relation_checks import (
    ExpressionCheck,
    ReconcileCheck,
    ReferenceCheck,
)

AnyCheck = (
    NotNullCheck
    | UniqueCheck
    | RangeCheck
    | StatisticCheck
    | AllowedCheck
    | NotAllowedCheck
    | PatternCheck
    | LengthCheck
    | ExpressionCheck
    | ReferenceCheck
    | ReconcileCheck
    | AnomalyCheck
    | RowCountChangeCheck
)
Check = Annotated[AnyCheck, Field(discriminator="type")]
# Judged against the metrics of earlier runs.
HistoryCheck = AnomalyCheck | RowCountChangeCheck
# Checks that judge each row alone: a failing row can be named (and set aside).
RowCheck = NotNullCheck | RangeCheck | AllowedCheck | NotAllowedCheck | PatternCheck | LengthCheck


def check_type(model: type[BaseCheck]) -> str:
    """The ``type`` a check model is written with in a contract (its Literal tag)."""
    (tag,) = get_args(model.model_fields["type"].annotation)
    return str(tag)


CHECK_MODELS: tuple[type[BaseCheck], ...] = get_args(AnyCheck)
CHECK_TYPES: tuple[str, ...] = tuple(check_type(model) for model in CHECK_MODELS)
ROW_CHECKS: tuple[type[BaseColumnCheck], ...] = get_args(RowCheck)
ROW_CHECK_TYPES: tuple[str, ...] = tuple(check_type(model) for model in ROW_CHECKS)
