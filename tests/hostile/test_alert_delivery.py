"""Hostile alert delivery: webhook URLs that expand to other schemes, servers that
trickle their answer or redirect it, and secrets in the URLs an alert shows.

- A ``${VAR}`` webhook is checked after expansion: only http and https are called; any
  other scheme is one clear error for that route, tried once, and the alert stays
  pending (never "sent").
- A webhook's ``timeout`` bounds the whole delivery (connect, send, read the answer): a
  server that sends its answer a byte at a time cannot hold a gate.
- A redirect is an answer, not followed (urllib would re-send the POST as a GET).
- Every URL an alert shows has its secret parameters masked; the webhook itself is
  called as given and never logged or stored unmasked.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airflow_opsguard.alerts.delivery import Attempt, Deliverer
from airflow_opsguard.alerts.messages import AlertMessage, LinkSettings
from airflow_opsguard.alerts.routes import to_route
from airflow_opsguard.pipeline import run_gate
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.incidents import IncidentStore

GENEROUS = 120.0  # seconds: a bound that must not be hit, never a measure of speed
PAYLOAD = AlertMessage(
    event="fail", dataset="orders", title="[opsguard] FAIL orders", text="volume failed"
).to_dict()


@dataclass
class Recorder:
    """A local webhook: answers ``status`` (with ``location`` for a redirect) and keeps
    the path and body of every request."""

    url: str = ""
    status: int = 200
    location: str | None = None
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


@contextmanager
def webhook(path: str = "/services/T0/B0/Sl4ckS3cret?token=HkT0ken") -> Iterator[Recorder]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            recorder.requests.append((self.command, self.path, json.loads(raw or b"{}")))
            self.send_response(recorder.status)
            if recorder.location:
                self.send_header("Location", recorder.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        do_POST = do_GET = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Trickle:
    url: str
    sent: int = 0  # bytes of the answer sent so far
    release: threading.Event = field(default_factory=threading.Event)


@contextmanager
def trickling_server(part: str) -> Iterator[Trickle]:
    """A server that reads the request, then sends its answer one byte every 50 ms
    (``part``: ``body`` after complete headers, or ``headers`` from the first byte),
    far faster than any socket timeout fires, until the test releases it."""
    listener = socket.create_server(("127.0.0.1", 0))
    trickle = Trickle(url=f"http://127.0.0.1:{listener.getsockname()[1]}/hook")

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        with connection:
            received = b""
            while b"\r\n\r\n" not in received:
                chunk = connection.recv(65536)
                if not chunk:
                    return
                received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            while len(body) < length:
                body += connection.recv(65536)
            prefix = b"HTTP/1.1 200 OK\r\nX-Slow: "
            if part == "body":
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
                prefix = b""
            while True:
                byte = prefix[trickle.sent : trickle.sent + 1] or b"a"
                try:
                    connection.sendall(byte)
                except OSError:
                    return  # the client gave up: what the test wants
                trickle.sent += 1
                if trickle.release.wait(0.05):  # the server's own pace, not the test's
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield trickle
    finally:
        trickle.release.set()
        listener.close()
        thread.join(GENEROUS)


def deliver_within_bound(route: Any, payload: dict[str, Any]) -> Attempt:
    """Deliver in a thread and fail the test if it is not back within GENEROUS."""
    outcome: dict[str, Attempt] = {}
    worker = threading.Thread(
        target=lambda: outcome.update(attempt=Deliverer().deliver(route, payload)), daemon=True
    )
    worker.start()
    worker.join(GENEROUS)
    assert not worker.is_alive(), "the delivery did not return: the deadline did not hold"
    return outcome["attempt"]


# ------------------------------------------------------------------ schemes


@pytest.mark.parametrize(
    "expanded",
    [
        "file://{tmp}/alert.json",
        "ftp://127.0.0.1:1/alerts",
        "data:,hello",
        "gopher://127.0.0.1:1/x",
        "javascript:alert(1)",
        "//127.0.0.1:1/no-scheme",
        "http:///no-host",
    ],
)
def test_a_webhook_variable_that_expands_to_another_scheme_is_never_called(
    expanded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "alert.json"
    target.write_text("untouched")
    monkeypatch.setenv("ORDERS_HOOK", expanded.format(tmp=tmp_path))
    route = to_route({"on": ["fail"], "webhook": "${ORDERS_HOOK}", "retries": 5, "backoff": 0})
    attempt = deliver_within_bound(route, PAYLOAD)
    assert (attempt.ok, attempt.attempts) == (False, 1)  # not retried: it cannot help
    assert attempt.error is not None
    assert "the webhook URL" in attempt.error
    assert "\n" not in attempt.error and str(tmp_path) not in attempt.error
    assert target.read_text() == "untouched"


def test_through_a_gate_the_alert_stays_pending_with_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERS_HOOK", f"file://{tmp_path}/alert.json")
    (tmp_path / "alert.json").write_text("{}")
    contract = {
        "dataset": "orders_scheme",
        "volume": {"min_rows": 5},
        "alerts": [{"on": ["fail"], "webhook": "${ORDERS_HOOK}", "backoff": 0}],
    }
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with ResultStore(url) as store:
        run = run_gate(contract, data=pd.DataFrame({"id": [1]}), store=store, alert=True)
        assert run.result is not None and run.result.status == "fail"
        assert run.alerts is not None and run.alerts.pending == 1
        (delivery,) = run.alerts.deliveries
        assert (delivery.ok, delivery.attempts) == (False, 1)
        outbox = IncidentStore(store)
        assert outbox.alerts(dataset="orders_scheme", status="sent") == []
        (kept,) = outbox.alerts(dataset="orders_scheme", status="pending")
    assert kept.last_error == delivery.error
    assert kept.last_error is not None and "not an http:// or https:// URL" in kept.last_error


# ------------------------------------------------------------------ deadline


@pytest.mark.parametrize("part", ["body", "headers"])
def test_a_server_that_trickles_its_answer_cannot_hold_the_gate(part: str) -> None:
    with trickling_server(part) as server:
        route = to_route({"on": ["fail"], "webhook": server.url, "timeout": 1, "retries": 0})
        attempt = deliver_within_bound(route, PAYLOAD)
        assert server.sent >= 1  # it did answer, slowly, within each socket timeout
        assert (attempt.ok, attempt.attempts) == (False, 1)
        assert attempt.error is not None and "timed out" in attempt.error
        assert "within 1s" in attempt.error


def test_a_redirect_is_not_followed(caplog: pytest.LogCaptureFixture) -> None:
    with webhook() as hook:
        hook.status, hook.location = 302, "/elsewhere"
        route = to_route({"on": ["fail"], "webhook": hook.url, "retries": 0})
        with caplog.at_level(logging.INFO, logger="airflow_opsguard"):
            attempt = deliver_within_bound(route, PAYLOAD)
    assert not attempt.ok and attempt.error is not None and "HTTP 302" in attempt.error
    assert [(m, p) for m, p, _ in hook.requests] == [
        ("POST", "/services/T0/B0/Sl4ckS3cret?token=HkT0ken")
    ]
    assert "Sl4ckS3cret" not in caplog.text and "HkT0ken" not in caplog.text


# ------------------------------------------------------------------ secrets in URLs


def test_urls_an_alert_shows_have_their_secret_parameters_masked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "OPSGUARD_REPORT_URL", "https://reports.example.com/{dataset}/{run_id}?sig=RpS1g&v=2"
    )
    secrets = ["RbT0ken", "RbK3y", "Sl4ckS3cret", "HkT0ken", "RpS1g", "Pw0rdZ"]
    with webhook() as hook:
        contract = {
            "dataset": "orders_links",
            "owner": "https://oncall.example.com/team?access_token=Pw0rdZ",
            "runbook": "https://wiki.example.com/orders?token=RbT0ken&api_key=RbK3y&page=3",
            "volume": {"min_rows": 5},
            "alerts": [
                {"on": ["fail"], "webhook": hook.url, "retries": 0},
                {"on": ["fail"], "log": True},
            ],
        }
        url = f"sqlite:///{tmp_path / 'store.db'}"
        with caplog.at_level(logging.INFO, logger="airflow_opsguard"), ResultStore(url) as store:
            run = run_gate(
                contract,
                data=pd.DataFrame({"id": [1]}),
                store=store,
                alert=True,
                links=LinkSettings.from_environment(),
            )
            assert run.alerts is not None and [d.ok for d in run.alerts.deliveries] == [True, True]
            stored = IncidentStore(store).alerts(dataset="orders_links", status="sent")
    # The webhook was called as given, secrets and all ...
    ((method, path, body),) = hook.requests
    assert (method, path) == ("POST", "/services/T0/B0/Sl4ckS3cret?token=HkT0ken")
    # ... and what the alert shows keeps the links, without their secrets.
    assert body["runbook"] == "https://wiki.example.com/orders?token=***&api_key=***&page=3"
    assert body["report_url"].startswith("https://reports.example.com/orders_links/")
    assert body["report_url"].endswith("?sig=***&v=2")
    assert "runbook: https://wiki.example.com/orders?token=***&api_key=***&page=3" in body["text"]
    assert len(stored) == 2
    kept = json.dumps([[a.payload, a.route_label, a.last_error] for a in stored])
    everything = "\n".join([json.dumps(body), kept, caplog.text])
    assert [s for s in secrets if s in everything] == []
    assert "webhook http://127.0.0.1:" in caplog.text  # the route, named without its path
