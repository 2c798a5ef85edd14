"""Local stand-ins for Slack, PagerDuty and Teams that check what they are sent.

Each is an HTTP server on 127.0.0.1 that answers as the service does and refuses a body
that breaks the rules the service documents (Slack's Block Kit limits and escaping,
PagerDuty's Events API v2 fields, a Teams workflow's Adaptive Card attachment), with the
service's own kind of error. What arrived, and any rule it broke, is kept for the test.

- Slack: https://api.slack.com/reference/block-kit/blocks (header, section, context,
  actions limits), https://api.slack.com/reference/surfaces/formatting#escaping
- PagerDuty: https://developer.pagerduty.com/docs/send-alert-event (Events API v2)
- Teams: https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/
  how-to/connectors-using (workflow webhooks take Adaptive Cards only)
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, Any]
# In mrkdwn, & < > must be entities: a bare one, or an & that starts no entity.
_UNESCAPED = re.compile(r"[<>]|&(?!amp;|lt;|gt;)")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class StandIn:
    """What a stand-in received, and what it refused (``problems``)."""

    url: str
    received: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def bodies(self) -> list[Any]:
        return [r.body for r in self.received]


@contextmanager
def serve(check: Callable[[str, dict[str, str], Any], Answer]) -> Iterator[StandIn]:
    """A server whose answer to each POST is ``check(path, headers, body)``; a body
    that ``check`` refuses (status >= 400) is kept in ``problems``, not ``received``."""
    standin: StandIn

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = dict(self.headers)
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            status, answer = check(self.path, headers, body)
            if status < 400:
                standin.received.append(Received(self.path, headers, body))
            else:
                standin.problems.append(json.dumps(answer))
            data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    standin = StandIn(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()


# -- Slack -----------------------------------------------------------------------------


def block_kit_problems(body: Any) -> list[str]:
    """What Slack would refuse in a message body (text + blocks), or []."""
    problems: list[str] = []
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    text = body.get("text")
    if not isinstance(text, str) or not text:
        problems.append("text (the notification fallback) is missing")
    else:
        problems += _mrkdwn("text", text)
    blocks = body.get("blocks")
    if isinstance(blocks, str):  # the Web API takes blocks as a JSON-encoded string too
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return [*problems, "blocks: not JSON"]
    if not isinstance(blocks, list) or not 0 < len(blocks) <= 50:
        return [*problems, "blocks: 1 to 50 blocks"]
    action_ids: list[str] = []
    for i, block in enumerate(blocks):
        kind = block.get("type")
        where = f"blocks[{i}] ({kind})"
        if kind == "header":
            problems += _plain(where, block.get("text"), 150)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: a section needs text or fields")
            if "text" in block:
                problems += _text_object(where, block["text"], 3000)
            fields = block.get("fields", [])
            if not isinstance(fields, list) or len(fields) > 10:
                problems.append(f"{where}: at most 10 fields")
            for field_ in fields:
                problems += _text_object(f"{where} field", field_, 2000)
        elif kind == "context":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= 10:
                problems.append(f"{where}: 1 to 10 elements")
            for element in elements:
                problems += _text_object(f"{where} element", element, 3000)
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= 25:
                problems.append(f"{where}: 1 to 25 elements")
            for element in elements:
                if element.get("type") != "button":
                    problems.append(f"{where}: unexpected element {element.get('type')}")
                    continue
                problems += _plain(f"{where} button", element.get("text"), 75)
                url = element.get("url", "")
                if not re.match(r"^https?://", url) or len(url) > 3000:
                    problems.append(f"{where}: a button's url must be http(s), <= 3000")
                action_ids.append(element.get("action_id"))
                if element.get("style") not in (None, "primary", "danger"):
                    problems.append(f"{where}: style is primary or danger")
        else:
            problems.append(f"{where}: unexpected block type")
    if len(action_ids) != len(set(action_ids)) or None in action_ids:
        problems.append("action_id must be given and unique")
    return problems


def _plain(where: str, obj: Any, limit: int) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") != "plain_text":
        return [f"{where}: text must be plain_text"]
    text = obj.get("text")
    if not isinstance(text, str) or not 0 < len(text) <= limit:
        return [f"{where}: plain_text of 1 to {limit} characters"]
    return []


def _text_object(where: str, obj: Any, limit: int) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"{where}: a text object is plain_text or mrkdwn"]
    text = obj.get("text")
    if not isinstance(text, str) or not 0 < len(text) <= limit:
        return [f"{where}: text of 1 to {limit} characters"]
    return _mrkdwn(where, text) if obj["type"] == "mrkdwn" else []


def _mrkdwn(where: str, text: str) -> list[str]:
    bad = _UNESCAPED.search(text)
    return [f"{where}: unescaped {bad.group()!r} in mrkdwn: {text!r}"] if bad else []


def slack_check(token: str) -> Callable[[str, dict[str, str], Any], Answer]:
    """Slack's Web API (``/api/chat.postMessage``, bearer ``token``) and incoming
    webhooks (any other path)."""

    def check(path: str, headers: dict[str, str], body: Any) -> Answer:
        problems = block_kit_problems(body)
        if path.startswith("/api/"):
            if headers.get("Authorization") != f"Bearer {token}":
                return 200, {"ok": False, "error": "invalid_auth"}
            if path != "/api/chat.postMessage":
                return 404, {"ok": False, "error": "unknown_method"}
            if not body.get("channel"):
                return 200, {"ok": False, "error": "channel_not_found"}
            if problems:
                return 400, {"ok": False, "error": "invalid_blocks", "errors": problems}
            return 200, {"ok": True, "channel": body["channel"], "ts": "1700000000.000100"}
        if not path.startswith("/services/"):
            return 404, "no_service"
        if problems:
            return 400, "invalid_blocks: " + "; ".join(problems)
        return 200, "ok"

    return check


# -- PagerDuty -------------------------------------------------------------------------

PD_SEVERITIES = {"critical", "error", "warning", "info"}


def pagerduty_problems(body: Any) -> list[str]:
    """What the Events API v2 would refuse in ``body``, or []."""
    if not isinstance(body, dict):
        return ["the event is not a JSON object"]
    problems = []
    if not isinstance(body.get("routing_key"), str) or not body["routing_key"]:
        problems.append("routing_key is required")
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        problems.append("event_action is trigger, acknowledge or resolve")
    key = body.get("dedup_key")
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= 255):
        problems.append("dedup_key: a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not key:
        problems.append(f"dedup_key is required to {action}")
    if action == "trigger":
        payload = body.get("payload")
        if not isinstance(payload, dict):
            return [*problems, "payload is required to trigger"]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not 0 < len(summary) <= 1024:
            problems.append("payload.summary: 1 to 1024 characters")
        if not payload.get("source"):
            problems.append("payload.source is required")
        if payload.get("severity") not in PD_SEVERITIES:
            problems.append("payload.severity is critical, error, warning or info")
        details = payload.get("custom_details")
        if details is not None and not isinstance(details, dict | str):
            problems.append("payload.custom_details is an object or a string")
    for link in body.get("links", []):
        if not isinstance(link, dict) or not str(link.get("href", "")).startswith("http"):
            problems.append("links[].href is a URL")
    extra = set(body) - {
        "routing_key",
        "event_action",
        "dedup_key",
        "payload",
        "links",
        "images",
        "client",
        "client_url",
    }
    if extra:
        problems.append(f"unknown fields {sorted(extra)}")
    return problems


def pagerduty_check(path: str, headers: dict[str, str], body: Any) -> Answer:
    if path != "/v2/enqueue":
        return 404, {"status": "not found"}
    problems = pagerduty_problems(body)
    if problems:
        return 400, {
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": problems,
        }
    return 202, {
        "status": "success",
        "message": "Event processed",
        "dedup_key": body.get("dedup_key") or "generated-key",
    }


# -- Teams -----------------------------------------------------------------------------

_CARD_ELEMENTS = {"TextBlock", "FactSet", "Container", "ColumnSet", "ActionSet", "Image"}


def teams_problems(body: Any) -> list[str]:
    """What a Teams workflow webhook would refuse: anything but a message whose
    attachment is an Adaptive Card."""
    if not isinstance(body, dict) or body.get("type") != "message":
        return ['the body must be {"type": "message", "attachments": [...]}']
    attachments = body.get("attachments")
    if not isinstance(attachments, list) or len(attachments) != 1:
        return ["one attachment"]
    (attachment,) = attachments
    if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
        return ["the attachment is an Adaptive Card"]
    card = attachment.get("content") or {}
    problems = []
    if card.get("type") != "AdaptiveCard":
        problems.append("content.type is AdaptiveCard")
    if not re.match(r"^1\.[0-6]$", str(card.get("version"))):
        problems.append("content.version is 1.0 to 1.6")
    body_items = card.get("body")
    if not isinstance(body_items, list) or not body_items:
        return [*problems, "content.body holds elements"]
    problems += _card_elements("body", body_items)
    for i, action in enumerate(card.get("actions", [])):
        if action.get("type") != "Action.OpenUrl" or not action.get("title"):
            problems.append(f"actions[{i}]: Action.OpenUrl with a title")
        if not re.match(r"^https?://", str(action.get("url", ""))):
            problems.append(f"actions[{i}]: url is http(s)")
    return problems


def _card_elements(where: str, items: list[Any]) -> list[str]:
    problems = []
    for i, item in enumerate(items):
        kind = item.get("type")
        here = f"{where}[{i}]"
        if kind not in _CARD_ELEMENTS:
            problems.append(f"{here}: unknown element {kind}")
        elif kind == "TextBlock" and not isinstance(item.get("text"), str):
            problems.append(f"{here}: a TextBlock has text")
        elif kind == "FactSet":
            for fact in item.get("facts") or [None]:
                if not isinstance(fact, dict) or not all(
                    isinstance(fact.get(k), str) for k in ("title", "value")
                ):
                    problems.append(f"{here}: facts are {{title, value}} strings")
        elif kind == "Container":
            problems += _card_elements(f"{here}.items", item.get("items") or [])
    return problems


def teams_check(path: str, headers: dict[str, str], body: Any) -> Answer:
    problems = teams_problems(body)
    if problems:
        return 400, {"error": {"code": "InvalidRequestContent", "message": "; ".join(problems)}}
    return 202, ""
