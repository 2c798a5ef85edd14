"""Data, contracts and counts shared by the quarantine tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa

RUNNER = Path(__file__).with_name("run_gate.py")
# Rows 1..40: every 7th has no amount, every 11th an unknown country (77 would be both).
ROWS = 40


def row(i: int) -> dict[str, Any]:
    return {
        "id": i,
        "amount": None if i % 7 == 0 else float(i),
        "country": "XX" if i % 11 == 0 else "US",
    }


BAD_IDS = sorted(i for i in range(1, ROWS + 1) if i % 7 == 0 or i % 11 == 0)
CLEAN_IDS = sorted(i for i in range(1, ROWS + 1) if i not in BAD_IDS)


def contract(
    *,
    source: dict[str, Any] | None = None,
    level: str = "batch",
    publish_to: str | None = None,
    location: str | None = None,
    min_rows: int = 1,
    on_fail: str = "quarantine",
) -> dict[str, Any]:
    section: dict[str, Any] = {"level": level}
    if publish_to:
        section["publish_to"] = publish_to
    if location:
        section["location"] = location
    spec: dict[str, Any] = {
        "dataset": "orders",
        "schema": {
            "columns": [
                {"name": "id", "type": "integer", "unique": True},
                {"name": "amount", "type": "float", "nullable": False, "min": 0},
                {"name": "country", "type": "string", "allowed": ["US", "DE"]},
            ],
            "extra_columns": "allow",
        },
        "volume": {"min_rows": min_rows},
        "on_fail": on_fail,
        "quarantine": section,
    }
    if source is not None:
        spec["source"] = source
    return spec


def create_tables(url: str, staging: str, target: str | None, ids: list[int]) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    for name in [staging] + ([target] if target else []):
        sa.Table(
            name,
            meta,
            sa.Column("id", sa.Integer()),
            sa.Column("amount", sa.Float()),
            sa.Column("country", sa.String(8)),
        )
    meta.create_all(engine)
    with engine.begin() as connection:
        if ids:
            connection.execute(meta.tables[staging].insert(), [row(i) for i in ids])
    engine.dispose()


def ids(url: str, table: str) -> list[int]:
    """The ids in a table, sorted (duplicates kept); [] when there is no such table."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table(table):
                return []
            rows = connection.execute(sa.text(f"SELECT id FROM {table}")).scalars().all()
    finally:
        engine.dispose()
    return sorted(rows)


def assert_nothing_lost(staged: list[int], *parts: list[int]) -> None:
    """Every staged row is in exactly one part: none lost, none duplicated."""
    together = Counter(i for part in parts for i in part)
    assert together == Counter(staged), (sorted(together.elements()), staged)


def run_gate(spec: dict[str, Any], *, crash_at: str | None = None, **kwargs: Any) -> Any:
    """Run the gate in a new Python process (optionally killed at a crash point)."""
    env = {k: v for k, v in os.environ.items() if k != "OPSGUARD_CRASH_AT"}
    if crash_at:
        env["OPSGUARD_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, str(RUNNER), json.dumps({"contract": spec, **kwargs})],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: Any) -> dict[str, Any]:
    out, err = process.communicate()
    assert process.returncode == 0, err[-3000:]
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def killed(process: Any) -> None:
    _, err = process.communicate()
    assert process.returncode == -9, f"not killed (exit {process.returncode}): {err[-3000:]}"


def gate_batch(
    contract: Any,
    *,
    batch_id: str,
    data: Any = None,
    table: str | None = None,
    on_fail: Any = None,
    store: Any = None,
    now: Any = None,
    context: Any = None,
) -> tuple[Any, Any]:
    """One gate on one batch, through the pipeline every gate task runs (moving data as
    the verdict says): the verdict (None when a crashed try had settled the batch) and
    what happened to the batch."""
    from airflow_opsguard.pipeline import run_gate as pipeline
    from airflow_opsguard.quarantine.settlement import Settlement

    run = pipeline(
        contract,
        batch_id=batch_id,
        data=data,
        table=table,
        on_fail=on_fail,
        store=store,
        now=now,
        identity=context,
        act=True,
    )
    return (None if run.resumed else run.result), run.settlement or Settlement("none")
