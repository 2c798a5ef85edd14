"""Alerting from a gate task: the report link and the retries, as Airflow says them.
Airflow is imported inside the functions (this runs inside a task)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_opsguard.alerts.messages import LinkSettings


def links_in_airflow() -> LinkSettings:
    """``[opsguard] report_url`` and ``[opsguard] base_url`` (else ``[api] base_url``),
    or the environment's."""
    from airflow_opsguard.runtime import config_value

    found = LinkSettings.from_environment()
    report = config_value("report_url") or found.report_url
    base = config_value("base_url") or found.base_url or _api_base_url()
    return LinkSettings(report_url=report, base_url=base)


def retries_left(task: Any, context: Mapping[str, Any]) -> bool:
    """Whether Airflow will try this task again after this attempt fails."""
    ti = context.get("ti")
    try_number = getattr(ti, "try_number", None)
    retries = getattr(task, "retries", 0) or 0
    return try_number is not None and int(try_number) <= int(retries)


def _api_base_url() -> str | None:
    try:
        from airflow.sdk.configuration import conf

        value = conf.get("api", "base_url", fallback=None)
    except Exception:  # an older or partial configuration: no link
        return None
    return str(value) if value else None
