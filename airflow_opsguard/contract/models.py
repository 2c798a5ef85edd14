"""The contract, version 1: frozen, strict models of what a dataset must look like.

A contract declares; it does not run. Engines measure what it declares and pure
functions in :mod:`airflow_opsguard.checks` judge the measurements. Every model forbids
unknown keys, so a typo is an error when the contract is loaded, never a check that
silently does nothing.

This module is where the contract's names are imported from; they are defined in:

- :mod:`~airflow_opsguard.contract.base`: the strict base model, vocabularies
  (severity, mode, on_fail, column types), durations, and the one rule for bounds;
- :mod:`~airflow_opsguard.contract.checks`: the ``Check`` union of every check kind,
  defined in ``column_checks``, ``relation_checks`` and ``history_checks``;
- :mod:`~airflow_opsguard.contract.sections`, :mod:`~airflow_opsguard.contract.distribution`
  and :mod:`~airflow_opsguard.contract.alerts`: the contract's sections;
- :mod:`~airflow_opsguard.contract.contract`: the ``Contract`` itself.
"""

from __future__ import annotations

from airflow_opsguard.contract.alerts import AlertRoute, Escalation
from airflow_opsguard.contract.base import (
    COLUMN_TYPES,
    NUMERIC_TYPES,
    ON_FAIL,
    ORDERED_TYPES,
    Bound,
    Bounded,
    ColumnType,
    Duration,
    Mode,
    OnFail,
    Scalar,
    Severity,
    StrictModel,
)
from airflow_opsguard.contract.checks import (
    CHECK_MODELS,
    CHECK_TYPES,
    ROW_CHECK_TYPES,
    ROW_CHECKS,
    AnyCheck,
    Check,
    HistoryCheck,
    RowCheck,
    check_type,
)
from airflow_opsguard.contract.column_checks import (
    AllowedCheck,
    BaseCheck,
    BaseColumnCheck,
    LengthCheck,
    NotAllowedCheck,
    NotNullCheck,
    PatternCheck,
    RangeCheck,
    StatisticCheck,
    UniqueCheck,
)
from airflow_opsguard.contract.contract import Contract, GxSuiteRef
from airflow_opsguard.contract.distribution import (
    DRIFT_METHODS,
    Distribution,
    DistributionColumn,
    DriftMethod,
)
from airflow_opsguard.contract.durations import format_duration, parse_duration
from airflow_opsguard.contract.history_checks import (
    METRIC_KINDS,
    AnomalyCheck,
    MetricKind,
    RowCountChangeCheck,
    Rule,
    SustainedRule,
    metric_type_problem,
)
from airflow_opsguard.contract.relation_checks import (
    ExpressionCheck,
    ReconcileCheck,
    ReconcileMetric,
    ReconcileTarget,
    ReferenceCheck,
    ReferenceTarget,
)
from airflow_opsguard.contract.sections import (
    Column,
    ExtraColumns,
    Freshness,
    Quarantine,
    QuarantineLevel,
    Schema,
    Source,
    Volume,
)

__all__ = [
    "CHECK_MODELS",
    "CHECK_TYPES",
    "COLUMN_TYPES",
    "DRIFT_METHODS",
    "METRIC_KINDS",
    "NUMERIC_TYPES",
    "ON_FAIL",
    "ORDERED_TYPES",
    "ROW_CHECKS",
    "ROW_CHECK_TYPES",
    "AlertRoute",
    "AllowedCheck",
    "AnomalyCheck",
    "AnyCheck",
    "BaseCheck",
    "BaseColumnCheck",
    "Bound",
    "Bounded",
    "Check",
    "Column",
    "ColumnType",
    "Contract",
    "Distribution",
    "DistributionColumn",
    "DriftMethod",
    "Duration",
    "Escalation",
    "ExpressionCheck",
    "ExtraColumns",
    "Freshness",
    "GxSuiteRef",
    "HistoryCheck",
    "LengthCheck",
    "MetricKind",
    "Mode",
    "NotAllowedCheck",
    "NotNullCheck",
    "OnFail",
    "PatternCheck",
    "Quarantine",
    "QuarantineLevel",
    "RangeCheck",
    "ReconcileCheck",
    "ReconcileMetric",
    "ReconcileTarget",
    "ReferenceCheck",
    "ReferenceTarget",
    "RowCheck",
    "RowCountChangeCheck",
    "Rule",
    "Scalar",
    "Schema",
    "Severity",
    "Source",
    "StatisticCheck",
    "StrictModel",
    "SustainedRule",
    "UniqueCheck",
    "Volume",
    "check_type",
    "format_duration",
    "metric_type_problem",
    "parse_duration",
]
