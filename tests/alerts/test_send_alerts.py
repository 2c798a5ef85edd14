"""send_alerts on real verdicts and real stores: one alert per incident with every
failing check, dedup across retries and runs, escalation, recovery, a notifier that
fails and comes back, a store that is down, shadow mode."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from alert_helpers import NOW, bad_orders, good_orders, hook_route, orders_contract
from recorders import WebhookRecorder

from airflow_opsguard import validate
from airflow_opsguard.alerts import send_alerts
from airflow_opsguard.alerts.messages import LinkSettings
from airflow_opsguard.store import ResultStore
from airflow_opsguard.store.incidents import IncidentStore

LINKS = LinkSettings(base_url="https://airflow.example.com/")


def check_run(contract, data, store, *, hours=0, context=None, **kwargs):  # type: ignore[no-untyped-def]
    """Validate (and store) one run, then alert on it, ``hours`` after NOW."""
    now = NOW + timedelta(hours=hours)
    result = validate(contract, data=data, now=now, store=store, context=context)
    report = send_alerts(result, contract, store=store, now=now, links=LINKS, **kwargs)
    return result, report


def test_one_alert_lists_all_three_failing_checks_with_their_numbers(
    hook: WebhookRecorder, sqlite_store_url: str
) -> None:
    contract = orders_contract("orders", [hook_route(hook.url)])
    context = {
        "dag_id": "orders_daily",
        "run_id": "scheduled__2026-11-26",
        "task_id": "gate",
        "map_index": -1,
        "try_number": 1,
    }
    with ResultStore(sqlite_store_url) as store:
        result, report = check_run(contract, bad_orders(), store, context=context)
    assert report.events == {"fail"}
    (alert,) = hook.bodies()
    checks = {c["name"]: c for c in alert["checks"]}
    assert set(checks) == {"volume", "unique(order_id)", "range(amount)"}
    assert (checks["volume"]["observed"], checks["volume"]["expected"]) == (3, ">= 5")
    assert checks["unique(order_id)"]["observed"] == 2
    assert checks["range(amount)"]["observed"] == 1
    assert all(c["severity"] == "fail" and c["state"] == "new" for c in checks.values())
    assert alert["title"] == "[opsguard] FAIL orders: 3 checks failed"
    assert alert["run"] == {
        "dag_id": "orders_daily",
        "dag_run_id": "scheduled__2026-11-26",
        "task_id": "gate",
        "map_index": -1,
        "try_number": 1,
        "result_id": result.run_id,
    }
    assert alert["contract_fingerprint"] == contract.fingerprint[:12]
    # Into Airflow's UI: the gate task instance's "Data quality" tab.
    assert alert["report_url"] == (
        "https://airflow.example.com/dags/orders_daily/runs/scheduled__2026-11-26/tasks/gate"
        "/plugin/opsguard-task"
    )
    assert alert["runbook"] == "https://wiki.example.com/runbooks/orders"
    assert alert["owner"] == "data-platform@example.com"
    assert len(alert["incident_ids"]) == 1  # one failure episode, three failing checks
    assert (alert["incident_event"], alert["severity"]) == ("opened", "fail")
    assert alert["incident_key"].startswith("opsguard-")
    assert alert["cause"]["name"] == "volume"  # no check explains another: the first
    text = alert["text"]
    for line in (
        "- FAIL volume: observed 3, expected >= 5 (severity fail, new",
        "- FAIL unique(order_id): observed 2, expected 0 (severity fail, new",
        "- FAIL range(amount): observed 1, expected 0 (severity fail, new",
        "where: dag orders_daily, run scheduled__2026-11-26, task gate, try 1",
        f"contract: {contract.fingerprint[:12]}",
        "owner: data-platform@example.com",
    ):
        assert line in text, text
    assert "s3cr3t" not in str(alert)


def test_dedup_across_runs_then_escalation_then_one_recovery(
    hook: WebhookRecorder, store_url: str, dataset: str
) -> None:
    routes = [hook_route(hook.url, "fail", "escalate")]
    contract = orders_contract(dataset, routes, escalation={"after_failures": 3})
    with ResultStore(store_url) as store:
        for hour in range(4):
            check_run(contract, bad_orders(), store, hours=hour)
        check_run(contract, good_orders(), store, hours=5)
        check_run(contract, good_orders(), store, hours=6)
        incidents = IncidentStore(store).incidents(dataset=dataset, statuses=())
    assert hook.events() == ["fail", "escalate", "recover"]
    escalated = hook.bodies("escalate")[0]
    assert escalated["title"].endswith("3 checks failed, failing for 3 runs")
    recovered = hook.bodies("recover")[0]
    assert recovered["checks"] == []
    assert {c["name"] for c in recovered["recovered"]} == {
        "volume",
        "unique(order_id)",
        "range(amount)",
    }
    assert recovered["title"] == (
        f"[opsguard] RESOLVED {dataset}: passing again after 5h (3 checks over 4 failing runs)"
    )
    assert (recovered["incident_event"], recovered["duration_seconds"]) == ("resolved", 5 * 3600)
    assert recovered["incident_key"] == hook.bodies("fail")[0]["incident_key"]
    (incident,) = incidents
    assert incident.status == "resolved"
    assert incident.failures == 4
    assert incident.opened_at == NOW
    assert incident.escalated_at == NOW + timedelta(hours=2)
    assert incident.resolved_at == NOW + timedelta(hours=5)
    assert {m.failures for m in incident.members} == {4}


def test_a_retry_of_the_same_run_alerts_nothing(
    hook: WebhookRecorder, sqlite_store_url: str
) -> None:
    contract = orders_contract("orders", [hook_route(hook.url)], escalation={"after_failures": 2})
    context = {"dag_id": "d", "run_id": "r", "task_id": "gate", "map_index": -1}
    with ResultStore(sqlite_store_url) as store:
        for attempt in (1, 2, 3):
            check_run(contract, bad_orders(), store, context={**context, "try_number": attempt})
        (incident, *_) = IncidentStore(store).incidents()
    assert hook.events() == ["fail"]  # no escalation either: it is still one run
    assert incident.failures == 1


def test_a_notifier_that_fails_keeps_the_alert_and_the_next_run_sends_it(
    hook: WebhookRecorder, store_url: str, dataset: str
) -> None:
    contract = orders_contract(dataset, [hook_route(hook.url, retries=1)])
    hook.fail_with(500)
    with ResultStore(store_url) as store:
        result, report = check_run(contract, bad_orders(), store)
        assert result.status == "fail"  # delivery never changes a verdict
        assert (report.pending, hook.answers) == (1, [500, 500])
        (kept,) = IncidentStore(store).alerts(dataset=dataset, status="pending")
        assert (
            kept.attempts == 1
            and kept.last_error == "the webhook answered HTTP 500 Internal Server Error"
        )
        hook.recover()
        _, later = check_run(contract, bad_orders(), store, hours=1)
        assert IncidentStore(store).alerts(dataset=dataset, status="pending") == []
        (sent,) = IncidentStore(store).alerts(dataset=dataset, status="sent")
    assert later.events == set()  # the incident is ongoing: nothing new to say
    (alert,) = hook.bodies()
    assert alert["run"]["result_id"] == result.run_id  # the first run's alert, late
    assert sent.attempts == 2


def test_the_store_down_alerts_anyway_and_spools_what_cannot_be_sent(
    hook: WebhookRecorder, tmp_path: Path
) -> None:
    contract = orders_contract("orders", [hook_route(hook.url, retries=0)])
    spool = tmp_path / "spool"
    blocker = tmp_path / "disk"  # a file where the store's folder should be: it is down
    blocker.write_text("not a folder")
    url = f"sqlite:///{blocker / 'opsguard.db'}"
    down = ResultStore(url, spool_dir=spool)
    _, report = check_run(contract, bad_orders(), down, spool_dir=spool)
    assert not report.tracked and report.events == {"fail"}
    check_run(contract, bad_orders(), down, spool_dir=spool)
    assert hook.events() == ["fail", "fail"]  # a duplicate beats a silence
    assert "incident store could not be reached" in hook.bodies()[0]["text"]
    assert len(hook.bodies()[0]["checks"]) == 3
    hook.fail_with(503)
    check_run(contract, bad_orders(), down, spool_dir=spool)
    (kept,) = spool.glob("alerts-*.jsonl")
    assert "s3cr3t" not in kept.read_text()
    hook.recover()
    blocker.unlink()  # the store is back
    with ResultStore(url, spool_dir=spool) as store:
        _, report = check_run(contract, good_orders(), store, spool_dir=spool)
        assert len(store.results()) == 4  # the spooled results are in, too
    assert [a.ok for a in report.resent] == [True]
    assert hook.events() == ["fail", "fail", "fail"]
    assert not kept.exists()


def test_shadow_checks_never_alert_nor_open_incidents(
    hook: WebhookRecorder, sqlite_store_url: str
) -> None:
    contract = orders_contract("orders", [hook_route(hook.url)], mode="shadow")
    with ResultStore(sqlite_store_url) as store:
        result, report = check_run(contract, bad_orders(), store)
        assert IncidentStore(store).incidents() == []
        stored = store.get(result.run_id or "")
    assert (result.status, result.would_be) == ("pass", "fail")
    assert report.events == set() and hook.posts == []
    assert stored is not None and stored.would_be == "fail"
    volume = next(c for c in stored.checks if c.name == "volume")
    assert (volume.status, volume.would_be) == ("pass", "fail")


def test_warnings_go_to_warn_routes_and_recover_there(
    hook: WebhookRecorder, sqlite_store_url: str
) -> None:
    routes = [hook_route(hook.url, "warn"), hook_route(hook.url + "/fails", "fail")]
    contract = orders_contract("orders", routes, volume={"min_rows": 5, "severity": "warn"})
    data = bad_orders().drop_duplicates("order_id").assign(amount=1.0)  # only volume is bad
    with ResultStore(sqlite_store_url) as store:
        check_run(contract, data, store)
        check_run(contract, good_orders(), store, hours=1)
    assert [(p.path.endswith("/fails"), p.body["event"]) for p in hook.posts] == [
        (False, "warn"),
        (False, "recover"),
    ]
    assert hook.bodies("warn")[0]["title"] == "[opsguard] WARN orders: 1 check warned"


def test_gates_racing_on_one_failure_open_one_incident_and_alert_once(
    hook: WebhookRecorder, store_url: str, dataset: str
) -> None:
    contract = orders_contract(dataset, [hook_route(hook.url)])
    results = [validate(contract, data=bad_orders(), now=NOW) for _ in range(4)]
    errors: list[BaseException] = []

    def gate(index: int) -> None:
        try:
            with ResultStore(store_url) as store:
                send_alerts(results[index], contract, store=store, now=NOW, run_key="same-run")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=gate, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with ResultStore(store_url) as store:
        incidents = IncidentStore(store).incidents(dataset=dataset)
    (incident,) = incidents
    assert sorted(m.name for m in incident.members) == [
        "range(amount)",
        "unique(order_id)",
        "volume",
    ]
    assert hook.events() == ["fail"]


def test_without_a_store_every_failing_run_alerts(hook: WebhookRecorder) -> None:
    contract = orders_contract("orders", [hook_route(hook.url)])
    for _ in range(2):
        result = validate(contract, data=bad_orders(), now=NOW)
        send_alerts(result, contract, now=NOW)
    assert hook.events() == ["fail", "fail"]


def test_a_retryable_error_alerts_nothing_until_the_last_try(
    hook: WebhookRecorder, sqlite_store_url: str
) -> None:
    contract = orders_contract("orders", [hook_route(hook.url)])
    result = validate(
        contract, data="postgresql://postgres@127.0.0.1:1/nowhere", table="t", now=NOW
    )
    assert (result.status, result.retryable) == ("error", True)
    with ResultStore(sqlite_store_url) as store:
        early = send_alerts(result, contract, store=store, defer_retryable=True)
        last = send_alerts(result, contract, store=store)
    assert early.deferred and not last.deferred
    (alert,) = hook.bodies()
    assert alert["title"] == "[opsguard] FAIL orders: the data could not be checked"
    assert alert["checks"][0]["name"] == "gate"
    assert (
        "nowhere" in alert["checks"][0]["message"] or "127.0.0.1" in alert["checks"][0]["message"]
    )


@pytest.mark.parametrize("template", ["{base_url}/x/{dataset}/{nope}", "{base_url}/x/{dataset}"])
def test_report_link_templates(template: str) -> None:
    from airflow_opsguard.checks.results import GateResult

    result = GateResult(
        dataset="a b", status="fail", checked_at=NOW, rows=1, checks=(), run_id="r1"
    )
    link = LinkSettings(report_url=template, base_url="https://af.example.com").link(result)
    assert link == (None if "nope" in template else "https://af.example.com/x/a%20b")
