"""What a verdict means for what comes next: pure decisions, made once by the gate
pipeline for every entry point.

The Airflow layer maps a :class:`Decision` onto Airflow's exceptions, the CLI onto exit
codes; nothing here imports Airflow, so the rules are tested without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from airflow_opsguard.checks.results import CheckResult, GateResult
from airflow_opsguard.contract.models import OnFail as OnFail

Action = Literal["continue", "fail", "retry", "skip", "quarantine"]


@dataclass(frozen=True)
class Decision:
    """``continue``: the data may go on; ``fail``: stop, a retry cannot help; ``retry``:
    stop, trying again may help (the source did not answer); ``skip``: skip what is
    downstream; ``quarantine``: set the data aside, then skip."""

    action: Action
    reason: str


def decide(result: GateResult, on_fail: OnFail) -> Decision:
    """Turn a verdict into an action. A verdict of ``error`` never lets data through."""
    if result.status in ("pass", "warn"):
        return Decision("continue", summarize(result))
    if result.status == "error":
        action: Action = "retry" if result.retryable else "fail"
        return Decision(action, summarize(result))
    if on_fail == "warn":
        return Decision("continue", summarize(result))
    if on_fail == "skip":
        return Decision("skip", summarize(result))
    if on_fail == "quarantine":
        return Decision("quarantine", summarize(result))
    return Decision("fail", summarize(result))


def summarize(result: GateResult, limit: int = 5) -> str:
    """One short paragraph: the verdict and each failing check with its numbers."""
    head = f"quality gate {result.dataset!r}: {result.status}"
    if result.rows is not None:
        head += f" ({result.rows:,} rows)"
    if result.error:
        return f"{head}: {result.error}"
    bad = [c for c in result.checks if c.status in ("fail", "error", "warn")]
    if not bad:
        return f"{head}: {len(result.checks)} checks passed"
    ordered = sorted(bad, key=lambda c: ("fail", "error", "warn").index(c.status))
    lines = [f"{head}; {len(bad)} check{'s' if len(bad) > 1 else ''} did not pass:"]
    lines.extend(f"  - {_line(c)}" for c in ordered[:limit])
    if len(ordered) > limit:
        lines.append(f"  - and {len(ordered) - limit} more")
    return "\n".join(lines)


def _line(check: CheckResult) -> str:
    return f"{check.status.upper()} {check.name}: {check.message}"
