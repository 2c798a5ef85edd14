"""``@task.opsguard``: a TaskFlow task whose return value must pass a contract."""

from __future__ import annotations

from airflow_opsguard.decorators.gated_task import opsguard_task

__all__ = ["opsguard_task"]
