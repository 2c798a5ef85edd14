"""Peak memory of ``validate()`` on Parquet files of growing size, one subprocess each.

The parent (:func:`measure_series`) starts ``python benchmarks/memory.py FILE ROWS`` per
file. The child caps its own address space with ``RLIMIT_AS`` before it imports
anything, sets DuckDB's memory limit through ``OPSGUARD_DUCKDB_MEMORY_LIMIT``, checks
the file, asserts the result, and prints one JSON line with its peak RSS
(``ru_maxrss``). Spilled bytes are measured by the parent, which polls the child's own
temporary directory while it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GIB = 2**30

if __name__ == "__main__":  # run as a script: see the same fix in run.py
    if sys.path and Path(sys.path[0]).resolve() == ROOT / "benchmarks":
        del sys.path[0]
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))


@dataclass
class MemoryRun:
    rows: int
    file_bytes: int
    uncompressed_bytes: int
    arrow_bytes: int
    seconds: float
    peak_rss_bytes: int
    vm_hwm_bytes: int
    baseline_rss_bytes: int
    peak_spill_bytes: int
    status: str
    numbers: dict[str, Any]


def measure_series(
    files: list[Any], *, address_space_gib: float, duckdb_memory: str, spill_root: Path
) -> list[MemoryRun]:
    """Check each file (a :class:`benchmarks.data.DataFile`) in a fresh subprocess."""
    runs = []
    for data in files:
        spill = spill_root / f"spill-{data.rows}"
        shutil.rmtree(spill, ignore_errors=True)
        spill.mkdir(parents=True)
        command = [
            sys.executable,
            str(ROOT / "benchmarks" / "memory.py"),
            str(data.path),
            str(data.rows),
            "--address-space-gib",
            str(address_space_gib),
            "--duckdb-memory",
            duckdb_memory,
        ]
        env = {**os.environ, "TMPDIR": str(spill)}
        print(f"  checking {data.path.name} in a subprocess", flush=True)
        child = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        peak_spill = _watch(spill, child)
        out, err = child.communicate()
        shutil.rmtree(spill, ignore_errors=True)
        if child.returncode != 0:
            raise RuntimeError(
                f"checking {data.path} failed (exit {child.returncode}):\n{err[-3000:]}"
            )
        report = json.loads(out.strip().splitlines()[-1])
        runs.append(
            MemoryRun(
                rows=data.rows,
                file_bytes=data.file_bytes,
                uncompressed_bytes=data.uncompressed_bytes,
                arrow_bytes=data.arrow_bytes,
                seconds=report["seconds"],
                peak_rss_bytes=report["peak_rss_bytes"],
                vm_hwm_bytes=report["vm_hwm_bytes"],
                baseline_rss_bytes=report["baseline_rss_bytes"],
                peak_spill_bytes=peak_spill,
                status=report["status"],
                numbers=report["numbers"],
            )
        )
    return runs


def _watch(directory: Path, child: subprocess.Popen[str]) -> int:
    """The largest total size of ``directory`` seen while ``child`` runs."""
    peak = 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not stop.wait(0.2):
            peak = max(peak, _size(directory))

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    child.wait()
    stop.set()
    watcher.join()
    return peak


def _size(directory: Path) -> int:
    total = 0
    for root, _, names in os.walk(directory):
        for name in names:
            with contextlib.suppress(OSError):  # deleted while we looked
                total += os.stat(os.path.join(root, name)).st_size
    return total


def child(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("rows", type=int)
    parser.add_argument("--address-space-gib", type=float, required=True)
    parser.add_argument("--duckdb-memory", required=True)
    args = parser.parse_args(argv)

    cap = int(args.address_space_gib * GIB)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    os.environ["OPSGUARD_DUCKDB_MEMORY_LIMIT"] = args.duckdb_memory
    # Linux carries ru_maxrss across execve: a child started by a big parent (this
    # benchmark holds GX and 10M rows of pandas) reports the parent's peak. A process
    # forked from this still small one starts its count afresh: measure in there.
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    try:
        _check(args)
    except BaseException:
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    os._exit(0)


def _check(args: argparse.Namespace) -> None:

    from airflow_opsguard import validate
    from airflow_opsguard.engines import files  # noqa: F401  (import cost before baseline)
    from benchmarks.contenders import opsguard_contract, opsguard_numbers

    contract = opsguard_contract()
    import duckdb  # noqa: F401
    import sqlalchemy  # noqa: F401

    baseline = _peak_rss()
    started = time.perf_counter()
    result = validate(contract, data=args.path, now=_now())
    seconds = time.perf_counter() - started
    numbers = opsguard_numbers(result)  # raises if anything could not be measured
    assert result.rows == args.rows, f"checked {result.rows} rows, the file has {args.rows}"
    report = {
        "seconds": seconds,
        "peak_rss_bytes": _peak_rss(),
        "vm_hwm_bytes": _vm_hwm(),
        "baseline_rss_bytes": baseline,
        "status": result.status,
        "numbers": {k: v if isinstance(v, int | bool) else str(v) for k, v in numbers.items()},
    }
    print(json.dumps(report))


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _vm_hwm() -> int:
    """The kernel's high-water mark of this process's resident memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _now() -> Any:
    from benchmarks.agreement import NOW

    return NOW


if __name__ == "__main__":
    child()
