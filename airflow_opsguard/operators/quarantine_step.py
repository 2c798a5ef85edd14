"""The gate's quarantine and write-audit-publish steps, on Airflow's side.

The work is in :mod:`airflow_opsguard.quarantine.gate` (no Airflow there); this module
maps its outcome onto the task: what XCom carries, and the exception that ends a task
whose batch was set aside (skipped, or failed with ``quarantine_then="fail"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

from airflow_opsguard.errors import DataSourceError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_opsguard.contract.models import Contract
    from airflow_opsguard.quarantine.gate import Settlement, Target
    from airflow_opsguard.store.store import ResultStore

T = TypeVar("T")
QuarantineThen = Literal["skip", "fail"]
QUARANTINE_THEN: tuple[str, ...] = ("skip", "fail")


class QuarantinedBatch(AirflowFailException):
    """The batch failed its contract and was quarantined; the task fails (because the
    operator was told ``quarantine_then="fail"``). Final: no retry."""


def moves_data(contract: Contract, on_fail: str) -> bool:
    """Does this gate move data after its verdict (quarantine, or publish)?"""
    section = contract.quarantine
    return on_fail == "quarantine" or (section is not None and section.publish_to is not None)


def target(
    contract: Contract, identity: Mapping[str, Any], data: Any, table: str | None
) -> Target | DataSourceError:
    """Where the batch is, or why it cannot be moved (data in memory, a query): that
    fails the gate only when its verdict asks for a move."""
    from airflow_opsguard.quarantine.gate import target_for
    from airflow_opsguard.quarantine.records import batch_id_for

    try:
        return target_for(
            contract, batch_id_for(contract.dataset, identity), data=data, table=table
        )
    except DataSourceError as exc:
        return exc


def resume(found: Target | DataSourceError, store: ResultStore) -> Settlement | None:
    from airflow_opsguard.quarantine.gate import resume as resume_batch

    if isinstance(found, DataSourceError):
        return None
    return _guarded(lambda: resume_batch(found, store))


def settle(
    contract: Contract,
    result: Any,
    found: Target | DataSourceError,
    on_fail: str,
    store: ResultStore,
) -> Settlement | None:
    from airflow_opsguard.quarantine.gate import settle as settle_batch

    if isinstance(found, DataSourceError):
        if _needs_move(contract, result.status, on_fail):
            raise AirflowFailException(f"quarantine: {found}")
        return None
    return _guarded(lambda: settle_batch(contract, result, found, on_fail=on_fail, store=store))


def _needs_move(contract: Contract, status: str, on_fail: str) -> bool:
    if status == "error":
        return False
    section = contract.quarantine
    if status in ("pass", "warn") or on_fail == "warn":
        return section is not None and section.publish_to is not None
    return on_fail == "quarantine"


def _guarded(step: Callable[[], T]) -> T:
    try:
        return step()
    except DataSourceError as exc:
        if exc.retryable:
            raise AirflowException(f"quarantine: {exc}") from None
        raise AirflowFailException(f"quarantine: {exc}") from None
    except OSError as exc:
        # A filesystem that failed mid-move: the sidecar lets the retry finish the moves.
        raise AirflowException(f"quarantine: {exc}") from exc


def resumed_payload(contract: Contract, settled: Settlement, store: ResultStore) -> dict[str, Any]:
    """What XCom carries when a crashed try had settled the batch: the stored verdict of
    that try (when the store has it) and the settlement."""
    from airflow_opsguard.errors import StoreError

    payload: dict[str, Any] = {"dataset": contract.dataset, "status": None, "checks": []}
    run_id = settled.record.run_id if settled.record is not None else None
    if run_id:
        try:
            stored = store.get(run_id)
        except StoreError:
            stored = None
        if stored is not None:
            payload = stored.to_dict()
    if payload["status"] is None:
        payload["status"] = "pass" if settled.action == "published" else "fail"
    payload["quarantine"] = settled.to_dict()
    return payload


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
