"""Write the results as Markdown: the machine, the speed table and the memory table."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks.memory import GIB, MemoryRun

SPEEDUP_GOAL = 5.0  # opsguard at least this many times faster than GX
PANDAS_GOAL = 1.5  # opsguard at most this many times the hand-written pass


@dataclass
class SpeedRow:
    rows: int
    file_bytes: int
    repeats: int
    ours: list[float] = field(default_factory=list)
    ours_cpu: list[float] = field(default_factory=list)
    gx: list[float] = field(default_factory=list)
    gx_validate: list[float] = field(default_factory=list)
    gx_cpu: list[float] = field(default_factory=list)
    pandas: list[float] = field(default_factory=list)
    pandas_cpu: list[float] = field(default_factory=list)

    @property
    def speedup(self) -> float:
        return statistics.median(self.gx) / statistics.median(self.ours)

    @property
    def versus_pandas(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.pandas)


def machine() -> dict[str, str]:
    versions = {
        name: _version(name)
        for name in ("duckdb", "pandas", "pyarrow", "numpy", "great-expectations", "sqlalchemy")
    }
    return {
        "cpu": f"{os.cpu_count()} cores ({_cpu_model()})",
        "ram": f"{_ram_bytes() / GIB:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        **versions,
        "airflow-opsguard": f"{_version('airflow-opsguard')} ({_package_path()})",
    }


def _package_path() -> str:
    """Where the measured airflow_opsguard was imported from (PYTHONPATH may override)."""
    import airflow_opsguard

    path = Path(airflow_opsguard.__file__).resolve().parent
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def now() -> str:
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"


def speed_rows(raw: dict[str, Any]) -> list[SpeedRow]:
    return [SpeedRow(**row) for row in raw.get("speed", [])]


def render(raw: dict[str, Any]) -> str:
    """The Markdown report of one run's raw figures (as ``run.py`` saves them)."""
    speed = speed_rows(raw)
    memory = [MemoryRun(**run) for run in raw.get("memory", [])]
    lines = [
        "# Benchmark results",
        "",
        f"Produced by `{raw['command']}` on {raw['finished']}.",
        "How to reproduce and what is measured: [README.md](README.md).",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in raw["machine"].items()),
        "",
    ]
    if speed:
        lines += _speed_section(speed)
    if memory:
        lines += _memory_section(memory, raw["setup"])
    if raw.get("notes"):
        lines += ["## Notes", "", *(f"- {n}" for n in raw["notes"]), ""]
    return "\n".join(lines)


def _speed_section(speed: list[SpeedRow]) -> list[str]:
    lines = [
        "## Speed: one Parquet file, three ways of checking it",
        "",
        "Wall time, median of the timed runs after one untimed warm-up; CPU time (all "
        "threads) in brackets. Every run of every contender produced the same numbers "
        "(rows, nulls, duplicates, out-of-range, out-of-set, bad lengths, bad emails, "
        "newest timestamp), compared after each run.",
        "",
        "| rows | file | runs | opsguard `validate()` | GX: read + validate | GX: validate only "
        "| pandas by hand | GX / opsguard (goal >= 5) | opsguard / pandas (goal <= 1.5) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in speed:
        lines.append(
            f"| {row.rows:,} | {_mb(row.file_bytes)} | {row.repeats} "
            f"| {_s(row.ours, row.ours_cpu)} | {_s(row.gx, row.gx_cpu)} "
            f"| {_s(row.gx_validate)} | {_s(row.pandas, row.pandas_cpu)} "
            f"| **{row.speedup:.1f}x** {_mark(row.speedup >= SPEEDUP_GOAL)} "
            f"| **{row.versus_pandas:.2f}x** {_mark(row.versus_pandas <= PANDAS_GOAL)} |"
        )
    lines += ["", "All timed runs (seconds):", ""]
    for row in speed:
        lines.append(
            f"- {row.rows:,} rows: opsguard {_all(row.ours)}; GX {_all(row.gx)} "
            f"(validate {_all(row.gx_validate)}); pandas {_all(row.pandas)}"
        )
    return [*lines, ""]


def _memory_section(memory: list[MemoryRun], setup: dict[str, Any]) -> list[str]:
    lines = [
        "## Memory: peak RSS against file size",
        "",
        f"Each file is checked by `validate()` in its own subprocess whose address space is "
        f"capped at {setup['address_space_gib']:g} GiB (`RLIMIT_AS`, set before any import), "
        f"with `OPSGUARD_DUCKDB_MEMORY_LIMIT={setup['duckdb_memory']}`. Peak RSS is the "
        "`ru_maxrss` of the process that checks (forked from the small child right after "
        "the cap is set, because Linux carries `ru_maxrss` over `exec` from the big "
        "parent); *VmHWM* is the kernel's high-water mark from `/proc/self/status`, "
        "a cross-check; *after imports* is `ru_maxrss` just before `validate()`. "
        "*Decoded* is the data's size in memory as Arrow (what `pandas.read_parquet` would "
        "need at least). *Spilled* is the largest size of DuckDB's temporary directory "
        "seen while it ran. Each run asserts the row count and that every check was "
        "measured, and its numbers match a row-group-by-row-group reference.",
        "",
        "| rows | Parquet file | decoded (Arrow) | decoded / cap | peak RSS | VmHWM "
        "| after imports | spilled | time | verdict |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    cap = setup["address_space_gib"] * GIB
    for run in memory:
        lines.append(
            f"| {run.rows:,} | {_mb(run.file_bytes)} | {_mb(run.arrow_bytes)} "
            f"| {run.arrow_bytes / cap:.1f}x | **{_mb(run.peak_rss_bytes)}** "
            f"| {_mb(run.vm_hwm_bytes)} | {_mb(run.baseline_rss_bytes)} "
            f"| {_mb(run.peak_spill_bytes)} "
            f"| {run.seconds:.1f} s | {run.status}, {run.numbers['rows']:,} rows checked |"
        )
    peaks = [r.peak_rss_bytes for r in memory]
    if len(memory) > 1:
        growth = memory[-1].rows / memory[0].rows
        lines += [
            "",
            f"From {memory[0].rows:,} to {memory[-1].rows:,} rows ({growth:.0f}x the data) "
            f"peak RSS went from {_mb(peaks[0])} to {_mb(peaks[-1])} "
            f"(max {_mb(max(peaks))}, {max(peaks) / cap:.0%} of the cap).",
            "",
            "What the peak is made of: the aggregate scan of every check streams in "
            "constant memory; the uniqueness check's count of distinct ids (its GROUP BY "
            "runs only when that count finds duplicates) holds one entry per distinct id, "
            "so it grows with the data until DuckDB's memory limit "
            f"({setup['duckdb_memory']}), and beyond that DuckDB spills it to disk "
            "(*spilled*). Peak RSS is therefore bounded by the limit plus what the process "
            "holds after imports, whatever the file's size.",
        ]
    return [*lines, ""]


def _s(values: list[float], cpu: list[float] | None = None) -> str:
    text = f"{statistics.median(values):.2f} s"
    if cpu:
        text += f" ({statistics.median(cpu):.2f})"
    return text


def _all(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _mb(value: int) -> str:
    if value >= GIB:
        return f"{value / GIB:.2f} GiB"
    return f"{value / 2**20:.0f} MiB"


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def command_line() -> str:
    return " ".join([".venv/bin/python", "benchmarks/run.py", *sys.argv[1:]])
