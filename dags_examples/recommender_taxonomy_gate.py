"""A category taxonomy change in front of a recommender.

The catalogue team renames 'electronics' to 'tech' and folds 'garden' into 'other'.
Every value is still a string, so nothing crashes: the recommender would just learn a
world without electronics. The gate checks the allowed categories and the category
shares against last month's interactions, and skips the training (on_fail="skip") so
yesterday's model keeps serving. Trigger with {"scenario": "broken"} to see it.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param, task
from example_data import write_interactions

from airflow_opsguard.operators import QualityGateOperator

DATA = Path(__file__).resolve().parent / "data" / "recommender"

with DAG(
    "recommender_taxonomy_gate",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    params={"scenario": Param("healthy", enum=["healthy", "broken"])},
    tags=["opsguard-example"],
):

    @task
    def extract_interactions(ds: str, params: dict[str, str]) -> str:
        write_interactions(DATA / "reference.parquet", seed=1, broken=False)  # last month
        broken = params["scenario"] == "broken"
        return str(write_interactions(DATA / f"interactions_{ds}.parquet", seed=2, broken=broken))

    gate = QualityGateOperator(
        task_id="interactions_gate",
        contract="contracts/interactions.yml",
        data=str(DATA) + "/interactions_{{ ds }}.parquet",
        on_fail="skip",
    )

    @task
    def train_recommender(ds: str) -> int:
        import pandas as pd

        interactions = pd.read_parquet(DATA / f"interactions_{ds}.parquet")
        return int(interactions.groupby("category")["item_id"].nunique().sum())

    extract_interactions() >> gate >> train_recommender()
