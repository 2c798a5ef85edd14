"""The @task.opsguard decorator, the inline schema gate, asset metadata, and registration."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pendulum
import pytest
from conftest import run_dag

NOW = pendulum.datetime(2026, 11, 26, 12, tz="UTC")

DECORATED = """\
from __future__ import annotations
import pandas as pd
import pendulum
from airflow.sdk import DAG, task

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    @task.opsguard(contract="{contract}", on_fail="{on_fail}")
    def build_features():
        return pd.DataFrame({{"user_id": [1, 2, {last}], "score": [0.1, 0.5, 0.9]}})

    @task
    def train(features):
        return len(features)

    train(build_features())
"""

CONTRACT = """\
dataset: features
schema:
  columns:
    - {name: user_id, type: integer, nullable: false, unique: true}
    - {name: score, type: float, min: 0, max: 1}
"""


@pytest.mark.parametrize(
    ("last", "on_fail", "states"),
    [
        (3, "fail", {"build_features": "success", "train": "success"}),
        (2, "fail", {"build_features": "failed", "train": "upstream_failed"}),
        (2, "skip", {"build_features": "skipped", "train": "skipped"}),
    ],
)
def test_task_opsguard_checks_the_return_value(
    tmp_path: Path, last: int, on_fail: str, states: dict[str, str]
) -> None:
    (tmp_path / "features.yml").write_text(CONTRACT)
    dag_id = f"decorated_{on_fail}_{last}"
    source = DECORATED.format(
        dag_id=dag_id, contract=tmp_path / "features.yml", on_fail=on_fail, last=last
    )
    run = run_dag(source, dag_id, logical_date=NOW)
    assert run.states == states
    verdict = run.xcoms[("build_features", "opsguard_result")]
    assert verdict["status"] == ("pass" if last == 3 else "fail")
    if last == 3:
        assert run.xcoms[("train", "return_value")] == 3  # the DataFrame went on


SCHEMA_GATE = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG
from airflow_opsguard.operators import SchemaCheckOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    SchemaCheckOperator(
        task_id="schema", data="{data}",
        columns={{"user_id": "integer", "email": "string"}}, extra_columns="fail",
    )
"""


def test_inline_schema_gate_reports_a_renamed_column(tmp_path: Path) -> None:
    import pandas as pd

    pd.DataFrame({"user_id": [1], "mail": ["a@b"]}).to_parquet(tmp_path / "users.parquet")
    source = SCHEMA_GATE.format(dag_id="schema_gate", data=tmp_path / "users.parquet")
    run = run_dag(source, "schema_gate", logical_date=NOW)
    assert run.states == {"schema": "failed"}
    checks = {c["name"]: c for c in run.xcoms[("schema", "opsguard_result")]["checks"]}
    assert checks["schema(email)"]["observed"] == "missing"
    assert "'mail'" in checks["schema(email)"]["message"]
    assert run.xcoms[("schema", "opsguard_result")]["dataset"] == "schema"


ASSET_GATE = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG, Asset
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    QualityGateOperator(
        task_id="gate", contract="{contract}", data="{data}", on_fail="warn",
        outlets=[Asset("features_checked")],
    )
"""


def test_a_gate_attaches_its_verdict_to_the_asset_event(tmp_path: Path) -> None:
    import pandas as pd
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    (tmp_path / "features.yml").write_text(CONTRACT)
    pd.DataFrame({"user_id": [1, 1], "score": [0.1, 2.0]}).to_parquet(tmp_path / "f.parquet")
    source = ASSET_GATE.format(
        dag_id="asset_gate", contract=tmp_path / "features.yml", data=tmp_path / "f.parquet"
    )
    run = run_dag(source, "asset_gate", logical_date=NOW)
    assert run.states == {"gate": "success"}
    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == "features_checked", AssetEvent.source_run_id == run.run_id)
        ).all()
        extras = [e.extra for e in events]
    (extra,) = extras
    summary = extra["opsguard"]
    assert summary["status"] == "fail"
    assert summary["dataset"] == "features"
    assert summary["not_passing"] == {"unique(user_id)": 2, "range(score)": 1}


def _event(extra: dict[str, object]) -> object:
    from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult

    return AssetEventDagRunReferenceResult.model_validate(
        {
            "asset": {"name": "features_checked", "uri": "features_checked", "extra": {}},
            "extra": extra,
            "source_task_id": "gate",
            "source_dag_id": "asset_gate",
            "source_run_id": "r1",
            "source_map_index": -1,
            "source_aliases": [],
            "timestamp": datetime(2026, 11, 26, tzinfo=UTC),
        }
    )


@pytest.mark.parametrize(
    ("extras", "bar", "skips"),
    [
        ([{"opsguard": {"status": "pass"}}], "pass", False),
        ([{"opsguard": {"status": "warn"}}], "pass", True),
        ([{"opsguard": {"status": "warn"}}], "warn", False),
        ([{"opsguard": {"status": "pass"}}, {}], "warn", True),  # one event was never checked
        ([], "warn", True),
    ],
)
def test_downstream_dags_skip_when_the_triggering_data_is_below_the_bar(
    extras: list[dict[str, object]], bar: str, skips: bool
) -> None:
    from airflow.sdk import Asset
    from airflow.sdk.exceptions import AirflowSkipException

    from airflow_opsguard.assets import skip_unless_quality

    context = {"triggering_asset_events": {Asset("features_checked"): [_event(e) for e in extras]}}
    if skips:
        with pytest.raises(AirflowSkipException):
            skip_unless_quality(context, at_least=bar)  # type: ignore[arg-type]
    else:
        found = skip_unless_quality(context, at_least=bar)  # type: ignore[arg-type]
        assert [f["asset"] for f in found] == ["features_checked"] * len(extras)


def test_the_package_registers_itself_as_a_provider() -> None:
    import json

    import jsonschema
    from airflow.providers_manager import ProvidersManager
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    from airflow_opsguard.get_provider_info import get_provider_info

    schema_path = Path(__import__("airflow").__file__).with_name("provider_info.schema.json")
    jsonschema.validate(get_provider_info(), json.loads(schema_path.read_text()))
    assert "airflow-opsguard" in ProvidersManager().providers
    decorators = ProvidersManagerTaskRuntime().taskflow_decorators
    assert decorators["opsguard"].__name__ == "opsguard_task"


DRIFT_GATE = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG
from airflow_opsguard.operators import DistributionCheckOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    DistributionCheckOperator(
        task_id="drift", data="{data}", reference="{reference}",
        columns=["amount", {{"name": "country", "method": "psi"}}],
    )
"""


@pytest.mark.parametrize(("shift", "state"), [(0.0, "success"), (1.0, "failed")])
def test_inline_drift_gate(tmp_path: Path, shift: float, state: str) -> None:
    import numpy as np
    import pandas as pd

    def orders(seed: int, delta: float) -> pd.DataFrame:
        rng = np.random.default_rng(seed)
        return pd.DataFrame(
            {
                "amount": rng.normal(100 + 20 * delta, 20, 5_000),
                "country": rng.choice(["US", "DE", "FR"], 5_000, p=[0.5, 0.3, 0.2]),
            }
        )

    orders(1, 0.0).to_parquet(tmp_path / "reference.parquet")
    orders(2, shift).to_parquet(tmp_path / "today.parquet")
    dag_id = f"drift_gate_{int(shift)}"
    source = DRIFT_GATE.format(
        dag_id=dag_id, data=tmp_path / "today.parquet", reference=tmp_path / "reference.parquet"
    )
    run = run_dag(source, dag_id, logical_date=NOW)
    assert run.states == {"drift": state}
    checks = {c["name"]: c["status"] for c in run.xcoms[("drift", "opsguard_result")]["checks"]}
    assert checks["distribution(country)"] == "pass"
    assert checks["distribution(amount)"] == ("pass" if shift == 0 else "fail")
