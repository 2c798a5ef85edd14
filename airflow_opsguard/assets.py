"""Quality carried by Asset events, for DAGs that an Asset triggers.

A gate with outlet Assets attaches its verdict to the asset event (``extra["opsguard"]``).
A DAG scheduled on that Asset reads it here, and can skip when the data that triggered
it is below a bar::

    @task
    def train(**context):
        skip_unless_quality(context, at_least="pass")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

EXTRA_KEY = "opsguard"
_RANK = {"pass": 0, "warn": 1, "error": 2, "fail": 2}


def triggering_quality(context: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The gate summaries of the asset events that triggered this run, one per event.

    An event that no gate annotated gives ``{"status": None, ...}``: its data was not
    checked, which a bar treats as below it.
    """
    events: Mapping[Any, Sequence[Any]] = context.get("triggering_asset_events") or {}
    found: list[dict[str, Any]] = []
    for asset in events:
        for event in events[asset]:
            extra = getattr(event, "extra", None) or {}
            summary = extra.get(EXTRA_KEY)
            if isinstance(summary, Mapping):
                found.append({"asset": _name(asset), **summary})
            else:
                found.append({"asset": _name(asset), "status": None})
    return found


def skip_unless_quality(
    context: Mapping[str, Any], at_least: Literal["pass", "warn"] = "pass"
) -> list[dict[str, Any]]:
    """Skip this task (and so what depends on it) unless every triggering event's data
    was checked and reached ``at_least``; return the summaries otherwise."""
    from airflow.sdk.exceptions import AirflowSkipException

    found = triggering_quality(context)
    if not found:
        raise AirflowSkipException("no asset event triggered this run: nothing to vouch for")
    below = [s for s in found if s.get("status") is None or _RANK[s["status"]] > _RANK[at_least]]
    if below:
        shown = ", ".join(f"{s['asset']}: {s.get('status') or 'not checked'}" for s in below)
        raise AirflowSkipException(f"triggering data is below {at_least!r} ({shown})")
    return found


def _name(asset: Any) -> str:
    return str(getattr(asset, "name", None) or getattr(asset, "uri", None) or asset)
