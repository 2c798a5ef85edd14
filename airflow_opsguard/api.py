"""The public Python API's entry points, above every layer: what
``from airflow_opsguard import validate`` gives (see the package's ``__init__``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_opsguard.checks.results import GateResult
    from airflow_opsguard.contract.loader import ContractLike
    from airflow_opsguard.engines.files import Progress
    from airflow_opsguard.store.store import ResultStore


def validate(
    contract: ContractLike,
    data: Any = None,
    now: datetime | str | None = None,
    *,
    table: str | None = None,
    store: ResultStore | str | None = None,
    context: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    record: bool = True,
    gx_suites: Sequence[Any] = (),
) -> GateResult:
    """Check ``data`` against ``contract`` and return the verdict: the gate pipeline
    (:func:`airflow_opsguard.pipeline.validate`, where every argument is described),
    with a contract's ``source.conn_id`` read through Airflow's connections."""
    from airflow_opsguard.connections import engine_for_conn_id
    from airflow_opsguard.pipeline import validate as run_validate

    return run_validate(
        contract,
        data,
        now,
        table=table,
        store=store,
        context=context,
        progress=progress,
        record=record,
        gx_suites=gx_suites,
        connections=engine_for_conn_id,
    )
