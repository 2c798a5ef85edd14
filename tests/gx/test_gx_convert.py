"""opsguard export-gx and import-gx: contracts to GX suites and back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from gx_data import orders

from airflow_opsguard import load_contract, validate
from airflow_opsguard.cli import main
from airflow_opsguard.contract.models import Contract
from airflow_opsguard.gx.convert import export_suite, import_suite

FULL = """\
dataset: orders
schema:
  columns:
    - {name: order_id, type: integer, nullable: false, unique: true}
    - {name: email, type: string, pattern: '^[^@]+@[^@]+$', mostly: 0.5}
    - {name: amount, type: float, nullable: false, min: 0, max: 100000, strict_min: true}
    - {name: country, type: string, allowed: [US, DE], severity: warn}
  extra_columns: fail
volume: {min_rows: 1, max_rows: 1000, severity: warn}
checks:
  - {type: unique, columns: [order_id, country]}
  - {type: statistic, column: amount, statistic: mean, min: 1, max: 500}
  - {type: statistic, column: order_id, statistic: distinct_count, min: 2}
  - {type: length, column: country, min_length: 2, max_length: 2, name: country_code}
  - {type: not_allowed, column: email, values: [root@localhost]}
  - {type: not_null, column: country, severity: warn, mostly: 0.9}
"""


def _checks(contract: Contract) -> list[str]:
    """The contract's checks as comparable text, whatever their order or shorthand."""
    return sorted(
        json.dumps(c.model_dump(mode="json"), sort_keys=True) for c in contract.all_checks
    )


def _schema(contract: Contract) -> Any:
    schema = contract.schema_
    assert schema is not None
    columns = [(c.name, c.type) for c in schema.columns]
    return columns, schema.extra_columns, schema.ordered, schema.severity


def _round_trip(tmp_path: Path, text: str) -> tuple[Contract, Contract]:
    source = tmp_path / "contract.yml"
    source.write_text(text, encoding="utf-8")
    suite, skipped = export_suite(load_contract(str(source)))
    assert skipped == []
    suite_path = tmp_path / "suite.json"
    suite_path.write_text(json.dumps(suite), encoding="utf-8")
    back, unmapped = import_suite(str(suite_path))
    assert unmapped == []
    return load_contract(source), Contract.model_validate(back)


def test_export_then_import_gives_the_same_checks(tmp_path: Path) -> None:
    original, back = _round_trip(tmp_path, FULL)
    assert back.dataset == "orders"
    assert _checks(back) == _checks(original)
    assert _schema(back) == _schema(original)
    assert back.volume == original.volume


@pytest.mark.parametrize(
    "schema",
    [
        "schema: {columns: [{name: a, type: integer}, {name: b}], extra_columns: allow}",
        "schema: {columns: [{name: a}, {name: b, type: string}], ordered: true}",
        "schema: {columns: [{name: a, type: date}], extra_columns: warn}",
        "schema: {columns: [{name: a, nullable: false}], severity: warn}",
    ],
)
def test_schemas_round_trip(tmp_path: Path, schema: str) -> None:
    original, back = _round_trip(tmp_path, f"dataset: t\n{schema}\n")
    assert _schema(back) == _schema(original)
    assert _checks(back) == _checks(original)


def test_the_exported_suite_runs_in_gx_with_the_same_verdicts(tmp_path: Path) -> None:
    source = tmp_path / "contract.yml"
    source.write_text(
        "dataset: orders\n"
        "schema:\n"
        "  columns:\n"
        "    - {name: order_id, type: integer, nullable: false, unique: true}\n"
        "    - {name: email, type: string, nullable: false}\n"
        "    - {name: amount, type: float, min: 0}\n"
        "    - {name: country, type: string, allowed: [US, DE]}\n"
        "volume: {min_rows: 1}\n",
        encoding="utf-8",
    )
    suite, _ = export_suite(load_contract(str(source)))
    only_gx = {"dataset": "orders", "gx_suite": [suite]}
    for bad in (False, True):
        ours = validate(source, orders(bad=bad))
        theirs = validate(only_gx, orders(bad=bad))
        assert theirs.status == ours.status, [(c.name, c.status, c.message) for c in theirs.checks]
    failing = {c.name for c in validate(only_gx, orders(bad=True)).checks if c.status == "fail"}
    assert failing == {
        "expect_column_values_to_not_be_null(email)",
        "expect_column_values_to_be_in_set(country)",
    }


def test_what_does_not_export_is_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "contract.yml"
    source.write_text(
        "dataset: t\n"
        "schema: {columns: [{name: at, type: timestamp}, {name: n, type: integer}]}\n"
        "freshness: {column: at, fail_after: 1d}\n"
        "checks:\n"
        "  - {type: anomaly, metric: rows}\n"
        "  - {type: not_null, column: n, mode: shadow}\n",
        encoding="utf-8",
    )
    out = tmp_path / "suite.json"
    assert main(["export-gx", str(source), "--out", str(out)]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith(f"opsguard: {source}: not exported: ") for line in lines)
    assert any("freshness: GX has no expectation relative" in line for line in lines)
    assert any("anomaly(rows)" in line and "no expectation for a anomaly" in line for line in lines)
    assert any("shadow mode" in line for line in lines)
    suite = json.loads(out.read_text())
    assert suite["name"] == "t"
    assert [e["type"] for e in suite["expectations"]][:2] == ["expect_column_to_exist"] * 2


UNMAPPED_SUITE = {
    "name": "legacy orders",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "id"}},
        {"type": "expect_column_kl_divergence_to_be_less_than", "kwargs": {"column": "x"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "x", "min_value": 1, "row_condition": 'y=="a"'},
        },
        {"type": "expect_column_values_to_be_null", "kwargs": {"column": "z"}},
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "x", "min_value": 5, "max_value": 1},
        },
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 9}},
    ],
}


def test_import_writes_what_maps_and_lists_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = tmp_path / "legacy.json"
    suite.write_text(json.dumps(UNMAPPED_SUITE), encoding="utf-8")
    out = tmp_path / "legacy.yml"
    assert main(["import-gx", str(suite), "--out", str(out), "--dataset", "legacy"]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    prefix = f"opsguard: {suite}: not imported: "
    assert all(line.startswith(prefix) for line in lines)
    reasons = [line.removeprefix(prefix) for line in lines]
    assert [r.split(":")[0] for r in reasons] == [
        "expectations[1] expect_column_kl_divergence_to_be_less_than",
        "expectations[2] expect_column_values_to_be_between",
        "expectations[3] expect_column_values_to_be_null",
        "expectations[4] expect_column_values_to_be_between",
        "expectations[6] expect_table_row_count_to_be_between",
    ]
    assert "row_condition" in reasons[1]
    assert "min (5) is greater than max (1)" in reasons[3]
    assert "a second row count" in reasons[4]
    written = load_contract(out)
    assert written.dataset == "legacy"
    assert [c.display_name for c in written.all_checks] == ["not_null(id)"]
    assert written.volume is not None and written.volume.min_rows == 1
    assert yaml.safe_load(out.read_text())["schema"]["extra_columns"] == "allow"


def test_import_reads_gx_0_15_suites_and_types(tmp_path: Path) -> None:
    suite = tmp_path / "old.json"
    old = {
        "expectation_suite_name": "old_suite",
        "expectations": [
            {
                "expectation_type": "expect_column_values_to_be_of_type",
                "kwargs": {"column": "a", "type_": "int64"},
            },
            {
                "expectation_type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "b", "type_list": ["VARCHAR", "TEXT"]},
            },
            {
                "expectation_type": "expect_column_values_to_be_in_type_list",
                "kwargs": {"column": "c", "type_list": ["INTEGER", "TEXT"]},
            },
        ],
    }
    suite.write_text(json.dumps(old), encoding="utf-8")
    contract, skipped = import_suite(str(suite))
    assert contract["dataset"] == "old_suite"
    assert contract["schema"]["columns"] == [
        {"name": "a", "type": "integer"},
        {"name": "b", "type": "string"},
    ]
    assert [s.where for s in skipped] == ["expectations[2] expect_column_values_to_be_in_type_list"]


def test_import_of_a_broken_suite_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = tmp_path / "broken.json"
    suite.write_text("{not json", encoding="utf-8")
    assert main(["import-gx", str(suite)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"opsguard: {suite}:1: the GX suite is not valid JSON: "
        "Expecting property name enclosed in double quotes"
    ]


def test_export_of_a_missing_contract_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export-gx", str(tmp_path / "none.yml")]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"opsguard: {tmp_path / 'none.yml'}: no such contract file"
    )
