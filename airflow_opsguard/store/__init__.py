"""The results store: every gate verdict, kept in SQLite (default), PostgreSQL or MySQL.

from airflow_opsguard.store import ResultStore
store = ResultStore()                  # $OPSGUARD_STORE_URL or a local SQLite file
store.record(result)                   # never raises; spools while the store is down
store.results(dataset="orders", limit=20)
"""

from __future__ import annotations

from airflow_opsguard.store.sla import SlaMiss
from airflow_opsguard.store.spool import SpoolReplay
from airflow_opsguard.store.store import ResultStore
from airflow_opsguard.store.summaries import CheckHistoryEntry, DatasetSummary
from airflow_opsguard.store.urls import default_store_url, mask_url

__all__ = [
    "CheckHistoryEntry",
    "DatasetSummary",
    "ResultStore",
    "SlaMiss",
    "SpoolReplay",
    "default_store_url",
    "mask_url",
]
