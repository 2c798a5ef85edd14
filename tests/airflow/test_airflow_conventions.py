"""Airflow conventions, as the standard and common.sql providers follow them: secrets in
templated fields masked before Airflow records them, the sensor's ``deferrable`` default
from Airflow's configuration, template renderers, and provider metadata that Airflow
itself reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pendulum
import pytest
from conftest import run_dag

PASSWORD = "Sup3r-Secret-Passw0rd"
READER_PASSWORD = "Re4der-Passw0rd-in-kwargs"

# No server listens on 127.0.0.1:1. A store outage never changes a gate's verdict, and
# a source that cannot be read is not fresh: the sensor times out, the gates pass.
MASKED_DAG = """\
from __future__ import annotations
import pandas as pd
import pendulum
from airflow.sdk import DAG, task
from airflow_opsguard.operators import QualityGateOperator
from airflow_opsguard.sensors import FreshnessSensor

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         params={{"password": "{password}", "reader": "{reader}"}}):
    FreshnessSensor(
        task_id="fresh", contract="{contract}", table="orders",
        data="postgresql://reader:{{{{ params.password }}}}@127.0.0.1:1/warehouse",
        deferrable=False, mode="poke", poke_interval=0.1, timeout=0.3,
    )
    QualityGateOperator(
        task_id="gate", contract="{contract}", data="{data}",
        store="postgresql://opsguard:{{{{ params.password }}}}@127.0.0.1:1/quality",
    )

    @task.opsguard(contract="{contract}",
                   store="postgresql://opsguard:{password}@127.0.0.1:1/quality")
    def features(url):
        return pd.read_parquet("{data}")

    features(url="postgresql://reader:{{{{ params.reader }}}}@127.0.0.1:1/raw")
"""

CONTRACT = """\
dataset: masked_orders
schema:
  columns:
    - {name: order_id, type: integer, nullable: false}
    - {name: created_at, type: timestamp}
freshness: {column: created_at, fail_after: 1d}
"""


def rendered_fields(dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    """What Airflow stored for Rendered Templates (the API server reads this table)."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields as RTIF
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(RTIF).where(RTIF.dag_id == dag_id, RTIF.run_id == run_id)
        ).all()
        return {row.task_id: dict(row.rendered_fields) for row in rows}


def test_passwords_in_urls_are_masked_in_rendered_templates_and_logs(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "orders.parquet"
    pd.DataFrame(
        {"order_id": [1, 2], "created_at": pd.to_datetime(["2026-11-26 01:00"] * 2)}
    ).to_parquet(data)
    contract = tmp_path / "orders.yml"
    contract.write_text(CONTRACT)
    dag_id = "masked_urls"
    source = MASKED_DAG.format(
        dag_id=dag_id, contract=contract, data=data, password=PASSWORD, reader=READER_PASSWORD
    )
    run = run_dag(source, dag_id, logical_date=pendulum.datetime(2026, 11, 26, 12, tz="UTC"))
    output = capfd.readouterr()
    assert run.states == {"fresh": "failed", "gate": "success", "features": "success"}

    fields = rendered_fields(dag_id, run.run_id)
    assert set(fields) == {"fresh", "gate", "features"}
    stored = json.dumps(fields)
    assert PASSWORD not in stored
    assert READER_PASSWORD not in stored
    # Only the password is hidden: the rest of each URL stays readable.
    assert fields["gate"]["store"] == "postgresql://opsguard:***@127.0.0.1:1/quality"
    assert fields["fresh"]["data"] == "postgresql://reader:***@127.0.0.1:1/warehouse"
    assert "postgresql://reader:***@127.0.0.1:1/raw" in json.dumps(fields["features"])
    assert fields["gate"]["contract_path"] == str(contract)  # nothing else changed

    # The task log: our own messages never carried the password, and the processor that
    # masks every task log line now hides it wherever a library might print it.
    assert PASSWORD not in output.out + output.err
    assert "127.0.0.1:1" in output.out + output.err  # the store outage was logged
    from airflow.sdk.log import mask_logs

    line = mask_logs(None, "warning", {"event": f"connecting with {PASSWORD}, {READER_PASSWORD}"})
    assert line["event"] == "connecting with ***, ***"


def test_secrets_in_finds_passwords_and_secret_parameters() -> None:
    from airflow_opsguard.operators.masking import secrets_in

    assert {"p%40ss-word", "p@ss-word"} <= set(secrets_in("postgresql://u:p%40ss-word@host/db"))
    found = secrets_in("s3://bucket/key?token='abc123'&region=eu")
    assert "abc123" in found and not any(f == "eu" or "bucket" in f for f in found)
    assert secrets_in("data/orders.parquet") == []
    assert secrets_in("postgresql://reader@host/db") == []


# --------------------------------------------------------------------------- deferrable


RESCHEDULE = {"deferrable": False, "mode": "reschedule"}
DEFERRING = {"deferrable": True, "mode": "poke"}


def sensor_settings(args: str, *, default_deferrable: str | None) -> dict[str, Any]:
    """Make a sensor in a fresh process (the default is read when the module is
    imported, as in Airflow's own sensors) and report how it waits."""
    code = f"""
import json, pendulum
from airflow.sdk import DAG, Asset
from airflow_opsguard.sensors import FreshnessSensor
try:
    with DAG("d", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
             default_args=dict({args}).get("default_args", {{}})):
        s = FreshnessSensor(task_id="fresh", asset=Asset("a"), max_age="1h",
                            **{{k: v for k, v in dict({args}).items() if k != "default_args"}})
    print(json.dumps({{"deferrable": s.deferrable, "mode": s.mode}}))
except ValueError as exc:
    print(json.dumps({{"error": str(exc)}}))
"""
    env = dict(os.environ)
    env.pop("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", None)
    if default_deferrable is not None:
        env["AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE"] = default_deferrable
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("default_deferrable", "args", "expected"),
    [
        # Airflow's default: not deferrable, and rescheduled, so no worker slot is held.
        (None, "", RESCHEDULE),
        ("False", "", RESCHEDULE),
        ("True", "", DEFERRING),
        # What the task (or its DAG's default_args) says wins over the deployment's default.
        ("True", "deferrable=False", RESCHEDULE),
        ("False", "deferrable=True", DEFERRING),
        ("True", 'deferrable=False, mode="reschedule"', RESCHEDULE),
        ("False", 'mode="poke"', {"deferrable": False, "mode": "poke"}),
        ("False", 'default_args={"mode": "poke"}', {"deferrable": False, "mode": "poke"}),
        ("False", 'default_args={"deferrable": True}', DEFERRING),
        # A DAG that chose to reschedule keeps doing so where the deployment defers.
        ("True", 'mode="reschedule"', RESCHEDULE),
        ("True", 'default_args={"mode": "reschedule"}', RESCHEDULE),
    ],
)
def test_deferrable_defaults_to_airflows_default_deferrable(
    default_deferrable: str | None, args: str, expected: dict[str, Any]
) -> None:
    assert sensor_settings(args, default_deferrable=default_deferrable) == expected


def test_reschedule_mode_with_deferrable_true_is_an_error() -> None:
    found = sensor_settings('mode="reschedule", deferrable=True', default_deferrable="False")
    assert "mode='reschedule' needs deferrable=False" in found["error"]


# --------------------------------------------------------------------------- renderers


def test_paths_are_plain_text_in_rendered_templates() -> None:
    from airflow_opsguard.decorators.gated_task import GatedTaskOperator
    from airflow_opsguard.operators import QualityGateOperator
    from airflow_opsguard.sensors import FreshnessSensor

    for operator in (QualityGateOperator, FreshnessSensor, GatedTaskOperator):
        renderers = operator.template_fields_renderers
        assert "contract_path" not in renderers, operator
        assert set(renderers) <= set(operator.template_fields), operator


# --------------------------------------------------------------------------- provider


def import_string(path: str) -> Any:
    import importlib

    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_provider_info_lists_the_plugin_and_the_link_and_airflow_loads_them() -> None:
    import jsonschema
    from airflow.plugins_manager import AirflowPlugin
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk import BaseOperatorLink

    from airflow_opsguard.get_provider_info import get_provider_info
    from airflow_opsguard.operators import QualityGateOperator

    info = get_provider_info()
    schema_path = Path(__import__("airflow").__file__).with_name("provider_info.schema.json")
    jsonschema.validate(info, json.loads(schema_path.read_text()))

    (plugin,) = info["plugins"]
    plugin_class = import_string(plugin["plugin-class"])
    assert issubclass(plugin_class, AirflowPlugin)
    assert plugin["name"] == plugin_class.name  # one name, whichever way it is loaded
    manager = ProvidersManager()
    assert plugin["plugin-class"] in {p.plugin_class for p in manager.plugins}

    (link,) = info["extra-links"]
    link_class = import_string(link)
    assert issubclass(link_class, BaseOperatorLink)
    assert link in manager.extra_links_class_names
    assert any(isinstance(x, link_class) for x in QualityGateOperator.operator_extra_links)
