"""Hostile input: contracts, numbers and time, as an attacker and a tired on-call
engineer write them.

Every case runs the installed ``opsguard`` in a subprocess, as users run it, with a
generous timeout that must never be reached and an address space of 2 GiB (an alias
bomb must be refused, not end in a MemoryError), and asserts the exit code, exactly one
line on stderr for a refusal (none for a verdict), and no traceback.

- Contract: repeated keys (a second ``checks:`` used to replace the first, its failing
  check gone and the verdict PASS), alias bombs, nesting, size, encodings, binary
  files, tags, regular expressions, huge keys and values (messages stay short), the GX
  suite and ODCS readers.
- Numbers: integers beyond 64 bits, NaN and infinity in contracts (they used to end in
  OverflowError tracebacks and exit 1), and in the arguments of every command that
  reads the store, and in the dashboard API's parameters (HTTP 422, not 500).
- Time: durations beyond a century, timestamps far in the future (one row dated
  9999-12-31 used to make 16-day-old data pass freshness), the clock-skew allowance,
  data written after a run's reference time, ``--now`` without a zone, before 1970.
"""

from __future__ import annotations

import codecs
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

OPSGUARD = str(Path(sys.executable).with_name("opsguard"))
TIMEOUT = 120  # seconds; every case takes about one
MEMORY = 2 * 1024**3  # bytes of address space for the command
BIG = 10**23  # beyond 64 bits
INT64_MAX = 2**63 - 1


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


@dataclass
class Workdir:
    path: Path

    def write(self, name: str, content: str | bytes) -> Path:
        target = self.path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "OPSGUARD_HOME": str(self.path / "home"), "NO_COLOR": "1"}
        proc = subprocess.run(
            [OPSGUARD, *args],
            capture_output=True,
            text=True,
            errors="replace",
            cwd=self.path,
            env=env,
            timeout=TIMEOUT,
            preexec_fn=_limit_memory,
            check=False,
        )
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
        assert "MemoryError" not in proc.stderr + proc.stdout
        return proc

    def check(self, contract: str | bytes, *args: str) -> subprocess.CompletedProcess[str]:
        self.write("c.yml", contract)
        return self.run("check", "c.yml", "--data", "data.csv", "--no-store", *args)


@pytest.fixture
def work(tmp_path: Path) -> Workdir:
    work = Workdir(tmp_path)
    work.write("data.csv", "a,amount,s,created_at\n1,10.5,x,2026-11-20 00:00:00\n")
    return work


def refused(proc: subprocess.CompletedProcess[str], *fragments: str) -> str:
    """The one line of a refusal (exit 2), holding every fragment."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr[-3000:]
    line = lines[0]
    assert line.startswith("opsguard"), line
    assert len(line) < 600, line[:600]
    for fragment in fragments:
        assert fragment in line, line
    return line


def verdict(proc: subprocess.CompletedProcess[str], code: int) -> str:
    """The report of a verdict: its exit code, nothing on stderr."""
    assert proc.returncode == code, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert proc.stderr == "", proc.stderr[-2000:]
    return proc.stdout


# =================================================================== contract

SECOND_CHECKS = """\
dataset: orders
checks:
  - {type: range, column: amount, max: 1}
checks:
  - {type: not_null, column: a}
"""


def bomb(levels: int = 9, prefix: str = "") -> str:
    """Ten lines that expand to 9**levels values (billions for 10)."""
    lines = [f"{prefix}a0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    for i in range(1, levels):
        lines.append(f"{prefix}a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def merge_bomb() -> str:
    lines = ["dataset: x", "x-0: &m0 {k: 1}"]
    for i in range(1, 12):
        refs = ", ".join([f"*m{i - 1}"] * 9)
        lines.append(f"x-{i}: &m{i} {{<<: [{refs}], k{i}: 1}}")
    return "\n".join(lines) + "\n"


def nested_flow(levels: int, closed: bool = True) -> str:
    return "dataset: x\nschema: " + "[" * levels + ("]" * levels if closed else "") + "\n"


def nested_block(levels: int) -> str:
    return "dataset: x\nschema:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(levels))


def huge(size: int) -> str:
    return "z" * size


CONTRACT_REFUSALS: list[Any] = [
    pytest.param(
        SECOND_CHECKS, ("c.yml:4:", "checks", "given twice", "line 2"), id="second-checks-key"
    ),
    pytest.param(
        "dataset: x\nschema: {columns: [{name: amount, max: 10, max: 100000}]}\n",
        ("c.yml:2:", "schema.columns[0].max", "given twice"),
        id="repeated-max-in-one-line",
    ),
    pytest.param(
        "dataset: x\nvolume:\n  min_rows: 1\n  max_rows: 5\n  min_rows: 0\n",
        ("c.yml:5:", "volume.min_rows", "first at line 3"),
        id="repeated-key-in-block",
    ),
    pytest.param("dataset: x\ndataset: y\n", ("c.yml:2:", "dataset"), id="repeated-dataset"),
    pytest.param(
        "dataset: x\nalerts:\n  - {on: [fail], true: [warn], log: true}\n",
        ("c.yml:3:", "given twice"),
        id="on-and-true-are-one-key",
    ),
    pytest.param("dataset: x\n" + bomb(), ("more than 200,000 values", "alias"), id="alias-bomb"),
    pytest.param(
        "dataset: x\n" + bomb(12, prefix="x-"), ("more than 200,000",), id="alias-bomb-of-trillions"
    ),
    pytest.param(merge_bomb(), ("more than 200,000",), id="merge-key-bomb"),
    pytest.param(
        "dataset: x\nchecks: &a [*a]\n", ("c.yml:2:", "contains it"), id="recursive-alias"
    ),
    pytest.param(nested_flow(1000), ("c.yml:2:", "nested deeper than 64"), id="nested-1000-levels"),
    pytest.param(nested_flow(65), ("nested deeper than 64 levels",), id="nested-65-levels"),
    pytest.param(nested_flow(200_000, closed=False), ("nested deeper",), id="nested-never-closed"),
    pytest.param(nested_block(100), ("c.yml:66:", "nested deeper"), id="nested-100-block-levels"),
    pytest.param(
        "dataset: x\n" + "#" * (11 * 1024 * 1024) + "\n", ("larger than 10 MB",), id="file-11-MB"
    ),
    pytest.param("- dataset: x\n- dataset: y\n", ("not a list",), id="contract-is-a-list"),
    pytest.param("orders\n", ("not a string",), id="contract-is-a-scalar"),
    pytest.param("42\n", ("not a number",), id="contract-is-a-number"),
    pytest.param("", ("not empty",), id="empty-file"),
    pytest.param("# TODO write the contract\n", ("not empty",), id="only-comments"),
    pytest.param(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        ("not UTF-8 text (byte 0x89 at offset 0)",),
        id="binary-file",
    ),
    pytest.param(
        "dataset: x\n".encode("utf-16-le"),
        ("c.yml: UTF-16 or UTF-32 text without a byte order mark? Save the contract as UTF-8",),
        id="utf16-without-bom",
    ),
    pytest.param(
        b"dataset: x\nowner: a\x00b\n", ("c.yml:2:", "not a YAML text file"), id="nul-byte"
    ),
    pytest.param(
        "dataset: x\nvolume:\n\tmin_rows: 1\n", ("c.yml:3:", "invalid YAML"), id="tab-indent"
    ),
    pytest.param('dataset: x\n"own\ter": y\n', ("unknown key 'own\\ter'",), id="tab-inside-a-key"),
    pytest.param(
        f"dataset: x\non_fail: {huge(5_000_000)}\n",
        ("c.yml:2:", "on_fail", "is not allowed"),
        id="5MB-line-in-a-vocabulary",
    ),
    pytest.param(f"dataset: x\n? {huge(5_000_000)}\n: 1\n", ("unknown key 'zzz",), id="5MB-key"),
    pytest.param(
        "dataset: x\n" + "".join(f"k{i}: 1\n" for i in range(100_000)),
        ("c.yml:100000:", "more than 200,000 values"),
        id="100k-unknown-keys-are-200k-values",
    ),
    pytest.param(
        "dataset: x\n" + "".join(f"k{i}: 1\n" for i in range(90_000)),
        ("unknown key 'k0'", "(and 89999 more problems)"),
        id="90k-unknown-keys",
    ),
    pytest.param(
        "dataset: x\nschema: {columns: [{name: a, allowed: ["
        + ",".join(["[]"] * 150_000)
        + "]}]}\n",
        ("allowed[0]", "is not a string"),
        id="150k-bad-allowed-values",
    ),
    pytest.param(
        f"dataset: x\nchecks: [{{type: {huge(1_000_000)}, column: a}}]\n",
        ("unknown check type 'zzz",),
        id="1MB-check-type",
    ),
    pytest.param(
        f"dataset: x\nschema: {{columns: [{{name: a}}]}}\nfreshness: {{column: {huge(1_000_000)}, "
        "fail_after: 1d}\n",
        ("freshness.column", "not in schema.columns"),
        id="1MB-column-name",
    ),
    pytest.param(
        "dataset: x\n---\ndataset: y\n",
        ("c.yml:2:", "invalid YAML", "another document"),
        id="two-documents",
    ),
    pytest.param(
        "dataset: !!python/object/apply:os.system ['touch pwned']\n",
        ("c.yml:1:", "invalid YAML"),
        id="python-tag",
    ),
    pytest.param("dataset: x\nschema: !include other.yml\n", ("invalid YAML",), id="unknown-tag"),
    pytest.param(
        "dataset: x\nschema: {columns: [{name: d, max: 2026-02-30}]}\n",
        ("c.yml:2:", "'2026-02-30' is not a valid date"),
        id="date-that-does-not-exist",
    ),
    pytest.param(
        f"dataset: x\nvolume: {{min_rows: {'9' * 5000}}}\n",
        ("c.yml:2:", "not a valid whole number"),
        id="5000-digit-number",
    ),
    pytest.param(
        "dataset: x\nschema: {columns: [{name: s, pattern: '^(?=a)b'}]}\n",
        ("look-around",),
        id="regex-lookahead",
    ),
    pytest.param(
        "dataset: x\nschema: {columns: [{name: s, pattern: '" + "(" * 3000 + ")" * 3000 + "'}]}\n",
        ("invalid regular expression", "too large or nested too deeply"),
        id="regex-3000-nested-groups",
    ),
    pytest.param(
        "dataset: x\nschema: {columns: [{name: s, pattern: 'a{99999999999}'}]}\n",
        ("invalid regular expression",),
        id="regex-huge-repeat",
    ),
    pytest.param(
        f"dataset: x\nschema: {{columns: [{{name: s, pattern: '{'a' * 20_000}'}}]}}\n",
        ("20,000 characters; the limit is 10,000",),
        id="regex-20k-characters",
    ),
    pytest.param(
        "dataset: x\nschema: {columns: [{name: s, pattern: '(['}]}\n",
        ("invalid regular expression '(['",),
        id="regex-unbalanced",
    ),
]


@pytest.mark.parametrize(("contract", "fragments"), CONTRACT_REFUSALS)
def test_a_hostile_contract_is_one_line_and_exit_2(
    work: Workdir, contract: str | bytes, fragments: tuple[str, ...]
) -> None:
    refused(work.check(contract), *fragments)
    assert not (work.path / "pwned").exists()


def test_the_second_checks_key_no_longer_hides_a_failing_check(work: Workdir) -> None:
    first_only = SECOND_CHECKS.split("checks:\n  - {type: not_null")[0]
    assert "FAIL range(amount)" in verdict(work.check(first_only), 1)
    refused(work.check(SECOND_CHECKS), "given twice")


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda t: t.encode("utf-8-sig"), id="utf8-bom"),
        pytest.param(lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"), id="utf16-bom"),
        pytest.param(lambda t: t.encode("utf-32"), id="utf32-bom"),
        pytest.param(lambda t: t.replace("\n", "\r\n").encode(), id="crlf"),
    ],
)
def test_contracts_saved_by_other_editors_are_read(
    work: Workdir, encode: Callable[[str], bytes]
) -> None:
    contract = "dataset: orders\nchecks:\n  - {type: not_null, column: a}\n"
    out = verdict(work.check(encode(contract), "--format", "json"), 0)
    assert json.loads(out)["dataset"] == "orders"


def test_a_5MB_single_line_description_is_read(work: Workdir) -> None:
    out = verdict(work.check(f"dataset: x\ndescription: {huge(5_000_000)}\n"), 0)
    assert out.startswith("x: PASS")


def test_aliases_within_the_limit_are_read(work: Workdir) -> None:
    contract = (
        "dataset: x\n"
        "checks:\n"
        "  - &d {severity: warn, type: not_null, column: a}\n"
        "  - {<<: *d, type: range, column: amount, max: 1}\n"
    )
    assert "WARN range(amount)" in verdict(work.check(contract), 0)


@pytest.mark.parametrize(
    ("where", "fragments"),
    [
        pytest.param("dir", ("a folder, not a contract file",), id="a-folder"),
        pytest.param("missing", ("no such contract file",), id="no-such-file"),
        pytest.param("/dev/zero", ("/dev/zero: larger than 10 MB",), id="dev-zero"),
        pytest.param("/dev/null", ("not empty",), id="dev-null"),
    ],
)
def test_a_contract_path_that_is_not_a_contract_file(
    work: Workdir, where: str, fragments: tuple[str, ...]
) -> None:
    (work.path / "dir").mkdir()
    refused(work.run("check", where, "--data", "data.csv", "--no-store"), *fragments)


@pytest.mark.parametrize(
    ("suite", "fragments"),
    [
        pytest.param("[" * 100_000 + "]" * 100_000, ("nested deeper than 64",), id="deep-json"),
        pytest.param(
            '{"name": "s", "expectations": [], "expectations": []}',
            ("the key 'expectations' is given twice",),
            id="json-repeated-key",
        ),
        pytest.param(" " * (11 * 1024 * 1024), ("larger than 10 MB",), id="json-11-MB"),
        pytest.param(b"\xff\xd8\xff\xe0 JFIF", ("not UTF-8 text",), id="json-binary"),
        pytest.param(
            '{"expectations": [' + "9" * 5000 + "]}", ("not valid JSON",), id="json-digits"
        ),
    ],
)
def test_a_hostile_gx_suite_is_one_line_and_exit_2(
    work: Workdir, suite: str | bytes, fragments: tuple[str, ...]
) -> None:
    work.write("suite.json", suite)
    refused(work.check("dataset: x\ngx_suite: suite.json\n"), "suite.json", *fragments)


@pytest.mark.parametrize(
    ("contract", "to", "fragments"),
    [
        pytest.param("dataset: x\n" + bomb(), "odcs", ("more than 200,000",), id="bomb-to-odcs"),
        pytest.param(
            "apiVersion: v3.0.2\nkind: DataContract\nkind: DataContract\n",
            "opsguard",
            ("c.yml:3:", "kind", "given twice"),
            id="odcs-repeated-key",
        ),
        pytest.param(nested_flow(1000), "opsguard", ("nested deeper",), id="deep-to-opsguard"),
    ],
)
def test_the_odcs_reader_reads_within_the_same_bounds(
    work: Workdir, contract: str, to: str, fragments: tuple[str, ...]
) -> None:
    work.write("c.yml", contract)
    refused(work.run("convert", "c.yml", "--to", to), *fragments)


def test_a_catastrophic_regex_on_file_data_is_judged_in_bounded_time(work: Workdir) -> None:
    work.write("data.csv", "s\n" + ("a" * 60 + "!\n") * 200)
    contract = "dataset: x\nschema: {columns: [{name: s, type: string, pattern: '^(a+)+$'}]}\n"
    assert "200 of 200 values of s not matching" in verdict(work.check(contract), 1)


def test_a_catastrophic_regex_on_sqlite_data_is_judged_in_bounded_time(work: Workdir) -> None:
    """SQLite's REGEXP runs in RE2 (Python's re took hours on one 61-character value)."""
    import sqlite3

    database = work.path / "data.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE t (s TEXT)")
        connection.executemany("INSERT INTO t VALUES (?)", [("a" * 60 + "!",)] * 200)
    contract = (
        f"dataset: x\nsource: {{url: 'sqlite:///{database}', table: t}}\n"
        "schema: {columns: [{name: s, type: string, pattern: '^(a+)+$'}]}\n"
    )
    work.write("c.yml", contract)
    proc = work.run("check", "c.yml", "--no-store")
    assert "200 of 200 values of s not matching" in verdict(proc, 1)


# =================================================================== numbers

NUMBER_REFUSALS: list[Any] = [
    pytest.param(
        f"volume: {{max_rows: {2**64}}}",
        ("volume.max_rows", "less than or equal"),
        id="max-rows-2**64",
    ),
    pytest.param(
        "volume: {min_rows: -1}",
        ("volume.min_rows", "greater than or equal"),
        id="min-rows-negative",
    ),
    pytest.param(
        f"schema: {{columns: [{{name: a, min: {BIG}}}]}}",
        ("out of range",),
        id="min-beyond-64-bits",
    ),
    pytest.param(
        f"schema: {{columns: [{{name: a, max: -{BIG}}}]}}",
        ("out of range",),
        id="max-below-64-bits",
    ),
    pytest.param(
        f"schema: {{columns: [{{name: a, allowed: [1, {BIG}]}}]}}",
        ("allowed[1]",),
        id="allowed-beyond-64-bits",
    ),
    pytest.param(
        f"schema: {{columns: [{{name: s, max_length: {BIG}}}]}}",
        ("max_length",),
        id="length-beyond-64-bits",
    ),
    pytest.param(
        f"checks: [{{type: statistic, column: a, statistic: sum, max: {BIG}}}]",
        ("checks[0].max",),
        id="statistic-beyond-64-bits",
    ),
    pytest.param(
        "schema: {columns: [{name: a, min: .nan}]}", ("not a finite number",), id="min-nan"
    ),
    pytest.param(
        "schema: {columns: [{name: a, max: .inf}]}", ("not a finite number",), id="max-inf"
    ),
    pytest.param(
        "schema: {columns: [{name: a, min: 1e999}]}", ("range of floats",), id="min-1e999-text"
    ),
    pytest.param(
        "schema: {columns: [{name: a, nullable: false, mostly: .nan}]}",
        ("mostly",),
        id="mostly-nan",
    ),
    pytest.param(
        "checks: [{type: reconcile, metric: count, to: {path: data.csv}, tolerance: .inf}]",
        ("tolerance", "finite"),
        id="tolerance-inf",
    ),
    pytest.param(
        "distribution: {reference: r.json, columns: [a], bins: 1.0e+30}",
        ("distribution.bins",),
        id="bins-1e30",
    ),
    pytest.param(
        f"distribution: {{reference: r.json, columns: [a], min_rows: {2**63}}}",
        ("distribution.min_rows",),
        id="drift-min-rows-2**63",
    ),
    pytest.param(
        f"checks: [{{type: anomaly, metric: rows, window: {BIG}}}]",
        ("checks[0].window",),
        id="anomaly-window-huge",
    ),
    pytest.param(
        f"escalation: {{after_failures: {BIG}}}",
        ("escalation.after_failures",),
        id="escalation-huge",
    ),
]


@pytest.mark.parametrize(("body", "fragments"), NUMBER_REFUSALS)
def test_a_number_out_of_range_in_a_contract_is_one_line_and_exit_2(
    work: Workdir, body: str, fragments: tuple[str, ...]
) -> None:
    refused(work.check(f"dataset: x\n{body}\n"), "c.yml:2:", *fragments)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f"schema: {{columns: [{{name: a, min: {BIG}}}]}}", id="range"),
        pytest.param(f"schema: {{columns: [{{name: a, allowed: [{BIG}]}}]}}", id="allowed"),
        pytest.param(f"schema: {{columns: [{{name: s, max_length: {BIG}}}]}}", id="length"),
    ],
)
def test_numbers_that_used_to_overflow_sqlite_are_refused_before_the_query(
    work: Workdir, body: str
) -> None:
    import sqlite3

    with sqlite3.connect(work.path / "d.db") as db:
        db.execute("create table t (a integer, s text)")
        db.execute("insert into t values (1, 'x')")
    work.write("c.yml", f"dataset: x\n{body}\n")
    url = f"sqlite:///{work.path / 'd.db'}"
    refused(work.run("check", "c.yml", "--data", url, "--table", "t", "--no-store"), "c.yml:2:")


def test_the_largest_64_bit_count_is_a_bound_like_any_other(work: Workdir) -> None:
    out = verdict(work.check(f"dataset: x\nvolume: {{min_rows: {INT64_MAX}}}\n"), 1)
    assert "FAIL volume" in out


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        pytest.param(
            ("results", "--limit", str(BIG)),
            ("--limit", "at most 9223372036854775807"),
            id="results-limit",
        ),
        pytest.param(
            ("results", "--limit", str(2**63)), ("--limit", "at most"), id="results-limit-2**63"
        ),
        pytest.param(
            ("results", "--limit", "-1"),
            ("--limit", "must not be negative"),
            id="results-limit-negative",
        ),
        pytest.param(
            ("results", "--limit", "9" * 5000),
            ("is not a whole number",),
            id="results-limit-5000-digits",
        ),
        pytest.param(
            ("results", "--limit", "1e3"),
            ("'1e3' is not a whole number",),
            id="results-limit-float",
        ),
        pytest.param(
            ("quarantine", "list", "--offset", str(BIG)),
            ("--offset", "at most"),
            id="quarantine-offset",
        ),
        pytest.param(
            ("quarantine", "list", "--limit", str(BIG)),
            ("--limit", "at most"),
            id="quarantine-limit",
        ),
        pytest.param(("incidents", "ack", str(BIG)), ("id", "at most"), id="incidents-ack"),
        pytest.param(("incidents", "ack", f"#{BIG}"), ("id", "at most"), id="incidents-ack-hash"),
        pytest.param(
            ("incidents", "resolve", str(2**63)), ("id", "at most"), id="incidents-resolve"
        ),
        pytest.param(
            ("incidents", "list", "--limit", str(BIG)), ("--limit", "at most"), id="incidents-list"
        ),
        pytest.param(
            ("profile", "--data", "data.csv", "--out", "p.json", "--bins", str(BIG)),
            ("--bins", "at most"),
            id="profile-bins",
        ),
        pytest.param(
            ("baseline", "show", "b", "--version", str(BIG)),
            ("--version", "at most"),
            id="baseline-version",
        ),
        pytest.param(
            ("incidents", "stats", "--days", "999999"),
            ("--days", "at most 36500 days"),
            id="incidents-stats-days",
        ),
    ],
)
def test_a_number_out_of_range_in_an_argument_is_one_line_and_exit_2(
    work: Workdir, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    refused(work.run(*args), *fragments)


def test_the_largest_64_bit_numbers_reach_the_store_and_work(work: Workdir) -> None:
    work.write("c.yml", "dataset: orders\n")
    assert work.run("check", "c.yml", "--data", "data.csv").returncode == 0
    listed = work.run("results", "--limit", str(INT64_MAX), "--format", "json")
    assert listed.returncode == 0 and listed.stderr == ""
    assert [r["dataset"] for r in json.loads(listed.stdout)] == ["orders"]
    empty = work.run("quarantine", "list", "--offset", str(INT64_MAX), "--limit", str(INT64_MAX))
    assert empty.returncode == 0 and empty.stderr == ""
    missing = work.run("incidents", "ack", str(INT64_MAX))
    refused(missing, f"no incident #{INT64_MAX}")


API_PROBE = """
import json
from fastapi import FastAPI
from fastapi.testclient import TestClient
from airflow_opsguard.plugin.api import IncidentId, MapIndex, Offset

app = FastAPI()

def page(offset: Offset = 0, map_index: MapIndex = -1) -> dict:
    return {"offset": offset, "map_index": map_index}

def incident(incident_id: IncidentId) -> dict:
    return {"id": incident_id}

app.add_api_route("/page", page)
app.add_api_route("/incidents/{incident_id}", incident, methods=["POST"])
client = TestClient(app)
calls = [("get", "/page", {"offset": o}) for o in (2**63 - 1, 10**23, -1)]
calls += [("get", "/page", {"map_index": m}) for m in (10**23, -2)]
calls += [("post", f"/incidents/{i}", {}) for i in (10**23, 0, 2**63 - 1)]
out = []
for method, path, params in calls:
    response = getattr(client, method)(path, params=params)
    out.append([response.status_code, response.json()])
print(json.dumps(out))
"""


def test_the_apis_numbers_are_422_not_500(tmp_path: Path) -> None:
    # In its own process, with its own Airflow home: the API module imports Airflow.
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", API_PROBE],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    answers = json.loads(proc.stdout.strip().splitlines()[-1])
    codes = [code for code, _ in answers]
    assert codes == [200, 422, 422, 422, 422, 422, 422, 200]
    assert answers[0][1]["offset"] == INT64_MAX
    assert answers[1][1]["detail"][0]["loc"] == ["query", "offset"]
    assert answers[3][1]["detail"][0]["loc"] == ["query", "map_index"]
    assert answers[5][1]["detail"][0]["loc"] == ["path", "incident_id"]
    assert answers[7][1] == {"id": INT64_MAX}


API_ROUTES_PROBE = """
import json
from fastapi.routing import APIRoute
from airflow_opsguard.plugin.api import router

found = []
for route in router.routes:
    assert isinstance(route, APIRoute)
    for param in [*route.dependant.query_params, *route.dependant.path_params]:
        if param.field_info.annotation is int:
            highs = [m.le for m in param.field_info.metadata if getattr(m, "le", None)]
            found.append([route.path, param.name, max(highs, default=None)])
print(json.dumps(found))
"""


def test_every_number_the_api_reads_is_bounded(tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", API_ROUTES_PROBE],
        capture_output=True,
        text=True,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {name for _, name, _ in found} >= {"limit", "offset", "map_index", "incident_id"}
    unbounded = [(path, name) for path, name, high in found if high is None or high > INT64_MAX]
    assert unbounded == []


# =================================================================== time

DURATION_REFUSALS: list[Any] = [
    pytest.param(
        "freshness: {column: created_at, fail_after: 99999999999d}",
        "at most 36500d",
        id="99999999999d",
    ),
    pytest.param(
        "freshness: {column: created_at, fail_after: P99999999999D}",
        "at most 36500d",
        id="iso-99999999999-days",
    ),
    pytest.param(
        "freshness: {column: created_at, fail_after: PT99999999999999999999S}",
        "at most 36500d",
        id="iso-seconds-beyond-64-bits",
    ),
    pytest.param(
        "freshness: {column: created_at, fail_after: 1.0e+308}",
        "at most 36500d",
        id="1e308-seconds",
    ),
    pytest.param(
        "freshness: {column: created_at, fail_after: .nan}", "not a duration", id="nan-seconds"
    ),
    pytest.param("freshness: {column: created_at, fail_after: 0s}", "longer than zero", id="zero"),
    pytest.param(
        "freshness: {column: created_at, fail_after: -1h}", "not a duration", id="negative"
    ),
    pytest.param(
        "freshness: {column: created_at, fail_after: P1M}", "years and months", id="a-month"
    ),
    pytest.param(
        f"freshness: {{column: created_at, fail_after: {'1' * 200}s}}", "too long", id="200-digit"
    ),
    pytest.param(
        "freshness: {column: created_at, fail_after: 1d, future_tolerance: 2d}",
        "at most 1d",
        id="tolerance-2d",
    ),
    pytest.param(
        "freshness: {column: created_at, fail_after: 1d, future_tolerance: soon}",
        "not a duration",
        id="tolerance-garbage",
    ),
    pytest.param("escalation: {after_open: 99999999999d}", "at most 36500d", id="after-open-huge"),
]


@pytest.mark.parametrize(("body", "fragment"), DURATION_REFUSALS)
def test_a_duration_out_of_range_is_one_line_and_exit_2(
    work: Workdir, body: str, fragment: str
) -> None:
    refused(work.check(f"dataset: x\n{body}\n"), "c.yml:2:", fragment)


FRESHNESS = (
    "dataset: x\nschema: {{columns: [{{name: created_at, type: {kind}}}]}}\n"
    "freshness: {{column: created_at, fail_after: 1d{extra}}}\n"
)


def stamps(work: Workdir, *values: datetime | str) -> None:
    text = [v if isinstance(v, str) else v.strftime("%Y-%m-%d %H:%M:%S") for v in values]
    work.write("data.csv", "created_at\n" + "".join(f"{v}\n" for v in text))


def freshness_of(result: dict[str, Any]) -> dict[str, Any]:
    (check,) = [c for c in result["checks"] if c["type"] == "freshness"]
    return check


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def test_one_row_dated_9999_no_longer_makes_stale_data_pass(work: Workdir) -> None:
    stamps(work, utcnow() - timedelta(days=16), "9999-12-31 00:00:00")
    out = verdict(work.check(FRESHNESS.format(kind="timestamp", extra="")), 1)
    assert (
        "in the future (beyond the 5m clock-skew allowance): the column holds a bad timestamp"
        in out
    )
    result = json.loads(
        verdict(work.check(FRESHNESS.format(kind="timestamp", extra=""), "--format", "json"), 1)
    )
    check = freshness_of(result)
    assert (result["status"], check["type"], check["status"]) == ("fail", "freshness", "fail")
    assert check["metrics"]["newest"] == "9999-12-31T00:00:00+00:00"


def test_a_date_column_dated_9999_fails_too(work: Workdir) -> None:
    stamps(work, "2026-11-20", "9999-12-31")
    out = verdict(work.check(FRESHNESS.format(kind="date", extra="")), 1)
    assert "the column holds a bad timestamp" in out


@pytest.mark.parametrize(
    ("ahead", "extra", "code"),
    [
        pytest.param(timedelta(hours=1), "", 1, id="an-hour-ahead"),
        pytest.param(timedelta(minutes=1), "", 0, id="a-minute-ahead"),
        pytest.param(timedelta(hours=1), ", future_tolerance: 2h", 0, id="an-hour-ahead-allowed"),
        pytest.param(
            timedelta(hours=3), ", future_tolerance: 2h", 1, id="beyond-the-stated-allowance"
        ),
    ],
)
def test_timestamps_ahead_of_the_clock(
    work: Workdir, ahead: timedelta, extra: str, code: int
) -> None:
    stamps(work, utcnow() + ahead)
    out = verdict(work.check(FRESHNESS.format(kind="timestamp", extra=extra)), code)
    assert ("bad timestamp" in out) == (code == 1)


def test_a_warning_freshness_check_warns_of_a_bad_timestamp(work: Workdir) -> None:
    stamps(work, "9999-12-31 00:00:00")
    contract = FRESHNESS.format(kind="timestamp", extra=", severity: warn")
    result = json.loads(verdict(work.check(contract, "--format", "json"), 0))
    assert result["status"] == "warn"
    assert "bad timestamp" in freshness_of(result)["message"]


@pytest.mark.parametrize(
    ("now", "written", "observed"),
    [
        pytest.param(
            "2026-11-26T12:00:00", "2026-11-26 12:00:30", "-30s", id="seconds-after-a-naive-now"
        ),
        pytest.param(
            "2026-11-26T12:00:00Z", "2026-11-26 15:00:00", "-3h", id="backfill-hours-after"
        ),
        pytest.param("1969-07-21T00:00:00", "1969-07-20 20:17:00", "3h 43m", id="before-1970"),
        pytest.param("2026-11-26T12:00:00+14:00", "2026-11-25 22:00:00", "0s", id="now-at-plus-14"),
    ],
)
def test_a_fixed_now_judges_data_written_around_it(
    work: Workdir, now: str, written: str, observed: str
) -> None:
    stamps(work, written)
    contract = FRESHNESS.format(kind="timestamp", extra="")
    result = json.loads(verdict(work.check(contract, "--now", now, "--format", "json"), 0))
    assert freshness_of(result)["observed"] == observed
    assert result["checked_at"].endswith("+00:00")


def test_data_from_1900_is_old_not_broken(work: Workdir) -> None:
    stamps(work, "1900-01-01 00:00:00")
    out = verdict(work.check(FRESHNESS.format(kind="timestamp", extra="")), 1)
    assert "old; the contract allows 1d" in out


def test_timestamps_with_a_far_zone_are_compared_in_utc(work: Workdir) -> None:
    # An hour ago, written at UTC+14: fourteen hours "ahead" on the wall, in the past.
    kiribati = datetime.now(UTC) - timedelta(hours=1) + timedelta(hours=14)
    stamps(work, kiribati.strftime("%Y-%m-%d %H:%M:%S") + "+14:00")
    out = verdict(work.check(FRESHNESS.format(kind="timestamp", extra="")), 0)
    assert "newest created_at is 1h" in out


@pytest.mark.parametrize(
    ("now", "fragment"),
    [
        pytest.param("yesterday", "'yesterday' is not an ISO 8601", id="words"),
        pytest.param("2026-13-01", "is not an ISO 8601", id="month-13"),
        pytest.param("2026-11-26T12:00:00+25:00", "is not an ISO 8601", id="offset-25h"),
        pytest.param("2" * 5000, "--now", id="5000-characters"),
        pytest.param("9999-12-31T23:00-05:00", "exists in UTC", id="beyond-9999-in-utc"),
        pytest.param("0001-01-01T00:30+01:00", "exists in UTC", id="before-year-1-in-utc"),
    ],
)
def test_a_wrong_now_is_one_line_and_exit_2(work: Workdir, now: str, fragment: str) -> None:
    proc = work.check("dataset: x\n", "--now", now)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert fragment in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr) < 300  # the text is quoted cut, never whole


# ------------------------------------------------------------------ the sensor agrees


REFERENCE = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_the_sensor_reads_a_far_future_timestamp_as_the_gate_does() -> None:
    from airflow_opsguard.freshness import Observation, Reading

    reading = Reading(
        "orders",
        Observation(newest=datetime(9999, 12, 31, tzinfo=UTC)),
        REFERENCE,
        timedelta(days=1),
        clock=REFERENCE,
    )
    assert not reading.fresh and reading.bad_timestamp
    assert "(beyond the 5m clock-skew allowance): the source holds a bad timestamp" in (
        reading.message
    )
    assert reading.to_json()["status"] == "stale"


def test_the_sensor_takes_data_written_after_the_interval_end_as_fresh() -> None:
    from airflow_opsguard.freshness import Observation, Reading

    for written, clock in (
        (REFERENCE + timedelta(seconds=30), REFERENCE + timedelta(minutes=1)),
        (REFERENCE + timedelta(hours=3), REFERENCE + timedelta(hours=4)),
    ):
        reading = Reading(
            "o", Observation(newest=written), REFERENCE, timedelta(days=1), clock=clock
        )
        assert reading.fresh, reading.message
        assert "ahead (fresh)" in reading.message


def test_the_contracts_allowance_reaches_the_sensor() -> None:
    from airflow_opsguard.formats import load_contract
    from airflow_opsguard.freshness import Observation, Reading, future_tolerance

    contract = load_contract(
        {
            "dataset": "o",
            "freshness": {"column": "ts", "fail_after": "1d", "future_tolerance": "2h"},
        }
    )
    allowance = future_tolerance(contract)
    assert allowance == timedelta(hours=2)
    assert future_tolerance(None) == timedelta(minutes=5)
    ahead = Observation(newest=REFERENCE + timedelta(hours=1))
    assert Reading("o", ahead, REFERENCE, timedelta(days=1), allowance, REFERENCE).fresh
    assert not Reading("o", ahead, REFERENCE, timedelta(days=1), clock=REFERENCE).fresh


offsets = st.timedeltas(timedelta(days=-60), timedelta(days=60))


@settings(max_examples=300, deadline=None)
@given(newest=offsets, clock=offsets, limit=st.timedeltas(timedelta(seconds=1), timedelta(days=30)))
def test_sensor_and_gate_agree_on_every_timestamp(
    newest: timedelta, clock: timedelta, limit: timedelta
) -> None:
    from airflow_opsguard.checks.evaluate import evaluate_freshness
    from airflow_opsguard.checks.observations import CheckObservation
    from airflow_opsguard.contract.durations import duration_text
    from airflow_opsguard.contract.models import Freshness
    from airflow_opsguard.freshness import Observation, Reading

    stamp = REFERENCE + newest
    reading = Reading("o", Observation(newest=stamp), REFERENCE, limit, clock=REFERENCE + clock)
    section = Freshness(column="ts", fail_after=duration_text(limit))
    gate = evaluate_freshness(section, CheckObservation(value=stamp), REFERENCE, REFERENCE + clock)
    assert reading.fresh == (gate.status == "pass")
    assert reading.bad_timestamp == ("bad timestamp" in gate.message)
