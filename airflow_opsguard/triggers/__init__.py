"""Airflow triggers: asynchronous waits that hold no worker slot."""

from __future__ import annotations

from airflow_opsguard.triggers.freshness import FreshnessTrigger

__all__ = ["FreshnessTrigger"]
