"""The dbt_cosmos_gate example in a real DAG run: astronomer-cosmos runs the dbt project
with the real dbt (.venv-dbt), and the gate with the contract from `opsguard import-dbt`
lets fresh orders through and stops stale ones that pass every dbt test."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from conftest import DAGS, outcome, parse

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "dags_examples"
DBT = REPO / ".venv-dbt" / "bin" / "dbt"
NOW = pendulum.datetime(2026, 11, 26, 12, tz="UTC")


@pytest.fixture(scope="module")
def example() -> Iterator[Path]:
    """The example, its dbt project and contracts in a folder of the DAGs folder."""
    if not DBT.exists():
        message = f"dbt is not installed in {DBT.parent.parent} (make builds it)"
        if os.environ.get("OPSGUARD_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    target = DAGS / "dbt_example"
    target.mkdir()
    shutil.copy(EXAMPLES / "dbt_cosmos_gate.py", target)
    shutil.copytree(EXAMPLES / "dbt_shop", target / "dbt_shop")
    shutil.copytree(EXAMPLES / "contracts", target / "contracts")
    os.environ["OPSGUARD_DBT_EXECUTABLE"] = str(DBT)
    sys.path.insert(0, str(target))
    yield target
    sys.path.remove(str(target))
    os.environ.pop("OPSGUARD_DBT_EXECUTABLE", None)


@pytest.mark.parametrize(
    ("scenario", "gate", "dashboard"),
    [("healthy", "pass", "success"), ("broken", "fail", "upstream_failed")],
)
def test_the_gate_checks_the_dbt_model(
    example: Path, scenario: str, gate: str, dashboard: str
) -> None:
    bag = parse(example)
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag("dbt_cosmos_gate")
    run = outcome(
        dag.test(logical_date=NOW.add(seconds=len(scenario)), run_conf={"scenario": scenario})
    )
    dbt_tasks = {t: s for t, s in run.states.items() if t.startswith("dbt_shop.")}
    assert dbt_tasks and set(dbt_tasks.values()) == {"success"}  # dbt's own tests pass
    assert run.states["orders_gate"] == ("success" if gate == "pass" else "failed")
    assert run.states["build_dashboard"] == dashboard
    verdict = run.xcoms[("orders_gate", "opsguard_result")]
    assert verdict["status"] == gate
    failing = {c["name"] for c in verdict["checks"] if c["status"] == "fail"}
    assert failing == (set() if gate == "pass" else {"freshness(ordered_at)"})
