"""Slack: the alert in Block Kit, sent by the Slack provider's notifiers.

A route ``slack: {conn_id, channel}`` posts through the Web API (``chat.postMessage``,
``SlackNotifier``); ``slack: {conn_id}`` without a channel through an incoming webhook
(``SlackWebhookNotifier``). The message: a header (the title), the facts (dataset,
verdict, incident, where, owner), the cause, the failing checks as fields, the checks
that pass again, and buttons to the report and the runbook.

Escaping: every ``mrkdwn`` text has ``&``, ``<`` and ``>`` escaped (Slack reads
``<...>`` as a link or a mention, ``<!channel>`` included), ``plain_text`` is shown as
it is. The notifier is called through ``notify()``, not as a callback, so Airflow's Jinja
never renders the text: a value such as ``{{ var.value.secret }}`` in the data stays
text. Block Kit's limits (150 characters in a header, 10 fields of 2000 in a section,
50 blocks, 75 characters in a button) are kept by cutting, never by an error.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_opsguard.alerts.messages import AlertMessage
from airflow_opsguard.alerts.providers import provider_class
from airflow_opsguard.alerts.webhook import RETRYABLE_STATUS, DeliveryError
from airflow_opsguard.contract.alerts import mask_webhook

SLACK_API_NOTIFIER = "airflow.providers.slack.notifications.slack:SlackNotifier"
SLACK_WEBHOOK_NOTIFIER = "airflow.providers.slack.notifications.slack_webhook:SlackWebhookNotifier"
HEADER_LIMIT = 150
FIELD_LIMIT = 2000
SECTION_LIMIT = 3000
FIELDS_PER_SECTION = 10
CHECKS_SHOWN = 20  # two sections of fields; the rest is counted and in the report
_URL = re.compile(r"https?://[^\s'\")]+")
_STATUS_WORDS = {"fail": "FAIL", "error": "ERROR", "warn": "WARN", "pass": "PASS"}


def escape_mrkdwn(text: object) -> str:
    """``text`` fit for a Slack ``mrkdwn`` field: ``&``, ``<`` and ``>`` as entities."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(message: AlertMessage) -> str:
    """The message's notification text (shown where blocks are not: push, search)."""
    return escape_mrkdwn(_cut(message.title, SECTION_LIMIT))


def slack_blocks(message: AlertMessage) -> list[dict[str, Any]]:
    """The message in Block Kit: header, facts, cause, failing checks, recovered checks,
    a context line and the buttons."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(message.title or message.dataset, HEADER_LIMIT),
            },
        },
        _section(fields=[_field(label, value) for label, value in _facts(message)]),
    ]
    cause = message.cause
    # The cause, when it explains other failing checks (a missing column, stale data).
    if cause is not None and any(c.get("consequence_of") for c in message.checks):
        blocks.append(_section(text=f"*Cause:* {_check_text(cause)}"))
    shown = list(message.checks[:CHECKS_SHOWN])
    for start in range(0, len(shown), FIELDS_PER_SECTION):
        chunk = shown[start : start + FIELDS_PER_SECTION]
        blocks.append(_section(fields=[_check_field(check) for check in chunk]))
    hidden = len(message.checks) - len(shown)
    if hidden > 0:
        blocks.append(_context(f"and {hidden} more failing check{'s' if hidden != 1 else ''}"))
    if message.recovered:
        names = ", ".join(str(c.get("name")) for c in message.recovered)
        blocks.append(_section(text=f"*Passing again:* {escape_mrkdwn(names)}"))
    if message.note:
        blocks.append(_section(text=f"*Note:* {escape_mrkdwn(message.note)}"))
    footer = [
        f"contract {message.contract_fingerprint}" if message.contract_fingerprint else None,
        f"incident {message.incident_key}" if message.incident_key else None,
        f"checked {message.checked_at}" if message.checked_at else None,
    ]
    if any(footer):
        blocks.append(_context(" · ".join(part for part in footer if part)))
    buttons = [
        _button("Report", message.report_url, "opsguard_report", primary=True),
        _button("Runbook", message.runbook, "opsguard_runbook"),
    ]
    if any(buttons):
        blocks.append({"type": "actions", "elements": [b for b in buttons if b]})
    return blocks


def send_slack(
    target: Any, message: AlertMessage, context: Mapping[str, Any], *, timeout: float
) -> None:
    """Send ``message`` through the Slack provider's notifier for ``target`` (a
    :class:`~airflow_opsguard.contract.alerts.SlackTarget`)."""
    common = {
        "text": slack_text(message),
        "blocks": slack_blocks(message),
        "timeout": max(1, math.ceil(timeout)),
        "unfurl_links": False,
        "unfurl_media": False,
    }
    if target.channel:
        notifier = provider_class(SLACK_API_NOTIFIER)(
            slack_conn_id=target.conn_id, channel=target.channel, **common
        )
    else:
        notifier = provider_class(SLACK_WEBHOOK_NOTIFIER)(
            slack_webhook_conn_id=target.conn_id, **common
        )
    try:
        notifier.notify(dict(context))  # not notifier(context): that would render Jinja
    except Exception as exc:  # the provider's and slack_sdk's errors, made one line
        reason, retryable = slack_failure(exc)
        raise DeliveryError(reason, retryable=retryable) from None


def slack_failure(exc: BaseException) -> tuple[str, bool]:
    """Why Slack did not take a message, in one line without a webhook's secret path,
    and whether another attempt may help (rate limits and server errors)."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    error = None
    if response is not None:
        with contextlib.suppress(Exception):
            error = response.get("error")
    if status is None:  # the webhook hook's error: "Response body: b'...', Status Code: 400"
        found = re.search(r"Status Code: (\d+)", str(exc))
        status = int(found.group(1)) if found else None
    if error:
        reason = f"Slack answered {error}" + (f" (HTTP {status})" if status else "")
    else:
        lines = str(exc).strip().splitlines()
        reason = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    reason = _URL.sub(lambda m: mask_webhook(m.group()), reason)
    retryable = status is None or status in RETRYABLE_STATUS or error == "ratelimited"
    return reason, retryable


def _facts(message: AlertMessage) -> list[tuple[str, str]]:
    return message.facts()[:FIELDS_PER_SECTION]


def _field(label: str, value: object) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _cut(f"*{label}*\n{escape_mrkdwn(value)}", FIELD_LIMIT)}


def _check_text(check: Mapping[str, Any]) -> str:
    status = _STATUS_WORDS.get(str(check.get("status")), str(check.get("status")).upper())
    lines = [f"*{status} {escape_mrkdwn(check.get('name'))}*"]
    observed, expected = check.get("observed"), check.get("expected")
    if observed is not None or expected is not None:
        lines.append(
            f"observed {escape_mrkdwn(_show(observed))}, expected {escape_mrkdwn(_show(expected))}"
        )
    if check.get("consequence_of"):
        lines.append(f"_because of {escape_mrkdwn(check['consequence_of'])}_")
    elif check.get("message"):
        lines.append(escape_mrkdwn(check["message"]))
    return "\n".join(lines)


def _check_field(check: Mapping[str, Any]) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _cut(_check_text(check), FIELD_LIMIT)}


def _section(*, text: str | None = None, fields: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section"}
    if text is not None:
        block["text"] = {"type": "mrkdwn", "text": _cut(text, SECTION_LIMIT)}
    if fields:
        block["fields"] = list(fields)
    return block


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": escape_mrkdwn(text)}]}


def _button(
    label: str, url: str | None, action_id: str, *, primary: bool = False
) -> dict[str, Any] | None:
    # Slack refuses a button whose url is not http(s) or longer than 3000 characters.
    if not url or not url.lower().startswith(("http://", "https://")) or len(url) > 3000:
        return None
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "url": url,
        "action_id": action_id,
    }
    if primary:
        button["style"] = "primary"
    return button


def _show(value: Any) -> str:
    return "-" if value is None else str(value)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    # Never half an entity: "&am…" would be a bare "&" to Slack.
    return re.sub(r"&[a-z]*$", "", text[: limit - 1]) + "…"


__all__ = ["escape_mrkdwn", "send_slack", "slack_blocks", "slack_failure", "slack_text"]
