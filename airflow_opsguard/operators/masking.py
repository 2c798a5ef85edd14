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

# What our own messages hide is what Airflow masks.
from airflow_opsguard.urls import secrets_in


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
