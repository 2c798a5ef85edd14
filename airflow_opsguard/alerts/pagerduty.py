"""PagerDuty: the alert as an Events API v2 event.

An incident that opens or escalates (and an SLA miss) sends ``trigger``; an incident
that resolves sends ``resolve``. The ``dedup_key`` is the incident's key, the same in
every message of one failure episode, so PagerDuty keeps one alert per episode, folds
repeats into it and resolves it when the dataset passes again.

The routing key comes from an environment variable (``routing_key_env``) or from an
Airflow connection of the PagerDuty provider's type ``pagerduty_events`` (read with the
provider's ``PagerdutyEventsHook``). The event is posted by :func:`post_json` (one
deadline for the whole exchange, no redirects, the URL never in an error) to
``events_url`` (PagerDuty's, or its EU region's): the provider's clients post only to
``events.pagerduty.com`` and retry with sleeps of their own, while our deliverer retries
with the route's backoff.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from airflow_opsguard.alerts.messages import AlertMessage
from airflow_opsguard.alerts.providers import provider_class
from airflow_opsguard.alerts.webhook import DeliveryError, post_json

EVENTS_HOOK = "airflow.providers.pagerduty.hooks.pagerduty_events:PagerdutyEventsHook"
SUMMARY_LIMIT = 1024  # the Events API refuses a longer payload.summary
DEDUP_LIMIT = 255
CHECKS_LISTED = 50


def event_action(message: AlertMessage) -> str:
    """``resolve`` for a resolved incident, ``trigger`` for everything else."""
    if message.event == "recover" or message.incident_event == "resolved":
        return "resolve"
    return "trigger"


def dedup_key(message: AlertMessage) -> str:
    """The incident's key; an SLA miss is keyed by its DAG run, a message without an
    incident by its dataset and severity (one failure episode at a time)."""
    if message.incident_key:
        key = message.incident_key
    elif message.event == "sla_miss":
        run = message.run
        key = f"opsguard/sla/{run.get('dag_id')}/{run.get('dag_run_id')}/{message.dataset}"
    else:
        key = f"opsguard/{message.dataset}/{message.severity or 'fail'}"
    return key[:DEDUP_LIMIT]


def pagerduty_event(message: AlertMessage, target: Any, routing_key: str) -> dict[str, Any]:
    """The Events API v2 body of ``message`` for ``target`` (a
    :class:`~airflow_opsguard.contract.alerts.PagerDutyTarget`)."""
    action = event_action(message)
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key(message),
    }
    if action == "resolve":
        return event  # PagerDuty resolves by the key; a payload would be ignored
    summary = message.title
    event["payload"] = {
        "summary": summary if len(summary) <= SUMMARY_LIMIT else summary[: SUMMARY_LIMIT - 1] + "…",
        "source": target.source,
        "severity": target.severity or _severity(message),
        "component": message.dataset,
        "class": "sla miss" if message.event == "sla_miss" else "data quality",
        "custom_details": _details(message),
    }
    if message.run.get("dag_id"):
        event["payload"]["group"] = str(message.run["dag_id"])
    if message.checked_at:
        event["payload"]["timestamp"] = message.checked_at
    links = [
        {"href": url, "text": text}
        for url, text in ((message.report_url, "Report"), (message.runbook, "Runbook"))
        if url and url.lower().startswith(("http://", "https://"))
    ]
    if links:
        event["links"] = links
    event["client"] = "airflow-opsguard"
    if message.report_url:
        event["client_url"] = message.report_url
    return event


def send_pagerduty(target: Any, message: AlertMessage, *, timeout: float) -> None:
    """Post the event of ``message`` to ``target``'s Events API."""
    event = pagerduty_event(message, target, _routing_key(target))
    post_json(f"{target.events_url}/v2/enqueue", event, timeout=timeout)


def _routing_key(target: Any) -> str:
    if target.routing_key_env:
        key = os.environ.get(target.routing_key_env, "").strip()
        if not key:
            raise DeliveryError(
                f"environment variable {target.routing_key_env} (the PagerDuty routing key) "
                "is not set",
                retryable=False,
            )
        return key
    hook_class = provider_class(EVENTS_HOOK)
    try:
        key = hook_class(pagerduty_events_conn_id=target.conn_id).integration_key
    except Exception as exc:  # the provider's errors: a missing connection, no key in it
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DeliveryError(
            f"PagerDuty connection {target.conn_id}: {first}", retryable=False
        ) from None
    return str(key)


def _severity(message: AlertMessage) -> str:
    if message.event == "escalate" or message.incident_event == "escalated":
        return "critical"
    if message.event == "warn" or message.severity == "warn":
        return "warning"
    return "error"


def _details(message: AlertMessage) -> dict[str, Any]:
    details: dict[str, Any] = {"dataset": message.dataset}
    if message.status:
        details["verdict"] = message.status
    if message.rows is not None:
        details["rows"] = message.rows
    # The cause, when it explains other failing checks (a missing column, stale data).
    if message.cause is not None and any(c.get("consequence_of") for c in message.checks):
        details["cause"] = _check_line(message.cause)
    details["checks"] = [_check_line(c) for c in message.checks[:CHECKS_LISTED]]
    if len(message.checks) > CHECKS_LISTED:
        details["more checks"] = len(message.checks) - CHECKS_LISTED
    for key, value in (
        ("incident", message.incident_id),
        ("incident event", message.incident_event),
        ("failing runs", message.failing_runs),
        ("opened at", message.opened_at),
        ("owner", message.owner),
        ("contract", message.contract_fingerprint),
    ):
        if value is not None:
            details[key] = value
    if message.run:
        details["run"] = dict(message.run)
    return details


def _check_line(check: Mapping[str, Any]) -> str:
    line = f"{str(check.get('status')).upper()} {check.get('name')}"
    if check.get("observed") is not None or check.get("expected") is not None:
        line += f": observed {check.get('observed')}, expected {check.get('expected')}"
    if check.get("consequence_of"):
        line += f" (because of {check['consequence_of']})"
    return line


__all__ = ["dedup_key", "event_action", "pagerduty_event", "send_pagerduty"]
