"""What a GX suite costs a gate: the start-up of a fresh process that runs one gate.

Each variant runs in a new Python process (as a CLI call or an Airflow task does), on a
small Parquet file, so the time is almost all imports and set-up:

- ``import``: ``import airflow_opsguard`` alone;
- ``gate``: a gate with our own checks (no ``gx_suite``): Great Expectations is never
  imported;
- ``gate + gx_suite``: the same gate with a three-expectation GX suite.

Prints the median and the spread of ``--runs`` runs (default 7) per variant, in seconds.
Not a test: no time is asserted anywhere.

    .venv/bin/python benchmarks/gx_import.py [--runs 7]
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

SUITE = {
    "name": "bench",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "amount", "min_value": 0},
        },
    ],
}
CONTRACT = """\
dataset: bench
source: {{path: data.parquet}}
schema:
  columns:
    - {{name: id, type: integer, nullable: false, unique: true}}
    - {{name: amount, type: float, min: 0}}
{extra}"""
GATE = (
    "from airflow_opsguard import validate\n"
    "result = validate('{contract}')\n"
    "assert result.status == 'pass', result.to_dict()\n"
    "import sys; print('great_expectations' in sys.modules)\n"
)
VARIANTS = {
    "import": ("import airflow_opsguard\nimport sys; print('great_expectations' in sys.modules)\n"),
    "gate": GATE.format(contract="plain.yml"),
    "gate + gx_suite": GATE.format(contract="gx.yml"),
}


def prepare(folder: Path) -> None:
    import pandas as pd

    pd.DataFrame({"id": range(1000), "amount": [float(i) for i in range(1000)]}).to_parquet(
        folder / "data.parquet"
    )
    (folder / "suite.json").write_text(json.dumps(SUITE))
    (folder / "plain.yml").write_text(CONTRACT.format(extra=""))
    (folder / "gx.yml").write_text(CONTRACT.format(extra="gx_suite: suite.json\n"))


def run_once(code: str, folder: Path) -> tuple[float, bool]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, check=True
    )
    elapsed = time.perf_counter() - started
    return elapsed, proc.stdout.strip().splitlines()[-1] == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per variant (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opsguard-gx-bench-") as name:
        folder = Path(name)
        prepare(folder)
        for code in VARIANTS.values():
            run_once(code, folder)  # warm the file system cache and .pyc files
        print(
            f"{args.runs} runs per variant, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
        )
        print("| variant | median (s) | min-max (s) | GX imported |")
        print("|---|---|---|---|")
        for label, code in VARIANTS.items():
            times, imported = [], False
            for _ in range(args.runs):
                elapsed, imported = run_once(code, folder)
                times.append(elapsed)
            print(
                f"| {label} | {statistics.median(times):.2f} | "
                f"{min(times):.2f}-{max(times):.2f} | {'yes' if imported else 'no'} |"
            )


if __name__ == "__main__":
    main()
