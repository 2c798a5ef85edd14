"""Microsoft Teams: the alert as an Adaptive Card, posted to a Teams workflow webhook.

Teams' workflow webhooks ("When a Teams webhook request is received", which replaced
the Office 365 connectors) take a message whose attachment is an Adaptive Card, and
nothing else: a plain ``{"text": ...}`` body is refused. The card: the title, the facts
(dataset, verdict, incident, where, owner), the cause, each failing check with its
numbers, the checks that pass again, and buttons to the report and the runbook.

Escaping: Teams renders a subset of Markdown in ``TextBlock`` and ``FactSet`` texts, and
Adaptive Cards evaluate ``{{DATE(...)}}``/``{{TIME(...)}}`` in them. Text from the data
(check names, values, messages) has its Markdown characters escaped with a backslash
and ``{{`` broken by a zero-width space, so it shows as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from airflow_opsguard.alerts.messages import AlertMessage
from airflow_opsguard.alerts.webhook import DeliveryError, post_json
from airflow_opsguard.contract.alerts import expand_env

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"
CHECKS_SHOWN = 30
_INLINE = re.compile(r"([\\`*_\[\]~])")  # emphasis, code, links, strike, the escape itself
_LINE_START = re.compile(r"^([ \t]*)([-+#>]|\d+(?=\.))", re.MULTILINE)  # lists, headings
_AFTER_NEWLINE = re.compile(r"(?<=\n)([ \t]*)([-+#>]|\d+(?=\.))")
_COLORS = {"recover": "Good", "warn": "Warning"}


def escape_markdown(text: object, *, inline: bool = False) -> str:
    """``text`` shown as written in a Teams card: the Markdown that Teams renders
    (emphasis, code, links, lists, headings) escaped with a backslash, and ``{{`` (a
    card's date/time function) broken by a zero-width space. ``inline``: the text goes
    inside a line, so only its own new lines can start a list or a heading."""
    escaped = _INLINE.sub(r"\\\1", str(text))
    escaped = (_AFTER_NEWLINE if inline else _LINE_START).sub(_escape_line_start, escaped)
    return escaped.replace("{{", "{\u200b{")


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark = match.group(1), match.group(2)
    if mark[0].isdigit():  # "1." starts a numbered list: escape its dot
        return f"{indent}{mark}\\"
    return f"{indent}\\{mark}"


def adaptive_card(message: AlertMessage) -> dict[str, Any]:
    """The message as an Adaptive Card (the ``content`` of the attachment)."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": escape_markdown(message.title),
            "size": "Large",
            "weight": "Bolder",
            "wrap": True,
            "style": "heading",
            "color": _COLORS.get(message.event, "Attention"),
        },
        {
            "type": "FactSet",
            "facts": [
                {"title": label, "value": escape_markdown(value)}
                for label, value in _facts(message)
            ],
        },
    ]
    # The cause, when it explains other failing checks (a missing column, stale data).
    if message.cause is not None and any(c.get("consequence_of") for c in message.checks):
        body.append(_text(f"**Cause:** {_check_text(message.cause)}"))
    shown = message.checks[:CHECKS_SHOWN]
    if shown:
        body.append(
            {
                "type": "Container",
                "separator": True,
                "items": [_text(_check_text(check)) for check in shown],
            }
        )
    hidden = len(message.checks) - len(shown)
    if hidden > 0:
        body.append(_text(f"and {hidden} more failing checks", subtle=True))
    if message.recovered:
        names = ", ".join(escape_markdown(c.get("name"), inline=True) for c in message.recovered)
        body.append(_text(f"**Passing again:** {names}"))
    if message.note:
        body.append(_text(f"**Note:** {escape_markdown(message.note, inline=True)}"))
    card: dict[str, Any] = {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    actions = [
        {"type": "Action.OpenUrl", "title": title, "url": url}
        for title, url in (("Report", message.report_url), ("Runbook", message.runbook))
        if url and url.lower().startswith(("http://", "https://"))
    ]
    if actions:
        card["actions"] = actions
    return card


def teams_payload(message: AlertMessage) -> dict[str, Any]:
    """The body a Teams workflow webhook takes: a message with one Adaptive Card."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": CARD_CONTENT_TYPE,
                "contentUrl": None,
                "content": adaptive_card(message),
            }
        ],
    }


def send_teams(target: Any, message: AlertMessage, *, timeout: float) -> None:
    """Post the card of ``message`` to ``target``'s workflow URL (``${NAME}`` expanded)."""
    try:
        url = expand_env(target.url).strip()
    except KeyError as missing:
        raise DeliveryError(
            f"environment variable {missing.args[0]} (in the Teams route) is not set",
            retryable=False,
        ) from None
    post_json(url, teams_payload(message), timeout=timeout)


def _facts(message: AlertMessage) -> list[tuple[str, str]]:
    return message.facts()


def _check_text(check: Mapping[str, Any]) -> str:
    status = str(check.get("status")).upper()
    text = f"**{status} {escape_markdown(check.get('name'), inline=True)}**"
    observed, expected = check.get("observed"), check.get("expected")
    if observed is not None or expected is not None:
        text += (
            f": observed {escape_markdown(_show(observed), inline=True)}, "
            f"expected {escape_markdown(_show(expected), inline=True)}"
        )
    if check.get("consequence_of"):
        text += f" (because of {escape_markdown(check['consequence_of'], inline=True)})"
    elif check.get("message"):
        text += f"  \n{escape_markdown(check['message'])}"
    return text


def _text(text: str, *, subtle: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "TextBlock", "text": text, "wrap": True}
    if subtle:
        block["isSubtle"] = True
    return block


def _show(value: Any) -> str:
    return "-" if value is None else str(value)


__all__ = ["adaptive_card", "escape_markdown", "send_teams", "teams_payload"]
