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
      - {on: [fail, escalate, recover], slack: {conn_id: slack_api, channel: "#data-alerts"}}
      - {on: [fail, escalate, recover], pagerduty: {routing_key_env: ORDERS_PD_KEY}}
      - {on: [fail], teams: {url: "${ORDERS_TEAMS_WORKFLOW}"}}
    escalation: {after_failures: 3, after_open: 4h}
    resolution: {after_passes: 2}   # resolve after 2 passing runs in a row (default 1)
    mode: shadow            # the whole contract: measured, stored, shown; never blocks or pages

Routes are declarations: nothing here imports a notifier or reaches a network. They are
left out of the contract's fingerprint (they say who is told, not what the data must be).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from airflow_opsguard.contract.base import Duration, StrictModel
from airflow_opsguard.contract.text import short_repr

# What a route may be told of. ``fail`` covers checks that failed and checks (or a whole
# gate) that could not be measured: a gate never passes silently. ``change``: an open
# incident's set of failing checks changed (off unless a route asks for it).
AlertEvent = Literal["fail", "warn", "recover", "escalate", "sla_miss", "change"]
ALERT_EVENTS: tuple[str, ...] = get_args(AlertEvent)
# Where a route sends: exactly one of these keys.
RouteKind = Literal["webhook", "log", "notifier", "slack", "pagerduty", "teams"]
ROUTE_KINDS: tuple[RouteKind, ...] = get_args(RouteKind)

_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*([:.][A-Za-z_][\w]*(\.[A-Za-z_]\w*)*)?$")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _yaml_on_key(value: Any) -> Any:
    """YAML 1.1 reads a bare ``on:`` key as the boolean True (as GitHub Actions users
    know); take it back as the key ``on``."""
    if isinstance(value, dict) and True in value:
        fixed = {("on" if key is True else key): item for key, item in value.items()}
        return fixed
    return value


def _http_url(value: str, what: str) -> str:
    text = value.strip()
    if not re.match(r"^(https?://|\$\{)", text, re.IGNORECASE):
        raise ValueError(f"{what} is an http:// or https:// URL (or ${{ENV_VAR}})")
    return text


class SlackTarget(StrictModel):
    """A Slack message in Block Kit, sent by the Slack provider's notifiers: with
    ``channel``, through the Web API (``chat.postMessage``, a connection of type
    ``slack`` holding a bot token); without, through an incoming webhook (a connection
    of type ``slackwebhook``)."""

    conn_id: str = Field(min_length=1, description="The Airflow connection to Slack.")
    channel: str | None = Field(
        None,
        min_length=1,
        description="The channel (#name or id) for a Web API connection; none for a webhook.",
    )


PagerDutySeverity = Literal["critical", "error", "warning", "info"]


class PagerDutyTarget(StrictModel):
    """A PagerDuty Events API v2 event: ``trigger`` when an incident opens or
    escalates, ``resolve`` when it resolves, with the incident's key as ``dedup_key``
    so that PagerDuty groups and resolves it. The routing (integration) key comes from
    an Airflow connection (type ``pagerduty_events``, the PagerDuty provider's) or from
    an environment variable: exactly one of ``conn_id`` and ``routing_key_env``."""

    conn_id: str | None = Field(
        None, min_length=1, description="A pagerduty_events connection holding the key."
    )
    routing_key_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The environment variable that holds the routing key.",
    )
    severity: PagerDutySeverity | None = Field(
        None,
        description="The event's severity; default: error for a failure, critical once "
        "escalated, warning for a warning.",
    )
    source: str = Field("airflow-opsguard", min_length=1, description="The event's source.")
    events_url: str = Field(
        "https://events.pagerduty.com",
        description="The Events API (https://events.eu.pagerduty.com in the EU region).",
    )

    @field_validator("events_url")
    @classmethod
    def _events_url(cls, value: str) -> str:
        return _http_url(value, "events_url").rstrip("/")

    @model_validator(mode="after")
    def _one_key(self) -> PagerDutyTarget:
        if (self.conn_id is None) == (self.routing_key_env is None):
            raise ValueError("give exactly one of conn_id and routing_key_env")
        return self


class TeamsTarget(StrictModel):
    """A Microsoft Teams message as an Adaptive Card, posted to a Teams workflow
    webhook ("When a Teams webhook request is received"), which takes Adaptive Cards
    only. ``${NAME}`` in the URL is read from the environment when sending."""

    url: str = Field(description="The workflow's webhook URL.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value, "a Teams workflow url")

    def __repr_args__(self) -> Any:
        yield "url", mask_webhook(self.url)


def _events(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return value


class AlertRoute(StrictModel):
    """Where the alerts of some events go: exactly one of ``webhook``, ``log``,
    ``notifier``, ``slack``, ``pagerduty`` or ``teams``.

    ``webhook``: a URL that receives the alert as JSON (POST), with a ``text`` field, so a
    Slack incoming webhook takes it as it is. ``${NAME}`` in the URL or in a
    header is read from the environment when the alert is sent, so a secret need not be
    in the contract; URLs are shown masked everywhere.
    ``notifier``: an importable Airflow notifier class or callable, ``module.Class`` or
    ``module:callable``, made with ``args``.
    ``slack``, ``pagerduty``, ``teams``: the alert laid out for that service (Block Kit,
    an Events API v2 event, an Adaptive Card); see :class:`SlackTarget`,
    :class:`PagerDutyTarget`, :class:`TeamsTarget`.
    """

    on: tuple[AlertEvent, ...] = Field(
        min_length=1,
        description="The events routed here: fail, warn, recover, escalate, sla_miss, change.",
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
    slack: SlackTarget | None = Field(None, description="A Slack message in Block Kit.")
    pagerduty: PagerDutyTarget | None = Field(None, description="A PagerDuty Events v2 event.")
    teams: TeamsTarget | None = Field(None, description="A Teams Adaptive Card.")
    name: str | None = Field(None, description="A name for the route in logs and the store.")
    send_resolved: bool = Field(
        True,
        description="Also send the recovery notice of incidents this route was told of "
        "(as Alertmanager's send_resolved).",
    )
    timeout: float = Field(
        10.0, gt=0, le=300, description="Seconds to wait for a webhook, Slack, PagerDuty or Teams."
    )
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
        return None if value is None else _http_url(value, "a webhook")

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
        targets = [k for k in ROUTE_KINDS if getattr(self, k) not in (None, False)]
        if len(targets) != 1:
            found = " and ".join(targets) if targets else "none"
            raise ValueError(
                "give exactly one of webhook, log: true, notifier, slack, pagerduty or teams "
                f"(got {found})"
            )
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
    def kind(self) -> RouteKind:
        for kind in ROUTE_KINDS:
            if kind != "log" and getattr(self, kind) is not None:
                return kind
        return "log"

    def describe(self) -> str:
        """The route as it may be shown in logs and the store (URLs masked)."""
        if self.webhook is not None:
            return f"webhook {mask_webhook(self.webhook)}"
        if self.notifier is not None:
            return f"notifier {self.notifier}"
        if self.slack is not None:
            where = f" {self.slack.channel}" if self.slack.channel else ""
            return f"slack {self.slack.conn_id}{where}"
        if self.pagerduty is not None:
            key = self.pagerduty.conn_id or f"${{{self.pagerduty.routing_key_env}}}"
            return f"pagerduty {key}"
        if self.teams is not None:
            return f"teams {mask_webhook(self.teams.url)}"
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
    """When an open incident escalates (once): after this many failing runs, or after it
    has been open this long (checked when the gate runs), whichever comes first. An
    acknowledged incident does not escalate, nor does one that is recovering."""

    after_failures: int | None = Field(
        3,
        ge=1,
        le=1000,
        description="Failing runs of the incident (the first included; one that re-joins it "
        "while recovering counts too); null: never.",
    )
    after_open: OpenDuration | None = Field(
        None, description="How long the incident may stay open (e.g. 4h); null: never."
    )


class Resolution(StrictModel):
    """When an incident resolves, and when it is marked as flapping.

    ``after_passes``: passing runs in a row that resolve it. While fewer have passed the
    incident is *recovering*: still open, silent, and a failure that comes back within
    that hold re-joins it instead of opening a new incident (and paging again). The
    default, 1, resolves on the first passing run, as Alertmanager and Prometheus do
    unless told to hold (``keep_firing_for``): every hold delays every real resolution
    by that many runs. ``flapping_after`` / ``flapping_within``: an incident whose
    failure started this many times within that window (openings of the dataset's
    incidents at its severity, and returns inside the hold) is marked ``flapping`` in
    its messages and in the incidents' JSON, and needs ``flapping_after_passes``
    passing runs in a row to resolve: only a check that flaps waits longer, so it stops
    paging once per flap while real resolutions stay as prompt as ``after_passes``.
    """

    after_passes: int = Field(
        1, ge=1, le=100, description="Passing runs in a row that resolve an incident."
    )
    flapping_after: int | None = Field(
        3,
        ge=2,
        le=1000,
        description="Failure starts within flapping_within that mark it flapping; null: never.",
    )
    flapping_within: OpenDuration = Field(
        timedelta(days=7), description="The window flapping is counted in (e.g. 7d)."
    )
    flapping_after_passes: int | None = Field(
        2,
        ge=1,
        le=100,
        description="Passing runs in a row that resolve a flapping incident (at least "
        "after_passes); null: as any other.",
    )

    def passes_to_resolve(self, flapping: bool) -> int:
        """Passing runs in a row that resolve an incident (flapping or not)."""
        if flapping and self.flapping_after_passes is not None:
            return max(self.after_passes, self.flapping_after_passes)
        return self.after_passes
