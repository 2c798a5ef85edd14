"""In-memory DataFrames: opsguard's ``validate()`` on pandas, polars and Arrow data against
Great Expectations on the same pandas DataFrame and a hand-written pandas pass.

    .venv/bin/python benchmarks/frames.py --rows 1000000 10000000 --out benchmarks/RESULTS_FRAMES.md
    .venv/bin/python benchmarks/frames.py --quick

The data is already in memory (no file is read): the orders of ``data.py``, eight
checks (schema, not null on four columns, unique, range, allowed set, freshness). Every
contender's numbers are compared with the hand-written pass after every run. Not a test:
see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# As in run.py: benchmarks/ off the front of the path, the repository root at the end.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
    del sys.path[0]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from benchmarks import data, report  # noqa: E402
from benchmarks.agreement import (  # noqa: E402
    AMOUNT_MAX,
    AMOUNT_MIN,
    COLUMNS,
    COUNTRIES,
    FAIL_AFTER,
    NOW,
    Numbers,
    compare,
)
from benchmarks.contenders import opsguard_numbers  # noqa: E402

NOT_NULL = ("order_id", "amount", "created_at", "status")
CONTRACT: dict[str, Any] = {
    "dataset": "orders_in_memory",
    "schema": {
        "columns": [
            {"name": "order_id", "type": "integer", "nullable": False, "unique": True},
            {
                "name": "amount",
                "type": "float",
                "nullable": False,
                "min": AMOUNT_MIN,
                "max": AMOUNT_MAX,
            },
            {"name": "country", "type": "string", "allowed": list(COUNTRIES)},
            {"name": "email", "type": "string"},
            {"name": "created_at", "type": "timestamp", "nullable": False},
            {"name": "status", "type": "string", "nullable": False},
        ],
        "extra_columns": "fail",
    },
    "freshness": {"column": "created_at", "warn_after": "6h", "fail_after": "1d"},
}
OUR_COUNTS = {
    **{f"not_null({c})": f"nulls({c})" for c in NOT_NULL},
    "unique(order_id)": "duplicated_rows(order_id)",
    "range(amount)": "out_of_range(amount)",
    "allowed(country)": "not_in_set(country)",
}
GX_COUNTS = {
    **{("expect_column_values_to_not_be_null", c): f"nulls({c})" for c in NOT_NULL},
    ("expect_column_values_to_be_unique", "order_id"): "duplicated_rows(order_id)",
    ("expect_column_values_to_be_between", "amount"): "out_of_range(amount)",
    ("expect_column_values_to_be_in_set", "country"): "not_in_set(country)",
}
KINDS = ("pandas", "polars", "arrow")


@dataclass
class FrameRow:
    rows: int
    repeats: int
    seconds: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)


def orders(rows: int) -> Any:
    """The first ``rows`` orders of data.py, as one Arrow table."""
    import pyarrow as pa

    groups = range(0, rows, data.ROW_GROUP)
    return pa.concat_tables(
        [data.row_group(i, min(data.ROW_GROUP, rows - start)) for i, start in enumerate(groups)]
    )


# --------------------------------------------------------------------------- contenders


def opsguard(frame: Any, contract: Any) -> Numbers:
    from airflow_opsguard import validate

    result = validate(contract, data=frame, now=NOW)
    numbers = opsguard_numbers(result, OUR_COUNTS)
    freshness = next(c for c in result.checks if c.name == "freshness(created_at)")
    numbers["fresh"] = freshness.status != "fail"
    return numbers


# The schema by hand: each column's pandas dtype, as the contract's types read them.
HAND_TYPES = {
    "order_id": ("int64",),
    "amount": ("float64",),
    "country": ("str", "string", "object"),
    "email": ("str", "string", "object"),
    "created_at": ("datetime64[us]", "datetime64[ns]"),
    "status": ("str", "string", "object"),
}


def by_hand(df: Any) -> Numbers:
    """The same eight checks, written in pandas as a data engineer would: the columns and
    their types, nulls in four columns, duplicated ids, amounts out of range, countries
    outside the set, and the newest order against the freshness limit."""
    amount = df["amount"]
    nulls = df[list(NOT_NULL)].isna().sum()
    newest = df["created_at"].max().to_pydatetime()
    return {
        "rows": len(df),
        **{f"nulls({c})": int(nulls[c]) for c in NOT_NULL},
        "duplicated_rows(order_id)": int(df["order_id"].duplicated(keep=False).sum()),
        "out_of_range(amount)": int(
            (amount.notna() & ~amount.between(AMOUNT_MIN, AMOUNT_MAX)).sum()
        ),
        "not_in_set(country)": int((df["country"].notna() & ~df["country"].isin(COUNTRIES)).sum()),
        "newest(created_at)": newest,
        "fresh": newest >= NOW - FAIL_AFTER,
        "schema_ok": list(df.columns) == list(COLUMNS)
        and all(str(df[c].dtype) in types for c, types in HAND_TYPES.items()),
    }


class GreatExpectations:
    """GX 1.x set up once (ephemeral context, pandas datasource, whole-DataFrame batch,
    the suite, a ValidationDefinition); each run validates the DataFrame in memory."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        import great_expectations.expectations as gxe
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = context.data_sources.add_pandas("frames").add_dataframe_asset("orders")
        batch = asset.add_batch_definition_whole_dataframe("whole")
        types = {
            "order_id": "int64",
            "amount": "float64",
            "country": "str",
            "email": "str",
            "created_at": "datetime64[us]",
            "status": "str",
        }
        expectations = [
            gxe.ExpectTableColumnsToMatchSet(column_set=list(COLUMNS), exact_match=True),
            *(gxe.ExpectColumnValuesToBeOfType(column=c, type_=t) for c, t in types.items()),
            *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in NOT_NULL),
            gxe.ExpectColumnValuesToBeUnique(column="order_id"),
            gxe.ExpectColumnValuesToBeBetween(
                column="amount", min_value=AMOUNT_MIN, max_value=AMOUNT_MAX
            ),
            gxe.ExpectColumnValuesToBeInSet(column="country", value_set=list(COUNTRIES)),
            gxe.ExpectColumnMaxToBeBetween(column="created_at", min_value=NOW - FAIL_AFTER),
        ]
        suite = context.suites.add(gx.ExpectationSuite(name="orders", expectations=expectations))
        self.definition = context.validation_definitions.add(
            gx.ValidationDefinition(name="orders", data=batch, suite=suite)
        )

    def run(self, df: Any, rows: int) -> Numbers:
        result = self.definition.run(batch_parameters={"dataframe": df})
        numbers: Numbers = {"rows": rows, "schema_ok": True}
        for item in result.results:
            config = item.expectation_config
            kind, column = config.type, config.kwargs.get("column")
            if item.exception_info and item.exception_info.get("raised_exception"):
                raise RuntimeError(f"GX {kind}({column}) raised: {item.exception_info}")
            if (kind, column) in GX_COUNTS:
                numbers[GX_COUNTS[kind, column]] = int(item.result["unexpected_count"])
            elif kind == "expect_column_max_to_be_between":
                numbers["newest(created_at)"] = item.result["observed_value"].to_pydatetime()
                numbers["fresh"] = bool(item.success)
            else:
                numbers["schema_ok"] = numbers["schema_ok"] and bool(item.success)
        return numbers


# --------------------------------------------------------------------------- measuring


def measure(rows: int, repeats: int) -> FrameRow:
    import polars as pl

    from airflow_opsguard import load_contract

    table = orders(rows)
    frames = {"pandas": table.to_pandas(), "polars": pl.from_arrow(table), "arrow": table}
    contract = load_contract(CONTRACT)
    gx = GreatExpectations()
    df = frames["pandas"]
    named: dict[str, Callable[[], Numbers]] = {
        "by hand": lambda: by_hand(df),  # first: the reference the others must match
        **{
            f"opsguard {kind}": (lambda frame=frames[kind]: opsguard(frame, contract))
            for kind in KINDS
        },
        "gx": lambda: gx.run(df, rows),
    }
    row = FrameRow(rows=rows, repeats=repeats)
    print(f"{rows:,} rows in memory: warm-up and {repeats} timed runs of each", flush=True)
    for attempt in range(repeats + 1):  # attempt 0 is the warm-up
        reference: Numbers | None = None
        for name, contender in named.items():
            gc.collect()
            cpu, started = time.process_time(), time.perf_counter()
            numbers = contender()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            reference = reference or numbers
            compare(reference, numbers, name)
            print(f"  {attempt or 'warm-up'}: {name} {seconds:.3f} s (cpu {cpu:.3f})", flush=True)
            if attempt:
                row.seconds.setdefault(name, []).append(seconds)
                row.cpu.setdefault(name, []).append(cpu)
    return row


def render(raw: dict[str, Any]) -> str:
    lines = [
        "# In-memory DataFrames: opsguard vs Great Expectations vs pandas by hand",
        "",
        f"Command: `{raw['command']}`  ",
        f"Finished: {raw['finished']}  ",
        f"Load average at the start: {raw['load_start']}; at the end: {raw['load_end']}",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in raw["machine"].items()),
        "",
        "Eight checks (schema, not null x4, unique, range, allowed set, freshness) on data "
        "already in memory; median wall time, CPU seconds in brackets; every contender's "
        "numbers agreed with the hand-written pass on every run. The last column is the "
        "slowest of opsguard's three against the hand-written pass, in wall time and in "
        "CPU time (DuckDB's threads included).",
        "",
        "| rows | opsguard pandas | opsguard polars | opsguard Arrow | GX (pandas) "
        "| pandas by hand | GX / opsguard (pandas) | slowest opsguard / by hand |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ours = [f"opsguard {kind}" for kind in KINDS]
    for item in raw["rows"]:
        row = FrameRow(**item)

        def median(name: str, row: FrameRow = row) -> tuple[float, float]:
            return statistics.median(row.seconds[name]), statistics.median(row.cpu[name])

        def cell(name: str) -> str:
            wall, cpu = median(name)
            return f"{wall:.3f} s ({cpu:.3f})"

        hand_wall, hand_cpu = median("by hand")
        slowest_wall = max(median(name)[0] for name in ours)
        slowest_cpu = max(median(name)[1] for name in ours)
        gx = median("gx")[0] / median("opsguard pandas")[0]
        lines.append(
            f"| {row.rows:,} | {cell('opsguard pandas')} | {cell('opsguard polars')} "
            f"| {cell('opsguard arrow')} | {cell('gx')} | {cell('by hand')} "
            f"| {gx:.1f}x | {slowest_wall / hand_wall:.2f}x ({slowest_cpu / hand_cpu:.2f}x CPU) |"
        )
    lines += ["", "Every run (seconds):", ""]
    for item in raw["rows"]:
        for name, values in item["seconds"].items():
            lines.append(
                f"- {item['rows']:,} rows, {name}: " + ", ".join(f"{v:.3f}" for v in values)
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="opsguard on in-memory DataFrames vs GX, pandas")
    parser.add_argument("--rows", type=int, nargs="+", help="row counts (1M 10M)")
    parser.add_argument("--repeats", type=int, help="timed runs per size (5 up to 2M, else 3)")
    parser.add_argument("--quick", action="store_true", help="200k rows, a smoke run")
    parser.add_argument("--out", type=Path, help="Markdown output")
    args = parser.parse_args(argv)
    data_dir = ROOT / "benchmarks" / ".data"
    sizes = args.rows or ([200_000] if args.quick else [1_000_000, 10_000_000])
    out = args.out or (data_dir / "RESULTS_FRAMES.quick.md" if args.quick else None)
    out = out or ROOT / "benchmarks" / "RESULTS_FRAMES.md"
    load_start = report.load()
    measured = [measure(n, args.repeats or (5 if n <= 2_000_000 else 3)) for n in sizes]
    raw = {
        "command": " ".join([".venv/bin/python", "benchmarks/frames.py", *sys.argv[1:]]),
        "finished": report.now(),
        "load_start": load_start,
        "load_end": report.load(),
        "machine": report.machine(),
        "rows": [asdict(r) for r in measured],
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / f"{out.stem}.json").write_text(json.dumps(raw, indent=2), encoding="utf-8")
    text = render(raw)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
