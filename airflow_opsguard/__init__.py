"""airflow-opsguard: data quality gates for Apache Airflow 3.

The public Python API::

    from airflow_opsguard import load_contract, validate
    result = validate("contracts/orders.yml", data=df_or_path_or_url)
    result.status       # "pass" | "warn" | "fail" | "error"
    result.to_dict()    # the JSON object of `opsguard check --format json`

Importing this package is cheap: Airflow, Great Expectations, pandas, DuckDB and
SciPy are imported only when they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from airflow_opsguard.api import validate
    from airflow_opsguard.baselines import (
        Baseline,
        get_baseline,
        list_baselines,
        promote_baseline,
        save_baseline,
    )
    from airflow_opsguard.checks.results import CheckResult, GateResult
    from airflow_opsguard.contract.models import Contract
    from airflow_opsguard.drafting import draft_contract
    from airflow_opsguard.drift.profile import Profile
    from airflow_opsguard.engines.profiler import profile
    from airflow_opsguard.errors import ContractError, DataSourceError, OpsGuardError
    from airflow_opsguard.formats import load_contract

_EXPORTS = {
    "CheckResult": "airflow_opsguard.checks.results",
    "GateResult": "airflow_opsguard.checks.results",
    "load_contract": "airflow_opsguard.formats",
    "Contract": "airflow_opsguard.contract.models",
    "Baseline": "airflow_opsguard.baselines",
    "get_baseline": "airflow_opsguard.baselines",
    "list_baselines": "airflow_opsguard.baselines",
    "promote_baseline": "airflow_opsguard.baselines",
    "save_baseline": "airflow_opsguard.baselines",
    "draft_contract": "airflow_opsguard.drafting",
    "Profile": "airflow_opsguard.drift.profile",
    "profile": "airflow_opsguard.engines.profiler",
    "ContractError": "airflow_opsguard.errors",
    "DataSourceError": "airflow_opsguard.errors",
    "OpsGuardError": "airflow_opsguard.errors",
    "validate": "airflow_opsguard.api",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'airflow_opsguard' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
