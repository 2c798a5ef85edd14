"""benchmarks/alert_noise.py's month, on the two datasets that were noisy: a stale
source followed by a renamed column, and a flapping check. Every route gets what an
on-call engineer wants (one opened and one resolved message per failure episode) and
no run that fails says "recovered"."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "alert_noise.py"


def benchmark() -> ModuleType:
    """The benchmark, imported from its file (benchmarks/ is not a package)."""
    name = "alert_noise_benchmark"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def test_the_noisy_datasets_of_the_month_send_one_message_per_change(tmp_path: Path) -> None:
    bench = benchmark()
    chosen = {k: bench.SCRIPTS[k] for k in ("stale_then_renamed", "flapping")}
    outcomes = {o.dataset: o for o in bench.run_month(tmp_path, chosen)}
    mixed = outcomes["stale_then_renamed"]
    assert (mixed.failing_runs, len(mixed.episodes()), mixed.incidents) == (5, 1, 1)
    assert dict(mixed.messages["pager"]) == {"fail": 1, "recover": 1}
    assert dict(mixed.messages["chat"]) == {"fail": 1, "escalate": 1, "recover": 1}
    assert mixed.recovered_while_failing == 0
    flapping = outcomes["flapping"]
    assert (len(flapping.episodes()), flapping.incidents) == (5, 5)
    for outcome in outcomes.values():
        for route in bench.ROUTES:
            assert sum(outcome.messages[route].values()) == outcome.ideal(route), route
    assert "| **all** |" in bench.report(list(outcomes.values()))
