"""A forecasting pipeline whose input silently stopped updating.

The sales loader is another team's job. When it stops, the file is still there and
still valid, and the forecast would happily train on data three days old. The sensor
waits for fresh sales (deferring, so it holds no worker slot), calls on-call once when
the SLA passes, and fails at its deadline; the forecast never sees stale data. Trigger
with {"scenario": "broken"} to see it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task
from example_data import write_sales

from airflow_opsguard.sensors import FreshnessSensor

DATA = Path(__file__).resolve().parent / "data" / "sales"
log = logging.getLogger(__name__)


def page_on_call(context: dict[str, Any]) -> None:
    """Stands in for a Slack or e-mail notifier: any callable or BaseNotifier works."""
    log.warning("SLA missed: %s", context["message"])


with DAG(
    "demand_forecast_freshness",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    params={"scenario": Param("healthy", enum=["healthy", "broken"])},
    tags=["opsguard-example"],
):

    @task
    def load_sales(data_interval_end: datetime, params: dict[str, str]) -> str:
        broken = params["scenario"] == "broken"
        return str(write_sales(DATA / "sales.parquet", until=data_interval_end, broken=broken))

    fresh = FreshnessSensor(
        task_id="sales_fresh",
        contract="contracts/sales.yml",
        sla=timedelta(seconds=0),  # in production: e.g. timedelta(hours=1)
        sla_miss_callback=page_on_call,
        poke_interval=1,
        timeout=3,  # in production: hours
    )

    @task
    def forecast() -> float:
        import pandas as pd

        sales = pd.read_parquet(DATA / "sales.parquet")
        return float(sales.groupby("store")["units"].mean().mean())

    load_sales() >> fresh >> forecast()
