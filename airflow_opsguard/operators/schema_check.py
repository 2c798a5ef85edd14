"""A schema gate written inline in Python, without a contract file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_opsguard.contract.models import Contract, ExtraColumns
from airflow_opsguard.operators.quality_gate import QualityGateOperator


class SchemaCheckOperator(QualityGateOperator):
    """Check that the data has these columns, of these types, and nothing else.

    ``columns`` maps names onto types (``{"order_id": "integer"}``) or lists column
    specs as a contract's ``schema.columns`` does (``[{"name": "order_id", "type":
    "integer", "nullable": False}]``). Everything else is the quality gate's.
    """

    def __init__(
        self,
        *,
        columns: Mapping[str, str | None] | Sequence[Mapping[str, Any]],
        data: str | None = None,
        dataset: str | None = None,
        extra_columns: ExtraColumns = "fail",
        ordered: bool = False,
        **kwargs: Any,
    ) -> None:
        specs = (
            [{"name": name, "type": kind} for name, kind in columns.items()]
            if isinstance(columns, Mapping)
            else [dict(spec) for spec in columns]
        )
        contract = Contract.model_validate(
            {
                "dataset": dataset or str(kwargs.get("task_id")),
                "schema": {"columns": specs, "extra_columns": extra_columns, "ordered": ordered},
            }
        )
        super().__init__(contract=contract, data=data, **kwargs)
