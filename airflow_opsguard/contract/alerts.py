"""The contract's alerting keys: routes (who hears of what), escalation, and modes.

::

    owner: data-platform@example.com
    runbook: https://wiki.example.com/runbooks/orders
    alerts:
      - {on: [fail, escalate], webhook: "https://hooks.example.com/services/${ORDERS_HOOK}"}
      - {on: [warn], log: true}
      - on: [fail]
        notifier: airflow.providers.smtp.notifications.smtp.SmtpNotifier
        args: {to: oncall@example.com, smtp_conn_id: smtp_default}
    escalation: {after_failures: 3, after_open: 4h}
    mode: shadow            # the whole contract: measured, stored, shown; never blocks or pages

Routes are declarations: nothing here imports a notifier or reaches a network. They are
left out of the contract's fingerprint (they say who is told, not what the data must be).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from airflow_opsguard.contract.base import Duration, StrictModel
from airflow_opsguard.contract.text import short_repr

# What a route may be told of. ``fail`` covers checks that failed and checks (or a whole
# gate) that could not be measured: a gate never passes silently.
AlertEvent = Literal["fail", "warn", "recover", "escalate", "sla_miss"]
ALERT_EVENTS: tuple[str, ...] = get_args(AlertEvent)

_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*([:.][A-Za-z_][\w]*(\.[A-Za-z_]\w*)*)?$")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _yaml_on_key(value: Any) -> Any:
    """YAML 1.1 reads a bare ``on:`` key as the boolean True (as GitHub Actions users
    know); take it back as the key ``on``."""
    if isinstance(value, dict) and True in value:
        fixed = {("on" if key is True else key): item for key, item in value.items()}
        return fixed
    return value


def _events(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return value


class AlertRoute(StrictModel):
    """Where the alerts of some events go: exactly one of ``webhook``, ``log`` or
    ``notifier``.

    ``webhook``: a URL that receives the alert as JSON (POST), with a ``text`` field, so a
    Slack or Teams incoming webhook takes it as it is. ``${NAME}`` in the URL or in a
    header is read from the environment when the alert is sent, so a secret need not be
    in the contract; URLs are shown masked everywhere.
    ``notifier``: an importable Airflow notifier class or callable, ``module.Class`` or
    ``module:callable``, made with ``args``.
    """

    on: tuple[AlertEvent, ...] = Field(
        min_length=1,
        description="The events routed here: fail, warn, recover, escalate, sla_miss.",
    )
    webhook: str | None = Field(None, description="A URL that receives the alert as JSON.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="HTTP headers of webhook posts (${ENV} allowed)."
    )
    log: bool | None = Field(None, description="true: write the alert to the log.")
    notifier: str | None = Field(
        None,
        description="An Airflow notifier class or a callable: module.Class or module:callable.",
    )
    args: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the notifier."
    )
    name: str | None = Field(None, description="A name for the route in logs and the store.")
    send_resolved: bool = Field(
        True,
        description="Also send the recovery notice of incidents this route was told of "
        "(as Alertmanager's send_resolved).",
    )
    timeout: float = Field(10.0, gt=0, le=300, description="Seconds to wait for a webhook.")
    retries: int = Field(2, ge=0, le=10, description="Retries of a delivery that failed.")
    backoff: float = Field(
        1.0, ge=0, le=300, description="Seconds before the first retry; doubled each time."
    )

    _on_key = model_validator(mode="before")(_yaml_on_key)
    _single_event = field_validator("on", mode="before")(_events)

    @field_validator("on")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))

    @field_validator("webhook")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if not re.match(r"^(https?://|\$\{)", text, re.IGNORECASE):
            raise ValueError("a webhook is an http:// or https:// URL (or ${ENV_VAR})")
        return text

    @field_validator("notifier")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not _DOTTED.match(value.strip()):
            raise ValueError(
                f"{short_repr(value)} is not an importable name; write module.Class or "
                "module:callable"
            )
        return None if value is None else value.strip()

    @model_validator(mode="after")
    def _one_target(self) -> AlertRoute:
        targets = [
            k for k in ("webhook", "log", "notifier") if getattr(self, k) not in (None, False)
        ]
        if len(targets) != 1:
            found = " and ".join(targets) if targets else "none"
            raise ValueError(f"give exactly one of webhook, log: true or notifier (got {found})")
        if self.args and self.notifier is None:
            raise ValueError("'args' go with 'notifier'")
        if self.headers and self.webhook is None:
            raise ValueError("'headers' go with 'webhook'")
        return self

    def __repr_args__(self) -> Any:
        # A webhook URL or a header may hold a token: never in a repr, a log or an error.
        from airflow_opsguard.urls import MASK

        for key, value in super().__repr_args__():
            if key == "webhook" and value is not None:
                yield key, mask_webhook(value)
            elif key == "headers" and value:
                yield key, dict.fromkeys(value, MASK)
            else:
                yield key, value

    @property
    def kind(self) -> Literal["webhook", "log", "notifier"]:
        if self.webhook is not None:
            return "webhook"
        if self.notifier is not None:
            return "notifier"
        return "log"


def mask_webhook(url: str) -> str:
    """A webhook URL fit to show: scheme and host only, as its path often is the secret
    (Slack's ``/services/T.../B.../XXXX``); credentials and query are dropped too."""
    from urllib.parse import urlsplit

    from airflow_opsguard.urls import MASK

    if url.startswith("${"):
        return url  # a placeholder names a variable; its value is never shown
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return MASK
    hidden = parts.path not in ("", "/") or parts.query or parts.username
    return f"{parts.scheme}://{host}{port}" + (f"/{MASK}" if hidden else "")


def expand_env(text: str, environ: dict[str, str] | None = None) -> str:
    """``text`` with ``${NAME}`` replaced from the environment; KeyError names a missing one."""
    import os

    source = os.environ if environ is None else environ

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in source:
            raise KeyError(name)
        return source[name]

    return _PLACEHOLDER.sub(value, text)


# A duration whose examples suit how long an incident stays open.
OpenDuration = Annotated[Duration, Field(json_schema_extra={"examples": ["30m", "4h", "1d"]})]


class Escalation(StrictModel):
    """When an open incident escalates (once): after this many failing runs in a row, or
    after it has been open this long (checked when the gate runs), whichever comes first.
    An acknowledged incident does not escalate."""

    after_failures: int | None = Field(
        3, ge=1, le=1000, description="Failing runs in a row (the first included); null: never."
    )
    after_open: OpenDuration | None = Field(
        None, description="How long the incident may stay open (e.g. 4h); null: never."
    )
