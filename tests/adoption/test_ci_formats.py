"""`opsguard check --format junit|markdown` and `--summary`: verdicts that CI systems
show, and `opsguard init` run as users run it."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from adoption_data import NOW, broken_copy, example_orders

from airflow_opsguard.checks.results import CheckResult, GateResult
from airflow_opsguard.report import render_junit, render_markdown

OPSGUARD = str(Path(sys.executable).with_name("opsguard"))
NOW_TEXT = NOW.isoformat()


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPSGUARD, *args], capture_output=True, text=True, cwd=cwd, check=False)


def _result(**overrides: object) -> GateResult:
    checks = (
        CheckResult("volume", "volume", "pass", "fail", "5 rows", observed=5, expected=">= 1"),
        CheckResult(
            "not_null(amount)", "not_null", "fail", "fail", "2 of 5 rows null in amount (40.00%)",
            column="amount", observed=2, expected=0, failing_count=2, failing_fraction=0.4,
        ),
        CheckResult(
            "allowed(country)", "allowed", "warn", "warn", "1 of 5 values | not in {'US'}\x01",
            column="country", observed=1, expected=0, samples=("<GB>",),
        ),
        CheckResult(
            "pattern(email)", "pattern", "error", "fail", "not measured: column 'email' is missing"
        ),
        CheckResult(
            "freshness(ts)", "freshness", "pass", "fail", "shadow mode, would fail: 3d old",
            observed="3d", expected="< 1d", would_be="fail",
        ),
    )  # fmt: skip
    fields: dict[str, object] = {
        "dataset": "orders",
        "status": "fail",
        "checked_at": datetime(2026, 11, 26, 12, tzinfo=UTC),
        "rows": 5,
        "checks": checks,
        "source": "data/orders.parquet",
        "duration_ms": 84,
        "run_id": "abc",
    }
    fields.update(overrides)
    return GateResult(**fields)  # type: ignore[arg-type]


def test_junit_has_one_testcase_per_check_with_what_ci_systems_show() -> None:
    root = ET.fromstring(render_junit(_result()))
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "orders"
    counts = {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")}
    assert counts == {"tests": "5", "failures": "1", "errors": "1", "skipped": "1"}
    assert {k: root.get(k) for k in counts} == counts and root.get("time") == "0.084"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases) == [
        "volume", "not_null(amount)", "allowed(country)", "pattern(email)", "freshness(ts)"
    ]  # fmt: skip
    assert list(cases["volume"]) == []
    failure = cases["not_null(amount)"].find("failure")
    assert failure is not None and failure.get("type") == "not_null"
    assert failure.get("message") == "2 of 5 rows null in amount (40.00%)"
    assert "observed: 2  expected: 0" in (failure.text or "")
    error = cases["pattern(email)"].find("error")
    assert error is not None and "missing" in (error.get("message") or "")
    skipped = cases["freshness(ts)"].find("skipped")
    assert skipped is not None and skipped.get("message") == "shadow mode, would be fail"
    warned = cases["allowed(country)"].find("system-out")
    assert warned is not None and (warned.text or "").startswith("WARN: 1 of 5 values")
    assert "samples: '<GB>'" in (warned.text or "")  # escaped in XML, read back as it was
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {
        "status": "fail", "rows": "5", "source": "data/orders.parquet", "run_id": "abc"
    }  # fmt: skip


def test_junit_of_data_that_could_not_be_read_is_one_error() -> None:
    result = _result(status="error", checks=(), rows=None, error="data/x.parquet: no such file")
    suite = ET.fromstring(render_junit(result)).find("testsuite")
    assert suite is not None and suite.get("errors") == "1" and suite.get("tests") == "1"
    case = suite.find("testcase")
    assert case is not None and case.find("error") is not None


def test_markdown_puts_what_did_not_pass_in_a_table_and_folds_the_rest() -> None:
    text = render_markdown(_result())
    lines = text.splitlines()
    assert lines[0] == "### ❌ **orders**: FAIL"
    assert "5 rows, source `data/orders.parquet`" in lines[2]
    table = [line for line in lines if line.startswith("| ")]
    assert table[0] == "| | check | result | observed | expected |"
    assert len(table) == 5  # the header and the four checks that did not pass
    assert "| ❌ | `not_null(amount)` | 2 of 5 rows null in amount (40.00%) | 2 | 0 |" in table
    assert any("1 of 5 values \\| not in" in row for row in table)  # a pipe cannot split a cell
    assert any(row.startswith("| 👀 | `freshness(ts)` | shadow mode, would fail") for row in table)
    assert "<details><summary>1 checks passed</summary>" in text
    assert lines[-1] == "5 checks: 2 pass, 1 warn, 1 fail, 1 error"  # shadow: a pass


@pytest.fixture
def project(tmp_path: Path) -> Path:
    orders = example_orders(tmp_path / "data")
    broken_copy(orders, "nulls")
    return tmp_path  # no contracts/ folder yet: init makes it


def test_init_then_check_in_ci_formats_through_the_command(project: Path) -> None:
    out = "contracts/orders.yml"
    drafted = run("init", "data/orders.parquet", "--out", out, "--now", NOW_TEXT, cwd=project)
    assert drafted.returncode == 0, drafted.stderr
    assert "contracts/orders.profile.json" in drafted.stderr
    again = run("init", "data/orders.parquet", "--out", "contracts/orders.yml", cwd=project)
    assert again.returncode == 2
    assert again.stderr == "opsguard: contracts/orders.yml: exists; give --force to overwrite it\n"
    (project / "contracts" / "orders.yml").unlink()
    profile_left = run("init", "data/orders.parquet", "--out", out, cwd=project)
    assert profile_left.returncode == 2 and "orders.profile.json: exists" in profile_left.stderr
    forced = run(
        "init", "data/orders.parquet", "--out", out, "--now", NOW_TEXT, "--force", cwd=project
    )
    assert forced.returncode == 0
    summary = project / "summary.md"
    checked = run(
        "check", "contracts/orders.yml", "--data", "data/orders_nulls.parquet", "--now", NOW_TEXT,
        "--format", "junit", "--no-store", "--summary", str(summary), cwd=project,
    )  # fmt: skip
    assert checked.returncode == 0  # shadow mode: it would fail, and does not block
    suite = ET.fromstring(checked.stdout).find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    names = {c.get("name") for c in suite.iter("testcase") if c.find("skipped") is not None}
    assert "not_null(amount)" in names
    assert summary.read_text().startswith("### ✅ **orders**: PASS (shadow mode: would be FAIL)")
    enforced = project / "contracts" / "enforced.yml"
    enforced.write_text(
        (project / "contracts" / "orders.yml").read_text().replace("mode: shadow", "mode: enforce")
    )
    markdown = run(
        "check", str(enforced), "--data", "data/orders_nulls.parquet", "--now", NOW_TEXT,
        "--format", "markdown", "--no-store", cwd=project,
    )  # fmt: skip
    assert markdown.returncode == 1
    assert markdown.stdout.startswith("### ❌ **orders**: FAIL")
    assert "| ❌ | `not_null(amount)` |" in markdown.stdout


def test_init_prints_the_draft_and_names_unreadable_data_in_one_line(project: Path) -> None:
    printed = run("init", "data/orders.parquet", "--now", NOW_TEXT, cwd=project)
    assert printed.returncode == 0 and printed.stdout.startswith("# Drafted by `opsguard init`")
    assert "dataset: orders\n" in printed.stdout and "distribution:" not in printed.stdout
    missing = run("init", "data/nothing.parquet", cwd=project)
    assert missing.returncode == 2 and missing.stdout == ""
    assert missing.stderr.startswith("opsguard: ") and "nothing.parquet" in missing.stderr
    assert len(missing.stderr.splitlines()) == 1
