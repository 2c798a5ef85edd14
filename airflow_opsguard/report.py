"""Text reports for people: a verdict readable at a glance, in a terminal or a log."""

from __future__ import annotations

from collections.abc import Sequence

from airflow_opsguard.checks.results import CheckResult, GateResult

_COLOURS = {"pass": "32", "warn": "33", "fail": "31", "error": "35"}
_MARKS = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL", "error": "ERR "}


def _paint(text: str, status: str, colour: bool) -> str:
    return f"\033[{_COLOURS[status]}m{text}\033[0m" if colour else text


def render_text(result: GateResult, *, colour: bool = False) -> str:
    """The verdict as text: a header, one line per check, and a summary."""
    header = f"{result.dataset}: {_paint(result.status.upper(), result.status, colour)}"
    if result.rows is not None:
        header += f"  {result.rows:,} rows"
    if result.would_be is not None and result.would_be != result.status:
        header += f"  (shadow mode: would be {result.would_be.upper()})"
    lines = [
        header,
        f"  source {result.source or '?'}, checked {result.checked_at:%Y-%m-%d %H:%M:%S %Z}"
        + (f" in {result.duration_ms / 1000:.2f}s" if result.duration_ms is not None else ""),
    ]
    if result.error:
        lines.append(f"  {_paint('ERR ', 'error', colour)} {result.error}")
    width = max((len(c.name) for c in result.checks), default=0)
    for check in result.checks:
        lines.append(_check_line(check, width, colour))
    counts = result.counts
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    lines.append(f"{len(result.checks)} checks: {summary or 'none'}")
    return "\n".join(lines)


def _check_line(check: CheckResult, width: int, colour: bool) -> str:
    mark = _paint(_MARKS[check.status], check.status, colour)
    detail = check.message
    if (
        check.status in ("fail", "warn")
        and check.expected is not None
        and check.observed is not None  # withheld (a sensitive column): say nothing
        and check.type
        in (
            "schema",
            "freshness",
            "volume",
            "statistic",
        )
    ):
        detail += f" [observed {check.observed}, expected {check.expected}]"
    return f"  {mark} {check.name.ljust(width)}  {detail}"


def render_history(results: Sequence[GateResult], *, colour: bool = False) -> str:
    """Stored verdicts, one line each, newest first."""
    if not results:
        return "no stored results"
    lines = []
    for result in results:
        failed = len(result.failed)
        status = _paint(result.status.upper().ljust(5), result.status, colour)
        rows = f"{result.rows:,} rows" if result.rows is not None else "? rows"
        note = f"{failed} failed" if failed else ""
        lines.append(
            f"{result.checked_at:%Y-%m-%d %H:%M:%S}  {status}  {result.dataset:<24} "
            f"{rows:>16}  {note:<10} {result.run_id or ''}"
        )
    return "\n".join(lines)
