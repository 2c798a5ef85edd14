"""An upstream schema change in front of a feature build.

The users extract comes from another team. One day it renames `signup_date` and sends
`age` as text: the gate fails the run with both problems named, instead of building
features with a column of nulls. Trigger with {"scenario": "broken"} to see it.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param, task
from example_data import write_users

from airflow_opsguard.operators import QualityGateOperator

DATA = Path(__file__).resolve().parent / "data" / "users"

with DAG(
    "user_features_schema_gate",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    params={"scenario": Param("healthy", enum=["healthy", "broken"])},
    tags=["opsguard-example"],
):

    @task
    def extract_users(ds: str, params: dict[str, str]) -> str:
        path = DATA / f"users_{ds}.parquet"
        return str(write_users(path, day=ds, broken=params["scenario"] == "broken"))

    gate = QualityGateOperator(
        task_id="users_gate",
        contract="contracts/users.yml",
        data=str(DATA) + "/users_{{ ds }}.parquet",
    )

    @task
    def build_features(ds: str) -> int:
        import pandas as pd

        users = pd.read_parquet(DATA / f"users_{ds}.parquet")
        users["tenure_days"] = (pd.Timestamp(ds) - users["signup_date"]).dt.days
        return int(users["tenure_days"].mean())

    extract_users() >> gate >> build_features()
