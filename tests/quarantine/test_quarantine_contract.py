"""The contract's ``quarantine:`` section."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_opsguard.errors import ContractError
from airflow_opsguard.formats import load_contract
from airflow_opsguard.quarantine.rows import row_rules


def test_the_section_is_read_with_its_defaults():
    contract = load_contract({"dataset": "orders", "on_fail": "quarantine", "quarantine": {}})
    assert contract.quarantine is not None
    assert (contract.quarantine.level, contract.quarantine.location) == ("batch", None)
    assert contract.on_fail == "quarantine"


def test_where_bad_data_goes_is_not_part_of_the_fingerprint():
    plain = load_contract({"dataset": "orders"})
    placed = load_contract({"dataset": "orders", "quarantine": {"level": "rows"}})
    assert plain.fingerprint == placed.fingerprint


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("{level: cells}", "quarantine.level"),
        ("{publish_to: orders}", "publishing goes with a database source"),
        ("{where: x}", "quarantine.where"),
    ],
)
def test_a_bad_section_names_the_file_and_key(tmp_path: Path, section: str, message: str):
    path = tmp_path / "orders.yml"
    path.write_text(f"dataset: orders\nsource: {{path: x.parquet}}\nquarantine: {section}\n")
    with pytest.raises(ContractError, match=message) as caught:
        load_contract(str(path))
    assert str(caught.value).startswith(f"{path}:")


def test_only_enforced_failing_row_checks_split_rows():
    contract = load_contract(
        {
            "dataset": "orders",
            "schema": {
                "columns": [
                    {"name": "id", "unique": True, "nullable": False},
                    {"name": "amount", "min": 0, "severity": "warn"},
                ]
            },
            "checks": [
                {"type": "pattern", "column": "id", "pattern": "^[0-9]+$", "mode": "shadow"},
                {"type": "length", "column": "id", "max_length": 9},
            ],
        }
    )
    assert [key for key, _ in row_rules(contract)] == ["not_null(id)", "length(id)"]


def test_the_quarantine_core_imports_no_heavy_library():
    import json
    import subprocess
    import sys

    probe = (
        "import airflow_opsguard.quarantine.service, airflow_opsguard.quarantine.settlement, "
        "airflow_opsguard.cli.quarantine, sys, json\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    loaded = {name.split(".")[0] for name in json.loads(out.stdout.splitlines()[-1])}
    heavy = {"airflow", "pandas", "numpy", "duckdb", "pyarrow", "scipy", "great_expectations"}
    assert not loaded & heavy, loaded & heavy
