"""Delivery: hand one alert to one route, retrying with backoff; never raise.

Routes deliver through the built-in JSON webhook, the log, an Airflow notifier
(``BaseNotifier``: called with a context, as Airflow calls it), a plain callable, or a
service's own layout: Slack Block Kit (:mod:`.slack`), a PagerDuty event
(:mod:`.pagerduty`), a Teams Adaptive Card (:mod:`.teams`). Airflow is never imported
here by name: a notifier is recognised by what it does, and a provider's class is
imported by its path when a route uses it (a missing provider is one line naming the
extra to install).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import importlib
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from airflow_opsguard.alerts.messages import AlertMessage
from airflow_opsguard.alerts.routes import Route
from airflow_opsguard.alerts.webhook import DeliveryError, post_json
from airflow_opsguard.contract.alerts import AlertRoute, expand_env
from airflow_opsguard.urls import mask_url

log = logging.getLogger("airflow_opsguard.alerts")

Sleep = Callable[[float], None]
# Notifier arguments filled in with the message when a notifier takes them and the
# route does not give them (templates, rendered by the notifier against its context).
DEFAULT_NOTIFIER_ARGS = {
    "subject": "{{ opsguard.title }}",
    "html_content": "{{ opsguard.html }}",
    "text": "{{ opsguard.text }}",
    "message": "{{ opsguard.text }}",
}
_LOUD_EVENTS = frozenset({"fail", "escalate", "sla_miss"})


@dataclass(frozen=True)
class Attempt:
    """What delivering one alert to one route came to."""

    route: str
    event: str
    ok: bool
    attempts: int
    error: str | None = None


class Deliverer:
    """Sends alerts. ``context`` is what notifiers are called with (inside Airflow, the
    task's context); the message is added under ``opsguard``. ``sleep`` waits between
    attempts (tests pass one that does not wait)."""

    def __init__(
        self,
        *,
        context: Mapping[str, Any] | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.context = dict(context or {})
        self.sleep = sleep

    def deliver(self, route: Route, payload: Mapping[str, Any]) -> Attempt:
        """Send ``payload`` (an :meth:`AlertMessage.to_dict`) to ``route``: up to
        ``1 + route.retries`` attempts, ``route.backoff`` seconds apart, doubling."""
        event = str(payload.get("event", "?"))
        delay = route.backoff
        error: str | None = None
        attempts = 0
        for attempt in range(route.retries + 1):
            attempts += 1
            try:
                self._once(route, payload)
            except Exception as exc:  # any notifier's failure: retried, then kept for later
                error = _reason(exc, route)
                if not getattr(exc, "retryable", True) or attempt == route.retries:
                    break
                if delay > 0:
                    self.sleep(delay)
                delay *= 2
            else:
                log.info("alert %s of %r sent to %s", event, payload.get("dataset"), route.label)
                return Attempt(route.label, event, True, attempts)
        log.warning(
            "alert %s of %r could not be sent to %s (%d attempt%s): %s",
            event,
            payload.get("dataset"),
            route.label,
            attempts,
            "s" if attempts != 1 else "",
            error,
        )
        return Attempt(route.label, event, False, attempts, error)

    def _once(self, route: Route, payload: Mapping[str, Any]) -> None:
        spec = route.spec
        if spec is None:
            call_object(route.target, self._context(payload))
        elif spec.kind == "webhook":
            _post(spec, payload)
        elif spec.kind == "log":
            level = logging.WARNING if payload.get("event") in _LOUD_EVENTS else logging.INFO
            log.log(level, "%s", payload.get("text") or payload.get("title"))
        elif spec.slack is not None:
            from airflow_opsguard.alerts.slack import send_slack

            message = AlertMessage.from_dict(payload)
            send_slack(spec.slack, message, self._context(payload), timeout=spec.timeout)
        elif spec.pagerduty is not None:
            from airflow_opsguard.alerts.pagerduty import send_pagerduty

            send_pagerduty(spec.pagerduty, AlertMessage.from_dict(payload), timeout=spec.timeout)
        elif spec.teams is not None:
            from airflow_opsguard.alerts.teams import send_teams

            send_teams(spec.teams, AlertMessage.from_dict(payload), timeout=spec.timeout)
        else:
            assert spec.notifier is not None
            call_path(spec.notifier, spec.args, self._context(payload))

    def _context(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        message = AlertMessage.from_dict(payload).context()
        return {**self.context, "opsguard": message}


def _post(spec: AlertRoute, payload: Mapping[str, Any]) -> None:
    assert spec.webhook is not None
    try:
        url = expand_env(spec.webhook).strip()
        headers = {name: expand_env(value) for name, value in spec.headers.items()}
    except KeyError as missing:
        raise DeliveryError(
            f"environment variable {missing.args[0]} (in the webhook route) is not set",
            retryable=False,
        ) from None
    # The URL as sent is checked (http and https only) by post_json, after expansion:
    # ${HOOK} may hold anything; the route's timeout bounds the whole exchange.
    post_json(url, payload, headers=headers, timeout=spec.timeout)


def import_object(path: str) -> Any:
    """``module.Class`` or ``module:callable`` (dotted attributes allowed after ``:``)."""
    module_name, _, attribute = path.partition(":") if ":" in path else path.rpartition(".")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise DeliveryError(f"cannot import notifier {path}: {exc}", retryable=False) from None
    return found


def call_path(path: str, args: Mapping[str, Any], context: dict[str, Any]) -> None:
    """Make and call the notifier named by ``path``: a class is made with ``args`` (and
    the message as its subject, text or content when it takes them and ``args`` does
    not say) and called with the context; a function is called as ``f(context, **args)``."""
    target = import_object(path)
    if isinstance(target, type):
        call_object(target(**with_defaults(target, args)), context)
    elif callable(target):
        target(context, **args)
    else:
        raise DeliveryError(f"notifier {path} is not callable", retryable=False)


def with_defaults(kind: type, args: Mapping[str, Any]) -> dict[str, Any]:
    try:
        parameters = inspect.signature(kind).parameters
    except (TypeError, ValueError):
        return dict(args)
    filled = {k: v for k, v in DEFAULT_NOTIFIER_ARGS.items() if k in parameters and k not in args}
    return {**filled, **args}


def call_object(target: Any, context: dict[str, Any]) -> None:
    """Call a notifier or a callable with ``context``. An Airflow notifier renders its
    templates into itself when called, so each call gets a fresh copy."""
    if not callable(target):
        raise DeliveryError(f"{type(target).__name__} is not callable", retryable=False)
    if hasattr(target, "render_template_fields") and hasattr(target, "notify"):
        with contextlib.suppress(Exception):  # one that cannot be copied is called as it is
            target = copy.copy(target)
    try:
        target(context)
    except NotImplementedError:
        # A notifier made for the triggerer only: its templates are rendered by now.
        async_notify = getattr(target, "async_notify", None)
        if async_notify is None:
            raise
        asyncio.run(async_notify(context))


def _reason(exc: BaseException, route: Route) -> str:
    text = str(exc).strip().splitlines()
    reason = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    if isinstance(exc, DeliveryError):
        reason = text[0] if text else "delivery failed"
    spec = route.spec
    if spec is not None and spec.webhook is not None:
        try:
            url = expand_env(spec.webhook)
        except KeyError:
            url = spec.webhook
        reason = reason.replace(url, route.label)
    return mask_url(reason)[:1000]
