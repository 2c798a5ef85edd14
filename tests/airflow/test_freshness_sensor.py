"""The FreshnessSensor in real DAG runs, in deferrable, reschedule and poke mode.

The data changes during a run without sleeps in the test: the SLA-miss callback, which
writes one JSON line per call, can also "answer the page" by refreshing the data, so
the next look of the sensor finds it fresh. Every run is in the near past of the wall
clock, because SLAs are decided by the wall clock.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pendulum
import pytest
from conftest import STORE_URL, parse, run_dag, write_dag

from airflow_opsguard.formats import load_contract
from airflow_opsguard.freshness import WaitState, freshness_only, start_waiting
from airflow_opsguard.store import ResultStore, SlaMiss
from airflow_opsguard.triggers.freshness import CLASSPATH, FreshnessTrigger

CONTRACT = """\
dataset: {dataset}
source:
  path: {data}
schema:
  columns:
    - {{name: order_id, type: integer}}
    - {{name: created_at, type: timestamp}}
freshness:
  column: created_at
  fail_after: 1d
"""

DAG = """\
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pendulum
from airflow.sdk import DAG, Asset, BaseNotifier
from airflow_opsguard.sensors import FreshnessSensor

CALLS = __CALLS__
DATA = __DATA__


def record(context):
    age = context["age"]
    line = {
        "dag_id": context["dag_id"], "run_id": context["run_id"],
        "task_id": context["task_id"], "dataset": context["dataset"],
        "age": None if age is None else age.total_seconds(),
        "limit": context["limit"].total_seconds(), "sla": context["sla"].total_seconds(),
        "error": context["error"], "message": context["message"],
        "has_ti": "ti" in context,
    }
    with open(CALLS, "a") as f:
        f.write(json.dumps(line) + "\\n")
    __AFTER__


class FileNotifier(BaseNotifier):
    # A notifier as the Slack and SMTP ones are: templated fields, notify(context).

    template_fields = ("text",)

    def __init__(self, text):
        super().__init__()
        self.text = text

    def notify(self, context):
        with open(CALLS, "a") as f:
            f.write(json.dumps({"text": self.text}) + "\\n")
        __AFTER__


with DAG("__DAG_ID__", schedule=__SCHEDULE__, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False, default_args={"retries": 2, "retry_delay": timedelta(0)}):
    FreshnessSensor(task_id="fresh", __ARGS__)
"""

# What the callback does after recording the call: refresh the data (the upstream team
# answered the page), in each source's terms.
WRITE_FRESH_CSV = (
    'Path(DATA).write_text("order_id,created_at\\n1," + datetime.now(UTC).isoformat() + "\\n")'
)

MODES = {
    "deferrable": "deferrable=True, poke_interval=0.2",
    "reschedule": 'deferrable=False, mode="reschedule", poke_interval=0.5',
    "poke": 'deferrable=False, mode="poke", poke_interval=0.2',
}


def csv(path: Path, created_at: datetime) -> Path:
    path.write_text(f"order_id,created_at\n1,{created_at.isoformat()}\n")
    return path


def contract(tmp_path: Path, dataset: str, data: Path) -> Path:
    path = tmp_path / "orders.yml"
    path.write_text(CONTRACT.format(dataset=dataset, data=data))
    return path


def sensor_dag(
    dag_id: str,
    args: str,
    *,
    calls: Path,
    data: Path | None = None,
    after: str = "pass",
    schedule: str = "None",
) -> str:
    return (
        DAG.replace("__DAG_ID__", dag_id)
        .replace("__CALLS__", repr(str(calls)))
        .replace("__DATA__", repr(str(data)))
        .replace("__AFTER__", after)
        .replace("__SCHEDULE__", schedule)
        .replace("__ARGS__", args)
    )


def calls(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def misses(dag_id: str) -> list[SlaMiss]:
    with ResultStore(STORE_URL) as store:
        return store.sla_misses(dag_id=dag_id)


def reschedules(dag_id: str) -> int:
    """How many times the sensor was rescheduled: each reschedule is a new process."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    query = (
        select(func.count())
        .select_from(TaskReschedule)
        .join(TaskInstance, TaskInstance.id == TaskReschedule.ti_id)
        .where(TaskInstance.dag_id == dag_id)
    )
    with create_session() as session:
        return int(session.scalar(query) or 0)


def just_now() -> pendulum.DateTime:
    """A logical date a minute ago: the run's interval ends then, in the wall clock's past."""
    return pendulum.now("UTC").subtract(minutes=1)


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --------------------------------------------------------------------------- DAG runs


def test_fresh_data_passes_at_once_without_an_alert(tmp_path: Path, mode: str) -> None:
    dag_id = f"fresh_now_{mode}"
    logical = just_now()
    data = csv(tmp_path / "orders.csv", logical - timedelta(hours=1))
    path = contract(tmp_path, dag_id, data)
    log = tmp_path / "calls.jsonl"
    # sla=0: the SLA is due at once, so any wrong "stale" verdict would alert.
    args = f'contract="{path}", sla=timedelta(0), sla_miss_callback=record, {MODES[mode]}'
    run = run_dag(sensor_dag(dag_id, args, calls=log), dag_id, logical_date=logical)
    assert run.states == {"fresh": "success"}
    summary = run.xcoms[("fresh", "return_value")]
    assert summary["status"] == "fresh"
    assert summary["dataset"] == dag_id
    assert summary["age_seconds"] == pytest.approx(3600, abs=1)
    assert summary["limit_seconds"] == 86400
    assert summary["reference"] == logical.isoformat()
    assert calls(log) == []
    assert misses(dag_id) == []


def test_late_data_alerts_once_then_passes_when_it_arrives(tmp_path: Path, mode: str) -> None:
    dag_id = f"late_then_fresh_{mode}"
    logical = just_now()
    data = csv(tmp_path / "orders.csv", logical - timedelta(days=3))
    path = contract(tmp_path, dag_id, data)
    log = tmp_path / "calls.jsonl"
    args = f'contract="{path}", sla=timedelta(0), sla_miss_callback=record, {MODES[mode]}'
    dag = sensor_dag(dag_id, args, calls=log, data=data, after=WRITE_FRESH_CSV)
    run = run_dag(dag, dag_id, logical_date=logical)
    assert run.states == {"fresh": "success"}
    (call,) = calls(log)
    assert call["dag_id"] == dag_id
    assert call["run_id"] == run.run_id
    assert call["task_id"] == "fresh"
    assert call["dataset"] == dag_id
    assert call["age"] == pytest.approx(3 * 86400, abs=5)
    assert (call["limit"], call["sla"]) == (86400, 0)
    assert call["error"] is None
    assert call["has_ti"]  # the task's context comes along, for notifiers' templates
    assert "SLA of 0s missed" in call["message"]
    (miss,) = misses(dag_id)
    assert (miss.run_id, miss.task_id, miss.map_index) == (run.run_id, "fresh", -1)
    assert run.xcoms[("fresh", "return_value")]["status"] == "fresh"


def test_an_airflow_notifier_is_an_sla_miss_callback(tmp_path: Path) -> None:
    dag_id = "notifier_late"
    logical = just_now()
    data = csv(tmp_path / "orders.csv", logical - timedelta(days=3))
    path = contract(tmp_path, dag_id, data)
    log = tmp_path / "calls.jsonl"
    text = "{{ dataset }} is {{ age.days }} days old, SLA {{ sla }} ({{ ti.task_id }})"
    args = f'contract="{path}", sla=0, sla_miss_callback=FileNotifier("{text}"), poke_interval=0.2'
    dag = sensor_dag(dag_id, args, calls=log, data=data, after=WRITE_FRESH_CSV)
    run = run_dag(dag, dag_id, logical_date=logical)
    assert run.states == {"fresh": "success"}
    assert calls(log) == [{"text": "notifier_late is 3 days old, SLA 0:00:00 (fresh)"}]


def test_never_fresh_alerts_once_then_times_out(tmp_path: Path, mode: str) -> None:
    dag_id = f"never_fresh_{mode}"
    data = tmp_path / "orders.csv"
    data.write_text("order_id\n1\n")
    old = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    os.utime(data, (old, old))
    log = tmp_path / "calls.jsonl"
    # Judged against the wall clock, the SLA counts from the sensor's first poke. In
    # deferrable mode it passes while the trigger polls (1s after the first look), so the
    # task resumes to alert and defers again; in the other modes it is due at the first
    # poke, and the later pokes (new processes in reschedule mode) must stay quiet.
    sla = 1 if mode == "deferrable" else 0
    path = contract(tmp_path, dag_id, data)
    args = (
        f'contract="{path}", data="{data}", source="mtime", max_age="1h", '
        f'freshness_reference="now", sla={sla}, sla_miss_callback=[record], timeout=3, '
        + MODES[mode]
    )
    run = run_dag(sensor_dag(dag_id, args, calls=log), dag_id, logical_date=just_now())
    assert run.states == {"fresh": "failed"}
    assert run.tries["fresh"] == 1  # a sensor timeout is final, whatever the retries
    (call,) = calls(log)
    assert call["sla"] == sla
    assert call["limit"] == 3600
    assert 2 * 86400 <= call["age"] < 2 * 86400 + 600  # against the clock, when it fired
    assert len(misses(dag_id)) == 1
    if mode == "reschedule":
        assert reschedules(dag_id) >= 1  # another process poked after the alerting one


def test_an_sla_miss_recorded_before_is_not_alerted_again(tmp_path: Path) -> None:
    """In reschedule mode each poke is a new process: the results store remembers that
    this run's SLA miss was reported (by an earlier try, say), so nobody is paged twice."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.types import DagRunType

    dag_id = "recorded_before"
    logical = just_now()
    run_id = DagRun.generate_run_id(
        run_type=DagRunType.MANUAL, logical_date=logical, run_after=logical
    )
    earlier = SlaMiss(
        dag_id=dag_id,
        run_id=run_id,
        task_id="fresh",
        map_index=-1,
        dataset=dag_id,
        sla=timedelta(0),
        due_at=logical,
        missed_at=logical,
        limit=timedelta(days=1),
        age=None,
        newest=None,
        message="reported by an earlier try",
    )
    with ResultStore(STORE_URL) as store:
        assert store.claim_sla_miss(earlier)
    data = csv(tmp_path / "orders.csv", logical - timedelta(days=3))
    path = contract(tmp_path, dag_id, data)
    log = tmp_path / "calls.jsonl"
    args = (
        f'contract="{path}", sla=timedelta(0), sla_miss_callback=record, timeout=1, '
        + MODES["reschedule"]
    )
    dag = sensor_dag(dag_id, args, calls=log)
    run = run_dag(dag, dag_id, logical_date=logical, run_after=logical)
    assert run.run_id == run_id
    assert run.states == {"fresh": "failed"}
    assert calls(log) == []
    assert [m.message for m in misses(dag_id)] == ["reported by an earlier try"]


@pytest.mark.parametrize("waiting", ["deferrable", "poke"])
def test_with_the_store_down_the_alert_still_goes_out_once(tmp_path: Path, waiting: str) -> None:
    """No store to remember the miss: deferrable mode carries "fired" in the trigger's
    state, poke mode in the running task, so the callback still fires exactly once."""
    dag_id = f"store_down_{waiting}"
    data = csv(tmp_path / "orders.csv", datetime.now(UTC) - timedelta(days=3))
    path = contract(tmp_path, dag_id, data)
    log = tmp_path / "calls.jsonl"
    down = "postgresql://opsguard@127.0.0.1:1/nowhere"
    args = (
        f'contract="{path}", store="{down}", sla=0, sla_miss_callback=record, timeout=2, '
        + MODES[waiting]
    )
    run = run_dag(sensor_dag(dag_id, args, calls=log), dag_id, logical_date=just_now())
    assert run.states == {"fresh": "failed"}
    assert len(calls(log)) == 1
    assert misses(dag_id) == []  # it went nowhere


def test_a_backfill_waits_for_its_own_intervals_data(tmp_path: Path) -> None:
    """Data of 1 March is fresh for the run of 1 March, though months old by the clock.
    (A manual run's interval, as dag.test() makes it, ends at its logical date.)"""
    dag_id = "backfill_march"
    march = pendulum.datetime(2026, 3, 1, tz="UTC")
    data = csv(tmp_path / "orders.csv", march - timedelta(hours=4))
    path = contract(tmp_path, dag_id, data)
    log = tmp_path / "calls.jsonl"
    args = f'contract="{path}", sla=timedelta(hours=2), sla_miss_callback=record, timeout=2'
    dag = sensor_dag(dag_id, args, calls=log, schedule='"@daily"')
    run = run_dag(dag, dag_id, logical_date=march)
    assert run.states == {"fresh": "success"}
    summary = run.xcoms[("fresh", "return_value")]
    assert summary["reference"] == "2026-03-01T00:00:00+00:00"
    assert summary["age_seconds"] == 4 * 3600
    assert calls(log) == []  # the SLA (2h after 1 March) passed long ago: fresh data is no miss


def test_judged_by_the_wall_clock_the_same_backfill_never_passes(tmp_path: Path) -> None:
    dag_id = "backfill_march_clock"
    march = pendulum.datetime(2026, 3, 1, tz="UTC")
    data = csv(tmp_path / "orders.csv", march - timedelta(hours=4))
    path = contract(tmp_path, dag_id, data)
    args = f'contract="{path}", freshness_reference="now", timeout=1, poke_interval=0.2'
    run = run_dag(
        sensor_dag(dag_id, args, calls=tmp_path / "calls.jsonl", schedule='"@daily"'),
        dag_id,
        logical_date=march,
    )
    assert run.states == {"fresh": "failed"}


def test_an_unreadable_source_is_retried_not_fresh(tmp_path: Path, mode: str) -> None:
    """The file is missing at first: not fresh, so the SLA passes and the callback
    writes the file; the next look reads it and the sensor succeeds."""
    dag_id = f"missing_then_there_{mode}"
    data = tmp_path / "orders.csv"
    path = contract(tmp_path, dag_id, data)
    log = tmp_path / "calls.jsonl"
    args = f'contract="{path}", sla=timedelta(0), sla_miss_callback=record, {MODES[mode]}'
    dag = sensor_dag(dag_id, args, calls=log, data=data, after=WRITE_FRESH_CSV)
    run = run_dag(dag, dag_id, logical_date=just_now())
    assert run.states == {"fresh": "success"}
    (call,) = calls(log)
    assert call["age"] is None
    assert "no such file" in call["error"]


def test_a_database_column_is_measured_by_the_engine(tmp_path: Path) -> None:
    import sqlalchemy as sa

    dag_id = "fresh_in_sqlite"
    logical = just_now()
    database = tmp_path / "warehouse.db"
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE orders (order_id INTEGER, created_at TIMESTAMP)"))
        connection.execute(
            sa.text("INSERT INTO orders VALUES (1, :old), (2, :new)"),
            {
                "old": (logical - timedelta(days=9)).naive(),
                "new": (logical - timedelta(hours=5)).naive(),
            },
        )
    engine.dispose()
    path = contract(tmp_path, dag_id, tmp_path / "unused.csv")
    args = f'contract="{path}", data="sqlite:///{database}", table="orders", poke_interval=0.2'
    run = run_dag(
        sensor_dag(dag_id, args, calls=tmp_path / "calls.jsonl"), dag_id, logical_date=logical
    )
    assert run.states == {"fresh": "success"}
    summary = run.xcoms[("fresh", "return_value")]
    assert summary["age_seconds"] == pytest.approx(5 * 3600, abs=1)
    # Named as gate results name their source: the table and the database.
    assert summary["source"] == f"table 'orders' in sqlite:///{database}"


PRODUCER = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG, Asset, task

with DAG("__DAG_ID__", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
    @task(outlets=[Asset("__ASSET__")])
    def publish():
        return "published"

    publish()
"""


@pytest.mark.parametrize("waiting", ["deferrable", "reschedule"])
def test_an_assets_newest_event_is_its_freshness(tmp_path: Path, waiting: str) -> None:
    asset = f"orders_asset_{waiting}"
    producer = f"publish_{waiting}"
    dag_id = f"asset_fresh_{waiting}"
    args = f'asset=Asset("{asset}"), max_age="1h", timeout=1, {MODES[waiting]}'
    log = tmp_path / "calls.jsonl"
    # No event yet: nothing to be fresh.
    before = run_dag(sensor_dag(dag_id, args, calls=log), dag_id, logical_date=just_now())
    assert before.states == {"fresh": "failed"}
    published = run_dag(
        PRODUCER.replace("__DAG_ID__", producer).replace("__ASSET__", asset), producer
    )
    assert published.states == {"publish": "success"}
    after = run_dag(sensor_dag(dag_id, args, calls=log), dag_id, logical_date=just_now())
    assert after.states == {"fresh": "success"}
    summary = after.xcoms[("fresh", "return_value")]
    assert summary["source"] == f"asset {asset!r}"
    assert summary["dataset"] == asset
    assert abs(summary["age_seconds"]) < 3600


# --------------------------------------------------------------------------- parse time


@pytest.mark.parametrize(
    ("args", "expected", "names_file"),
    [
        ('contract="{plain}"', "the contract has no freshness section", True),
        ('contract="{plain}", max_age="1h"', "source='column' needs freshness.column", True),
        ('contract="{plain}", max_age="1h", source="mtime"', "source='mtime' needs a file", True),
        ('asset=Asset("a")', "asset= needs max_age=", False),
        (
            'contract="{full}", deferrable=True, mode="reschedule"',
            "mode='reschedule' needs deferrable=False",
            False,
        ),
        ('contract="{full}", sla_miss_callback=record', "sla_miss_callback needs sla=", False),
        ('contract="{full}", sla="soon"', "sla: 'soon' is not a duration", False),
        ('contract="{full}", sla_miss_callback="page me", sla=1', "must be a callable", False),
    ],
)
def test_bad_arguments_are_import_errors_naming_task_and_file(
    tmp_path: Path, args: str, expected: str, names_file: bool
) -> None:
    plain = tmp_path / "plain.yml"
    plain.write_text("dataset: plain\n")
    full = contract(tmp_path, "full", tmp_path / "orders.csv")
    source = sensor_dag(
        "sensor_args", args.format(plain=plain, full=full), calls=tmp_path / "calls.jsonl"
    )
    bag = parse(write_dag(source, "sensor_args"))
    (error,) = bag.import_errors.values()
    assert expected in error
    assert "fresh" in error  # the task
    if names_file:
        assert f"fresh ({plain})" in error


# --------------------------------------------------------------------------- trigger


def trigger_for(tmp_path: Path, created_at: datetime, **state: Any) -> FreshnessTrigger:
    data = csv(tmp_path / "orders.csv", created_at)
    spec = freshness_only(load_contract(contract(tmp_path, "orders", data)))
    now = datetime.now(UTC)
    wait = start_waiting(
        now=now, started_at=None, reference=now, timeout=timedelta(hours=1), sla=None
    )
    fields = {**wait.to_json(), **state}
    return FreshnessTrigger(
        dataset="orders",
        source="column",
        limit_seconds=86400,
        poke_interval=0.01,
        state=fields,
        contract=spec.model_dump(mode="json", by_alias=True),
        contract_origin=spec.origin,
    )


def first_event(trigger: FreshnessTrigger) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger yielded nothing")

    return asyncio.run(first())


def test_the_trigger_serializes_to_json_and_back(tmp_path: Path) -> None:
    trigger = trigger_for(tmp_path, datetime.now(UTC))
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH
    again = FreshnessTrigger(**json.loads(json.dumps(kwargs)))
    assert again.serialize() == (classpath, kwargs)
    rebuilt = again.load_contract()
    original = trigger.load_contract()
    assert rebuilt is not None and original is not None
    assert rebuilt == original
    assert rebuilt.origin == original.origin
    assert rebuilt.freshness is not None
    assert rebuilt.freshness.fail_after == timedelta(days=1)


def test_the_trigger_reports_fresh_data(tmp_path: Path) -> None:
    event = first_event(trigger_for(tmp_path, datetime.now(UTC) - timedelta(hours=2)))
    assert event["status"] == "fresh"
    assert event["reading"]["age_seconds"] == pytest.approx(7200, abs=5)
    assert WaitState.from_json(event["state"]).sla_fired is False


def test_the_trigger_wakes_the_task_when_the_sla_passes(tmp_path: Path) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    trigger = trigger_for(tmp_path, datetime.now(UTC) - timedelta(days=3), sla_due_at=past)
    event = first_event(trigger)
    assert event["status"] == "sla_missed"
    assert "3d" in event["message"]


def test_the_trigger_does_not_wake_the_task_twice_for_one_sla(tmp_path: Path) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    trigger = trigger_for(
        tmp_path,
        datetime.now(UTC) - timedelta(days=3),
        sla_due_at=past,
        sla_fired=True,
        deadline=past,
    )
    event = first_event(trigger)
    assert event["status"] == "timeout"
    assert event["reading"]["status"] == "stale"


def test_the_trigger_keeps_polling_a_source_that_cannot_be_read(tmp_path: Path) -> None:
    trigger = trigger_for(tmp_path, datetime.now(UTC))
    (tmp_path / "orders.csv").unlink()
    trigger.state["deadline"] = datetime.now(UTC).isoformat()
    event = first_event(trigger)
    assert event["status"] == "timeout"  # not "fresh"
    assert "no such file" in event["reading"]["error"]


@pytest.mark.parametrize(("tolerance", "status"), [(None, "sla_missed"), ("1d", "fresh")])
def test_the_trigger_judges_future_timestamps_as_the_gate_does(
    tmp_path: Path, tolerance: str | None, status: str
) -> None:
    """A newest value 2h ahead of the clock is a bad timestamp, unless the contract's
    freshness.future_tolerance allows that much clock skew (the gate reads the same key)."""
    data = csv(tmp_path / "orders.csv", datetime.now(UTC) + timedelta(hours=2))
    path = contract(tmp_path, "orders", data)
    if tolerance is not None:
        path.write_text(path.read_text() + f"  future_tolerance: {tolerance}\n")
    spec = freshness_only(load_contract(path))
    now = datetime.now(UTC)
    past = (now - timedelta(minutes=1)).isoformat()
    wait = start_waiting(
        now=now, started_at=None, reference=now, timeout=timedelta(hours=1), sla=None
    )
    trigger = FreshnessTrigger(
        dataset="orders",
        source="column",
        limit_seconds=86400,
        poke_interval=0.01,
        state={**wait.to_json(), "sla_due_at": past},
        contract=spec.model_dump(mode="json", by_alias=True),
        contract_origin=spec.origin,
    )
    event = first_event(trigger)
    assert event["status"] == status
    if status == "sla_missed":
        assert "in the future" in event["message"]
