"""Feature drift in front of model training.

Billing starts sending monthly spend in another currency: every value is still a
plausible positive number, so row checks pass, but the distribution moved. The gate
compares each feature with the training data (normalised Wasserstein distance beyond
sampling noise) and fails before a model is fitted on shifted features. Trigger with
{"scenario": "broken"} to see it.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param, task
from example_data import write_churn_features

from airflow_opsguard.operators import QualityGateOperator

DATA = Path(__file__).resolve().parent / "data" / "churn"

with DAG(
    "churn_model_drift_gate",
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    params={"scenario": Param("healthy", enum=["healthy", "broken"])},
    tags=["opsguard-example"],
):

    @task
    def build_features(ds: str, params: dict[str, str]) -> str:
        write_churn_features(DATA / "training.parquet", seed=1, broken=False)
        broken = params["scenario"] == "broken"
        path = DATA / f"features_{ds}.parquet"
        return str(write_churn_features(path, seed=2, broken=broken))

    gate = QualityGateOperator(
        task_id="features_gate",
        contract="contracts/churn_features.yml",
        data=str(DATA) + "/features_{{ ds }}.parquet",
    )

    @task
    def train_model(ds: str) -> float:
        import pandas as pd

        features = pd.read_parquet(DATA / f"features_{ds}.parquet")
        return float(features["monthly_spend"].mean())

    build_features() >> gate >> train_model()
