"""Benchmarks: opsguard's ``validate()`` against Great Expectations and plain pandas,
and its peak memory on Parquet files larger than the checking process may hold.

    .venv/bin/python benchmarks/run.py                     # 1M and 10M rows, memory series
    .venv/bin/python benchmarks/run.py --quick             # a smoke run in a minute
    .venv/bin/python benchmarks/run.py --rows 1000000 10000000 --out benchmarks/RESULTS.md

Not a test: nothing here runs in CI. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts benchmarks/ first on the path, where data.py and
# memory.py would shadow any top-level module of those names. The repo root goes last,
# so that PYTHONPATH can point the benchmark at another copy of airflow_opsguard.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
    del sys.path[0]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

from benchmarks import contenders, data, memory, report  # noqa: E402
from benchmarks.agreement import Numbers, compare  # noqa: E402

DEFAULT_ROWS = [1_000_000, 10_000_000]
DEFAULT_MEMORY_ROWS = [10_000_000, 30_000_000, 100_000_000]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quick:
        args.rows = args.rows or [200_000]
        args.memory_rows = args.memory_rows or [1_000_000, 3_000_000]
        args.out = args.out or args.data_dir / "RESULTS.quick.md"
    args.rows = args.rows or DEFAULT_ROWS
    args.memory_rows = args.memory_rows or DEFAULT_MEMORY_ROWS
    args.out = args.out or ROOT / "benchmarks" / "RESULTS.md"
    if args.from_json:
        raw = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        raw = _measure(args)
        raw_path = args.data_dir / f"{args.out.stem}.json"
        raw_path.write_text(json.dumps(raw, indent=2, default=str), encoding="utf-8")
    text = report.render(raw)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\nwritten to {args.out}")
    for row in report.speed_rows(raw):
        if row.speedup < report.SPEEDUP_GOAL:
            print(f"goal missed at {row.rows:,} rows: {row.speedup:.1f}x faster than GX")
        if row.versus_pandas > report.PANDAS_GOAL:
            print(f"goal missed at {row.rows:,} rows: {row.versus_pandas:.2f}x the pandas pass")
    return 0


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmarks; the raw figures, ready for JSON and for the report."""
    data_dir: Path = args.data_dir
    started_load = report.load()
    speed = [] if args.no_speed else [_speed(data_dir, rows, args.repeats) for rows in args.rows]
    memory_runs: list[memory.MemoryRun] = []
    if not args.no_memory:
        print("memory series", flush=True)
        files = [data.ensure(data_dir, rows) for rows in args.memory_rows]
        for file in files:
            _reference(file)
        memory_runs = memory.measure_series(
            files,
            address_space_gib=args.address_space_gib,
            duckdb_memory=args.duckdb_memory,
            spill_root=data_dir,
        )
        for file, run in zip(files, memory_runs, strict=True):
            expected = {k: _jsonable(v) for k, v in _reference(file).items()}
            compare(expected, run.numbers, f"opsguard on {file.path.name}")
    notes = [
        f"Load average (1/5/15 min) at the start: {started_load}; at the end: "
        f"{report.load()}. The machine is shared: other processes ran during the "
        "benchmark, so single runs vary; contenders run interleaved (one run of each in "
        "turn) so that they share the noise.",
        "opsguard's DuckDB uses all cores, but scans one Parquet row group per thread "
        "(the 1M-row file has one row group, as pyarrow and pandas write them; the 10M "
        "file has ten); pandas and GX compute on one core (pyarrow reads the file with "
        "several threads for both).",
        "GX is set up once per process (ephemeral context, pandas datasource, batch "
        "definition, suite, ValidationDefinition); each run reads the file with "
        "`pandas.read_parquet` and runs the ValidationDefinition with GX's default "
        "result format (SUMMARY). opsguard's runs include loading the contract, "
        "reading the file, every check, the samples of failing values and the verdict.",
    ]
    return {
        "command": report.command_line(),
        "finished": report.now(),
        "machine": report.machine(),
        "speed": [asdict(s) for s in speed],
        "memory": [asdict(m) for m in memory_runs],
        "setup": {"address_space_gib": args.address_space_gib, "duckdb_memory": args.duckdb_memory},
        "notes": notes,
    }


def _speed(data_dir: Path, rows: int, repeats: int | None) -> report.SpeedRow:
    file = data.ensure(data_dir, rows)
    runs = repeats or (5 if rows <= 2_000_000 else 3)
    row = report.SpeedRow(rows=rows, file_bytes=file.file_bytes, repeats=runs)
    print(f"speed, {rows:,} rows: warm-up and {runs} timed runs of each", flush=True)
    contract = contenders.opsguard_contract()
    gx = contenders.GreatExpectations()
    named: dict[str, contenders.Contender] = {
        "pandas": contenders.run_pandas,  # first: the reference the others must match
        "opsguard": lambda path: contenders.run_opsguard(path, contract),
        "gx": gx.run,
    }
    for attempt in range(runs + 1):  # attempt 0 is the warm-up
        reference: Numbers | None = None
        for name, contender in named.items():
            gc.collect()
            cpu = time.process_time()
            timing, numbers = contender(file.path)
            cpu = time.process_time() - cpu
            reference = reference or numbers
            compare(reference, numbers, name)
            print(
                f"  {'warm-up' if attempt == 0 else f'run {attempt}'}: {name} "
                f"{timing.seconds:.2f} s (cpu {cpu:.2f})",
                flush=True,
            )
            if attempt == 0:
                continue
            if name == "opsguard":
                row.ours.append(timing.seconds)
                row.ours_cpu.append(cpu)
            elif name == "pandas":
                row.pandas.append(timing.seconds)
                row.pandas_cpu.append(cpu)
            else:
                row.gx.append(timing.seconds)
                row.gx_cpu.append(cpu)
                row.gx_validate.append(timing.validate_seconds or 0.0)
    return row


def _reference(file: data.DataFile) -> Numbers:
    """The file's numbers computed row group by row group, cached beside it."""
    cache = file.path.with_suffix(".numbers.json")
    stamp = f"{file.file_bytes}:{file.path.stat().st_mtime_ns}"
    if cache.exists():
        cached = json.loads(cache.read_text())
        if cached.get("stamp") == stamp:
            return dict(cached["numbers"])
    print(f"  reference numbers for {file.path.name}", flush=True)
    numbers = {k: _jsonable(v) for k, v in contenders.streamed_numbers(file.path).items()}
    cache.write_text(json.dumps({"stamp": stamp, "numbers": numbers}))
    return numbers


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, int | bool) else str(value)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Time opsguard against GX and pandas; measure peak memory."
    )
    parser.add_argument("--rows", type=int, nargs="+", help="speed: row counts (1M 10M)")
    parser.add_argument("--repeats", type=int, help="timed runs per size (5 up to 2M, else 3)")
    parser.add_argument(
        "--memory-rows", type=int, nargs="+", help="memory series: row counts (10M 30M 100M)"
    )
    parser.add_argument(
        "--address-space-gib",
        type=float,
        default=3.0,
        help="RLIMIT_AS of each memory child, in GiB (3)",
    )
    parser.add_argument(
        "--duckdb-memory",
        default="1GB",
        help="OPSGUARD_DUCKDB_MEMORY_LIMIT of each memory child (1GB)",
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument(
        "--from-json",
        type=Path,
        help="measure nothing: render the raw figures of an earlier run (benchmarks/.data/*.json)",
    )
    parser.add_argument("--no-speed", action="store_true", help="skip the speed comparison")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory series")
    parser.add_argument("--out", type=Path, help="Markdown output (benchmarks/RESULTS.md)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT / "benchmarks" / ".data",
        help="where the generated Parquet files go (git-ignored)",
    )
    return parser


if __name__ == "__main__":
    sys.exit(main())
