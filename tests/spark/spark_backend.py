"""The engine tests' backend on Spark: the shared orders, checked by the Spark engine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine_backends import TABLE, Backend, orders

from airflow_opsguard import GateResult, validate
from airflow_opsguard.checks.observations import Observations
from airflow_opsguard.engines.measuring import measure
from airflow_opsguard.formats import load_contract


@dataclass
class SparkBackend(Backend):
    """Files as the file engine has them (``load`` gives the Parquet path, which
    reference checks name in ``to.path``), read and checked by Spark: ``spark-frame``
    hands ``validate`` a Spark DataFrame, ``spark-path`` names the file in the contract's
    ``source`` with ``engine: spark``."""

    spark: Any = None

    def _data(self, contract: Mapping[str, Any], table: str) -> tuple[dict[str, Any], Any]:
        path = self.load(orders(), TABLE) if table == TABLE else self.data_for(table)
        if self.name == "spark-frame":
            return dict(contract), self.spark.read.parquet(path)
        return {**contract, "source": {"engine": "spark", "path": path}}, None

    def check(self, contract: Mapping[str, Any], table: str = TABLE, **kwargs: Any) -> GateResult:
        spec, data = self._data(contract, table)
        return validate(spec, data=data, **kwargs)

    def measure(self, contract: Mapping[str, Any], table: str = TABLE) -> Observations:
        spec, data = self._data(contract, table)
        return measure(load_contract(spec), data)
