"""Alerts from real DAG runs: the gate operators and the FreshnessSensor alert the
contract's routes (and the task's), once per incident, through a local webhook and a
local mail server. No sleeps: each assertion reads what arrived once dag.test returned.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pendulum
import pytest
from conftest import AIRFLOW_HOME, STORE_URL, parse, run_dag, write_dag

# The recording servers live with the alert tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
from recorders import WebhookRecorder, smtp_server, webhook_server

from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.incidents import IncidentStore

DAY = pendulum.datetime(2026, 11, 26, 12, tz="UTC")

CONTRACT = """\
dataset: {dataset}
owner: data-platform@example.com
runbook: https://wiki.example.com/runbooks/orders
schema:
  columns:
    - {{name: order_id, type: integer, unique: true}}
    - {{name: amount, type: float, min: 0}}
    - {{name: created_at, type: timestamp}}
volume: {{min_rows: 5}}
escalation: {{after_failures: 3}}
{extra}alerts:
{routes}
"""

GATE_DAG = """\
from __future__ import annotations
from datetime import timedelta
import pendulum
from airflow.sdk import DAG, task
from airflow_opsguard.operators import QualityGateOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False, default_args={{"retries": {retries}, "retry_delay": timedelta(0)}}):
    gate = QualityGateOperator(task_id="gate", contract="{contract}", data="{data}"{extra})

    @task
    def train():
        return "trained"

    gate >> train()
"""


def orders(path: Path, *, bad: bool) -> Path:
    """Bad: 3 rows (volume), order_id 2 twice (unique: 2 rows), one negative amount."""
    rows = 3 if bad else 6
    frame = pd.DataFrame(
        {
            "order_id": [1, 2, 2] if bad else list(range(1, 7)),
            "amount": [10.0, -5.0, 7.5] if bad else [1.0] * 6,
            "created_at": pd.to_datetime(["2026-11-26 09:00"] * rows),
        }
    )
    frame.to_parquet(path)
    return path


def hook_route(url: str, events: str = "[fail, escalate]", extra: str = "") -> str:
    return f'  - {{on: {events}, webhook: "{url}", backoff: 0, retries: 1{extra}}}'


def gate_dag(
    tmp_path: Path,
    dag_id: str,
    routes: str,
    *,
    data: str | None = None,
    bad: bool = True,
    contract_extra: str = "",
    retries: int = 0,
    extra: str = "",
) -> str:
    contract = tmp_path / "orders.yml"
    contract.write_text(CONTRACT.format(dataset=dag_id, routes=routes, extra=contract_extra))
    if data is None:
        data = str(orders(tmp_path / "orders.parquet", bad=bad))
    return GATE_DAG.format(
        dag_id=dag_id, contract=contract, data=data, retries=retries, extra=extra
    )


def incidents(dataset: str) -> list:  # type: ignore[type-arg]
    with ResultStore(STORE_URL) as store:
        return IncidentStore(store).incidents(dataset=dataset, statuses=())


@pytest.fixture
def hook() -> Iterator[WebhookRecorder]:
    with webhook_server() as recorder:
        yield recorder


def test_one_alert_lists_the_three_failing_checks_and_no_secret_is_kept_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__OPSGUARD__BASE_URL", "https://airflow.example.com")
    secret = "very-secret-Zq81"
    with webhook_server(f"/services/T1/B1/{secret}") as hook:
        dag = gate_dag(tmp_path, "alerts_three", hook_route(hook.url))
        run = run_dag(dag, "alerts_three", logical_date=DAY)
    assert run.states == {"gate": "failed", "train": "upstream_failed"}
    (alert,) = hook.bodies()
    checks = {c["name"]: (c["status"], c["observed"], c["expected"]) for c in alert["checks"]}
    assert checks == {
        "volume": ("fail", 3, ">= 5"),
        "unique(order_id)": ("fail", 2, 0),
        "range(amount)": ("fail", 1, 0),
    }
    result = run.xcoms[("gate", "opsguard_result")]
    assert alert["run"] == {
        "dag_id": "alerts_three",
        "dag_run_id": run.run_id,
        "task_id": "gate",
        "map_index": -1,
        "try_number": 1,
        "result_id": result["run_id"],
    }
    # The gate task instance's "Data quality" tab, in Airflow's UI.
    assert alert["report_url"] == (
        f"https://airflow.example.com/dags/alerts_three/runs/{quote(run.run_id, safe='')}"
        "/tasks/gate/plugin/opsguard-task"
    )
    assert alert["contract_fingerprint"] == result["contract_fingerprint"][:12]
    assert alert["runbook"] == "https://wiki.example.com/runbooks/orders"
    assert alert["owner"] == "data-platform@example.com"
    assert "3 checks failed" in alert["title"]
    # The webhook's secret path is in no log, stored result, XCom or database file.
    for path in AIRFLOW_HOME.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in json.dumps(list(run.xcoms.values()), default=str)


def test_without_any_address_set_the_alert_links_to_the_tasks_data_quality_tab(
    tmp_path: Path, hook: WebhookRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AIRFLOW__OPSGUARD__BASE_URL", "AIRFLOW__API__BASE_URL", "OPSGUARD_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    dag = gate_dag(tmp_path, "alerts_link", hook_route(hook.url))
    run = run_dag(dag, "alerts_link", logical_date=DAY)
    (alert,) = hook.bodies()
    # Airflow's own fallback for its links ([api] base_url unset), then the gate task
    # instance's page and the plugin's tab: a link without any setting.
    assert alert["report_url"] == (
        f"http://localhost:8080/dags/alerts_link/runs/{quote(run.run_id, safe='')}"
        "/tasks/gate/plugin/opsguard-task"
    )
    assert f"report: {alert['report_url']}" in alert["text"]


def test_dedup_across_retries_and_runs_then_escalation_then_recovery(
    tmp_path: Path, hook: WebhookRecorder
) -> None:
    dag = gate_dag(tmp_path, "alerts_lifecycle", hook_route(hook.url))
    first = run_dag(dag, "alerts_lifecycle", logical_date=DAY, run_after=DAY)
    assert hook.events() == ["fail"]
    # The same DAG run again: dag.test clears its task instances and runs them again, as
    # a clear in the UI does.
    again = run_dag(dag, "alerts_lifecycle", logical_date=DAY, run_after=DAY)
    assert (again.run_id, again.states["gate"]) == (first.run_id, "failed")
    assert hook.events() == ["fail"]  # a retry of the run alerts nothing
    run_dag(dag, "alerts_lifecycle", logical_date=DAY.add(days=1))
    assert hook.events() == ["fail"]  # the next run updates the incidents
    run_dag(dag, "alerts_lifecycle", logical_date=DAY.add(days=2))
    assert hook.events() == ["fail", "escalate"]  # the third failing run escalates
    orders(tmp_path / "orders.parquet", bad=False)
    good = run_dag(dag, "alerts_lifecycle", logical_date=DAY.add(days=3))
    assert good.states == {"gate": "success", "train": "success"}
    assert hook.events() == ["fail", "escalate", "recover"]
    recovered = hook.bodies("recover")[0]
    assert {c["name"] for c in recovered["recovered"]} == {
        "volume",
        "unique(order_id)",
        "range(amount)",
    }
    assert recovered["incident_key"] == hook.bodies("fail")[0]["incident_key"]
    found = incidents("alerts_lifecycle")
    assert len(found) == 1  # one failure episode
    assert {(i.status, i.failures, i.escalated_at is not None) for i in found} == {
        ("resolved", 3, True)
    }
    assert {i.resolved_run_id for i in found} == {good.xcoms[("gate", "opsguard_result")]["run_id"]}


def test_a_notifier_that_fails_never_changes_the_verdict_and_the_next_run_sends_it(
    tmp_path: Path, hook: WebhookRecorder
) -> None:
    dag = gate_dag(tmp_path, "alerts_flaky", hook_route(hook.url))
    hook.fail_with(500)
    first = run_dag(dag, "alerts_flaky", logical_date=DAY)
    assert first.states == {"gate": "failed", "train": "upstream_failed"}
    assert first.xcoms[("gate", "opsguard_result")]["status"] == "fail"
    assert hook.answers == [500, 500]  # tried, retried
    hook.recover()
    run_dag(dag, "alerts_flaky", logical_date=DAY.add(days=1))
    (alert,) = hook.bodies()
    assert alert["event"] == "fail"
    assert alert["run"]["dag_run_id"] == first.run_id  # the first run's alert, sent late


def test_with_the_store_down_the_alerts_still_go_out(tmp_path: Path, hook: WebhookRecorder) -> None:
    blocked = tmp_path / "disk"
    blocked.write_text("a file where the store's folder should be")
    store = f', store="sqlite:///{blocked}/opsguard.db"'
    dag = gate_dag(tmp_path, "alerts_store_down", hook_route(hook.url), extra=store)
    for day in range(2):
        run = run_dag(dag, "alerts_store_down", logical_date=DAY.add(days=day))
        assert run.states == {"gate": "failed", "train": "upstream_failed"}
    assert hook.events() == [
        "fail",
        "fail",
    ]  # no dedup without the store: a duplicate, not a silence
    assert "incident store could not be reached" in hook.bodies()[0]["text"]
    assert len(hook.bodies()[0]["checks"]) == 3


def test_a_shadow_contract_lets_the_run_go_on_and_pages_nobody(
    tmp_path: Path, hook: WebhookRecorder
) -> None:
    dag = gate_dag(tmp_path, "alerts_shadow", hook_route(hook.url), contract_extra="mode: shadow\n")
    run = run_dag(dag, "alerts_shadow", logical_date=DAY)
    assert run.states == {"gate": "success", "train": "success"}
    result = run.xcoms[("gate", "opsguard_result")]
    assert (result["status"], result["would_be"]) == ("pass", "fail")
    shadowed = {c["name"]: c["would_be"] for c in result["checks"] if c["would_be"] != "pass"}
    assert shadowed == {"volume": "fail", "unique(order_id)": "fail", "range(amount)": "fail"}
    assert hook.posts == [] and incidents("alerts_shadow") == []
    with ResultStore(STORE_URL) as stored:
        (kept,) = stored.results(dataset="alerts_shadow")
    assert kept.would_be == "fail"


def test_a_shadow_check_beside_enforced_ones(tmp_path: Path, hook: WebhookRecorder) -> None:
    extra = "checks:\n  - {type: range, column: amount, max: 5, mode: shadow}\n"
    dag = gate_dag(tmp_path, "alerts_shadow_check", hook_route(hook.url), contract_extra=extra)
    run = run_dag(dag, "alerts_shadow_check", logical_date=DAY)
    assert run.states["gate"] == "failed"  # the enforced checks fail
    (alert,) = hook.bodies()
    assert len(alert["checks"]) == 3  # the shadow check would fail too, and is not in it


def test_the_smtp_providers_notifier_mails_the_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("airflow.providers.smtp")
    with smtp_server() as mail:
        connection = {
            "conn_type": "smtp",
            "host": mail.host,
            "port": mail.port,
            "extra": {"disable_tls": True, "disable_ssl": True, "retry_limit": 0},
        }
        monkeypatch.setenv("AIRFLOW_CONN_OPSGUARD_SMTP", json.dumps(connection))
        route = (
            "  - on: [fail]\n"
            "    notifier: airflow.providers.smtp.notifications.smtp.SmtpNotifier\n"
            "    args: {to: oncall@example.com, from_email: opsguard@example.com,"
            " smtp_conn_id: opsguard_smtp, subject: '{{ opsguard.title }} ({{ ti.task_id }})'}\n"
            "    retries: 0"
        )
        run = run_dag(gate_dag(tmp_path, "alerts_smtp", route), "alerts_smtp", logical_date=DAY)
    assert run.states["gate"] == "failed"
    (message,) = mail.messages
    assert message["Subject"] == "[opsguard] FAIL alerts_smtp: 3 checks failed (gate)"
    assert message["To"] == "oncall@example.com"
    (body,) = mail.bodies()
    assert "unique(order_id)" in body and "range(amount)" in body and "volume" in body


NOTIFIER_DAG = """\
from __future__ import annotations
import json
import pandas as pd
import pendulum
from airflow.sdk import DAG, BaseNotifier, task
from airflow_opsguard.operators import QualityGateOperator

OUT = {out!r}


class FileNotifier(BaseNotifier):
    template_fields = ("text",)

    def __init__(self, text):
        super().__init__()
        self.text = text

    def notify(self, context):
        with open(OUT, "a") as f:
            line = {{"text": self.text, "event": context["opsguard"]["event"]}}
            f.write(json.dumps(line) + "\\n")


with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False):
    gate = QualityGateOperator(
        task_id="gate", contract="{contract}", data="{data}", on_fail="warn",
        alerts=[FileNotifier("{{{{ opsguard.title }}}} in {{{{ ti.task_id }}}}")],
    )

    @task.opsguard(contract="{task_contract}", on_fail="warn",
                   alerts=[{{"on": ["fail"], "webhook": "{url}", "backoff": 0}}])
    def build():
        return pd.read_parquet("{data}")

    gate >> build()
"""


def test_operator_alerts_take_notifier_objects_and_route_mappings(
    tmp_path: Path, hook: WebhookRecorder
) -> None:
    contract = tmp_path / "orders.yml"
    contract.write_text(CONTRACT.format(dataset="alerts_objects", routes="  []", extra=""))
    built = tmp_path / "built.yml"
    built.write_text(CONTRACT.format(dataset="alerts_objects_built", routes="  []", extra=""))
    out = tmp_path / "notified.jsonl"
    dag = NOTIFIER_DAG.format(
        dag_id="alerts_objects",
        out=str(out),
        contract=contract,
        task_contract=built,
        data=orders(tmp_path / "orders.parquet", bad=True),
        url=hook.url,
    )
    run = run_dag(dag, "alerts_objects", logical_date=DAY)
    assert run.states == {"gate": "success", "build": "success"}  # on_fail="warn"
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines == [
        {"text": "[opsguard] FAIL alerts_objects: 3 checks failed in gate", "event": "fail"}
    ]
    (alert,) = hook.bodies()
    assert (alert["dataset"], alert["run"]["task_id"]) == ("alerts_objects_built", "build")
    assert len(alert["checks"]) == 3


def test_a_retryable_error_alerts_once_after_the_last_try(
    tmp_path: Path, hook: WebhookRecorder
) -> None:
    down = "postgresql://postgres@127.0.0.1:1/nowhere"
    dag = gate_dag(
        tmp_path,
        "alerts_retry",
        hook_route(hook.url),
        data=down,
        retries=2,
        extra=', table="orders"',
    )
    run = run_dag(dag, "alerts_retry", logical_date=DAY)
    assert (run.states["gate"], run.tries["gate"]) == ("failed", 3)
    (alert,) = hook.bodies()
    assert alert["title"] == "[opsguard] FAIL alerts_retry: the data could not be checked"
    assert alert["run"]["try_number"] == 3


SENSOR_DAG = """\
from __future__ import annotations
from datetime import UTC, datetime, timedelta
from pathlib import Path
import pendulum
from airflow.sdk import DAG
from airflow_opsguard.sensors import FreshnessSensor

DATA = {data!r}


def refresh(context):
    # The upstream team answered the page: the next look finds fresh data.
    Path(DATA).write_text("order_id,created_at\\n1," + datetime.now(UTC).isoformat() + "\\n")


with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False):
    FreshnessSensor(
        task_id="fresh", contract="{contract}", sla=timedelta(0), deferrable=False,
        mode="poke", poke_interval=0.2,
        sla_miss_callback=[{{"webhook": "{url}/callback", "backoff": 0}}, refresh],
    )
"""


def test_the_sensors_sla_miss_goes_through_the_contracts_routes(
    tmp_path: Path, hook: WebhookRecorder
) -> None:
    logical = pendulum.now("UTC").subtract(minutes=1)
    data = tmp_path / "orders.csv"
    data.write_text(f"order_id,created_at\n1,{(logical - timedelta(days=3)).isoformat()}\n")
    contract = tmp_path / "orders.yml"
    contract.write_text(
        "dataset: alerts_sla\n"
        f"source: {{path: {data}}}\n"
        "schema: {columns: [{name: order_id, type: integer},"
        " {name: created_at, type: timestamp}]}\n"
        "freshness: {column: created_at, fail_after: 1d}\n"
        f'alerts:\n  - {{on: [sla_miss], webhook: "{hook.url}", backoff: 0}}\n'
        f'  - {{on: [fail], webhook: "{hook.url}/fail-only", backoff: 0}}\n'
    )
    dag = SENSOR_DAG.format(dag_id="alerts_sla", data=str(data), contract=contract, url=hook.url)
    run = run_dag(dag, "alerts_sla", logical_date=logical)
    assert run.states == {"fresh": "success"}
    assert sorted(p.path.rsplit("/", 1)[-1] for p in hook.posts) == ["callback", "s3cr3t-token"]
    alert = hook.bodies()[0]
    assert alert["event"] == "sla_miss"
    assert alert["title"].startswith("[opsguard] SLA MISSED alerts_sla: data 3d")
    assert alert["run"]["dag_run_id"] == run.run_id


DEADLINE_DAG = """\
from __future__ import annotations
from datetime import timedelta
import pendulum
from airflow.sdk import DAG, task
from airflow_opsguard.alerts import deadline_alert

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False, deadline=deadline_alert(timedelta(hours=2), contract="{contract}")):

    @task
    def work():
        return "done"

    work()
"""


def test_a_dag_with_an_opsguard_deadline_alert_parses_and_serializes(
    tmp_path: Path, hook: WebhookRecorder
) -> None:
    # Not run with dag.test(): in Airflow 3.3.2 a finished dag.test() run of any DAG with a
    # DeadlineAlert fails looking its alerts up by id (they are dicts there). The callback
    # itself is run by Airflow's CallbackTrigger in tests/alerts/test_sla_alerts.py.
    from airflow.serialization.serialized_objects import DagSerialization

    contract = tmp_path / "orders.yml"
    contract.write_text(
        f'dataset: alerts_deadline\nalerts:\n  - {{on: [sla_miss], webhook: "{hook.url}"}}\n'
    )
    bag = parse(write_dag(DEADLINE_DAG.format(dag_id="alerts_deadline", contract=contract)))
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag("alerts_deadline")
    text = json.dumps(DagSerialization.serialize_dag(dag), default=str)
    assert "airflow_opsguard.deadlines.on_deadline_missed" in text
    assert str(contract) in text and "s3cr3t" not in text  # the route stays in the contract
