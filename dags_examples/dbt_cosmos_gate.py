"""A dbt model checked by a gate before the dashboard reads it.

astronomer-cosmos runs the dbt project in dbt_shop/ (a model with an enforced model
contract and its tests) on the raw orders an Airflow task loads into DuckDB. The gate's
contract was written by `opsguard import-dbt` from the project's manifest, with one rule
added by hand (contracts/dbt_orders.yml): the orders must be recent. In the broken
scenario the extract delivers the same orders as three days ago: every dbt test passes
(the rows are well formed), the gate fails on freshness and the dashboard is not built.
Trigger with {"scenario": "broken"} to see it.

dbt runs from its own environment: $OPSGUARD_DBT_EXECUTABLE, the repository's .venv-dbt
(`make` builds it), or `dbt` on the PATH (docs/dbt.md).
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param, task
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
)
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode

from airflow_opsguard.operators import QualityGateOperator

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "dbt_shop"
DATABASE = HERE / "data" / "dbt_shop.duckdb"
_REPO_DBT = HERE.parent / ".venv-dbt" / "bin" / "dbt"
DBT = (
    os.environ.get("OPSGUARD_DBT_EXECUTABLE")
    or (str(_REPO_DBT) if _REPO_DBT.exists() else None)
    or shutil.which("dbt")
    or "dbt"
)

with DAG(
    "dbt_cosmos_gate",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    params={"scenario": Param("healthy", enum=["healthy", "broken"])},
    tags=["opsguard-example"],
):

    @task
    def load_raw_orders(data_interval_end: datetime, params: dict[str, str]) -> int:
        """The extract: today's orders, or (broken) the same orders as three days ago."""
        import duckdb

        lag = timedelta(days=3) if params["scenario"] == "broken" else timedelta(0)
        newest = data_interval_end.replace(tzinfo=None) - lag
        rows = [
            (
                i,
                1 + i % 40,
                round(5 + (i * 37) % 300 + 0.99, 2),
                "placed",
                newest - timedelta(minutes=7 * i),
            )
            for i in range(1, 201)
        ]
        DATABASE.parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(str(DATABASE)) as db:
            db.execute("create schema if not exists raw")
            db.execute(
                "create or replace table raw.orders (order_id integer, customer_id integer, "
                "amount decimal(10, 2), status varchar, ordered_at timestamp)"
            )
            db.executemany("insert into raw.orders values (?, ?, ?, ?, ?)", rows)
        return len(rows)

    dbt_models = DbtTaskGroup(
        group_id="dbt_shop",
        project_config=ProjectConfig(PROJECT, env_vars={"OPSGUARD_EXAMPLE_DUCKDB": str(DATABASE)}),
        profile_config=ProfileConfig(
            profile_name="dbt_shop",
            target_name="dev",
            profiles_yml_filepath=PROJECT / "profiles.yml",
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=DBT,
        ),
        # Cosmos reads the project's files to make the tasks, so parsing the DAG needs no
        # dbt (cosmos 1.x; with dbt beside the scheduler, LoadMode.DBT_LS or a manifest).
        render_config=RenderConfig(load_method=LoadMode.CUSTOM),
    )

    gate = QualityGateOperator(
        task_id="orders_gate",
        contract="contracts/dbt_orders.yml",
        data=f"duckdb:///{DATABASE}",
    )

    @task
    def build_dashboard() -> float:
        import duckdb

        with duckdb.connect(str(DATABASE), read_only=True) as db:
            row = db.execute("select sum(amount) from main.orders").fetchone()
        return float(row[0]) if row else 0.0

    load_raw_orders() >> dbt_models >> gate >> build_dashboard()
