"""`make demo`: the main job on embedded defaults.

Generates example data, checks a healthy dataset and a broken one with the `opsguard`
command (results go to a SQLite store under .opsguard/ in the repo), and lists the
stored verdicts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from example_data import write_example_data  # noqa: E402


def run(*args: str) -> int:
    print(f"\n$ opsguard {' '.join(args)}", flush=True)
    opsguard = Path(sys.executable).with_name("opsguard")
    return subprocess.run([str(opsguard), *args], check=False).returncode


def main() -> int:
    os.environ.setdefault("OPSGUARD_HOME", str(ROOT / ".opsguard"))
    paths = write_example_data()
    print(f"example data written to {paths['orders'].parent.relative_to(ROOT)}/")
    contracts = HERE.relative_to(Path.cwd()) if HERE.is_relative_to(Path.cwd()) else HERE
    healthy = run("check", str(contracts / "contracts" / "orders.yml"))
    print(f"-> exit code {healthy} (0: pass or warn)")
    broken = run("check", str(contracts / "contracts" / "orders_feed.yml"))
    print(f"-> exit code {broken} (1: fail)")
    run("results", "--limit", "5")
    expected = (healthy, broken) == (0, 1)
    print("\ndemo finished as expected" if expected else "\ndemo did NOT behave as expected")
    return 0 if expected else 1


if __name__ == "__main__":
    sys.exit(main())
