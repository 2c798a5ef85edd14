"""A gate on data that lives in Spark, checked by Spark.

A PySpark job (the Apache Spark provider's ``@task.pyspark``) writes the day's orders;
the gate checks them on a Spark session of the same Airflow connection, so the rows
never leave Spark: only the counts and a few failing values reach the worker. One day
the job joins against a stale currency table and duplicates orders, with negative
amounts: the gate stops the revenue report. Trigger with {"scenario": "broken"}.

The connection ``opsguard_spark`` names the session: a ``spark`` connection whose host
is the master (``local[2]``, ``spark://host:7077``, ``yarn``) or a ``spark_connect``
one (a Spark Connect server), e.g.
``AIRFLOW_CONN_OPSGUARD_SPARK='{"conn_type": "spark", "host": "local[2]"}'``.

It needs the Apache Spark provider (``apache-airflow-providers-apache-spark``), pyspark
and Java: where the provider is not installed (the docker-compose demo) or no Java
runtime is found (`make demo` on a machine without one), this file defines no DAG rather
than showing an import error or failing the demo.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, Param, task

from airflow_opsguard.operators import QualityGateOperator

try:
    from airflow.providers.apache.spark.decorators.pyspark import pyspark_task
except ImportError:
    pyspark_task = None

DATA = Path(__file__).resolve().parent / "data" / "orders_spark"
SPARK_CONN = "opsguard_spark"

HAS_JAVA = bool(os.environ.get("JAVA_HOME")) or shutil.which("java") is not None

if pyspark_task is not None and HAS_JAVA:
    with DAG(
        "orders_spark_gate",
        schedule="@daily",
        start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
        catchup=False,
        params={"scenario": Param("healthy", enum=["healthy", "broken"])},
        tags=["opsguard-example"],
    ):

        @pyspark_task(conn_id=SPARK_CONN)
        def build_orders(ds: str, params: dict[str, str], spark: Any = None) -> str:
            target = DATA / ds
            orders = spark.range(1, 5001).selectExpr(
                "id AS order_id",
                "round(10 + (id * 7919) % 500 + (id % 100) / 100.0, 2) AS amount",
                "element_at(array('US', 'DE', 'FR'), CAST(id % 3 + 1 AS INT)) AS country",
                "concat('customer', id % 2000, '@example.com') AS email",
            )
            if params["scenario"] == "broken":  # a join that fans out, and refunds as orders
                doubled = orders.where("order_id % 50 = 0").selectExpr(
                    "order_id", "-amount AS amount", "country", "email"
                )
                orders = orders.unionByName(doubled)
            orders.write.mode("overwrite").parquet(str(target))
            return str(target)

        gate = QualityGateOperator(
            task_id="orders_gate",
            contract="contracts/orders_spark.yml",
            data=str(DATA) + "/{{ ds }}",  # this day's folder, read by the contract's Spark
        )

        @task
        def revenue_report() -> str:
            return "published"

        build_orders() >> gate >> revenue_report()
