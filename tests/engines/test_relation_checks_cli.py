"""expression, reference and reconcile checks through the `opsguard` command: the JSON
of `check --format json`, and a missing table as one line on stderr with exit code 2."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

OPSGUARD = str(Path(sys.executable).with_name("opsguard"))

CONTRACT = """\
dataset: orders
source:
  url: sqlite:///shop.db
  table: orders
checks:
  - type: expression
    expression: shipped_at >= ordered_at
  - type: reference
    column: customer_id
    to: {{table: {customers}, column: id}}
    severity: warn
  - type: reconcile
    metric: sum
    column: amount
    to: {{table: orders_archive, column: total, where: "total > 0"}}
    tolerance: 0.01
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.executescript(
            """
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
            INSERT INTO customers VALUES (1, 'ann'), (2, 'bob');
            CREATE TABLE orders (order_id INTEGER, customer_id INTEGER, amount REAL,
                                 ordered_at TEXT, shipped_at TEXT);
            INSERT INTO orders VALUES
                (1, 1, 10.0, '2026-11-01', '2026-11-02'),
                (2, 2, 20.0, '2026-11-03', '2026-11-02'),
                (3, 7, 30.0, '2026-11-03', NULL);
            CREATE TABLE orders_archive (total REAL);
            INSERT INTO orders_archive VALUES (10.0), (20.0), (30.2), (-5.0);
            """
        )
    return tmp_path


def run(workdir: Path, customers: str = "customers", *, alone: bool = False) -> Any:
    text = CONTRACT.format(customers=customers)
    if alone:  # the reference check alone: no failing check outranks its error
        head, _, rest = text.partition(
            "  - type: expression\n    expression: shipped_at >= ordered_at\n"
        )
        text = head + rest.partition("  - type: reconcile")[0]
    (workdir / "orders.yml").write_text(text)
    command = [OPSGUARD, "check", str(workdir / "orders.yml"), "--format", "json", "--no-store"]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_the_json_of_the_three_checks(shop: Path) -> None:
    proc = run(shop)
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "fail"
    expression, reference, reconcile = result["checks"]
    assert expression["name"] == "expression(shipped_at >= ordered_at)"
    assert (expression["type"], expression["status"], expression["failing_count"]) == (
        "expression",
        "fail",
        2,
    )
    assert expression["failing_fraction"] == pytest.approx(2 / 3, abs=1e-6)
    assert sorted(expression["samples"], key=str) == sorted(
        [
            {"shipped_at": "2026-11-02", "ordered_at": "2026-11-03"},
            {"shipped_at": None, "ordered_at": "2026-11-03"},
        ],
        key=str,
    )
    assert reference["type"] == "reference"
    assert (reference["status"], reference["severity"], reference["samples"]) == (
        "warn",
        "warn",
        [7],
    )
    assert reference["name"] == "reference(customer_id -> customers.id)"
    assert reconcile["type"] == "reconcile"
    assert (reconcile["status"], reconcile["observed"], reconcile["expected"]) == (
        "pass",
        60.0,
        pytest.approx(60.2),
    )
    assert reconcile["metrics"]["difference"] == pytest.approx(0.2)


@pytest.mark.parametrize("customers", ["no_such_table", "'customers; DROP TABLE orders; --'"])
def test_a_missing_reference_table_exits_2_with_one_line(shop: Path, customers: str) -> None:
    proc = run(shop, customers, alone=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["status"] == "error"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    shown = customers.strip("'")
    assert lines[0].startswith(f"opsguard: reference(customer_id -> {shown}.id): ")
    assert f"table {shown!r} does not exist in sqlite:///" in lines[0]
    with sqlite3.connect(shop / "shop.db") as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (3,)
