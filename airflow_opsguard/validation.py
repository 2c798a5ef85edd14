"""The gate pipeline's judge step: a contract and its data in, a verdict out (not yet
recorded). It loads the distribution reference, measures through the engines, adds the
metric history, evaluates, keeps a profile and runs the GX suites on the source the
engine opened, and applies shadow mode. It sits above the formats and baselines it
reads and below quarantine, whose split and release judge data again."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
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
    SparkSource,
    resolve_source,
    source_name,
)
from airflow_opsguard.errors import DataSourceError

if TYPE_CHECKING:
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
    after = _AfterMeasuring(
        contract, suites, keep_profile=_has_baseline(contract) and store is not None
    )
    try:
        source = resolve_source(contract, data, table)
        reference = _reference(contract, store)
        then = (lambda opened: after.run(source, opened)) if after.wanted else None
        observations = measure_source(
            contract, source, reference=reference, progress=progress, then=then
        )
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
        if after.wanted and not after.done:
            after.run_apart(source)  # nothing was open: files that were all empty
        if after.profile is not None:
            result = replace(result, profile=after.profile)
        if suites:
            result = _with_gx(result, after.gx, started)
            # GX knows nothing of sensitive columns: its samples go here, the last guard.
            result = withhold_samples(result, contract)
    return _with_identity(apply_shadow(contract, result), context)  # shadow: never blocks


class _AfterMeasuring:
    """The steps that read the data after the checks' scan: a profile of the distribution
    columns, kept with the run so that it can become the next baseline version, and
    the GX suites. They run on the source the engine measured, while it is still open,
    so that a run opens its data once; a failure costs the profile, never the verdict,
    and a suite that cannot read the data reports an error for each expectation."""

    def __init__(self, contract: Contract, suites: list[PreparedSuite], *, keep_profile: bool):
        self.contract = contract
        self.suites = suites
        self.keep_profile = keep_profile
        self.profile: dict[str, Any] | None = None
        self.gx: list[CheckResult] = []
        self.done = False

    @property
    def wanted(self) -> bool:
        return self.keep_profile or bool(self.suites)

    def run(self, source: Source, opened: OpenedSource | None) -> None:
        self.done = True
        if self.keep_profile and opened is not None:
            self.profile = _profile(self.contract, opened)
        if self.suites:
            self.gx = _run_gx(self.suites, source, opened)

    def run_apart(self, source: Source) -> None:
        """Open the source for these steps alone (the engine did not hand it over)."""
        if not self.keep_profile and not isinstance(source, FileSource):
            self.run(source, None)  # GX reads a frame where it is, a database itself
            return
        try:
            with open_source(source) as opened:
                self.run(source, opened)
        except DataSourceError as exc:
            self.done = True
            if self.keep_profile:
                log.warning(
                    "%s: no profile kept of this run's data: %s", self.contract.dataset, exc
                )
            if self.suites:
                from airflow_opsguard.gx.runner import all_errors

                self.gx = all_errors(self.suites, f"GX could not read the data: {exc}")


def _gx_suites(contract: Contract, extra: Sequence[Any]) -> list[PreparedSuite]:
    """The contract's GX suites and ``extra`` ones, read and built (empty: no GX import)."""
    if not contract.gx_suite and not extra:
        return []
    from airflow_opsguard.gx.runner import prepare
    from airflow_opsguard.gx.suites import contract_suites

    return prepare(contract_suites(contract, extra))


def _run_gx(
    suites: list[PreparedSuite], source: Source, opened: OpenedSource | None
) -> list[CheckResult]:
    """Run the suites through GX on the data the contract's own checks just read: the
    open file source's rows, a frame where it is, a database through GX's SQL source."""
    from airflow_opsguard.gx.runner import all_errors, run_on_data, run_on_database, run_on_opened

    if isinstance(source, DatabaseSource):
        return run_on_database(suites, source)
    if isinstance(source, SparkSource):  # GX would pull the rows into the worker
        return all_errors(
            suites, "GX suites do not run on Spark sources; write the checks in the contract"
        )
    if isinstance(source, FileSource):
        if opened is not None:
            return run_on_opened(suites, opened)
        return run_on_data(suites, source.location, source.format)
    return run_on_data(suites, source.frame, None)


def _with_gx(result: GateResult, checks: list[CheckResult], started: float) -> GateResult:
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
    return replace(result, run_id=uuid.uuid4().hex, context=dict(context or {}))


def _with_history(
    contract: Contract, observations: Observations, store: ResultStore | None, now: datetime
) -> Observations:
    """The observations with the stored metric history that the history checks read."""
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


def _profile(contract: Contract, opened: OpenedSource) -> dict[str, Any] | None:
    """A profile of the open source's distribution columns (None: none of them is there,
    or profiling failed, which is logged)."""
    from airflow_opsguard.engines.profiler import profile_opened

    section = contract.distribution
    assert section is not None
    names = [c.name for c in section.columns if c.name in {o.name for o in opened.columns}]
    if not names:
        return None
    try:
        found = profile_opened(opened, names, bins=section.bins, top=section.top)
    except DataSourceError as exc:
        log.warning("%s: no profile kept of this run's data: %s", contract.dataset, exc)
        return None
    return found.to_dict()
