"""The gate pipeline: the one sequence that every entry point runs.

The gate operator, ``@task.opsguard``, ``opsguard check`` and :func:`validate` all call
:func:`run_gate`; they differ only in what they ask of it (act on the data or not, alert
or not) and in how they present the outcome (an Airflow exception, an exit code, a
returned result). A fix to what a gate does belongs here, never in one caller.

The steps, in order:

1. load the contract (any format), apply the caller's source override, and put the
   caller's resolver of Airflow connection ids in force for the run;
2. when the gate moves data (``on_fail: quarantine`` or write-audit-publish), claim
   the batch (tries of one SQL batch take turns until step 5 is done), finish what an
   earlier try of this batch did, as it decided, and stop there;
3. judge the data (:func:`~airflow_opsguard.validation.judge`: the distribution
   reference loaded once, the data measured and opened once for the profile and the
   Great Expectations suites, the history, shadow mode), under the attempt's run id;
4. record the verdict (a store that is down never changes it: the spool keeps it);
5. settle the batch: publish, quarantine or split it;
6. decide what the verdict means for what comes next;
7. alert: incidents, routes, the outbox.

No Airflow here: the Airflow layer maps a :class:`GateRun` onto XCom and exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_opsguard.contract.loader import ContractLike
from airflow_opsguard.decision import Action, Decision, OnFail, decide
from airflow_opsguard.engines.connections import using_connections
from airflow_opsguard.errors import ContractError, DataSourceError
from airflow_opsguard.formats import load_contract

if TYPE_CHECKING:
    from airflow_opsguard.alerts.messages import LinkSettings
    from airflow_opsguard.alerts.service import AlertReport
    from airflow_opsguard.checks.results import GateResult
    from airflow_opsguard.contract.models import Contract
    from airflow_opsguard.engines.connections import ConnectionResolver
    from airflow_opsguard.engines.files import Progress
    from airflow_opsguard.quarantine.settlement import Settlement, Target
    from airflow_opsguard.store.store import ResultStore

T = TypeVar("T")


class QuarantineError(DataSourceError):
    """The verdict asked to move the batch and it could not be moved: the data stays
    where it was, and nothing downstream may read it. ``retryable``: a filesystem or
    database that failed mid-move (a retry finishes the move); otherwise the batch
    cannot be moved at all (data in memory, a query)."""


@dataclass(frozen=True)
class GateRun:
    """What one run of a gate did.

    ``result``: the verdict (None when an earlier try of this batch had settled it and
    the store no longer has that try's verdict). ``payload``: what XCom and JSON carry
    (the verdict's ``to_dict()``, with ``quarantine`` when the batch moved).
    ``settlement``: what happened to the batch (None when the gate moves no data).
    ``decision``: what comes next. ``alerts``: what alerting did (None when not asked).
    ``resumed``: an earlier try had settled the batch; nothing was checked again.
    """

    contract: Contract
    result: GateResult | None
    payload: dict[str, Any]
    decision: Decision
    settlement: Settlement | None = None
    alerts: AlertReport | None = None
    resumed: bool = False


def run_gate(
    contract: ContractLike,
    *,
    data: Any = None,
    table: str | None = None,
    conn_id: str | None = None,
    now: datetime | str | None = None,
    on_fail: OnFail | None = None,
    store: ResultStore | str | None = None,
    identity: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    batch_id: str | None = None,
    record: bool = True,
    act: bool = False,
    alert: bool = False,
    incident_time: datetime | None = None,
    routes: Sequence[Any] = (),
    notify_context: Mapping[str, Any] | None = None,
    links: LinkSettings | None = None,
    will_retry: bool = False,
    progress: Progress | None = None,
    gx_suites: Sequence[Any] = (),
    connections: ConnectionResolver | None = None,
) -> GateRun:
    """Run a gate: check ``data`` against ``contract``, record, settle, decide, alert.

    ``data``, ``table``, ``conn_id``: the data to check instead of the contract's source
    (as :func:`~airflow_opsguard.validation.judge` takes them; ``conn_id`` with ``table``
    reads through an Airflow connection). ``now`` fixes the clock. ``on_fail``: what a
    failing verdict does (default: the contract's). ``store``: where verdicts,
    incidents and quarantine records go (a :class:`ResultStore` or a URL; None: nowhere).
    ``identity``: where the verdict comes from (DAG, run, task, map index, try), kept with
    it; with ``act`` it also names the batch, the same for every try (or ``batch_id``
    names it: what a caller outside Airflow retries under). ``run_id``: the
    verdict's id (default: a new one; a retried attempt passes its own, so storing it
    twice is a no-op). ``record=False``: do not record the verdict (the store is still
    read, for baselines and history).

    ``connections`` resolves Airflow connection ids (a contract's ``source.conn_id``,
    ``conn_id``) into engines: the Airflow layer hands in Airflow's
    (:func:`airflow_opsguard.connections.engine_for_conn_id`); without one, a connection
    id to read is the verdict's one-line error.

    ``act``: move the data as the verdict says (quarantine, publish, split), resuming
    what a crashed try did. ``alert``: track incidents and alert the contract's routes
    and ``routes``; ``notify_context`` is what notifiers are called with, ``links`` how
    report links are built, ``will_retry`` says the task has tries left (then an error a
    retry may fix alerts nothing yet), ``incident_time`` when the incidents change
    (default: the wall clock; ``now`` is the data's clock, which a backfill sets back).

    Raises :class:`ContractError` for an invalid contract or suite and
    :class:`QuarantineError` when the batch had to move and could not; bad or unreadable
    data never raises (it is the verdict).
    """
    spec = _with_source(load_contract(contract), conn_id, table, data is None)
    if conn_id:
        table = None
    outcome: OnFail = on_fail or spec.on_fail
    # Connection ids resolve through the caller's resolver wherever the run reaches.
    with using_connections(connections):
        opened = _open_store(store)
        try:
            target = None
            if act:
                batch = batch_id or _batch_id(spec, identity)
                target = _target(spec, outcome, batch, data, table)
            with ExitStack() as claimed:
                if target is not None and not isinstance(target, DataSourceError):
                    # Tries of one batch take turns from resume to settle (a lock in the data
                    # database): a later try resumes what the first decided, and never
                    # checks the staging table that the first one emptied.
                    _step(lambda: claimed.enter_context(_claim(target)))
                    settled = _step(lambda: _resume(target, opened))
                    if settled is not None:
                        return _resumed(spec, settled, opened)
                result = _judge(
                    spec, data, table, now, opened, identity, run_id, progress, gx_suites
                )
                if opened is not None and record:
                    opened.record(result)  # never raises: a store outage never changes the verdict
                settled = _settle(spec, result, target, outcome, opened) if act else None
            decision = decide(result, outcome)
            if settled is not None and settled.action == "split":
                decision = replace(decision, action="continue")  # the clean rows go on
            report = None
            if alert:
                retried = will_retry and decision.action == "retry"
                report = _alert(
                    spec, result, routes, opened, notify_context, links, incident_time, retried
                )
        finally:
            if opened is not None and opened is not store:
                opened.close()
    payload = result.to_dict()
    if settled is not None:
        payload["quarantine"] = settled.to_dict()
    return GateRun(spec, result, payload, decision, settled, report)


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
    connections: ConnectionResolver | None = None,
) -> GateResult:
    """Check ``data`` against ``contract`` and return the verdict.

    ``contract`` is a path to a YAML contract, a mapping or a :class:`Contract`.
    ``data`` overrides the contract's source: a path, glob or fsspec URL, a pandas or
    polars DataFrame or an Arrow table, or a database (a SQLAlchemy URL such as
    ``postgresql://user@host/db``, or an engine). ``table`` names the table to check in
    the database (``schema.table`` allowed), overriding the contract's table or query.
    ``now`` fixes the clock for freshness (default: the current time; naive values are UTC).

    Bad data never raises: it yields failing checks. Data that cannot be read yields a
    result with status ``error`` and the reason in ``error``. An invalid contract raises
    :class:`ContractError`.

    With ``store`` (a :class:`ResultStore` or a SQLAlchemy URL) the verdict is recorded
    (unless ``record=False``); a store that is down is logged and never changes the
    verdict. History checks (``anomaly``, ``row_count_change``) read the earlier runs'
    metrics from ``store``; without one they report ``error``. ``context`` is kept with the verdict.

    ``gx_suites`` adds Great Expectations suites to the contract's ``gx_suite``: suite
    JSON paths, suite mappings or ``ExpectationSuite`` objects. Each expectation becomes
    a check result of type ``gx`` in the same verdict. A broken suite raises
    :class:`ContractError` before any data is read.

    ``connections`` resolves a contract's ``source.conn_id`` (an Airflow connection);
    :func:`airflow_opsguard.validate` hands in Airflow's.

    It runs the same pipeline as a gate task (:func:`run_gate`), without moving data or
    alerting.
    """
    run = run_gate(
        contract,
        data=data,
        table=table,
        now=now,
        store=store,
        identity=context,
        record=record,
        progress=progress,
        gx_suites=gx_suites,
        connections=connections,
    )
    assert run.result is not None  # only a resumed quarantine has none
    return run.result


# ------------------------------------------------------------------------------ steps


def _with_source(
    spec: Contract, conn_id: str | None, table: str | None, reads_source: bool
) -> Contract:
    """The contract reading through the Airflow connection ``conn_id``: its connection
    replaced, what it reads kept. A database source keeps its table or query (``table``
    overrides it); a Spark source its path, table or query, now on the session the
    connection names; a file source on object storage its URL, now read with the
    connection's credentials. When the contract's source says nothing to read, or the
    data is given (``reads_source`` false), the source is the connection and ``table``."""
    if not conn_id:
        return spec
    from airflow_opsguard.contract.models import Source

    declared = spec.source if reads_source else None
    fields: dict[str, Any] = {"conn_id": conn_id, "table": table}
    if declared is not None and declared.engine == "spark":
        fields["engine"] = "spark"
        if table is None:
            read = ("path", "table", "query", "format")
            fields.update({key: getattr(declared, key) for key in read})
    elif declared is not None and table is None and (declared.url or declared.conn_id):
        fields.update(table=declared.table, query=declared.query)
    elif declared is not None and table is None and declared.path and "://" in declared.path:
        fields.update(path=declared.path, format=declared.format)  # object storage
    source = Source(**fields)  # valid: the parts kept are a valid source's
    if reads_source and not (source.table or source.query or source.path):
        raise ContractError(
            f"conn_id={conn_id!r}: give table= as well; the contract's source names no "
            "table, query or object-storage URL to read through the connection"
        )
    return spec.model_copy(update={"source": source})


def _open_store(store: ResultStore | str | None) -> ResultStore | None:
    if store is None:
        return None
    from airflow_opsguard.store.store import ResultStore

    return store if isinstance(store, ResultStore) else ResultStore(store)


def _batch_id(spec: Contract, identity: Mapping[str, Any] | None) -> str:
    from airflow_opsguard.store.quarantine import batch_id_for

    return batch_id_for(spec.dataset, identity or {})


def _target(
    spec: Contract, outcome: OnFail, batch_id: str, data: Any, table: str | None
) -> Target | DataSourceError | None:
    """Where the batch is, when this gate may move it; or why it cannot be moved (data
    in memory, a query): that fails the gate only when its verdict asks for a move."""
    from airflow_opsguard.quarantine.settlement import moves_data, target_for

    if not moves_data(spec, outcome):
        return None
    try:
        return target_for(spec, batch_id, data=data, table=table)
    except DataSourceError as exc:
        return exc


def _claim(target: Target) -> AbstractContextManager[None]:
    from airflow_opsguard.quarantine.settlement import claim

    return claim(target)


def _resume(target: Target, store: ResultStore | None) -> Settlement | None:
    from airflow_opsguard.quarantine.settlement import resume

    return resume(target, store)


def _resumed(spec: Contract, settled: Settlement, store: ResultStore | None) -> GateRun:
    """An earlier try settled the batch: its stored verdict (when the store has it) and
    what it did, without checking the moved data again."""
    from airflow_opsguard.errors import StoreError

    result = None
    run_id = settled.record.run_id if settled.record is not None else None
    if run_id and store is not None:
        try:
            result = store.get(run_id)
        except StoreError:
            result = None
    payload: dict[str, Any] = {"dataset": spec.dataset, "status": None, "checks": []}
    if result is not None:
        payload = result.to_dict()
    if payload["status"] is None:
        payload["status"] = "pass" if settled.action == "published" else "fail"
    payload["quarantine"] = settled.to_dict()
    reason = f"quality gate {spec.dataset!r}: an earlier try of this task settled the batch"
    action: Action = "continue" if settled.lets_data_through else "quarantine"
    return GateRun(spec, result, payload, Decision(action, reason), settled, resumed=True)


def _judge(
    spec: Contract,
    data: Any,
    table: str | None,
    now: datetime | str | None,
    store: ResultStore | None,
    identity: Mapping[str, Any] | None,
    run_id: str | None,
    progress: Progress | None,
    gx_suites: Sequence[Any],
) -> GateResult:
    from airflow_opsguard.validation import judge

    result = judge(
        spec,
        data,
        now,
        table=table,
        store=store,
        context=identity,
        progress=progress,
        gx_suites=gx_suites,
    )
    return result if run_id is None else replace(result, run_id=run_id)


def _settle(
    spec: Contract,
    result: GateResult,
    target: Target | DataSourceError | None,
    outcome: OnFail,
    store: ResultStore | None,
) -> Settlement | None:
    from airflow_opsguard.quarantine.settlement import needs_move, settle

    if target is None:
        return None
    if isinstance(target, DataSourceError):
        if needs_move(spec, result.status, outcome):
            raise QuarantineError(f"quarantine: {target}")
        return None
    return _step(lambda: settle(spec, result, target, on_fail=outcome, store=store))


def _step(action: Callable[[], T]) -> T:
    """A step that moves data; its failures as :class:`QuarantineError`."""
    try:
        return action()
    except DataSourceError as exc:
        raise QuarantineError(f"quarantine: {exc}", retryable=exc.retryable) from None
    except OSError as exc:
        # A filesystem that failed mid-move: the sidecar lets the retry finish the moves.
        raise QuarantineError(f"quarantine: {exc}", retryable=True) from exc


def _alert(
    spec: Contract,
    result: GateResult,
    routes: Sequence[Any],
    store: ResultStore | None,
    notify_context: Mapping[str, Any] | None,
    links: LinkSettings | None,
    incident_time: datetime | None,
    will_retry: bool,
) -> AlertReport:
    from airflow_opsguard.alerts.service import send_alerts

    return send_alerts(
        result,
        spec,
        routes=routes,
        store=store,
        context=dict(notify_context) if notify_context is not None else None,
        links=links,
        now=incident_time,
        defer_retryable=will_retry,
    )
