"""Local servers that record what alerts send: a webhook (HTTP) and a mail server (SMTP).

Both listen on 127.0.0.1 on a free port, in a thread of the test process, and keep what
they received in memory. No sleeps: a test reads what arrived after the call returned.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class WebhookRecorder:
    """Records every POST; answers with the next status of ``statuses`` (then 200)."""

    url: str
    posts: list[Post] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # every request, with its status
    statuses: list[int] = field(default_factory=list)
    always: int | None = None  # answer every request with this status

    def fail_with(self, status: int) -> None:
        self.always = status

    def recover(self) -> None:
        self.always = None
        self.statuses.clear()

    def bodies(self, event: str | None = None) -> list[dict[str, Any]]:
        return [p.body for p in self.posts if event is None or p.body.get("event") == event]

    def events(self) -> list[str]:
        return [p.body.get("event", "?") for p in self.posts]


@contextmanager
def webhook_server(path: str = "/hooks/T000/B000/s3cr3t-token") -> Iterator[WebhookRecorder]:
    """A webhook on 127.0.0.1; ``recorder.url`` includes a secret-looking path."""
    recorder: WebhookRecorder

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            status = recorder.always or (recorder.statuses.pop(0) if recorder.statuses else 200)
            recorder.answers.append(status)
            if status < 300:
                recorder.posts.append(Post(self.path, dict(self.headers), json.loads(raw)))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder = WebhookRecorder(url=f"http://127.0.0.1:{server.server_address[1]}{path}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class MailRecorder:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)

    def bodies(self) -> list[str]:
        out = []
        for message in self.messages:
            parts = message.walk() if message.is_multipart() else [message]
            for part in parts:
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    out.append(payload.decode(part.get_content_charset() or "utf-8"))
        return out


@contextmanager
def smtp_server() -> Iterator[MailRecorder]:
    """An SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            recorder.messages.append(message_from_bytes(envelope.content))
            return "250 Message accepted for delivery"

    port = _free_port()
    recorder = MailRecorder("127.0.0.1", port)
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
