"""The built-in JSON webhook: one POST with the standard library, and a clear error.

Retries and backoff are the deliverer's (:mod:`.delivery`); this module makes one
attempt and says whether another one may help. An attempt goes only to an ``http://``
or ``https://`` URL (checked on the URL as sent, after ``${NAME}`` expansion), follows
no redirect, and has one deadline for all of it: resolving, connecting, sending and
reading the answer (a server that trickles its answer byte by byte is cut off there).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from airflow_opsguard import __version__

# Responses worth another attempt: the server was busy, down or rate-limited us.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
SCHEMES = ("http", "https")
_READ_LIMIT = 65536  # of an answer, the rest is not read (nothing in it is used)


class DeliveryError(Exception):
    """A notifier did not take an alert; ``retryable``: another attempt may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def check_webhook_url(url: str) -> None:
    """Raise :class:`DeliveryError` (not retryable, the URL not quoted) unless ``url``
    is an ``http://`` or ``https://`` URL with a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        raise DeliveryError("the webhook URL is not a valid URL", retryable=False) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        shown = f"{scheme}://" if scheme else "no scheme"
        raise DeliveryError(
            f"the webhook URL is not an http:// or https:// URL (it has {shown} once "
            "${...} is expanded); nothing was sent",
            retryable=False,
        )
    if not host:
        raise DeliveryError("the webhook URL has no host", retryable=False)


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> int:
    """POST ``payload`` as JSON to ``url``; the HTTP status, or :class:`DeliveryError`
    (whose message never holds the URL). ``timeout`` bounds the whole exchange."""
    check_webhook_url(url)
    body = json.dumps(payload, default=str, separators=(",", ":")).encode()
    try:
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": f"airflow-opsguard/{__version__}",
                **dict(headers or {}),
            },
        )
    except ValueError:  # urllib's messages quote the URL, so this one does not
        raise DeliveryError("the webhook URL is not a valid URL", retryable=False) from None
    exchange = _Exchange(request, timeout)
    worker = threading.Thread(target=exchange.run, name="opsguard-webhook", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        exchange.abort()  # the thread ends as its socket closes (or its lookup returns)
        raise DeliveryError(f"the webhook did not answer in full within {timeout:g}s (timed out)")
    return exchange.outcome()


class _Exchange:
    """One request in a thread of its own, whose sockets can be closed from outside."""

    def __init__(self, request: urllib.request.Request, timeout: float) -> None:
        self.request = request
        self.timeout = timeout
        self.status: int | None = None
        self.error: BaseException | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._aborted = False

    def run(self) -> None:
        opener = urllib.request.OpenerDirector()
        # No redirect handler: a 3xx is an answer (urllib would turn the POST into a
        # GET without the alert), and no file:, ftp: or data: handler at all.
        for handler in (
            urllib.request.ProxyHandler(),
            _HTTPHandler(self),
            _HTTPSHandler(self),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
        ):
            opener.add_handler(handler)
        try:
            with opener.open(self.request, timeout=self.timeout) as response:
                response.read(_READ_LIMIT)
                self.status = int(response.status)
        except BaseException as exc:  # handed to the caller's thread
            self.error = exc

    def connected(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            aborted = self._aborted
        if aborted:
            _close(sock)

    def abort(self) -> None:
        with self._lock:
            self._aborted = True
            sockets = list(self._sockets)
        for sock in sockets:
            _close(sock)

    def connection(self, kind: type[http.client.HTTPConnection]) -> Any:
        exchange = self

        def make(host: str, **options: Any) -> http.client.HTTPConnection:
            class Recorded(kind):  # type: ignore[valid-type,misc]
                def connect(self) -> None:
                    super().connect()
                    exchange.connected(self.sock)

            made: http.client.HTTPConnection = Recorded(host, **options)
            return made

        return make

    def outcome(self) -> int:
        exc = self.error
        if exc is None:
            assert self.status is not None
            return self.status
        if isinstance(exc, urllib.error.HTTPError):
            raise DeliveryError(
                f"the webhook answered HTTP {exc.code} {exc.reason}",
                retryable=exc.code in RETRYABLE_STATUS,
            ) from None
        if isinstance(exc, urllib.error.URLError):
            raise DeliveryError(f"cannot reach the webhook: {exc.reason}") from None
        if isinstance(exc, TimeoutError | OSError | http.client.HTTPException):
            raise DeliveryError(f"cannot reach the webhook: {exc}") from None
        if isinstance(exc, ValueError):  # urllib's messages quote the URL
            raise DeliveryError("the webhook URL is not a valid URL", retryable=False) from None
        raise DeliveryError(f"the webhook failed: {type(exc).__name__}") from None


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, exchange: _Exchange) -> None:
        super().__init__()
        self._exchange = exchange

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._exchange.connection(http.client.HTTPConnection), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, exchange: _Exchange) -> None:
        super().__init__()
        self._exchange = exchange

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        context = getattr(self, "_context", None)
        return self.do_open(
            self._exchange.connection(http.client.HTTPSConnection), req, context=context
        )


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
