"""Classes of optional Airflow providers (Slack, PagerDuty), imported by path when a
route uses them, so that a missing provider is one line naming the extra to install."""

from __future__ import annotations

import importlib
from typing import Any

from airflow_opsguard.alerts.webhook import DeliveryError


def provider_class(path: str) -> Any:
    """The class at ``path`` (``module:Class``) from an optional provider; a missing
    provider is a :class:`DeliveryError` (not retryable) that names the extra."""
    from airflow_opsguard.extras import missing_extra_message

    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        reason = missing_extra_message(exc) or f"cannot import {module_name}: {exc}"
        raise DeliveryError(reason, retryable=False) from None
    return getattr(module, attribute)
