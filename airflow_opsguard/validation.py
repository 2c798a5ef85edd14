"""Measuring and judging: a contract and its data in, a verdict out (not yet recorded)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_opsguard.checks.evaluate import evaluate, withhold_samples
from airflow_opsguard.checks.results import CheckResult, GateResult, worst
from airflow_opsguard.checks.shadow import apply_shadow
from airflow_opsguard.contract.models import Contract
from airflow_opsguard.engines.measuring import measure_source
from airflow_opsguard.engines.reading import open_source
from airflow_opsguard.engines.sources import (
    DatabaseSource,
    FileSource,
    Source,
    resolve_source,
    source_name,
)
from airflow_opsguard.errors import DataSourceError

if TYPE_CHECKING:
    from airflow_opsguard.checks.observations import Observations
    from airflow_opsguard.drift.reference import Reference
    from airflow_opsguard.engines.files import Progress
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
        source = resolve_source(contract, data, table)
        reference = _reference(contract, store)
        observations = measure_source(contract, source, progress=progress, reference=reference)
    except DataSourceError as exc:
        result = GateResult(
            dataset=contract.dataset,
            status="error",
            checked_at=moment,
            rows=None,
            checks=(),
            contract_fingerprint=contract.fingerprint,
            source=source_name(contract, data, table),
            duration_ms=_elapsed(started),
            error=str(exc),
            retryable=exc.retryable,
        )
    else:
        observations = _with_history(contract, observations, store, moment)
        result = evaluate(contract, observations, now=moment, duration_ms=_elapsed(started))
        if _has_baseline(contract) and store is not None:
            result = _with_profile(result, contract, source)
        if suites:
            result = _with_gx(result, _run_gx(suites, source), started)
            # GX knows nothing of sensitive columns: its samples go here, the last guard.
            result = withhold_samples(result, contract)
    return _with_identity(apply_shadow(contract, result), context)  # shadow: never blocks


def _gx_suites(contract: Contract, extra: Sequence[Any]) -> list[PreparedSuite]:
    """The contract's GX suites and ``extra`` ones, read and built (empty: no GX import)."""
    if not contract.gx_suite and not extra:
        return []
    from airflow_opsguard.gx.runner import prepare
    from airflow_opsguard.gx.suites import contract_suites

    return prepare(contract_suites(contract, extra))


def _run_gx(suites: list[PreparedSuite], source: Source) -> list[CheckResult]:
    """Run the suites through GX on the data the contract's own checks just read."""
    from airflow_opsguard.gx.runner import run_on_data, run_on_database

    if isinstance(source, DatabaseSource):
        return run_on_database(suites, source)
    if isinstance(source, FileSource):
        return run_on_data(suites, source.location, source.format)
    return run_on_data(suites, source.frame, None)


def _with_gx(result: GateResult, checks: list[CheckResult], started: float) -> GateResult:
    from dataclasses import replace

    merged = (*result.checks, *checks)
    status = worst(c.status for c in merged)
    return replace(result, checks=merged, status=status, duration_ms=_elapsed(started))


def _as_now(now: datetime | str | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if isinstance(now, str):
        now = datetime.fromisoformat(now)
    try:
        return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"now: {now.isoformat()} is beyond what a UTC time can hold") from None


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


def _reference(contract: Contract, store: ResultStore | None) -> Reference | None:
    if contract.distribution is None:
        return None
    from airflow_opsguard.baselines import reference_for

    return reference_for(contract, store)


def _has_baseline(contract: Contract) -> bool:
    return contract.distribution is not None and contract.distribution.baseline is not None


def _with_profile(result: GateResult, contract: Contract, source: Source) -> GateResult:
    """The result with a profile of the data's distribution columns, kept with the run
    so that it can become the next baseline version. Profiling takes a few more passes
    over the data; a failure costs the profile, never the verdict."""
    from dataclasses import replace

    from airflow_opsguard.engines.profiler import profile_opened

    section = contract.distribution
    assert section is not None
    try:
        with open_source(source) as opened:
            present = {c.name for c in opened.columns}
            names = [c.name for c in section.columns if c.name in present]
            if not names:
                return result
            found = profile_opened(opened, names, bins=section.bins, top=section.top)
    except DataSourceError as exc:
        log.warning("%s: no profile kept of this run's data: %s", contract.dataset, exc)
        return result
    return replace(result, profile=found.to_dict())
