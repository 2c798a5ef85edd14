"""`opsguard lint`: contract files checked without data, one line per problem, exit
codes as `check`; and the pre-commit hook that runs it."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from airflow_opsguard.drift.profile import ColumnProfile, Profile

ROOT = Path(__file__).resolve().parents[2]
OPSGUARD = str(Path(sys.executable).with_name("opsguard"))

GOOD = """\
dataset: orders
source: {path: orders.parquet}
schema:
  columns:
    - {name: order_id, type: integer, nullable: false, unique: true}
    - {name: amount, type: float}
distribution:
  reference: orders.profile.json
  columns: [amount]
"""

BAD = """\
dataset: orders
schema:
  columns:
    - {name: a, type: integr}
volume:
  min_row: 5
checks:
  - {type: unique, column: [x]}
"""

GX_SUITE = {
    "name": "orders_suite",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "order_id"}}
    ],
}

ODCS = """\
apiVersion: v3.0.2
kind: DataContract
id: orders-contract
name: orders
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - name: order_id
        logicalType: integer
        required: true
        quality:
          - type: text
            description: every order has a buyer we know
"""


def lint(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OPSGUARD, "lint", *args], capture_output=True, text=True, cwd=cwd, check=False
    )


@pytest.fixture
def contracts(tmp_path: Path) -> Path:
    folder = tmp_path / "contracts"
    folder.mkdir()
    (folder / "orders.yml").write_text(GOOD)
    Profile(
        rows=1,
        columns=(
            ColumnProfile(name="amount", type="float", native_type="DOUBLE", count=1, nulls=0),
        ),
    ).write(folder / "orders.profile.json")
    (folder / "bad.yml").write_text(BAD)
    return folder


def test_a_good_contract_lints_clean(contracts: Path) -> None:
    done = lint("orders.yml", cwd=contracts)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""
    assert "1 contract: 0 errors, 0 warnings" in done.stderr


def test_every_problem_is_one_line_with_file_and_line(contracts: Path) -> None:
    done = lint("bad.yml", "orders.yml", cwd=contracts)
    assert done.returncode == 2
    assert done.stdout.splitlines() == [
        "bad.yml:4: schema.columns[0].type: 'integr' is not allowed; expected 'integer', "
        "'float', 'decimal', 'string', 'boolean', 'date' or 'timestamp'",
        "bad.yml:6: volume.min_row: unknown key 'min_row'",
        "bad.yml:8: checks[0].column: Input should be a valid string",
    ]


def test_json_output_lists_the_problems(contracts: Path) -> None:
    done = lint("bad.yml", "orders.yml", "--format", "json", cwd=contracts)
    report = json.loads(done.stdout)
    assert done.returncode == 2
    assert report["status"] == "error" and report["files"] == 2 and report["errors"] == 3
    assert report["problems"][1] == {
        "file": "bad.yml",
        "line": 6,
        "level": "error",
        "message": "volume.min_row: unknown key 'min_row'",
    }


def test_referenced_files_must_exist_and_read(contracts: Path) -> None:
    (contracts / "orders.profile.json").unlink()
    (contracts / "suite.json").write_text("{not json")
    (contracts / "gx.yml").write_text(
        "dataset: orders\ngx_suite:\n  - suite.json\n  - missing.json\n"
        "checks:\n  - type: reference\n    column: buyer\n"
        "    to: {path: buyers.parquet, column: id}\n"
    )
    done = lint("orders.yml", "gx.yml", cwd=contracts)
    lines = done.stdout.splitlines()
    assert done.returncode == 2
    assert lines[0].startswith("orders.yml:8: distribution.reference: 'orders.profile.json': ")
    assert lines[1].startswith("gx.yml:3: gx_suite: ") and "suite.json" in lines[1]
    assert lines[2].startswith("gx.yml:4: gx_suite: ") and "missing.json" in lines[2]
    assert lines[3].startswith("gx.yml:8: warning: checks[0].to.path: 'buyers.parquet'")
    assert len(lines) == 4


def test_a_good_gx_suite_and_reference_data_elsewhere_are_fine(contracts: Path) -> None:
    (contracts / "suite.json").write_text(json.dumps(GX_SUITE))
    (contracts / "gx.yml").write_text(
        "dataset: orders\ngx_suite: suite.json\n"
        "distribution: {reference: ../data/training.parquet, columns: [amount]}\n"
    )
    done = lint("gx.yml", cwd=contracts)
    assert done.returncode == 0  # a warning is not an error
    assert done.stdout.splitlines() == [
        "gx.yml:3: warning: distribution.reference: '../data/training.parquet': no such data "
        "here (fine if it exists where the gate runs)"
    ]


def test_odcs_documents_are_linted_and_what_does_not_map_is_a_warning(contracts: Path) -> None:
    (contracts / "orders.odcs.yaml").write_text(ODCS)
    done = lint("orders.odcs.yaml", cwd=contracts)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(
        r"orders\.odcs\.yaml: warning: not checked: ODCS schema\[orders\]\.properties.+\n",
        done.stdout,
    )
    (contracts / "broken.odcs.yaml").write_text(
        ODCS.replace("kind: DataContract\n", "kind: DataContract\nstatus2: x\n")
    )
    broken = lint("broken.odcs.yaml", cwd=contracts)
    assert broken.returncode == 2 and broken.stdout.startswith("broken.odcs.yaml: ")


def test_files_that_are_not_contracts(contracts: Path) -> None:
    (contracts / "list.yml").write_text("- a\n- b\n")
    (contracts / "tabs.yml").write_text("dataset: x\n\tschema: 1\n")
    done = lint("list.yml", "tabs.yml", "nowhere.yml", cwd=contracts)
    lines = done.stdout.splitlines()
    assert done.returncode == 2 and len(lines) == 3
    assert lines[0].startswith("list.yml: ") and lines[1].startswith("tabs.yml:")
    assert lines[2].startswith("nowhere.yml: ")


def test_the_example_contracts_lint_without_errors() -> None:
    done = lint(
        *sorted(str(p) for p in (ROOT / "dags_examples" / "contracts").glob("*.yml")), cwd=ROOT
    )
    assert done.returncode == 0, done.stdout


# ------------------------------------------------------------------------- pre-commit


def _hooks() -> list[dict[str, object]]:
    hooks: list[dict[str, object]] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return hooks


def test_the_pre_commit_hook_file_is_valid() -> None:
    hooks = _hooks()
    assert [h["id"] for h in hooks] == ["opsguard-lint"]
    hook = hooks[0]
    # The keys pre-commit requires of a hook, and the types it takes.
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python"
    assert set(hook) <= {
        "id", "name", "entry", "language", "files", "exclude", "types", "types_or",
        "exclude_types", "always_run", "fail_fast", "verbose", "pass_filenames",
        "require_serial", "description", "language_version", "minimum_pre_commit_version",
        "args", "stages", "additional_dependencies",
    }  # fmt: skip
    files = re.compile(str(hook["files"]))
    assert files.search("contracts/orders.yml") and files.search("etl/contracts/users.yaml")
    assert not files.search("dags/orders.py") and not files.search(".github/workflows/ci.yml")


def test_the_hook_entry_lints_the_files_pre_commit_passes(contracts: Path) -> None:
    entry = shlex.split(str(_hooks()[0]["entry"]))
    assert entry[0] == "opsguard"  # the console script the package installs
    command = [OPSGUARD, *entry[1:]]
    good = subprocess.run([*command, "orders.yml"], cwd=contracts, capture_output=True, text=True)
    bad = subprocess.run(
        [*command, "orders.yml", "bad.yml"], cwd=contracts, capture_output=True, text=True
    )
    assert good.returncode == 0
    assert bad.returncode != 0 and "bad.yml:6: volume.min_row" in bad.stdout


def test_a_folder_stands_for_the_contract_files_below_it(contracts: Path) -> None:
    (contracts / "nested").mkdir()
    (contracts / "nested" / "more.yaml").write_text("dataset: more\n")
    (contracts / ".hidden.yml").write_text("not: a contract\n")
    (contracts / "notes.txt").write_text("not yaml")
    done = lint(".", "--format", "json", cwd=contracts)
    report = json.loads(done.stdout)
    assert report["files"] == 3  # bad.yml, orders.yml, nested/more.yaml
    assert {p["file"] for p in report["problems"]} == {"./bad.yml"}
