"""What drafting a contract costs: ``draft()`` (``opsguard init``) on the benchmark's
orders, against one check of the same file with the drafted contract.

For each size, on the Parquet file of ``data.py`` (generated under
``benchmarks/.data/`` if missing): one untimed warm-up, then ``--repeats`` timed runs
of (a) ``draft(path, out=...)``, which measures the data (one SELECT of aggregates and
a GROUP BY per low-cardinality text column) and profiles the drift columns for the
reference, and (b) ``validate(drafted contract, data=path)``. Prints a Markdown table
of median wall and CPU seconds, with the drafted rules counted. Not a test: no time is
asserted anywhere.

    .venv/bin/python benchmarks/drafting.py --rows 1000000 10000000 [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
    del sys.path[0]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from airflow_opsguard import load_contract, validate  # noqa: E402
from airflow_opsguard.drafting import draft  # noqa: E402
from benchmarks import data  # noqa: E402


def _timed(action: object, repeats: int) -> tuple[float, float, object]:
    walls, cpus, outcome = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        outcome = action()  # type: ignore[operator]
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), outcome


def measure(rows: int, repeats: int) -> str:
    path = data.ensure(ROOT / "benchmarks" / ".data", rows).path
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "orders.yml"

        def drafting() -> object:
            drafted = draft(path, out=out, now=now)
            drafted.write(out)
            return drafted

        drafting()  # warm-up: file metadata and DuckDB caches, as for every contender
        draft_wall, draft_cpu, _ = _timed(drafting, repeats)
        contract = load_contract(out)
        rules = sum(len(c.implied_checks()) for c in contract.schema_.columns)

        def checking() -> object:
            return validate(contract, data=path, now=now)

        result = checking()
        check_wall, check_cpu, _ = _timed(checking, repeats)
    status = f"{result.status}, would be {result.would_be}"  # type: ignore[attr-defined]
    return (
        f"| {rows:,} | {draft_wall:.2f} s ({draft_cpu:.2f} s CPU) | "
        f"{check_wall:.2f} s ({check_cpu:.2f} s CPU) | {rules} column rules, {status} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| rows | opsguard init (draft + profile) | check with the draft | drafted |")
    print("|---|---|---|---|")
    for rows in args.rows:
        print(measure(rows, args.repeats), flush=True)


if __name__ == "__main__":
    main()
