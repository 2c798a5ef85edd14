"""The `opsguard` command, run as users run it: the installed console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

OPSGUARD = str(Path(sys.executable).with_name("opsguard"))
NOW = "2026-11-26T12:00:00"

CONTRACT = """\
dataset: orders
source:
  path: orders.parquet
schema:
  columns:
    - {name: order_id, type: integer, nullable: false, unique: true}
    - {name: amount, type: float, nullable: false, min: 0, max: 100000}
    - {name: country, type: string, allowed: [US, DE, FR]}
    - {name: created_at, type: timestamp}
freshness:
  column: created_at
  warn_after: 6h
  fail_after: 1d
volume:
  min_rows: 3
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPSGUARD, *args], capture_output=True, text=True, cwd=cwd, check=False)


def orders(**overrides: list[object]) -> pd.DataFrame:
    data: dict[str, list[object]] = {
        "order_id": [1, 2, 3, 4],
        "amount": [10.0, 20.5, 30.0, 99.0],
        "country": ["US", "DE", "FR", "US"],
        "created_at": pd.to_datetime(["2026-11-26 08:00"] * 4).tolist(),
    }
    data.update(overrides)
    return pd.DataFrame(data)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "orders.yml").write_text(CONTRACT)
    orders().to_parquet(tmp_path / "orders.parquet")
    return tmp_path


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_pass_exits_0_with_a_readable_report(workdir: Path) -> None:
    proc = run("check", str(workdir / "orders.yml"), "--now", NOW, "--no-store")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("orders: PASS  4 rows")
    assert "freshness(created_at)  newest created_at is 4h old" in proc.stdout
    assert proc.stderr == ""


def test_warn_exits_0(workdir: Path) -> None:
    proc = run("check", str(workdir / "orders.yml"), "--now", "2026-11-26T15:00:00", "--no-store")
    assert proc.returncode == 0
    assert proc.stdout.startswith("orders: WARN")


def test_fail_exits_1_and_json_has_the_documented_shape(workdir: Path) -> None:
    proc = run(
        "check",
        str(workdir / "orders.yml"),
        "--now",
        "2026-11-29T14:00:00",
        "--format",
        "json",
        "--no-store",
    )
    assert proc.returncode == 1, proc.stderr
    result = json.loads(proc.stdout)
    assert {"dataset", "status", "checked_at", "rows", "checks"} <= set(result)
    assert (result["dataset"], result["status"], result["rows"]) == ("orders", "fail", 4)
    assert result["checked_at"] == "2026-11-29T14:00:00+00:00"
    fresh = next(c for c in result["checks"] if c["type"] == "freshness")
    assert fresh == {
        "name": "freshness(created_at)",
        "type": "freshness",
        "column": "created_at",
        "status": "fail",
        "severity": "fail",
        "observed": "3d 6h",
        "expected": "< 1d",
        "message": "newest created_at is 3d 6h old; the contract allows 1d",
        "metrics": {"newest": "2026-11-26T08:00:00+00:00", "age_seconds": 280800.0},
    }
    for check in result["checks"]:
        assert check["status"] in ("pass", "warn", "fail", "error")


def test_data_problems_are_failing_checks(workdir: Path) -> None:
    orders(order_id=[1, 1, None, 4], country=["US", "GB", "GB", None]).to_parquet(
        workdir / "bad.parquet"
    )
    proc = run(
        "check",
        str(workdir / "orders.yml"),
        "--data",
        str(workdir / "bad.parquet"),
        "--now",
        NOW,
        "--format",
        "json",
        "--no-store",
    )
    assert proc.returncode == 1
    checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    assert checks["unique(order_id)"]["failing_count"] == 2
    assert checks["unique(order_id)"]["samples"] == [1]
    assert checks["not_null(order_id)"]["failing_count"] == 1
    assert checks["allowed(country)"]["failing_count"] == 2
    assert checks["allowed(country)"]["samples"] == ["GB"]
    assert checks["schema(order_id)"]["status"] == "fail"  # None made the column float


def test_an_empty_file_fails_the_gate(workdir: Path) -> None:
    (workdir / "empty.csv").write_text("")
    proc = run(
        "check",
        str(workdir / "orders.yml"),
        "--data",
        str(workdir / "empty.csv"),
        "--now",
        NOW,
        "--format",
        "json",
        "--no-store",
    )
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["rows"] == 0
    volume = next(c for c in result["checks"] if c["type"] == "volume")
    assert volume["status"] == "fail"


def test_a_header_only_csv_has_columns_and_no_rows(workdir: Path) -> None:
    (workdir / "header.csv").write_text("order_id,amount,country,created_at\n")
    proc = run(
        "check",
        str(workdir / "orders.yml"),
        "--data",
        str(workdir / "header.csv"),
        "--now",
        NOW,
        "--format",
        "json",
        "--no-store",
    )
    assert proc.returncode == 1
    result = json.loads(proc.stdout)
    assert result["rows"] == 0
    assert next(c for c in result["checks"] if c["type"] == "freshness")["status"] == "fail"


@pytest.mark.parametrize(
    ("setup", "fragments"),
    [
        (lambda d: None, ("missing.parquet", "no such file")),
        (
            lambda d: (d / "missing.parquet").write_text("not parquet at all"),
            ("missing.parquet", "cannot read"),
        ),
    ],
)
def test_unreadable_data_exits_2_naming_the_file(workdir: Path, setup, fragments) -> None:  # type: ignore[no-untyped-def]
    setup(workdir)
    proc = run(
        "check",
        str(workdir / "orders.yml"),
        "--data",
        str(workdir / "missing.parquet"),
        "--no-store",
    )
    assert_one_line_error(proc, *fragments)


def test_unreadable_data_still_gives_json_with_status_error(workdir: Path) -> None:
    proc = run(
        "check",
        str(workdir / "orders.yml"),
        "--data",
        str(workdir / "nope.csv"),
        "--format",
        "json",
        "--no-store",
    )
    assert_one_line_error(proc, "nope.csv")
    result = json.loads(proc.stdout)
    assert result["status"] == "error"
    assert "nope.csv" in result["error"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("OPSGUARD_DUCKDB_MEMORY_LIMIT", "lots"), ("OPSGUARD_DUCKDB_THREADS", "two")],
)
def test_an_unreadable_engine_setting_exits_2_naming_the_variable(
    workdir: Path, variable: str, value: str
) -> None:
    data = str(workdir / "orders.parquet")
    proc = subprocess.run(
        [OPSGUARD, "check", str(workdir / "orders.yml"), "--data", data, "--no-store"],
        capture_output=True,
        text=True,
        env={**os.environ, variable: value},
        check=False,
    )
    assert_one_line_error(proc, f"{variable}={value!r}")


def test_unknown_file_type_exits_2(workdir: Path) -> None:
    (workdir / "orders.xlsx").write_bytes(b"PK\x03\x04")
    proc = run(
        "check", str(workdir / "orders.yml"), "--data", str(workdir / "orders.xlsx"), "--no-store"
    )
    assert_one_line_error(proc, "orders.xlsx", "unknown file type")


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (("min_rows", "min_row"), ("orders.yml:15", "volume.min_row", "unknown key")),
        (("type: float", "type: double"), ("orders.yml:7", "schema.columns[1].type", "'double'")),
        (("warn_after: 6h", "warn_after: 2d"), ("orders.yml:10", "warn_after (2d) is longer")),
        (("column: created_at", "column: updated_at"), ("freshness.column", "'updated_at'")),
        (("allowed: [US, DE, FR]", "pattern: '[a-'"), ("schema.columns[2].pattern", "invalid")),
    ],
)
def test_contract_mistakes_exit_2_naming_file_line_and_key(
    workdir: Path, change: tuple[str, str], fragments: tuple[str, ...]
) -> None:
    (workdir / "orders.yml").write_text(CONTRACT.replace(*change))
    proc = run("check", str(workdir / "orders.yml"), "--no-store")
    assert_one_line_error(proc, *fragments)
    assert proc.stdout == ""


def test_a_check_on_a_column_the_schema_lacks_exits_2(workdir: Path) -> None:
    (workdir / "orders.yml").write_text(
        CONTRACT + "checks:\n  - {type: not_null, column: customer_id}\n"
    )
    proc = run("check", str(workdir / "orders.yml"), "--no-store")
    assert_one_line_error(proc, "checks[0]", "'customer_id' is not in schema.columns")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((), "the following arguments are required"),
        (("check",), "the following arguments are required: contract"),
        (("check", "x.yml", "--format", "xml"), "invalid choice"),
        (("results", "--limit", "0"), "must be at least 1"),
        (("explode",), "invalid choice"),
    ],
)
def test_wrong_calls_exit_2_with_one_line(args: tuple[str, ...], fragment: str) -> None:
    assert_one_line_error(run(*args), fragment)


def test_missing_contract_exits_2(tmp_path: Path) -> None:
    assert_one_line_error(run("check", str(tmp_path / "nope.yml")), "nope.yml", "no such contract")


def test_bad_now_exits_2(workdir: Path) -> None:
    proc = run("check", str(workdir / "orders.yml"), "--now", "yesterday", "--no-store")
    assert_one_line_error(proc, "--now", "'yesterday'")


def test_schema_prints_the_contract_json_schema() -> None:
    proc = run("schema")
    assert proc.returncode == 0
    schema = json.loads(proc.stdout)
    assert schema["title"] == "airflow-opsguard contract"
    assert schema["required"] == ["dataset"]
    assert {"dataset", "source", "schema", "freshness", "volume", "checks", "on_fail"} <= set(
        schema["properties"]
    )
    assert schema["additionalProperties"] is False


def test_progress_is_one_line_that_is_erased_at_the_end() -> None:
    import io

    from airflow_opsguard.cli.main import _Progress

    stream = io.StringIO()
    progress = _Progress(stream)
    progress.clear()
    assert stream.getvalue() == ""  # nothing shown, nothing to erase
    progress(9.6)
    progress(47.25)
    progress.clear()
    assert stream.getvalue() == "\rscanning...   9.6%\rscanning...  47.2%\r\033[K"


def test_a_reader_that_closes_the_pipe_loses_nothing(workdir: Path) -> None:
    """`opsguard check ... | head`: no traceback, the verdict's exit code, the verdict stored."""
    store = f"sqlite:///{workdir / 'store.db'}"
    command = [OPSGUARD, "check", str(workdir / "orders.yml"), "--now", "2026-11-29T14:00:00"]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        proc = subprocess.run(
            [*command, "--store", store, "--no-alerts"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 1  # the stale data fails, whoever reads the report
    assert proc.stderr == ""
    stored = run("results", "--store", store, "--format", "json")
    assert [r["status"] for r in json.loads(stored.stdout)] == ["fail"]


LIGHT_PROBE = """
import json, sys
from airflow_opsguard.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


@pytest.mark.parametrize("args", [("--help",), ("check", "--help"), ("check",), ("explode",)])
def test_help_and_wrong_calls_import_no_library_of_the_checks(args: tuple[str, ...]) -> None:
    # --help and argument errors must answer at once: no SQLAlchemy, pydantic, YAML, ...
    proc = subprocess.run(
        [sys.executable, "-c", LIGHT_PROBE, *args], capture_output=True, text=True, check=False
    )
    loaded = set(json.loads(proc.stderr.strip().splitlines()[-1]))
    heavy = {"sqlalchemy", "pydantic", "yaml", "pandas", "duckdb", "airflow", "alembic"}
    assert not loaded & heavy, loaded & heavy
