"""The gate's quarantine and write-audit-publish steps, on Airflow's side.

The work is in the gate pipeline (:mod:`airflow_opsguard.pipeline`, no Airflow there);
this module maps its outcome onto the task: the exception that ends a task whose batch
was set aside (skipped, or failed with ``quarantine_then="fail"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeVar

from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

if TYPE_CHECKING:
    from airflow_opsguard.quarantine.settlement import Settlement

T = TypeVar("T")
QuarantineThen = Literal["skip", "fail"]
QUARANTINE_THEN: tuple[str, ...] = ("skip", "fail")


class QuarantinedBatch(AirflowFailException):
    """The batch failed its contract and was quarantined; the task fails (because the
    operator was told ``quarantine_then="fail"``). Final: no retry."""


def finish(settled: Settlement, reason: str, then: str) -> None:
    """End the task after a quarantine: the record must be in the store (else retry:
    the retry finds the moved data and records it), then skip or fail."""
    if not settled.recorded:
        raise AirflowException(
            "the batch is quarantined but the results store did not take its record; "
            "a retry records it"
        )
    if settled.action != "quarantined":
        return
    where = settled.record.location if settled.record is not None else "?"
    message = f"{reason}\nquarantined: {where}"
    if then == "fail":
        raise QuarantinedBatch(message)
    raise AirflowSkipException(message)
