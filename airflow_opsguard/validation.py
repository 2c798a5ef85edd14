"""Measuring and judging: a contract and its data in, a verdict out (not yet recorded)."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_opsguard.checks.evaluate import evaluate
from airflow_opsguard.checks.results import CheckResult, GateResult, worst
from airflow_opsguard.checks.shadow import apply_shadow
from airflow_opsguard.contract.models import Contract
from airflow_opsguard.errors import DataSourceError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_opsguard.checks.observations import Observations
    from airflow_opsguard.drift.reference import Reference
    from airflow_opsguard.engines.files import Progress
    from airflow_opsguard.engines.opened import OpenedSource
    from airflow_opsguard.gx.runner import PreparedSuite
    from airflow_opsguard.store.store import ResultStore

log = logging.getLogger(__name__)


def judge(
    contract: Contract,
    data: Any = None,
    now: datetime | str | None = None,
    *,
    table: str | None = None,
    store: ResultStore | None = None,
    context: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    gx_suites: Sequence[Any] = (),
) -> GateResult:
    """Measure ``data`` (default: the contract's source) and judge it: the verdict, not
    yet recorded (the gate pipeline records it; see :func:`airflow_opsguard.validate`).

    ``store`` is read, never written: the baseline that is the distribution reference,
    and the metric history of the history checks (without one they report ``error``).
    Data that cannot be read is a verdict of ``error`` with the reason, never an
    exception; a broken GX suite raises :class:`ContractError` before any data is read.
    """
    suites = _gx_suites(contract, gx_suites)  # GX is imported only when there is a suite
    moment = _as_now(now)
    started = time.perf_counter()
    try:
        reference = _baseline_reference(contract, store)
        observations = measure(contract, data, table=table, progress=progress, reference=reference)
    except DataSourceError as exc:
        result = GateResult(
            dataset=contract.dataset,
            status="error",
            checked_at=moment,
            rows=None,
            checks=(),
            contract_fingerprint=contract.fingerprint,
            source=_source_name(contract, data, table),
            duration_ms=_elapsed(started),
            error=str(exc),
            retryable=exc.retryable,
        )
    else:
        observations = _with_history(contract, observations, store, moment)
        result = evaluate(contract, observations, now=moment, duration_ms=_elapsed(started))
        if reference is not None and store is not None:
            result = _with_profile(result, contract, data, table)
        if suites:
            result = _with_gx(result, _run_gx(contract, suites, data, table), started)
    return _with_identity(apply_shadow(contract, result), context)  # shadow: never blocks


def measure(
    contract: Contract,
    data: Any = None,
    *,
    table: str | None = None,
    progress: Progress | None = None,
    reference: Reference | None = None,
) -> Observations:
    """Measure the contract's checks on ``data`` (default: the contract's source).

    ``reference`` is the distribution reference, when the caller has loaded it (a
    baseline from the store); by default the contract's ``reference`` is loaded.
    Raises :class:`DataSourceError` when the data cannot be read; its ``retryable`` says
    whether the database failed (try again later) rather than the request.
    """
    from airflow_opsguard.engines.files import measure_data
    from airflow_opsguard.engines.sql import database_source, measure_database

    database = database_source(contract, data, table)
    if database is not None:
        return measure_database(contract, database, reference=reference)
    if table is not None:
        raise DataSourceError(
            f"a table ({table!r}) goes with a database URL; the data to check is not one"
        )

    target, file_format = _resolve_target(contract, data)
    return measure_data(
        contract, target, file_format=file_format, progress=progress, reference=reference
    )


def _resolve_target(contract: Contract, data: Any) -> tuple[Any, str | None]:
    source = contract.source
    file_format = source.format if source is not None else None
    if data is not None:
        return data, file_format
    if source is None or not (source.path or source.url or source.conn_id):
        raise DataSourceError(
            f"contract {contract.dataset!r} names no source; give the data to check "
            "(--data, or source.path in the contract)"
        )
    # Database sources went to the SQL engine before this point.
    assert source.path is not None
    return _relative_to_contract(contract, source.path), file_format


def _gx_suites(contract: Contract, extra: Sequence[Any]) -> list[PreparedSuite]:
    """The contract's GX suites and ``extra`` ones, read and built (empty: no GX import)."""
    if not contract.gx_suite and not extra:
        return []
    from airflow_opsguard.gx.runner import prepare
    from airflow_opsguard.gx.suites import contract_suites

    return prepare(contract_suites(contract, extra))


def _run_gx(
    contract: Contract, suites: list[PreparedSuite], data: Any, table: str | None
) -> list[CheckResult]:
    """Run the suites through GX on the data the contract's own checks just read."""
    from airflow_opsguard.engines.sql import database_source
    from airflow_opsguard.gx.runner import run_on_data, run_on_database

    database = database_source(contract, data, table)
    if database is not None:
        return run_on_database(suites, database)
    target, file_format = _resolve_target(contract, data)
    return run_on_data(suites, target, file_format)


def _with_gx(result: GateResult, checks: list[CheckResult], started: float) -> GateResult:
    from dataclasses import replace

    merged = (*result.checks, *checks)
    status = worst(c.status for c in merged)
    return replace(result, checks=merged, status=status, duration_ms=_elapsed(started))


def _relative_to_contract(contract: Contract, path: str) -> str:
    """A relative ``source.path`` is read from the contract file's folder, so a contract
    means the same data whatever the working directory (an Airflow worker's is not yours)."""
    if "://" in path or os.path.isabs(path) or contract.origin is None:
        return path
    return os.path.normpath(os.path.join(os.path.dirname(contract.origin), path))


def _source_name(contract: Contract, data: Any, table: str | None = None) -> str | None:
    from airflow_opsguard.engines.sql import database_source
    from airflow_opsguard.urls import mask_text

    try:
        database = database_source(contract, data, table)
    except DataSourceError:
        database = None
    if database is not None:
        return database.name
    if data is not None:
        return mask_text(data) if isinstance(data, str) else f"<{type(data).__name__}>"
    source = contract.source
    return source.path if source is not None else None


def _as_now(now: datetime | str | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if isinstance(now, str):
        now = datetime.fromisoformat(now)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _elapsed(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _with_identity(result: GateResult, context: Mapping[str, Any] | None) -> GateResult:
    from dataclasses import replace

    return replace(result, run_id=uuid.uuid4().hex, context=dict(context or {}))


def _with_history(
    contract: Contract, observations: Observations, store: ResultStore | None, now: datetime
) -> Observations:
    """The observations with the stored metric history that the history checks read."""
    from dataclasses import replace

    from airflow_opsguard.anomaly.history import history_requests

    if not history_requests(contract):
        return observations
    from airflow_opsguard.store.metrics import load_history

    return replace(observations, history=load_history(store, contract, before=now))


def _baseline_reference(contract: Contract, store: ResultStore | None) -> Reference | None:
    if contract.distribution is None or contract.distribution.baseline is None:
        return None
    from airflow_opsguard.drift.baselines import baseline_reference

    return baseline_reference(contract, store)


def _with_profile(
    result: GateResult, contract: Contract, data: Any, table: str | None
) -> GateResult:
    """The result with a profile of the data's distribution columns, kept with the run
    so that it can become the next baseline version. Profiling takes a few more passes
    over the data; a failure costs the profile, never the verdict."""
    from dataclasses import replace

    from airflow_opsguard.drift.profiler import profile_opened

    section = contract.distribution
    assert section is not None
    try:
        with _open_for_profile(contract, data, table) as opened:
            present = {c.name for c in opened.columns}
            names = [c.name for c in section.columns if c.name in present]
            if not names:
                return result
            found = profile_opened(opened, names, bins=section.bins, top=section.top)
    except DataSourceError as exc:
        log.warning("%s: no profile kept of this run's data: %s", contract.dataset, exc)
        return result
    return replace(result, profile=found.to_dict())


@contextmanager
def _open_for_profile(contract: Contract, data: Any, table: str | None) -> Iterator[OpenedSource]:
    from airflow_opsguard.engines.files import open_data
    from airflow_opsguard.engines.sql import database_source, open_database

    database = database_source(contract, data, table)
    if database is not None:
        with open_database(database) as opened:
            yield opened
        return
    target, file_format = _resolve_target(contract, data)
    with open_data(target, file_format=file_format) as opened:
        yield opened
