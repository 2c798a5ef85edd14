"""The built-in JSON webhook: one POST with the standard library, and a clear error.

Retries and backoff are the deliverer's (:mod:`.delivery`); this module makes one
attempt and says whether another one may help.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from airflow_opsguard import __version__

# Responses worth another attempt: the server was busy, down or rate-limited us.
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class DeliveryError(Exception):
    """A notifier did not take an alert; ``retryable``: another attempt may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def post_json(
    url: str,
    payload: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> int:
    """POST ``payload`` as JSON to ``url``; the HTTP status, or :class:`DeliveryError`
    (whose message never holds the URL)."""
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
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(65536)
            status: int = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(
            f"the webhook answered HTTP {exc.code} {exc.reason}",
            retryable=exc.code in RETRYABLE_STATUS,
        ) from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"cannot reach the webhook: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:
        raise DeliveryError(f"cannot reach the webhook: {exc}") from None
    except ValueError:  # urllib's messages quote the URL, so this one does not
        raise DeliveryError("the webhook URL is not a valid URL", retryable=False) from None
    return status
