"""A drift gate written inline in Python, without a contract file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_opsguard.contract.models import Contract
from airflow_opsguard.operators.quality_gate import QualityGateOperator


class DistributionCheckOperator(QualityGateOperator):
    """Compare the distribution of columns with a reference, and stop drifted data.

    ``reference`` is reference data (a file the engine profiles) or a profile written by
    ``opsguard profile``; ``columns`` lists column names, or per-column settings as a
    contract's ``distribution.columns`` does (``{"name": "amount", "method": "psi",
    "warn": 0.1, "fail": 0.25}``). Relative reference paths are read from the DAG's
    working directory; give absolute paths, or use a contract file, to be sure.
    Everything else is the quality gate's.
    """

    def __init__(
        self,
        *,
        reference: str,
        columns: Sequence[str | Mapping[str, Any]],
        data: str | None = None,
        dataset: str | None = None,
        min_rows: int | None = None,
        **kwargs: Any,
    ) -> None:
        section: dict[str, Any] = {
            "reference": reference,
            "columns": [c if isinstance(c, str) else dict(c) for c in columns],
        }
        if min_rows is not None:
            section["min_rows"] = min_rows
        contract = Contract.model_validate(
            {"dataset": dataset or str(kwargs.get("task_id")), "distribution": section}
        )
        super().__init__(contract=contract, data=data, **kwargs)
