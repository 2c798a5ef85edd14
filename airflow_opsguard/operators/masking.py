"""Secrets in templated fields, masked before Airflow records their rendered values.

Airflow shows a task's templated fields as rendered (Rendered Templates, stored by the
task when it starts) and redacts there, and in the task's log, every value registered
with :func:`airflow.sdk.log.mask_secret`. A results store or data URL may carry a
password (``postgresql://user:PASSWORD@host/db``, ``...?token=...``), given as it is or
rendered from a template (``{{ var.value.store_url }}``); the gate tasks register those
secrets right after rendering, before Airflow serialises the rendered fields.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

# The patterns mask_url uses, so that what is masked in Airflow is what our own
# messages hide.
from airflow_opsguard.urls import _KEY_VALUE, _USERINFO


def secrets_in(text: str) -> list[str]:
    """The passwords and secret parameters of the URLs in ``text``, as written and
    percent-decoded (a driver's message may show either)."""
    found: list[str] = []
    for pattern in (_USERINFO, _KEY_VALUE):
        for match in pattern.finditer(text):
            secret = match.group(0)[len(match.group("head")) :]
            if len(secret) >= 2 and secret[0] == secret[-1] and secret[0] in "'\"":
                secret = secret[1:-1]
            for variant in (secret, unquote(secret)):
                if variant and variant not in found:
                    found.append(variant)
    return found


def mask_url_secrets(*values: Any) -> None:
    """Register the URL secrets in ``values`` (strings, or mappings and sequences of
    them, as in ``op_kwargs``) with Airflow's secrets masker."""
    from airflow.sdk.log import mask_secret

    for text in _strings(values):
        for secret in secrets_in(text):
            mask_secret(secret)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
