"""PostgreSQL end to end: ``opsguard check`` as a fresh process (start-up included)
against one hand-written aggregate statement, also a fresh process, on the same table.

    .venv/bin/python benchmarks/pg_end_to_end.py --rows 5000000 10000000

Eight checks (schema, not null on four columns, unique, range, allowed set, freshness)
on the SQL benchmark's tables (``sql_data.py``, database ``opsguard_bench``), twice per
size: the table as generated (no constraints) and a copy with a primary key on
``order_id`` and NOT NULL on the columns that have no nulls, where opsguard takes the
constraints' word for those checks (docs/performance.md). The hand-written statement
counts the same numbers in one scan, duplicates by a GROUP BY in a subquery; the numbers
are compared after every run. Not a test: see benchmarks/README.md.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
    del sys.path[0]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from benchmarks import frames, report, sql_data  # noqa: E402
from benchmarks.agreement import AMOUNT_MAX, AMOUNT_MIN, COUNTRIES, NOW  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
OPSGUARD = str(ROOT / ".venv" / "bin" / "opsguard")

# The hand-written statement, run by a fresh Python process with psycopg; it prints
# its numbers as JSON. The table name is the benchmark's own, never input.
HAND = """
import json, sys, psycopg
dsn, table = sys.argv[1], sys.argv[2]
with psycopg.connect(dsn) as connection:
    row = connection.execute(f'''
SELECT count(*),
  count(*) - count(order_id), count(*) - count(amount),
  count(*) - count(created_at), count(*) - count(status),
  (SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {table}
     WHERE order_id IS NOT NULL GROUP BY order_id HAVING count(*) > 1) AS d),
  count(*) FILTER (WHERE amount < %(low)s OR amount > %(high)s),
  count(*) FILTER (WHERE country <> ALL(%(countries)s)),
  max(created_at)
FROM {table}''', {"low": LOW, "high": HIGH, "countries": COUNTRIES}).fetchone()
    types = connection.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = %s ORDER BY ordinal_position", (table,)).fetchall()
print(json.dumps({"row": [str(v) if not isinstance(v, int) else v for v in row],
                  "types": types}))
"""
KEYS = (
    "rows",
    "nulls(order_id)",
    "nulls(amount)",
    "nulls(created_at)",
    "nulls(status)",
    "duplicated_rows(order_id)",
    "out_of_range(amount)",
    "not_in_set(country)",
    "newest(created_at)",
)


def constrained_copy(table: str) -> str:
    """A copy of ``table`` with a primary key and NOT NULL where the data has no nulls,
    kept between runs (its comment says it is complete)."""
    import sqlalchemy as sa

    copy = f"{table}_pk"
    engine = sa.create_engine(sql_data.database_url())
    with engine.begin() as connection:
        done = connection.exec_driver_sql(
            f"SELECT obj_description(to_regclass('{copy}'), 'pg_class')"
        ).scalar()
        if done != "complete":
            print(f"  copying {table} to {copy} with constraints", flush=True)
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {copy}")
            connection.exec_driver_sql(f"CREATE TABLE {copy} AS SELECT * FROM {table}")
            connection.exec_driver_sql(f"ALTER TABLE {copy} ADD PRIMARY KEY (order_id)")
            for column in ("created_at", "status"):
                connection.exec_driver_sql(f"ALTER TABLE {copy} ALTER {column} SET NOT NULL")
            connection.exec_driver_sql(f"ANALYZE {copy}")
            connection.exec_driver_sql(f"COMMENT ON TABLE {copy} IS 'complete'")
    engine.dispose()
    return copy


def run_opsguard(contract_path: str) -> tuple[float, dict[str, Any], list[str]]:
    started = time.perf_counter()
    done = subprocess.run(
        [OPSGUARD, "check", contract_path, "--format", "json", "--no-store", "--no-alerts",
         "--now", NOW.isoformat()],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"opsguard check exited {done.returncode}: {done.stderr[-500:]}")
    result = json.loads(done.stdout)
    checks = {c["name"]: c for c in result["checks"]}
    numbers: dict[str, Any] = {"rows": result["rows"]}
    for name, key in frames.OUR_COUNTS.items():
        numbers[key] = checks[name]["failing_count"]
    numbers["newest(created_at)"] = checks["freshness(created_at)"]["metrics"]["newest"][:19]
    numbers["schema_ok"] = all(
        c["status"] == "pass" for c in checks.values() if c["type"] == "schema"
    )
    proven = sorted(name for name, c in checks.items() if "proven_by" in (c.get("metrics") or {}))
    return elapsed, numbers, proven


def run_hand(table: str) -> tuple[float, dict[str, Any]]:
    code = (
        HAND.replace("LOW", str(AMOUNT_MIN))
        .replace("HIGH", str(AMOUNT_MAX))
        .replace("COUNTRIES", repr(list(COUNTRIES)))
    )
    dsn = sql_data.database_url().replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    done = subprocess.run(
        [PYTHON, "-c", code, dsn, table], capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    found = json.loads(done.stdout)
    numbers = dict(zip(KEYS, found["row"], strict=True))
    numbers = {k: int(v) if k != "newest(created_at)" else str(v)[:19] for k, v in numbers.items()}
    numbers["newest(created_at)"] = numbers["newest(created_at)"].replace(" ", "T")
    numbers["schema_ok"] = [name for name, _ in found["types"]] == list(frames.COLUMNS)
    return elapsed, numbers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="opsguard check vs one hand-written query")
    parser.add_argument("--rows", type=int, nargs="+", default=[5_000_000, 10_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS_PG.md")
    args = parser.parse_args(argv)
    load_start = report.load()
    rows_out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            plain = sql_data.ensure_table(rows)
            for table in (plain, constrained_copy(plain)):
                contract = {
                    **frames.CONTRACT,
                    "dataset": "orders_pg",
                    "source": {"url": sql_data.database_url(), "table": table},
                }
                path = os.path.join(folder, f"{table}.json")  # JSON is YAML
                Path(path).write_text(json.dumps(contract), encoding="utf-8")
                ours, hand, proven = [], [], []
                for attempt in range(args.repeats + 1):  # attempt 0 warms the caches
                    seconds, numbers, proven = run_opsguard(path)
                    hand_seconds, expected = run_hand(table)
                    wrong = {k for k in expected if expected[k] != numbers.get(k)}
                    if wrong:
                        raise AssertionError(f"{table}: opsguard and the query differ on {wrong}")
                    print(f"  {table} {attempt or 'warm-up'}: opsguard {seconds:.2f} s, "
                          f"hand-written {hand_seconds:.2f} s", flush=True)  # fmt: skip
                    if attempt:
                        ours.append(seconds)
                        hand.append(hand_seconds)
                rows_out.append(
                    {"rows": rows, "table": table, "ours": ours, "hand": hand, "proven": proven}
                )
    lines = [
        "# PostgreSQL end to end: `opsguard check` vs one hand-written query",
        "",
        f"Command: `.venv/bin/python benchmarks/pg_end_to_end.py {' '.join(sys.argv[1:])}`  ",
        f"Finished: {report.now()}; load average at the start {load_start}, "
        f"at the end {report.load()}",
        "",
        "Each run a fresh process (start-up included), median of "
        f"{args.repeats}; numbers compared after every run.",
        "",
        "| rows | table | opsguard check | hand-written query | ratio | proven by constraints |",
        "|---:|---|---:|---:|---:|---|",
    ]
    for item in rows_out:
        ours, hand = statistics.median(item["ours"]), statistics.median(item["hand"])
        lines.append(
            f"| {item['rows']:,} | {item['table']} | {ours:.2f} s | {hand:.2f} s "
            f"| {ours / hand:.2f}x | {', '.join(item['proven']) or '-'} |"
        )
    text = "\n".join(lines)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
