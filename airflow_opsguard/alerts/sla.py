"""SLA misses through the routes: the FreshnessSensor's misses and Airflow's Deadline Alerts.

- The sensor routes each miss (once per DAG run) to the contract's routes that take
  ``sla_miss`` (:func:`send_sla_miss`).
- A missed Deadline Alert (:func:`handle_deadline_miss`) is recorded in the results store
  and alerted to the same routes, once per deadline.

The Airflow side (``deadline_alert``, the triggerer's callback ``on_deadline_missed`` and
the sensor's ``SlaMissAlerter``) is in :mod:`airflow_opsguard.deadlines`; this module
never imports Airflow.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_opsguard.alerts.delivery import Attempt, Sleep
from airflow_opsguard.alerts.messages import TITLE_PREFIX, AlertMessage, short_fingerprint
from airflow_opsguard.alerts.routes import Route, routes_for
from airflow_opsguard.alerts.service import deliver_message
from airflow_opsguard.checks.results import to_json_value
from airflow_opsguard.contract.durations import format_duration
from airflow_opsguard.contract.models import Contract
from airflow_opsguard.formats import load_contract
from airflow_opsguard.urls import mask_url

if TYPE_CHECKING:
    from airflow_opsguard.store.store import ResultStore

log = logging.getLogger("airflow_opsguard.alerts")
SLA_EVENT = "sla_miss"


def sla_routes(contract: Contract | None, extra: Sequence[Any] = ()) -> list[Route]:
    """The routes that take SLA misses: the contract's, then ``extra`` (mappings
    without ``on`` take SLA misses)."""
    given = [sla_default(value) for value in extra]
    return [r for r in routes_for(contract, given) if r.takes(SLA_EVENT)]


def send_sla_miss(
    contract: Contract | None,
    payload: Mapping[str, Any],
    *,
    routes: Sequence[Any] = (),
    store: ResultStore | str | None = None,
    sleep: Sleep = time.sleep,
) -> list[Attempt]:
    """Alert an SLA miss of the FreshnessSensor (``payload``: what the sensor hands its
    ``sla_miss_callback``: the task context plus dataset, age, limit, sla, ...) to the
    routes that take ``sla_miss``. Once per (DAG run, task) and route. Never raises."""
    chosen = sla_routes(contract, routes)
    if not chosen:
        return []
    message = sla_message(contract, payload)
    run = message.run
    where = (run.get(k) for k in ("dag_id", "dag_run_id", "task_id", "map_index"))
    dedup = "sla:" + ":".join(str(part) for part in where)
    context = {k: v for k, v in payload.items() if k != "sla_miss"}
    return deliver_message(message, chosen, dedup=dedup, store=store, context=context, sleep=sleep)


def sla_message(contract: Contract | None, payload: Mapping[str, Any]) -> AlertMessage:
    """The alert of a freshness SLA miss."""
    dataset = str(payload.get("dataset") or (contract.dataset if contract else "?"))
    age, limit, sla = payload.get("age"), payload.get("limit"), payload.get("sla")
    due = payload.get("sla_due_at")
    if isinstance(age, timedelta) and isinstance(limit, timedelta):
        summary = f"data {format_duration(age)} old, allowed {format_duration(limit)}"
    else:
        summary = "the data's age is unknown"
    title = f"{TITLE_PREFIX} SLA MISSED {dataset}: {summary}"
    run = {
        "dag_id": payload.get("dag_id"),
        "dag_run_id": payload.get("run_id"),
        "task_id": payload.get("task_id"),
        "map_index": payload.get("map_index", -1),
    }
    lines = [title, mask_url(str(payload.get("message") or summary))]
    if isinstance(sla, timedelta):
        lines.append(f"sla: {format_duration(sla)}, due {to_json_value(due)}")
    if payload.get("newest") is not None:
        lines.append(f"newest: {to_json_value(payload.get('newest'))}")
    if payload.get("error"):
        lines.append(f"error: {mask_url(str(payload['error']))}")
    return _finish(
        AlertMessage(
            event=SLA_EVENT,
            dataset=dataset,
            title=title,
            text="",
            checks=(
                {
                    "name": f"sla({dataset})",
                    "type": "sla",
                    "status": "fail",
                    "severity": "fail",
                    "observed": format_duration(age) if isinstance(age, timedelta) else None,
                    "expected": f"< {format_duration(limit)}"
                    if isinstance(limit, timedelta)
                    else None,
                    "message": mask_url(str(payload.get("message") or summary)),
                },
            ),
            run={k: to_json_value(v) for k, v in run.items() if v is not None},
            contract_fingerprint=short_fingerprint(contract.fingerprint) if contract else None,
            runbook=contract.runbook if contract else None,
            owner=contract.owner if contract else None,
        ),
        lines,
    )


# -- Deadline Alerts -----------------------------------------------------------------


class DeadlineDeliveryError(RuntimeError):
    """Some routes did not take the alert of a missed deadline (it stays pending in the
    outbox); raised so that Airflow records the callback as failed, with this message."""


def handle_deadline_miss(
    context: Mapping[str, Any],
    *,
    routes: Sequence[Any] = (),
    contract: str | None = None,
    dataset: str | None = None,
    key: str | None = None,
    interval_seconds: float | None = None,
    store: ResultStore | str | None = None,
    sleep: Sleep = time.sleep,
) -> str:
    """What the Deadline Alert callback does (``context``: what the scheduler hands it,
    ``dag_run`` and ``deadline``): record the miss in the results store (once per DAG
    run and deadline ``key``), then alert the routes that take ``sla_miss``, once per
    deadline. Returns one line for Airflow's ``callback.output``; raises
    :class:`DeadlineDeliveryError` when a route did not take the alert."""
    spec = load_contract(contract) if contract else None
    chosen = sla_routes(spec, routes)
    message = deadline_message(spec, dataset, context)
    deadline = context.get("deadline") or {}
    recorded = _record_deadline_miss(message, context, key, interval_seconds, store)
    dedup = f"deadline:{deadline.get('id') or message.run.get('dag_run_id')}"
    attempts = deliver_message(
        message, chosen, dedup=dedup, store=store, context=dict(context), sleep=sleep
    )
    sent = [a.route for a in attempts if a.ok]
    failed = [f"{a.route} ({a.error})" for a in attempts if not a.ok]
    where = f"{message.run.get('dag_id')} run {message.run.get('dag_run_id')}"
    summary = (
        f"deadline missed by {where}: {recorded}; "
        + (f"sent to {', '.join(sent)}" if sent else "sent to no route")
        + (" (already sent, or no route takes sla_miss)" if not attempts else "")
    )
    if failed:
        raise DeadlineDeliveryError(
            f"{summary}; not sent to {'; '.join(failed)}: kept pending for the route's next alert"
        )
    return mask_url(summary)


def deadline_key(name: str | None, reference: str, interval: timedelta) -> str:
    """What tells two Deadline Alerts of one DAG apart in the store (its ``task_id``
    column): the alert's name, else its reference and interval."""
    return f"deadline:{name}" if name else f"deadline:{reference}+{format_duration(interval)}"


def _record_deadline_miss(
    message: AlertMessage,
    context: Mapping[str, Any],
    key: str | None,
    interval_seconds: float | None,
    store: ResultStore | str | None,
) -> str:
    from airflow_opsguard.errors import StoreError
    from airflow_opsguard.store.sla import SlaMiss
    from airflow_opsguard.store.store import ResultStore

    deadline = context.get("deadline") or {}
    now = datetime.now(UTC)
    due = _instant(deadline.get("deadline_time")) or now
    interval = timedelta(seconds=interval_seconds or 0)
    miss = SlaMiss(
        dag_id=str(message.run.get("dag_id") or "?"),
        run_id=str(message.run.get("dag_run_id") or "?"),
        task_id=key or "deadline",
        map_index=-1,
        dataset=message.dataset,
        sla=interval,
        due_at=due,
        missed_at=now,
        limit=interval,
        age=None,
        newest=None,
        message=message.checks[0]["message"],
    )
    if store is None:
        return "not recorded (no results store)"
    try:
        if isinstance(store, ResultStore):
            claimed = store.claim_sla_miss(miss)
        else:
            with ResultStore(store) as opened:
                claimed = opened.claim_sla_miss(miss)
    except StoreError as exc:
        log.warning("the missed deadline was not recorded: %s", exc)
        return f"not recorded ({exc})"
    return "recorded" if claimed else "recorded before"


def _instant(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def deadline_message(
    contract: Contract | None, dataset: str | None, context: Mapping[str, Any]
) -> AlertMessage:
    """The alert of a DAG run that missed its deadline (``context``: what the scheduler
    hands the callback: ``dag_run`` and ``deadline``)."""
    dag_run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    dag_id = dag_run.get("dag_id") or "?"
    name = dataset or (contract.dataset if contract else None) or dag_id
    due = to_json_value(deadline.get("deadline_time"))
    title = f"{TITLE_PREFIX} SLA MISSED {name}: DAG {dag_id} missed its deadline"
    lines = [title, f"run {dag_run.get('dag_run_id') or dag_run.get('run_id')}: due {due}"]
    if dag_run.get("state"):
        lines.append(f"state: {dag_run['state']}")
    return _finish(
        AlertMessage(
            event=SLA_EVENT,
            dataset=name,
            title=title,
            text="",
            checks=(
                {
                    "name": f"deadline({dag_id})",
                    "type": "deadline",
                    "status": "fail",
                    "severity": "fail",
                    "observed": dag_run.get("state"),
                    "expected": f"done by {due}",
                    "message": f"DAG run not done by {due}",
                },
            ),
            run={
                "dag_id": dag_id,
                "dag_run_id": dag_run.get("dag_run_id") or dag_run.get("run_id"),
            },
            contract_fingerprint=short_fingerprint(contract.fingerprint) if contract else None,
            runbook=contract.runbook if contract else None,
            owner=contract.owner if contract else None,
        ),
        lines,
    )


def _finish(message: AlertMessage, lines: list[str]) -> AlertMessage:
    from dataclasses import replace

    if message.run.get("dag_id"):
        run = message.run
        lines.append(
            f"where: dag {run.get('dag_id')}, run {run.get('dag_run_id', '?')}"
            + (f", task {run['task_id']}" if run.get("task_id") else "")
        )
    for label, value in (
        ("contract", message.contract_fingerprint),
        ("runbook", message.runbook),
        ("owner", message.owner),
    ):
        if value:
            lines.append(f"{label}: {value}")
    return replace(message, text="\n".join(lines))


def sla_default(value: Any) -> Any:
    """A route mapping without ``on`` takes SLA misses; anything else stays as it is."""
    if isinstance(value, Mapping) and "on" not in value and True not in value:
        return {**value, "on": [SLA_EVENT]}
    return value


# Names that moved to the Airflow layer (airflow_opsguard.deadlines). Deadline Alerts
# serialized before the move name "airflow_opsguard.alerts.sla.on_deadline_missed" as
# their callback, and Airflow imports that path in the triggerer: it keeps working.
_MOVED = frozenset({"SlaMissAlerter", "deadline_alert", "on_deadline_missed"})


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return getattr(importlib.import_module("airflow_opsguard.deadlines"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DeadlineDeliveryError",
    "deadline_key",
    "deadline_message",
    "handle_deadline_miss",
    "send_sla_miss",
    "sla_default",
    "sla_message",
    "sla_routes",
]
