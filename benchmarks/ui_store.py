"""How fast the dashboard's pages come with a big results store: a year of hourly runs
of 50 datasets (438,000 runs, 2.2 million check results, 1.3 million metric values),
open incidents and quarantined batches waiting for review.

Builds the store once (SQLite, through the store's own row builders and migrations;
``--store URL`` reuses or fills another, e.g. PostgreSQL), then asks Airflow's real API
app (plugins mounted as the API server mounts them, SimpleAuthManager, a signed-in
admin's cookie) for each page, in process, and prints the median and worst of
``--runs`` requests per page: the time until the page's whole HTML is there. The pages
are rendered on the server and need nothing else to show their content (their one
script only picks the colour mode), so that is the time to first content.

Not a test: no time is asserted. The target is half a second per page.

    .venv/bin/python benchmarks/ui_store.py [--days 365] [--datasets 50] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

END = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
CHUNK = 5000  # runs per insert


def build(url: str, days: int, datasets: int) -> dict[str, Any]:
    """Fill the store: hourly runs of every dataset over ``days``; what to ask for."""
    import sqlalchemy as sa

    from airflow_opsguard.checks.results import CheckResult, GateResult
    from airflow_opsguard.runtime import attempt_run_id
    from airflow_opsguard.store import ResultStore
    from airflow_opsguard.store.metrics import metric_rows
    from airflow_opsguard.store.rows import check_rows, run_row
    from airflow_opsguard.store.tables import check_results, incidents, metrics, quarantine, runs

    names = [f"dataset_{i:02d}" for i in range(datasets)]
    start = END - timedelta(days=days)
    hours = days * 24
    with ResultStore(url) as store:
        with store.connection() as connection:
            if connection.execute(sa.select(sa.func.count()).select_from(runs)).scalar():
                print("store already filled")
                return _targets(connection, names)
        run_batch: list[dict[str, Any]] = []
        check_batch: list[dict[str, Any]] = []
        metric_batch: list[dict[str, Any]] = []

        def flush() -> None:
            with store.connection(write=True) as connection, connection.begin():
                connection.execute(runs.insert(), run_batch)
                connection.execute(check_results.insert(), check_batch)
                connection.execute(metrics.insert(), metric_batch)
            run_batch.clear()
            check_batch.clear()
            metric_batch.clear()

        began = time.perf_counter()
        for hour in range(hours):
            at = start + timedelta(hours=hour)
            for index, name in enumerate(names):
                bad = (hour + index * 7) % 97 == 0  # now and then, a failing run
                rows = 1000 + (hour % 24) * 40 + index
                context = {
                    "dag_id": f"dag_{index:02d}",
                    "run_id": f"scheduled__{at.isoformat()}",
                    "task_id": "gate",
                    "map_index": -1,
                    "try_number": 1,
                }
                result = _result(name, at, bad, rows, context, CheckResult, GateResult)
                result = _with_id(result, attempt_run_id(context))
                run_batch.append(run_row(result))
                check_batch.extend(check_rows(result))
                metric_batch.extend(metric_rows(result))
            if len(run_batch) >= CHUNK:
                flush()
            if hour % (24 * 30) == 0:
                print(f"  {hour / 24:.0f} days, {time.perf_counter() - began:.0f} s", flush=True)
        if run_batch:
            flush()
        with store.connection(write=True) as connection, connection.begin():
            for index, name in enumerate(names[:10]):
                connection.execute(incidents.insert(), _incident(name, index))
                connection.execute(quarantine.insert(), _batch(name, index))
        print(f"built in {time.perf_counter() - began:.0f} s")
        with store.connection() as connection:
            return _targets(connection, names)


def _result(
    name: str, at: datetime, bad: bool, rows: int, context: dict[str, Any], check: Any, gate: Any
) -> Any:
    newest = at - timedelta(minutes=20 if not bad else 60 * 30)
    drift = 0.05 + (at.hour % 5) / 100 + (0.3 if bad else 0)
    checks = (
        check(
            name="freshness(created_at)",
            type="freshness",
            column="created_at",
            status="fail" if bad else "pass",
            severity="fail",
            message="newest created_at is 20m old; the contract allows 1d",
            observed="20m",
            expected="< 1d",
            metrics={"newest": newest.isoformat(), "age_seconds": (at - newest).total_seconds()},
        ),
        check(
            name="volume",
            type="volume",
            status="pass",
            severity="fail",
            message=f"{rows} rows",
            observed=rows,
            expected="between 500 and 5000",
        ),
        check(
            name="unique(order_id)",
            type="unique",
            column="order_id",
            status="fail" if bad else "pass",
            severity="fail",
            message="no duplicates",
            observed=3 if bad else 0,
            expected=0,
            failing_count=3 if bad else 0,
        ),
        check(
            name="not_null(customer_id)",
            type="not_null",
            column="customer_id",
            status="pass",
            severity="fail",
            message="no nulls",
            observed=0,
            expected=0,
        ),
        check(
            name="distribution(amount)",
            type="distribution",
            column="amount",
            status="warn" if bad else "pass",
            severity="warn",
            message="amount is like the reference",
            observed=round(drift, 4),
            expected="< 0.3 (wasserstein)",
            metrics={
                "method": "wasserstein",
                "statistic": round(drift, 4),
                "warn": 0.15,
                "fail": 0.3,
                "bins": [
                    {"cell": ">= 47", "reference": 0.06, "current": 0.08},
                    {"cell": "[4, 7)", "reference": 0.06, "current": 0.05},
                ],
                "histogram": _histogram(at.hour),  # every bin, as results keep it
            },
        ),
    )
    return gate(
        dataset=name,
        status="fail" if bad else "pass",
        checked_at=at,
        rows=rows,
        checks=checks,
        contract_fingerprint="sha256:" + "c" * 40,
        source=f"s3://lake/{name}/{at:%Y/%m/%d/%H}.parquet",
        duration_ms=800,
        context=context,
        metrics={
            "rows": float(rows),
            "null_fraction(email)": (at.hour % 7) / 1000,
            "mean(amount)": 40 + at.hour % 3,
        },
    )


def _histogram(hour: int) -> dict[str, Any]:
    """A drift result's whole distribution: 20 quantile bins of the reference."""
    from airflow_opsguard.drift.profile import bin_label

    edges = [float(4 + 2 * i) for i in range(19)]
    tilt = (hour % 5) / 400
    current = [round(0.05 + tilt * (i - 9.5) / 9.5, 4) for i in range(20)]
    return {
        "cells": "bins",
        "labels": [bin_label(edges, i) for i in range(20)],
        "edges": edges,
        "reference": [0.05] * 20,
        "current": current,
        "merged": 1,
    }


def _with_id(result: Any, run_id: str) -> Any:
    from dataclasses import replace

    return replace(result, run_id=run_id)


def _incident(name: str, index: int) -> dict[str, Any]:
    at = END - timedelta(hours=index + 1)
    return {
        "dataset": name,
        "check_name": "unique(order_id)",
        "check_type": "unique",
        "column_name": "order_id",
        "open_key": f"bench-{name}",
        "status": "open",
        "severity": "fail",
        "last_status": "fail",
        "failures": 1,
        "opened_at": at,
        "last_failed_at": at,
        "dag_id": f"dag_{index:02d}",
        "task_id": "gate",
        "observed": 3,
        "expected": 0,
        "message": "3 duplicate order_id values",
    }


def _batch(name: str, index: int) -> dict[str, Any]:
    return {
        "batch_id": f"bench-batch-{index}",
        "dataset": name,
        "kind": "file",
        "status": "quarantined",
        "location": f"/nowhere/_quarantine/{name}/bench-batch-{index}",
        "reasons": [{"check": "unique(order_id)", "message": "3 duplicate order_id values"}],
        "details": {},
        "dag_id": f"dag_{index:02d}",
        "task_id": "gate",
        "dag_run_id": "scheduled__x",
        "created_at": END - timedelta(hours=index),
    }


def _targets(connection: Any, names: list[str]) -> dict[str, Any]:
    import sqlalchemy as sa

    from airflow_opsguard.store.tables import runs

    newest = connection.execute(
        sa.select(runs.c.run_id, runs.c.context)
        .where(runs.c.dataset == names[0])
        .order_by(runs.c.checked_at.desc())
        .limit(1)
    ).one()
    return {"dataset": names[0], "run_id": newest.run_id, "context": dict(newest.context)}


def measure(url: str, targets: dict[str, Any], runs: int) -> list[tuple[str, list[float]]]:
    """Each page through Airflow's real API app, ``runs`` times (after one warm-up)."""
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    context = targets["context"]
    task = (
        f"/opsguard/task?dag_id={context['dag_id']}&run_id={quote(context['run_id'], safe='')}"
        f"&task_id=gate&map_index=-1"
    )
    pages = [
        ("overview", "/opsguard/"),
        ("dataset", f"/opsguard/datasets/{targets['dataset']}"),
        ("run report", f"/opsguard/runs/{targets['run_id']}"),
        ("task tab", task),
        ("incidents", "/opsguard/incidents"),
        ("quarantine", "/opsguard/quarantine"),
    ]
    found = []
    with TestClient(create_app("core")) as client:
        answer = client.post("/auth/token", json={"username": "admin", "password": "admin"})
        client.cookies.set("_token", answer.json()["access_token"])
        for name, path in pages:
            times = []
            for attempt in range(runs + 1):
                began = time.perf_counter()
                response = client.get(path)
                took = time.perf_counter() - began
                assert response.status_code == 200, (
                    path,
                    response.status_code,
                    response.text[:300],
                )
                assert "</html>" in response.text
                if attempt:  # the first request warms the app's caches
                    times.append(took)
            found.append((name, times))
    return found


def environment(home: Path, url: str) -> dict[str, str]:
    """An Airflow home with one admin (SimpleAuthManager) reading the store."""
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"admin": "admin"}))
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__SECRET_KEY": "opsguard-benchmark-" + "k" * 48,
        "AIRFLOW__API_AUTH__JWT_SECRET": "opsguard-benchmark-jwt-" + "s" * 48,
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
        "AIRFLOW__OPSGUARD__STORE_URL": url,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--datasets", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--store", help="a store URL to fill (or reuse); default: a new SQLite file"
    )
    parser.add_argument("--home", help="Airflow home (default: a temporary folder)")
    args = parser.parse_args()
    home = Path(args.home or tempfile.mkdtemp(prefix="opsguard-ui-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    url = args.store or f"sqlite:///{home / 'opsguard.db'}"
    os.environ.update(environment(home, url))
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], check=True, capture_output=True)
    print(f"store: {url} ({args.datasets} datasets x {args.days * 24} hourly runs)")
    targets = build(url, args.days, args.datasets)
    print(f"{'page':<12} {'median s':>9} {'worst s':>9}")
    for name, times in measure(url, targets, args.runs):
        print(f"{name:<12} {statistics.median(times):>9.3f} {max(times):>9.3f}")


if __name__ == "__main__":
    main()
