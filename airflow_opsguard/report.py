"""Reports for people: a verdict readable at a glance, in a terminal or a log (text),
in a CI system's test view (JUnit XML), or in a pull request (Markdown)."""

from __future__ import annotations

import html
import re
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


# ------------------------------------------------------------------------------ CI formats

# Characters XML 1.0 cannot carry at all (control characters other than tab, LF, CR).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_junit(result: GateResult) -> str:
    """The verdict as JUnit XML, which CI systems show as a test report: one testcase per
    check. A failing check is a ``failure`` (message, observed and expected, samples),
    a check that could not be measured an ``error``, a check in shadow mode that would
    not pass is ``skipped`` (it does not block yet), and a warning passes with the
    warning in ``system-out``. Data that could not be read at all is one ``error``."""
    import xml.etree.ElementTree as ET

    cases: list[ET.Element] = []
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    classname = f"opsguard.{result.dataset}"
    if result.error and not result.checks:
        case = ET.Element("testcase", classname=classname, name="read the data", time="0")
        ET.SubElement(case, "error", message=_xml(result.error), type="error").text = _xml(
            result.error
        )
        counts["errors"] += 1
        cases.append(case)
    for check in result.checks:
        case = ET.Element("testcase", classname=classname, name=_xml(check.name), time="0")
        detail = _xml(_detail(check))
        if check.would_be is not None and check.would_be != "pass":
            ET.SubElement(
                case, "skipped", message=_xml(f"shadow mode, would be {check.would_be}")
            ).text = detail
            counts["skipped"] += 1
        elif check.status == "fail":
            element = ET.SubElement(case, "failure", message=_xml(check.message), type=check.type)
            element.text = detail
            counts["failures"] += 1
        elif check.status == "error":
            element = ET.SubElement(case, "error", message=_xml(check.message), type=check.type)
            element.text = detail
            counts["errors"] += 1
        elif check.status == "warn":
            ET.SubElement(case, "system-out").text = _xml(f"WARN: {_detail(check)}")
        cases.append(case)
    seconds = f"{(result.duration_ms or 0) / 1000:.3f}"
    totals = {"tests": str(len(cases)), **{k: str(v) for k, v in counts.items()}}
    root = ET.Element("testsuites", {"name": "opsguard", "time": seconds, **totals})
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": _xml(result.dataset),
            "timestamp": result.checked_at.isoformat(timespec="seconds"),
            "time": seconds,
            **totals,
        },
    )
    properties = ET.SubElement(suite, "properties")
    shown = {
        "status": result.status,
        "would_be": result.would_be,
        "rows": result.rows,
        "source": result.source,
        "run_id": result.run_id,
    }
    for name, value in shown.items():
        if value is not None:
            ET.SubElement(properties, "property", name=name, value=_xml(str(value)))
    suite.extend(cases)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _detail(check: CheckResult) -> str:
    lines = [check.message]
    if check.observed is not None or check.expected is not None:
        lines.append(f"observed: {check.observed}  expected: {check.expected}")
    if check.samples:
        lines.append("samples: " + ", ".join(repr(s) for s in check.samples))
    return "\n".join(lines)


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


_ICONS = {"pass": "✅", "warn": "⚠️", "fail": "❌", "error": "💥", "shadow": "👀"}


def render_markdown(result: GateResult) -> str:
    """The verdict as Markdown for a pull request comment or ``$GITHUB_STEP_SUMMARY``:
    a headline, the checks that did not pass in a table, the passing ones folded away."""
    title = f"{_ICONS[result.status]} **{_md(result.dataset)}**: {result.status.upper()}"
    if result.would_be is not None and result.would_be != result.status:
        title += f" (shadow mode: would be {result.would_be.upper()})"
    facts = [f"{result.rows:,} rows" if result.rows is not None else None]
    facts.append(f"source `{_code(result.source)}`" if result.source else None)
    facts.append(f"checked {result.checked_at:%Y-%m-%d %H:%M:%S %Z}")
    lines = [f"### {title}", "", ", ".join(f for f in facts if f), ""]
    if result.error:
        lines += [f"> 💥 {_md(result.error)}", ""]
    noted = [c for c in result.checks if c.status != "pass" or c.would_be not in (None, "pass")]
    passed = [c for c in result.checks if c not in noted]
    if noted:
        lines += ["| | check | result | observed | expected |", "|---|---|---|---|---|"]
        for check in noted:
            icon = _ICONS[check.status] if check.would_be is None else _ICONS["shadow"]
            message = check.message
            if check.would_be is not None and not message.startswith("shadow mode"):
                message = f"shadow mode, would be {check.would_be}: {message}"
            cells = (
                icon,
                f"`{_code(check.name)}`",
                _md(message),
                _md("" if check.observed is None else str(check.observed)),
                _md("" if check.expected is None else str(check.expected)),
            )
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if passed:
        lines += [
            f"<details><summary>{len(passed)} checks passed</summary>",
            "",
            *(f"- `{_code(c.name)}`: {_md(c.message)}" for c in passed),
            "",
            "</details>",
            "",
        ]
    summary = ", ".join(f"{n} {status}" for status, n in result.counts.items() if n)
    lines.append(f"{len(result.checks)} checks: {summary or 'none'}")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Text safe in a Markdown table cell: one line, pipes and HTML escaped."""
    flat = " ".join(text.split())
    return html.escape(flat, quote=False).replace("|", "\\|").replace("`", "\\`")


def _code(text: str) -> str:
    """Text inside `code`: one line, without backticks (which would end it)."""
    return " ".join(text.split()).replace("`", "'").replace("|", "\\|")
