"""What opening the data once saves: a gate with a GX suite and a drift baseline on a
Parquet file, timed as it runs now (the engine hands its open source to the profile and
the suites) and with the engine handing nothing over (each step opens the data itself,
as before: three opens per run).

    .venv/bin/python benchmarks/one_open.py --rows 1000000

Prints the best of ``--repeats`` runs for each; the data goes to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        spec = _write(Path(folder), args.rows)
        for label, apart in (("three opens (before)", True), ("one open (now)", False)):
            best = _best(spec, Path(folder) / f"{apart}.db", args.repeats, apart)
            print(f"{label}: best {best:.2f} s of {args.repeats} ({args.rows:,} rows)")


def _write(folder: Path, rows: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    pd.DataFrame(
        {
            "order_id": np.arange(rows),
            "amount": rng.gamma(2, 30, rows),
            "country": rng.choice(["US", "DE", "FR", "GB"], rows),
            "email": [f"u{i}@x.org" for i in range(rows)],
        }
    ).to_parquet(folder / "orders.parquet")
    suite = {
        "name": "orders",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "email"}},
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "amount", "min_value": 0},
            },
        ],
    }
    (folder / "suite.json").write_text(json.dumps(suite))
    return {
        "dataset": "orders",
        "source": {"path": str(folder / "orders.parquet")},
        "gx_suite": str(folder / "suite.json"),
        "checks": [{"type": "not_null", "column": "order_id"}],
        "distribution": {"columns": ["amount", "country"], "baseline": "orders"},
    }


def _best(spec: dict[str, Any], store_path: Path, repeats: int, apart: bool) -> float:
    import airflow_opsguard.validation as judging
    from airflow_opsguard import promote_baseline, validate
    from airflow_opsguard.engines.measuring import measure_source
    from airflow_opsguard.store import ResultStore

    if apart:  # the engine hands nothing over: the profile and GX open the data again
        judging.measure_source = lambda c, s, **k: measure_source(c, s, **{**k, "then": None})
    try:
        with ResultStore(f"sqlite:///{store_path}") as store:
            validate(spec, store=store)  # warm-up: imports, GX's context
            promote_baseline("orders", dataset="orders", store=store)
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                validate(spec, store=store)
                times.append(time.perf_counter() - started)
    finally:
        judging.measure_source = measure_source
    return min(times)


if __name__ == "__main__":
    main()
