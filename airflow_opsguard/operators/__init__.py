"""Airflow operators: quality gates between tasks."""

from __future__ import annotations

from airflow_opsguard.operators.distribution_check import DistributionCheckOperator
from airflow_opsguard.operators.quality_gate import (
    QualityGateError,
    QualityGateFailed,
    QualityGateOperator,
)
from airflow_opsguard.operators.schema_check import SchemaCheckOperator

__all__ = [
    "DistributionCheckOperator",
    "QualityGateError",
    "QualityGateFailed",
    "QualityGateOperator",
    "SchemaCheckOperator",
]
