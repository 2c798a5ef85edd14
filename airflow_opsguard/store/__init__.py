"""The results store: every gate verdict, kept in SQLite (default), PostgreSQL or MySQL.

from airflow_opsguard.store import ResultStore
store = ResultStore()                  # $OPSGUARD_STORE_URL or a local SQLite file
store.record(result)                   # never raises; spools while the store is down
store.results(dataset="orders", limit=20)

upgrade_store(url)                     # the deploy step (`opsguard db upgrade`)
store_state(url).current               # whether this release can use it as it is
prune(store, timedelta(days=90))       # retention (`opsguard store prune --older-than 90d`)

The names are imported when first used, so that importing a module of this package (the
``opsguard db`` commands) does not load SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_opsguard.store.migrate import SchemaState, store_state, upgrade_store
    from airflow_opsguard.store.retention import PruneReport, prune
    from airflow_opsguard.store.sla import SlaMiss
    from airflow_opsguard.store.spool import SpoolReplay
    from airflow_opsguard.store.store import ResultStore
    from airflow_opsguard.store.summaries import CheckHistoryEntry, DatasetSummary
    from airflow_opsguard.store.urls import default_store_url, mask_url

_EXPORTS = {
    "CheckHistoryEntry": "airflow_opsguard.store.summaries",
    "DatasetSummary": "airflow_opsguard.store.summaries",
    "PruneReport": "airflow_opsguard.store.retention",
    "ResultStore": "airflow_opsguard.store.store",
    "SchemaState": "airflow_opsguard.store.migrate",
    "SlaMiss": "airflow_opsguard.store.sla",
    "SpoolReplay": "airflow_opsguard.store.spool",
    "default_store_url": "airflow_opsguard.store.urls",
    "mask_url": "airflow_opsguard.store.urls",
    "prune": "airflow_opsguard.store.retention",
    "store_state": "airflow_opsguard.store.migrate",
    "upgrade_store": "airflow_opsguard.store.migrate",
}

__all__ = [
    "CheckHistoryEntry",
    "DatasetSummary",
    "PruneReport",
    "ResultStore",
    "SchemaState",
    "SlaMiss",
    "SpoolReplay",
    "default_store_url",
    "mask_url",
    "prune",
    "store_state",
    "upgrade_store",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once
    return value
