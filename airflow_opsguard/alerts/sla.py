"""SLA misses through the routes: the FreshnessSensor's misses and Airflow's Deadline Alerts.

- The sensor routes each miss (once per DAG run) to the contract's routes that take
  ``sla_miss``; ``SlaMissAlerter(routes)`` is a ``sla_miss_callback`` for more routes.
- :func:`deadline_alert` makes an Airflow 3.1+ ``DeadlineAlert`` whose callback
  (:func:`on_deadline_missed`, run in the triggerer) alerts the same routes.

Airflow is imported only by :func:`deadline_alert`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_opsguard.alerts.delivery import Attempt, Sleep
from airflow_opsguard.alerts.messages import TITLE_PREFIX, AlertMessage, short_fingerprint
from airflow_opsguard.alerts.routes import Route, routes_for, to_routes
from airflow_opsguard.alerts.service import deliver_message
from airflow_opsguard.checks.results import to_json_value
from airflow_opsguard.contract.durations import format_duration
from airflow_opsguard.contract.loader import load_contract
from airflow_opsguard.contract.models import Contract
from airflow_opsguard.urls import mask_url

if TYPE_CHECKING:
    from airflow_opsguard.store.store import ResultStore

log = logging.getLogger("airflow_opsguard.alerts")
SLA_EVENT = "sla_miss"


def sla_routes(contract: Contract | None, extra: Sequence[Any] = ()) -> list[Route]:
    """The routes that take SLA misses: the contract's, then ``extra`` (mappings
    without ``on`` take SLA misses)."""
    given = [_sla_default(value) for value in extra]
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


class SlaMissAlerter:
    """A ``sla_miss_callback`` for the FreshnessSensor that alerts through routes::

        FreshnessSensor(..., sla=timedelta(hours=2),
                        sla_miss_callback=SlaMissAlerter([{"webhook": URL}]))

    Route mappings without ``on`` take SLA misses. The contract's own ``sla_miss`` routes
    are alerted by the sensor itself; give ``contract`` here only outside the sensor.
    """

    def __init__(
        self,
        routes: Sequence[Any] = (),
        *,
        contract: Contract | str | None = None,
        store: str | None = None,
    ) -> None:
        self.routes = [_sla_default(value) for value in routes]
        to_routes(self.routes)  # a bad route is an error when the DAG is parsed
        self.contract = contract
        self.store = store

    def __call__(self, payload: Mapping[str, Any]) -> None:
        contract = load_contract(self.contract) if self.contract is not None else None
        store = self.store or _store_in_airflow()
        send_sla_miss(contract, payload, routes=self.routes, store=store)


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


def deadline_alert(
    interval: timedelta,
    *,
    reference: Any = None,
    contract: str | None = None,
    routes: Sequence[Mapping[str, Any]] = (),
    dataset: str | None = None,
    store: str | None = None,
    name: str | None = None,
) -> Any:
    """An Airflow ``DeadlineAlert`` (3.1+, experimental upstream) that alerts our routes
    when a DAG run misses its deadline::

        DAG(..., deadline=deadline_alert(timedelta(hours=2), contract="contracts/orders.yml"))

    ``reference``: a ``DeadlineReference`` (default: when the run was queued).
    ``contract``: a contract file whose ``sla_miss`` routes are alerted (a relative path
    is read next to the calling DAG file); ``routes``: more route mappings (without
    ``on``: they take the miss). The callback runs in the triggerer from its serialized
    form, so routes are mappings (no notifier objects); write secrets as ``${ENV}``.
    """
    # Public names since Airflow 3.1 (the SDK's type stub does not list them yet).
    from airflow.sdk import (  # type: ignore[attr-defined]
        AsyncCallback,
        DeadlineAlert,
        DeadlineReference,
    )

    given = [_sla_default(value) for value in routes]
    for value in given:
        if not isinstance(value, Mapping) or not isinstance(value.get("notifier", ""), str):
            raise ValueError(
                "deadline_alert routes must be mappings (a notifier by its import path): "
                "the callback runs in the triggerer from its serialized form"
            )
    to_routes(given)  # a bad route is an error when the DAG is parsed
    path: str | None = None
    if contract is not None:
        from airflow_opsguard.runtime import resolve_contract_path

        caller = sys._getframe(1).f_code.co_filename
        path = os.path.abspath(resolve_contract_path(contract, caller))
        loaded = load_contract(path)  # a bad contract is an error when the DAG is parsed
        dataset = dataset or loaded.dataset
    kwargs = {"routes": [dict(v) for v in given], "contract": path, "dataset": dataset}
    if store is not None:
        kwargs["store"] = store
    return DeadlineAlert(
        reference=reference if reference is not None else DeadlineReference.DAGRUN_QUEUED_AT,
        interval=interval,
        callback=AsyncCallback(on_deadline_missed, kwargs=kwargs),
        name=name,
    )


async def on_deadline_missed(
    *,
    context: Mapping[str, Any] | None = None,
    routes: Sequence[Mapping[str, Any]] = (),
    contract: str | None = None,
    dataset: str | None = None,
    store: str | None = None,
    **_: Any,
) -> dict[str, Any]:
    """The Deadline Alert callback (run in the triggerer): alert the routes that take
    ``sla_miss``, once per deadline. Returns what was sent (JSON)."""
    spec = load_contract(contract) if contract else None
    chosen = sla_routes(spec, [_sla_default(value) for value in routes])
    message = deadline_message(spec, dataset, context or {})
    deadline = (context or {}).get("deadline") or {}
    dedup = f"deadline:{deadline.get('id') or message.run.get('dag_run_id')}"
    target = store or _store_in_airflow()
    attempts = await asyncio.to_thread(
        deliver_message, message, chosen, dedup=dedup, store=target, context=dict(context or {})
    )
    return {
        "sent": [a.route for a in attempts if a.ok],
        "failed": [a.route for a in attempts if not a.ok],
    }


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


def _sla_default(value: Any) -> Any:
    if isinstance(value, Mapping) and "on" not in value and True not in value:
        return {**value, "on": [SLA_EVENT]}
    return value


def _store_in_airflow() -> str | None:
    try:
        from airflow_opsguard.runtime import store_url_in_airflow

        return store_url_in_airflow()
    except Exception:  # outside Airflow: the default store
        return None


__all__ = [
    "SlaMissAlerter",
    "deadline_alert",
    "deadline_message",
    "on_deadline_missed",
    "send_sla_miss",
    "sla_message",
    "sla_routes",
]
