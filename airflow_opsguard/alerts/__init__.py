"""Alerts and incidents: the right people, once, with the evidence.

::

    from airflow_opsguard.alerts import send_alerts
    report = send_alerts(result, contract, store=store)   # never raises

Routes come from the contract's ``alerts:`` (and an operator's ``alerts=[...]``);
incidents and the alert outbox live in the results store. See :mod:`.service` for the
steps, :mod:`.incidents` for the rules, :mod:`.messages` for what an alert says, and
:mod:`.sla` for freshness SLA misses and Airflow Deadline Alerts. Names resolve lazily:
importing this package imports neither Airflow nor the store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_opsguard.alerts.delivery import Deliverer
    from airflow_opsguard.alerts.messages import AlertMessage, LinkSettings
    from airflow_opsguard.alerts.routes import Route, routes_for, to_route
    from airflow_opsguard.alerts.service import AlertReport, send_alerts
    from airflow_opsguard.alerts.sla import send_sla_miss
    from airflow_opsguard.alerts.webhook import DeliveryError
    from airflow_opsguard.checks.incidents import Incident
    from airflow_opsguard.deadlines import SlaMissAlerter, deadline_alert, on_deadline_missed
    from airflow_opsguard.store.incidents import IncidentStore

_EXPORTS = {
    "AlertMessage": "airflow_opsguard.alerts.messages",
    "AlertReport": "airflow_opsguard.alerts.service",
    "Deliverer": "airflow_opsguard.alerts.delivery",
    "DeliveryError": "airflow_opsguard.alerts.webhook",
    "Incident": "airflow_opsguard.checks.incidents",
    "IncidentStore": "airflow_opsguard.store.incidents",
    "LinkSettings": "airflow_opsguard.alerts.messages",
    "Route": "airflow_opsguard.alerts.routes",
    # The Airflow glue of SLA misses lives in the Airflow layer; still importable here.
    "SlaMissAlerter": "airflow_opsguard.deadlines",
    "deadline_alert": "airflow_opsguard.deadlines",
    "on_deadline_missed": "airflow_opsguard.deadlines",
    "routes_for": "airflow_opsguard.alerts.routes",
    "send_alerts": "airflow_opsguard.alerts.service",
    "send_sla_miss": "airflow_opsguard.alerts.sla",
    "to_route": "airflow_opsguard.alerts.routes",
}

__all__ = [
    "AlertMessage",
    "AlertReport",
    "Deliverer",
    "DeliveryError",
    "Incident",
    "IncidentStore",
    "LinkSettings",
    "Route",
    "SlaMissAlerter",
    "deadline_alert",
    "on_deadline_missed",
    "routes_for",
    "send_alerts",
    "send_sla_miss",
    "to_route",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'airflow_opsguard.alerts' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
