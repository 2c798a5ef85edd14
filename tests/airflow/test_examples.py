"""The example DAGs: they import cleanly, and each gate catches the failure it is about."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pendulum
import pytest
from conftest import DAGS, outcome, parse

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
NOW = pendulum.datetime(2026, 11, 26, 12, tz="UTC")


@pytest.fixture(scope="module")
def examples() -> Path:
    """The example folder inside the test session's DAGs folder, as a deployment has it."""
    target = DAGS / "examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("data", "__pycache__"))
    sys.path.insert(0, str(target))  # Airflow puts the DAGs folder on the path; so do we
    yield target
    sys.path.remove(str(target))


def dag_ids(folder: Path) -> list[str]:
    return sorted(parse(folder).dag_ids)


def test_every_example_imports_without_errors(examples: Path) -> None:
    bag = parse(examples)
    assert not bag.import_errors, bag.import_errors
    assert "user_features_schema_gate" in bag.dag_ids
    for dag in bag.dags.values():
        assert "opsguard-example" in dag.tags


@pytest.mark.parametrize(
    ("dag_id", "scenario", "gate", "states"),
    [
        (
            "user_features_schema_gate",
            "healthy",
            "pass",
            {"extract_users": "success", "users_gate": "success", "build_features": "success"},
        ),
        (
            "user_features_schema_gate",
            "broken",
            "fail",
            {
                "extract_users": "success",
                "users_gate": "failed",
                "build_features": "upstream_failed",
            },
        ),
        (
            "demand_forecast_freshness",
            "healthy",
            None,
            {"load_sales": "success", "sales_fresh": "success", "forecast": "success"},
        ),
        (
            "demand_forecast_freshness",
            "broken",
            None,
            {"load_sales": "success", "sales_fresh": "failed", "forecast": "upstream_failed"},
        ),
        (
            "recommender_taxonomy_gate",
            "healthy",
            "pass",
            {
                "extract_interactions": "success",
                "interactions_gate": "success",
                "train_recommender": "success",
            },
        ),
        (
            "recommender_taxonomy_gate",
            "broken",
            "fail",
            {
                "extract_interactions": "success",
                "interactions_gate": "skipped",
                "train_recommender": "skipped",
            },
        ),
        (
            "churn_model_drift_gate",
            "healthy",
            "pass",
            {"build_features": "success", "features_gate": "success", "train_model": "success"},
        ),
        (
            "churn_model_drift_gate",
            "broken",
            "fail",
            {
                "build_features": "success",
                "features_gate": "failed",
                "train_model": "upstream_failed",
            },
        ),
    ],
)
def test_examples_catch_their_failure(
    examples: Path, dag_id: str, scenario: str, gate: str | None, states: dict[str, str]
) -> None:
    dag = parse(examples).get_dag(dag_id)
    day = NOW.add(seconds=len(scenario))  # one logical date per scenario
    run = outcome(dag.test(logical_date=day, run_conf={"scenario": scenario}))
    assert run.states == states
    verdicts = {
        task: x["status"] for (task, key), x in run.xcoms.items() if key == "opsguard_result"
    }
    assert set(verdicts.values()) == ({gate} if gate else set())


@pytest.mark.parametrize(
    ("dag_id", "task_id", "failing"),
    [
        (
            "recommender_taxonomy_gate",
            "interactions_gate",
            {"allowed(category)", "distribution(category)"},
        ),
        ("churn_model_drift_gate", "features_gate", {"distribution(monthly_spend)"}),
    ],
)
def test_the_broken_scenarios_fail_for_the_right_reason(
    examples: Path, dag_id: str, task_id: str, failing: set[str]
) -> None:
    dag = parse(examples).get_dag(dag_id)
    run = outcome(dag.test(logical_date=NOW.add(minutes=5), run_conf={"scenario": "broken"}))
    checks = run.xcoms[(task_id, "opsguard_result")]["checks"]
    assert {c["name"] for c in checks if c["status"] == "fail"} == failing
