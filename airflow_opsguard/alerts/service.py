"""Alerting on a verdict: incidents, routing, the outbox, delivery. Never raises.

:func:`send_alerts` is what the gate operators and ``opsguard check`` call after the
verdict is stored:

1. alerts left pending by earlier runs (in the store's outbox, or in the local spool when
   the store was down too) go out first, to the routes at hand;
2. the run's incident changes and the alerts they call for are written in one
   transaction (so a retry of the same run finds its incidents and alerts nothing new);
3. each new alert is delivered, retried with backoff, and marked sent or left pending.

If the store is down, every failing check alerts as if new (a duplicate beats a
silence), and what cannot be sent is spooled to a file. Nothing here changes a verdict.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_opsguard.alerts.delivery import Attempt, Deliverer, Sleep
from airflow_opsguard.alerts.messages import AlertMessage, LinkSettings, build
from airflow_opsguard.alerts.routes import Route, routes_for
from airflow_opsguard.alerts.spool import AlertSpool
from airflow_opsguard.checks import incidents as incident_rules
from airflow_opsguard.checks.incidents import Transition
from airflow_opsguard.contract.alerts import Escalation, Resolution
from airflow_opsguard.errors import StoreError
from airflow_opsguard.store.incidents import IncidentStore, OutboxAlert
from airflow_opsguard.urls import mask_url

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_opsguard.checks.results import GateResult
    from airflow_opsguard.contract.models import Contract
    from airflow_opsguard.store.store import ResultStore

log = logging.getLogger("airflow_opsguard.alerts")

STORE_DOWN_NOTE = (
    "the incident store could not be reached, so this alert may repeat until it is back"
)


@dataclass(frozen=True)
class AlertReport:
    """What alerting on one verdict did."""

    events: frozenset[str] = frozenset()
    transitions: tuple[Transition, ...] = ()
    deliveries: tuple[Attempt, ...] = ()
    resent: tuple[Attempt, ...] = ()
    pending: int = 0  # alerts of this run left for a later run (store or spool)
    tracked: bool = False  # the incidents were read and written in the store
    deferred: bool = False  # an error that will be retried: no alert yet
    routes: tuple[str, ...] = field(default=())

    @property
    def sent(self) -> tuple[Attempt, ...]:
        return tuple(d for d in (*self.resent, *self.deliveries) if d.ok)

    def summary(self) -> str:
        parts = [f"events {', '.join(sorted(self.events)) or 'none'}"]
        if self.deliveries or self.resent:
            parts.append(f"{len(self.sent)} alert(s) sent")
        if self.pending:
            parts.append(f"{self.pending} kept to send again")
        if not self.tracked:
            parts.append("incidents not tracked")
        if self.deferred:
            parts.append("deferred until the last retry")
        return "; ".join(parts)


def send_alerts(
    result: GateResult,
    contract: Contract | None = None,
    *,
    routes: Sequence[Any] = (),
    store: ResultStore | str | None = None,
    context: Mapping[str, Any] | None = None,
    run_key: str | None = None,
    now: datetime | None = None,
    links: LinkSettings | None = None,
    sleep: Sleep = time.sleep,
    spool_dir: Path | None = None,
    defer_retryable: bool = False,
) -> AlertReport:
    """Track the incidents of ``result`` and alert the routes (the contract's, then
    ``routes``: route mappings, notifier objects or callables).

    ``store``: the results store that keeps incidents and the outbox (without one every
    failing run alerts). ``context``: what notifiers are called with (Airflow's task
    context). ``run_key``: which run this is, so a retry of the same run is known (by
    default the DAG run and task of ``result.context``, else the result's id).
    ``defer_retryable``: a verdict of ``error`` that a retry may fix alerts nothing yet.
    Never raises: a failure here is logged and never changes a verdict.
    """
    try:
        return _send(
            result,
            contract,
            routes=routes,
            store=store,
            context=context,
            run_key=run_key,
            now=now,
            links=links,
            sleep=sleep,
            spool_dir=spool_dir,
            defer_retryable=defer_retryable,
        )
    except Exception:
        log.exception("alerting on %r failed; the verdict stands", result.dataset)
        return AlertReport()


def run_key_of(result: GateResult) -> str:
    """The same key for every attempt of one gate task in one DAG run."""
    ctx = result.context
    if ctx.get("dag_id") and ctx.get("run_id"):
        parts = (ctx.get("dag_id"), ctx.get("run_id"), ctx.get("task_id"), ctx.get("map_index"))
        text = "\x1f".join(str(p) for p in parts)
    else:
        text = result.run_id or uuid.uuid4().hex
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _send(
    result: GateResult,
    contract: Contract | None,
    *,
    routes: Sequence[Any],
    store: ResultStore | str | None,
    context: Mapping[str, Any] | None,
    run_key: str | None,
    now: datetime | None,
    links: LinkSettings | None,
    sleep: Sleep,
    spool_dir: Path | None,
    defer_retryable: bool,
) -> AlertReport:
    chosen = routes_for(contract, routes)
    target = _open_store(store)
    try:
        outbox = IncidentStore(target) if target is not None else None
        spool = _spool(target, spool_dir)
        deliverer = Deliverer(context=context, sleep=sleep)
        moment = _utc(now)
        resent = _resend(chosen, outbox, spool, deliverer, moment)
        if defer_retryable and result.status == "error" and result.retryable:
            log.info("%r could not be checked and will be retried: no alert yet", result.dataset)
            return AlertReport(resent=tuple(resent), deferred=True, routes=_labels(chosen))
        compose = _Composer(result, contract, chosen, links or LinkSettings.from_environment())
        key = run_key or run_key_of(result)
        escalation = contract.escalation if contract is not None else Escalation()
        resolution = contract.resolution if contract is not None else Resolution()
        openings = _openings(outbox, result.dataset, resolution, moment)

        def planned(open_incidents: dict[str, incident_rules.Incident]) -> list[Transition]:
            return incident_rules.plan(
                result,
                open_incidents,
                run_key=key,
                now=moment,
                escalation=escalation,
                resolution=resolution,
                openings=openings,
            )

        store_ok = outbox is not None
        transitions: list[Transition] = []
        fresh: list[OutboxAlert] = []
        if outbox is not None:
            try:
                transitions, fresh = outbox.record_run(result.dataset, planned, compose)
            except StoreError as exc:
                log.warning("incidents of %r not tracked: %s; alerting anyway", result.dataset, exc)
                store_ok = False
        if not store_ok:
            transitions = planned({})  # every failure is new: a duplicate beats a silence
            compose.note = STORE_DOWN_NOTE if outbox is not None else None
            compose.stored = False
            fresh = compose(transitions)
        by_key = {route.key: route for route in chosen}
        deliveries: list[Attempt] = []
        pending = 0
        for alert in fresh:
            route = by_key[alert.route_key]
            attempt = _deliver_new(
                alert, route, outbox if store_ok else None, spool, deliverer, moment
            )
            deliveries.append(attempt)
            pending += not attempt.ok
        return AlertReport(
            events=frozenset(incident_rules.events(transitions)),
            transitions=tuple(transitions),
            deliveries=tuple(deliveries),
            resent=tuple(resent),
            pending=pending,
            tracked=store_ok,
            routes=_labels(chosen),
        )
    finally:
        if target is not None and target is not store:
            target.close()


def _openings(
    outbox: IncidentStore | None, dataset: str, resolution: Resolution, now: datetime
) -> dict[str, list[tuple[int, datetime]]]:
    """The dataset's incidents opened within the flapping window (none without a store
    or a flapping mark); read before the run's transaction, as the mark is advice."""
    if outbox is None or resolution.flapping_after is None:
        return {}
    try:
        return outbox.openings(dataset, now - resolution.flapping_within)
    except StoreError as exc:
        # The run's own transaction is about to say the store is down, once.
        log.debug("incidents of %r not read for the flapping mark: %s", dataset, exc)
        return {}


class _Composer:
    """Makes the outbox alerts of a run's incident changes: per route and incident, at
    most one message, for the first change the route takes (opened, escalated,
    changed), or the notice that it resolved. Repeats inside an episode say nothing."""

    def __init__(
        self,
        result: GateResult,
        contract: Contract | None,
        routes: Sequence[Route],
        links: LinkSettings,
    ) -> None:
        self.result = result
        self.contract = contract
        self.routes = routes
        self.links = links
        self.note: str | None = None
        self.stored = True  # False: no incidents kept, so each run's alerts are its own

    def __call__(self, transitions: list[Transition]) -> list[OutboxAlert]:
        found = {f.key: f for f in incident_rules.findings(self.result)}
        out: list[OutboxAlert] = []
        for transition in transitions:
            others = [t for t in transitions if t is not transition and t.incident.is_open]
            still = [m.name for t in others for m in t.incident.failing_members]
            for route in self.routes:
                event = route_event(route, transition)
                if event is None:
                    continue
                message = build(
                    event,
                    self.result,
                    transition,
                    contract=self.contract,
                    found=found,
                    still_failing=still if event == "recover" else (),
                    links=self.links,
                    note=self.note,
                )
                out.append(self._alert(route, event, transition, message.to_dict()))
        return out

    def _alert(
        self, route: Route, event: str, transition: Transition, payload: dict[str, Any]
    ) -> OutboxAlert:
        incident = transition.incident
        parts = [self.result.dataset, event, route.key, incident.key]
        if event == "change":  # each change of the set of failing checks is its own news
            failing = sorted(m.name for m in incident.failing_members)
            parts += ["failing", *failing, "recovered", *sorted(transition.recovered)]
        if not self.stored:
            parts.append(f"run:{self.result.run_id}")
        return OutboxAlert(
            dedup_key=hashlib.sha256("\x1f".join(parts).encode()).hexdigest(),
            dataset=self.result.dataset,
            event=event,
            route_key=route.key,
            route_label=route.label,
            payload=payload,
            created_at=datetime.now(UTC),
        )


def route_event(route: Route, transition: Transition) -> str | None:
    """The event of ``transition`` that ``route`` hears of, if any: a new incident's
    severity (``fail``, ``warn``), then ``escalate``, then ``change``; ``recover`` for
    one that resolved (not while the dataset still fails)."""
    incident = transition.incident
    if transition.state == "resolved":
        if transition.silent:
            return None
        heard = route.hears_recovery(incident.severity, incident.escalated_at is not None)
        return "recover" if heard else None
    candidates: list[str] = []
    if transition.state == "new":
        candidates.append(incident.severity)
    if transition.escalated:
        candidates.append("escalate")
    if transition.changed:
        candidates.append("change")
    return next((e for e in candidates if route.takes(e)), None)


def _deliver_new(
    alert: OutboxAlert,
    route: Route,
    outbox: IncidentStore | None,
    spool: AlertSpool,
    deliverer: Deliverer,
    now: datetime,
) -> Attempt:
    if outbox is not None and not _claim(outbox, alert, now):
        return Attempt(route.label, alert.event, True, 0)  # another process has it
    attempt = deliverer.deliver(route, alert.payload)
    if outbox is not None:
        _settle(outbox, alert, attempt, now)
    elif not attempt.ok:
        _spool_alert(spool, alert, attempt)
    return attempt


def _resend(
    routes: Sequence[Route],
    outbox: IncidentStore | None,
    spool: AlertSpool,
    deliverer: Deliverer,
    now: datetime,
) -> list[Attempt]:
    """Send what earlier runs could not, to the routes at hand."""
    by_key = {route.key: route for route in routes}
    done: list[Attempt] = []
    if not by_key:
        return done
    store_up = outbox is not None
    if outbox is not None:
        try:
            waiting = outbox.pending(by_key)
        except StoreError as exc:
            log.warning("pending alerts not read: %s", exc)
            waiting, store_up = [], False
        for alert in waiting:
            if not _claim(outbox, alert, now):
                continue
            attempt = deliverer.deliver(by_key[alert.route_key], alert.payload)
            _settle(outbox, alert, attempt, now)
            done.append(attempt)

    def handle(alert: OutboxAlert) -> bool:
        attempt = deliverer.deliver(by_key[alert.route_key], alert.payload)
        done.append(attempt)
        if attempt.ok or not store_up or outbox is None:
            return attempt.ok
        try:  # the store is back: the alert waits in its outbox from now on
            outbox.keep(alert)
        except StoreError:
            return False
        return True

    spool.drain(by_key, handle)
    return done


def _claim(outbox: IncidentStore, alert: OutboxAlert, now: datetime) -> bool:
    try:
        return outbox.claim(alert.id, now)
    except StoreError as exc:
        log.warning("alert %s not claimed (%s); sending it anyway", alert.id, exc)
        return True


def _settle(outbox: IncidentStore, alert: OutboxAlert, attempt: Attempt, now: datetime) -> None:
    try:
        if attempt.ok:
            outbox.sent(alert.id, now)
        else:
            outbox.failed(alert.id, attempt.error or "delivery failed")
    except StoreError as exc:
        log.warning("alert %s: its state not stored (%s); it may be sent again", alert.id, exc)


def _spool_alert(spool: AlertSpool, alert: OutboxAlert, attempt: Attempt) -> None:
    from dataclasses import replace

    kept = replace(alert, attempts=attempt.attempts, last_error=attempt.error)
    try:
        spool.append(kept)
    except OSError as exc:
        log.error(
            "alert %s of %r could not be sent, stored or spooled (%s); its text:\n%s",
            alert.event,
            alert.dataset,
            mask_url(str(exc)),
            alert.payload.get("text"),
        )
        return
    log.warning("alert %s of %r kept in %s, to send again", alert.event, alert.dataset, spool.path)


def _spool(store: ResultStore | None, spool_dir: Path | None) -> AlertSpool:
    from pathlib import Path

    from airflow_opsguard.store.urls import opsguard_home

    if store is not None:
        folder = spool_dir or store.spool_path.parent
        return AlertSpool(Path(folder), store.spool_path.stem)
    return AlertSpool(Path(spool_dir or opsguard_home() / "spool"), "nostore")


def _open_store(store: ResultStore | str | None) -> ResultStore | None:
    if store is None:
        return None
    from airflow_opsguard.store.store import ResultStore

    return store if isinstance(store, ResultStore) else ResultStore(store)


def _labels(routes: Sequence[Route]) -> tuple[str, ...]:
    return tuple(route.label for route in routes)


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def deliver_message(
    message: AlertMessage,
    routes: Sequence[Route],
    *,
    dedup: str,
    store: ResultStore | str | None = None,
    context: Mapping[str, Any] | None = None,
    sleep: Sleep = time.sleep,
    spool_dir: Path | None = None,
) -> list[Attempt]:
    """Send one message (an SLA miss, a missed deadline) to ``routes``, through the
    outbox: once per ``dedup`` key and route, kept pending when it cannot be sent.
    Never raises."""
    try:
        target = _open_store(store)
        try:
            outbox = IncidentStore(target) if target is not None else None
            spool = _spool(target, spool_dir)
            deliverer = Deliverer(context=context, sleep=sleep)
            moment = datetime.now(UTC)
            done = _resend(routes, outbox, spool, deliverer, moment)
            for route in routes:
                text = "\x1f".join([message.dataset, message.event, route.key, dedup])
                alert = OutboxAlert(
                    dedup_key=hashlib.sha256(text.encode()).hexdigest(),
                    dataset=message.dataset,
                    event=message.event,
                    route_key=route.key,
                    route_label=route.label,
                    payload=message.to_dict(),
                    created_at=moment,
                )
                kept: IncidentStore | None = None
                if outbox is not None:
                    try:
                        stored = outbox.keep(alert)
                    except StoreError as exc:
                        log.warning("alert %s not kept in the store (%s)", message.event, exc)
                    else:
                        if stored is None:
                            continue  # sent (or kept) before: once is enough
                        alert, kept = stored, outbox
                done.append(_deliver_new(alert, route, kept, spool, deliverer, moment))
            return done
        finally:
            if target is not None and target is not store:
                target.close()
    except Exception:
        log.exception("alert %s of %r failed", message.event, message.dataset)
        return []
