"""`make demo`: the main job on embedded defaults (SQLite, local files).

1. The `opsguard` command checks a healthy dataset and a broken one.
2. The example DAGs run in a real Airflow (home: .airflow/ at the repo root, SQLite),
   each with healthy data and with the failure it is about, and a table shows what each
   gate decided and what happened to the tasks after it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
# Airflow's home for the demo; the tests run the demo in a home of their own.
AIRFLOW_HOME = Path(os.environ.get("OPSGUARD_DEMO_HOME") or ROOT / ".airflow").resolve()
SCENARIOS = ("healthy", "broken")


def opsguard(*args: str) -> int:
    print(f"\n$ opsguard {' '.join(args)}", flush=True)
    return subprocess.run([str(BIN / "opsguard"), *args], check=False).returncode


def command_line_part() -> bool:
    sys.path.insert(0, str(HERE))
    from example_data import write_example_data

    paths = write_example_data()
    print(f"example data written to {paths['orders'].parent.relative_to(ROOT)}/")
    contracts = HERE.relative_to(ROOT) / "contracts"
    healthy = opsguard("check", str(contracts / "orders.yml"))
    print(f"-> exit code {healthy} (0: pass or warn)")
    broken = opsguard("check", str(contracts / "orders_feed.yml"))
    print(f"-> exit code {broken} (1: fail)")
    opsguard("results", "--limit", "4")
    return (healthy, broken) == (0, 1)


def airflow_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(AIRFLOW_HOME),
        AIRFLOW__CORE__DAGS_FOLDER=str(HERE),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="ERROR",
        # The Spark example's connection: a local session, its JVM bound to loopback.
        AIRFLOW_CONN_OPSGUARD_SPARK='{"conn_type": "spark", "host": "local[1]"}',
        SPARK_LOCAL_IP="127.0.0.1",
    )
    env.pop("OPSGUARD_STORE_URL", None)  # gates store into $AIRFLOW_HOME/opsguard.db
    return env


def airflow_part() -> bool:
    env = airflow_env()
    print(f"\n== example DAGs in Airflow (home {_shown(AIRFLOW_HOME)}/) ==", flush=True)
    migrate = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True
    )
    if migrate.returncode != 0:
        print(migrate.stdout[-3000:], migrate.stderr[-3000:], sep="\n")
        return False
    log = AIRFLOW_HOME / "demo-dags.log"
    print(f"running the example DAGs (task logs in {_shown(log)}) ...", flush=True)
    with log.open("w") as output:
        runner = subprocess.run(
            [sys.executable, str(Path(__file__)), "--run-dags"],
            env=env,
            check=False,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    table = AIRFLOW_HOME / "demo-table.txt"
    print(table.read_text() if table.exists() else f"no results: see {log}")
    return runner.returncode == 0


def run_dags() -> int:
    """Inside the Airflow environment: run every example DAG in every scenario."""
    import logging

    import pendulum
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    logging.disable(logging.WARNING)
    bag = DagBag(str(HERE))
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            print(f"import error in {path}:\n{error}")
        return 1
    rows = []
    outcomes = []
    day = pendulum.now("UTC").start_of("hour")
    for dag_id in sorted(bag.dag_ids):
        dag = bag.get_dag(dag_id)
        for scenario in SCENARIOS:
            run = dag.test(logical_date=day, run_conf={"scenario": scenario})
            with create_session() as session:
                found = {
                    ti.task_id: str(ti.state) for ti in run.get_task_instances(session=session)
                }
                # Upstream tasks first: a task after every task it depends on.
                order = sorted(dag.tasks, key=lambda t: len(t.get_flat_relatives(upstream=True)))
                states = {t.task_id: found.get(t.task_id, "-") for t in order}
                verdicts = session.scalars(
                    select(XComModel).where(
                        XComModel.dag_id == dag_id,
                        XComModel.run_id == run.run_id,
                        XComModel.key == "opsguard_result",
                    )
                ).all()
                statuses = [f"{x.task_id}={_status(x.value)}" for x in verdicts]
            rows.append((dag_id, scenario, ", ".join(statuses) or "-", _states(states)))
            leaves = {t.task_id: states[t.task_id] for t in dag.leaves}
            outcomes.append((dag_id, scenario, leaves))
            day = day.add(seconds=1)  # one run per scenario, each with its own logical date
    width = max(len(r[0]) for r in rows)
    lines = [f"{'DAG'.ljust(width)}  {'scenario':<8}  {'gate verdict':<22}  task states"]
    for dag_id, scenario, verdict, states in rows:
        lines.append(f"{dag_id.ljust(width)}  {scenario:<8}  {verdict:<22}  {states}")
    (AIRFLOW_HOME / "demo-table.txt").write_text("\n".join(lines) + "\n")
    # Healthy data flows to the end; broken data never reaches the last task.
    healthy_ok = all(set(o.values()) == {"success"} for _, s, o in outcomes if s == "healthy")
    broken_caught = all("success" not in o.values() for _, s, o in outcomes if s == "broken")
    return 0 if healthy_ok and broken_caught else 1


def _status(value: object) -> str:
    import json

    data = json.loads(value) if isinstance(value, str | bytes) else value
    return str(data.get("status")) if isinstance(data, dict) else "?"


def _states(states: dict[str, str]) -> str:
    return ", ".join(f"{task}: {state}" for task, state in states.items())


def _shown(path: Path) -> Path:
    """``path`` relative to the repository where it is inside it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def main() -> int:
    os.environ.setdefault("OPSGUARD_HOME", str(ROOT / ".opsguard"))
    cli_ok = command_line_part()
    dags_ok = airflow_part()
    ok = cli_ok and dags_ok
    print("\ndemo finished as expected" if ok else "\ndemo did NOT behave as expected")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run_dags() if "--run-dags" in sys.argv else main())
