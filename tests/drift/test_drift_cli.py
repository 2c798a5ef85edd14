"""``opsguard profile`` and drift through ``opsguard check``, run as users run them: the
installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from airflow_opsguard.drift.profile import Profile

OPSGUARD = str(Path(sys.executable).with_name("opsguard"))


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPSGUARD, *args], capture_output=True, text=True, cwd=cwd, check=False)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def workdir(tmp_path: Path, drift_frames: dict[str, pd.DataFrame]) -> Path:
    for name in ("reference", "healthy", "shifted"):
        drift_frames[name].to_parquet(tmp_path / f"{name}.parquet", index=False)
    return tmp_path


def test_profile_writes_a_json_profile(workdir: Path) -> None:
    proc = run("profile", "--data", "reference.parquet", "--out", "ref.json", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert "ref.json: 4 columns, 20,000 rows of reference.parquet" in proc.stdout
    profile = Profile.read(workdir / "ref.json")
    assert profile.rows == 20_000
    assert profile.names == ("amount", "quantity", "country", "returned")
    assert json.loads((workdir / "ref.json").read_text())["opsguard_profile"] == 1


def test_profile_options_limit_columns_bins_and_top(workdir: Path) -> None:
    proc = run(
        "profile",
        "--data",
        "reference.parquet",
        "--columns",
        "amount, country",
        "--bins",
        "5",
        "--top",
        "2",
        "--out",
        "small.json",
        cwd=workdir,
    )
    assert proc.returncode == 0, proc.stderr
    profile = Profile.read(workdir / "small.json")
    assert profile.names == ("amount", "country")
    amount, country = profile.column("amount"), profile.column("country")
    assert amount is not None and amount.numeric is not None and len(amount.numeric.edges) == 4
    assert country is not None and country.categorical is not None
    assert len(country.categorical.top) == 2 and country.categorical.other > 0


def test_profile_of_a_database_table(workdir: Path, drift_frames: dict[str, pd.DataFrame]) -> None:
    engine = sa.create_engine(f"sqlite:///{workdir / 'shop.db'}")
    drift_frames["reference"].to_sql("orders", engine, index=False)
    engine.dispose()
    url = f"sqlite:///{workdir / 'shop.db'}"
    proc = run("profile", "--data", url, "--table", "orders", "--out", "db.json", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    from_db = Profile.read(workdir / "db.json")
    assert from_db.source is not None and "table 'orders'" in from_db.source
    assert from_db.rows == 20_000


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--data", "missing.parquet", "--out", "x.json"], ["missing.parquet", "no such file"]),
        (["--data", "reference.parquet", "--out", "x.json", "--columns", "nope"], ["'nope'"]),
        (["--data", "reference.parquet"], ["--out"]),
        (["--out", "x.json"], ["--data"]),
        (["--data", "reference.parquet", "--out", "x.json", "--bins", "0"], ["--bins"]),
        (["--data", "sqlite:///shop.db", "--out", "x.json"], ["--table"]),
        (["--data", "reference.parquet", "--out", "no/such/dir/x.json"], ["no/such/dir/x.json"]),
        (["--data", "reference.parquet", "--out", "x.json", "--columns", ","], ["--columns"]),
    ],
)
def test_profile_bad_input_is_one_line_and_exit_code_2(
    workdir: Path, args: list[str], fragments: list[str]
) -> None:
    assert_one_line_error(run("profile", *args, cwd=workdir), *fragments)
    assert not (workdir / "x.json").exists()


CONTRACT = """\
dataset: orders
distribution:
  reference: {reference}
  columns: [amount, country, returned]
"""


def test_check_against_a_profile_passes_healthy_data_and_fails_drift(workdir: Path) -> None:
    assert (
        run("profile", "--data", "reference.parquet", "--out", "ref.json", cwd=workdir).returncode
        == 0
    )
    (workdir / "orders.yml").write_text(CONTRACT.format(reference="ref.json"))
    healthy = run("check", "orders.yml", "--data", "healthy.parquet", "--no-store", cwd=workdir)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    shifted = run(
        "check",
        "orders.yml",
        "--data",
        "shifted.parquet",
        "--no-store",
        "--format",
        "json",
        cwd=workdir,
    )
    assert shifted.returncode == 1, shifted.stdout + shifted.stderr
    result = json.loads(shifted.stdout)
    checks = {c["name"]: c for c in result["checks"]}
    assert checks["distribution(amount)"]["status"] == "fail"
    assert checks["distribution(amount)"]["type"] == "distribution"
    assert checks["distribution(country)"]["status"] == "pass"


def test_check_with_a_missing_reference_names_it_on_one_line(workdir: Path) -> None:
    (workdir / "orders.yml").write_text(CONTRACT.format(reference="refs/gone.json"))
    proc = run("check", "orders.yml", "--data", "healthy.parquet", "--no-store", cwd=workdir)
    assert_one_line_error(proc, "distribution(amount)", "gone.json", "no such file")


def test_check_with_a_profile_of_another_version_says_so_on_one_line(workdir: Path) -> None:
    assert (
        run("profile", "--data", "reference.parquet", "--out", "ref.json", cwd=workdir).returncode
        == 0
    )
    data = json.loads((workdir / "ref.json").read_text())
    data["opsguard_profile"] = 2
    (workdir / "ref.json").write_text(json.dumps(data))
    (workdir / "orders.yml").write_text(CONTRACT.format(reference="ref.json"))
    proc = run("check", "orders.yml", "--data", "healthy.parquet", "--no-store", cwd=workdir)
    assert_one_line_error(proc, "ref.json", "version 2", "reads version 1")
