"""Airflow sensors: wait until the data is fresh, with a freshness SLA."""

from __future__ import annotations

from airflow_opsguard.sensors.freshness import FreshnessSensor

__all__ = ["FreshnessSensor"]
