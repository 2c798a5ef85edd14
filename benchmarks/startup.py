"""What installing airflow-opsguard costs processes that never run a gate, and what the
``opsguard`` command costs before it checks anything.

Each variant runs in a fresh Python process, as Airflow's task runner, scheduler and DAG
processor do, or as a shell calls the CLI:

- ``python``: the interpreter alone (the floor);
- ``airflow plugins`` / ``+ opsguard``: ``import airflow.plugins_manager``, then the
  same plus what Airflow loads of this package in every process: the ``airflow.plugins``
  entry point (the plugin, instantiated) and the provider's ``get_provider_info()``;
- ``opsguard --help`` and ``opsguard check`` on a 5,000-row Parquet file (no store)
  and with a fresh SQLite store (its migrations on first use, then a recorded verdict);
- the phases of one ``check`` inside one process: imports, loading the contract,
  measuring and judging, opening the store and recording the verdict.

Prints the median and spread of ``--runs`` runs (default 7) per variant, in seconds.
Not a test: no time is asserted anywhere.

    .venv/bin/python benchmarks/startup.py [--runs 7]
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

BIN = Path(sys.executable).parent
CONTRACT = """\
dataset: startup
source: {path: data.parquet}
schema:
  columns:
    - {name: id, type: integer, nullable: false, unique: true}
    - {name: amount, type: float, min: 0}
    - {name: country, type: string, allowed: [US, DE, FR]}
volume: {min_rows: 1}
"""
ENTRY_POINTS = """\
import airflow.plugins_manager
from importlib.metadata import distribution
for ep in distribution("airflow-opsguard").entry_points:
    if ep.group in ("airflow.plugins", "apache_airflow_provider"):
        ep.load()()
"""
PHASES = """\
import json, sys, time
marks = [("start", time.perf_counter())]
from airflow_opsguard import load_contract, validate
from airflow_opsguard.store import ResultStore
marks.append(("imports", time.perf_counter()))
contract = load_contract("contract.yml")
marks.append(("load contract", time.perf_counter()))
result = validate(contract)
marks.append(("measure and judge", time.perf_counter()))
ResultStore(sys.argv[1]).record(result)
marks.append(("open store and record", time.perf_counter()))
print(json.dumps({b[0]: b[1] - a[1] for a, b in zip(marks, marks[1:])}))
"""


def variants(folder: Path) -> dict[str, list[str]]:
    python, opsguard = str(BIN / "python"), str(BIN / "opsguard")
    store = f"sqlite:///{folder / 'store.db'}"
    check = [opsguard, "check", "contract.yml", "--no-alerts", "--format", "json"]
    return {
        "python": [python, "-c", "pass"],
        "airflow plugins": [python, "-c", "import airflow.plugins_manager"],
        "airflow plugins + opsguard": [python, "-c", ENTRY_POINTS],
        "opsguard --help": [opsguard, "--help"],
        "opsguard check (no store)": [*check, "--no-store"],
        "opsguard check (SQLite store)": [*check, "--store", store],
    }


def prepare(folder: Path) -> None:
    import pandas as pd

    rows = 5000
    pd.DataFrame(
        {
            "id": range(rows),
            "amount": [float(i % 500) for i in range(rows)],
            "country": [("US", "DE", "FR")[i % 3] for i in range(rows)],
        }
    ).to_parquet(folder / "data.parquet")
    (folder / "contract.yml").write_text(CONTRACT)


def timed(command: list[str], folder: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=folder, capture_output=True, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per variant (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opsguard-startup-") as name:
        folder = Path(name)
        prepare(folder)
        commands = variants(folder)
        for command in commands.values():
            timed(command, folder)  # warm the file system cache
        print(
            f"{args.runs} runs per variant, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
        )
        print("| process | median (s) | min-max (s) |")
        print("|---|---|---|")
        for label, command in commands.items():
            times = [timed(command, folder) for _ in range(args.runs)]
            print(
                f"| {label} | {statistics.median(times):.2f} | {min(times):.2f}-{max(times):.2f} |"
            )
        phases: dict[str, list[float]] = {}
        for run in range(args.runs):
            store = f"sqlite:///{folder / f'phases-{run}.db'}"
            out = subprocess.run(
                [str(BIN / "python"), "-c", PHASES, store],
                cwd=folder,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for phase, seconds in json.loads(out.splitlines()[-1]).items():
                phases.setdefault(phase, []).append(seconds)
        print("\n| phase of one check (fresh store) | median (s) |")
        print("|---|---|")
        for phase, times in phases.items():
            print(f"| {phase} | {statistics.median(times):.3f} |")


if __name__ == "__main__":
    main()
