"""`opsguard check` alerts the contract's routes; `opsguard incidents` lists, acknowledges,
resolves and measures incidents. Run as users run them: the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from alert_helpers import bad_orders, good_orders
from recorders import WebhookRecorder

OPSGUARD = str(Path(sys.executable).with_name("opsguard"))
NOW = "2026-11-26T12:00:00"

CONTRACT = """\
dataset: orders
owner: data-platform@example.com
schema:
  columns:
    - {{name: order_id, type: integer, unique: true}}
    - {{name: amount, type: float, min: 0}}
    - {{name: created_at, type: timestamp}}
freshness: {{column: created_at, fail_after: 1d}}
volume: {{min_rows: 5}}
alerts:
  - {{on: [fail, escalate], webhook: "{url}", backoff: 0}}
"""


def opsguard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPSGUARD, *args], capture_output=True, text=True, check=False)


@pytest.fixture
def work(tmp_path: Path, hook: WebhookRecorder) -> Path:
    (tmp_path / "orders.yml").write_text(CONTRACT.format(url=hook.url))
    bad_orders().to_parquet(tmp_path / "bad.parquet")
    good_orders().to_parquet(tmp_path / "good.parquet")
    return tmp_path


def check(work: Path, data: str, *extra: str) -> subprocess.CompletedProcess[str]:
    store = f"sqlite:///{work / 'store.db'}"
    return opsguard(
        "check", str(work / "orders.yml"), "--data", str(work / data), "--now", NOW,
        "--store", store, *extra,
    )  # fmt: skip


def incidents(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return opsguard("incidents", *args, "--store", f"sqlite:///{work / 'store.db'}")


def test_check_alerts_once_then_no_alerts_silences(work: Path, hook: WebhookRecorder) -> None:
    assert check(work, "bad.parquet").returncode == 1
    assert check(work, "bad.parquet").returncode == 1  # same incident: no second alert
    assert hook.events() == ["fail"]
    alert = hook.bodies()[0]
    assert {c["name"] for c in alert["checks"]} == {"volume", "unique(order_id)", "range(amount)"}
    assert alert["owner"] == "data-platform@example.com"
    assert check(work, "good.parquet", "--no-alerts").returncode == 0
    assert hook.events() == ["fail"]  # silenced: no recovery notice either


def test_a_webhook_that_fails_is_reported_on_stderr_and_kept(
    work: Path, hook: WebhookRecorder
) -> None:
    hook.fail_with(500)
    proc = check(work, "bad.parquet")
    assert proc.returncode == 1  # the verdict, whatever the delivery
    assert "alert fail to webhook http://127.0.0.1:" in proc.stderr
    assert "kept to send again" in proc.stderr
    assert "s3cr3t" not in proc.stderr + proc.stdout
    hook.recover()
    check(work, "bad.parquet")
    assert hook.events() == ["fail"]


def test_incidents_list_ack_resolve_stats(work: Path, hook: WebhookRecorder) -> None:
    check(work, "bad.parquet")
    listed = incidents(work, "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    (found,) = json.loads(listed.stdout)  # one failure episode, three failing checks
    assert {m["name"] for m in found["members"]} == {"volume", "unique(order_id)", "range(amount)"}
    assert (found["check"], found["status"], found["observed"], found["expected"]) == (
        "volume",
        "open",
        3,
        ">= 5",
    )
    assert found["incident_key"].startswith("opsguard-")
    text = incidents(work, "list").stdout
    assert f"#{found['id']}" in text
    assert "orders / volume (+2: unique(order_id), range(amount)): fail, 1 failing run(s)" in text

    acked = incidents(work, "ack", str(found["id"]), "--by", "alice", "--format", "json")
    assert json.loads(acked.stdout)["acknowledged_by"] == "alice"
    again = incidents(work, "ack", str(found["id"]))
    assert again.returncode == 2
    assert (
        again.stderr.strip()
        == f"opsguard: incident #{found['id']} is acknowledged; it cannot be acknowledged now"
    )
    resolved = incidents(work, "resolve", f"#{found['id']}", "--format", "json")
    assert json.loads(resolved.stdout)["status"] == "resolved"
    assert incidents(work, "resolve", "999").stderr.strip() == "opsguard: no incident #999"

    check(work, "bad.parquet")  # resolved by hand: the next failing run opens a new one
    check(work, "good.parquet")  # and the passing run resolves it: one notice
    assert hook.events() == ["fail", "fail", "recover"]
    stats = json.loads(incidents(work, "stats", "--format", "json").stdout)
    assert (stats["total"], stats["open"], stats["resolved"]) == (2, 0, 2)
    assert stats["datasets"]["orders"]["total"] == 2
    # Detected at --now (12:00); the newest row of the failing data was 11:00.
    assert stats["mean_time_to_detect_seconds"] == 3600
    assert stats["mean_time_to_resolve_seconds"] is not None
    assert stats["pending_alerts"] == 0
    assert "mean time to detect:      1h" in incidents(work, "stats").stdout
    assert incidents(work, "list").stdout.strip() == "no incidents"
    assert (
        len(json.loads(incidents(work, "list", "--status", "all", "--format", "json").stdout)) == 2
    )
