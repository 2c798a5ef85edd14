"""benchmarks/alert_noise.py's month, on the two datasets that were noisy: a stale
source followed by a renamed column, and a flapping check. A real failure episode gets
one opened and one resolved message per route, and no run that fails says "recovered";
a flapping check pages per flap by default until it is marked flapping (then it holds),
and once in all with a hold of two passing runs (resolution.after_passes: 2), which
resolves everything one run later."""

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
    assert mixed.resolution_delay() == 0  # resolved by the run that passed
    # By default the first passing run resolves: the first two flaps are incidents and
    # pages of their own; the third within a week is marked flapping and holds for two
    # passing runs, so the last two flaps re-join it.
    flapping = outcomes["flapping"]
    assert (len(flapping.episodes()), len(flapping.problems()), flapping.incidents) == (5, 1, 3)
    assert dict(flapping.messages["pager"]) == {"fail": 3, "recover": 3}
    assert (flapping.flapping, flapping.resolution_delay()) == (1, 1)
    assert "| **all** |" in bench.report(list(outcomes.values()))


def test_a_hold_of_two_passes_pages_the_flapping_check_once(tmp_path: Path) -> None:
    bench = benchmark()
    chosen = {k: bench.SCRIPTS[k] for k in ("null_spikes", "flapping")}
    outcomes = {o.dataset: o for o in bench.run_month(tmp_path, chosen, after_passes=2)}
    flapping = outcomes["flapping"]
    assert (len(flapping.problems()), flapping.incidents, flapping.flapping) == (1, 1, 1)
    assert dict(flapping.messages["pager"]) == {"fail": 1, "recover": 1}
    assert dict(flapping.messages["chat"]) == {"fail": 1, "escalate": 1, "recover": 1}
    for outcome in outcomes.values():
        for route in bench.ROUTES:
            assert sum(outcome.messages[route].values()) == outcome.ideal(route), route
        assert outcome.recovered_while_failing == 0
        assert outcome.resolution_delay() == 1  # the price: one more run to resolve
