"""Open Data Contract Standard v3: read wherever a contract is read, converted both ways.

The files in ``contracts/`` are ODCS v3 documents (each validated here against the
standard's JSON Schema, as the ``open-data-contract-standard`` package ships it), each
with the native contract it should mean; both must give the same verdicts on the same
data, in files and in PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from airflow_opsguard import ContractError, load_contract, validate
from airflow_opsguard.cli import main
from airflow_opsguard.contract.models import Contract
from airflow_opsguard.odcs import is_odcs
from airflow_opsguard.odcs.convert import to_odcs, to_opsguard
from airflow_opsguard.odcs.reading import odcs_to_contract

CONTRACTS = Path(__file__).parent / "contracts"
PAIRS = ("orders", "customers", "warehouse")
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def odcs_schema() -> dict[str, Any]:
    return json.loads(files("open_data_contract_standard").joinpath("schema.json").read_text())


def assert_valid_odcs(document: Any) -> None:
    errors = list(jsonschema.Draft202012Validator(odcs_schema()).iter_errors(document))
    # The schema's `if logicalType == map` has no `required`, so it also holds for a
    # property without a logicalType (an untyped column) and then asks for `map`.
    errors = [e for e in errors if e.message != "'map' is a required property"]
    assert not errors, [(list(e.path), e.message) for e in errors]


# --------------------------------------------------------------------------- data


def frame(name: str, *, bad: bool) -> pd.DataFrame:
    if name == "orders":
        return pd.DataFrame(
            {
                "order_id": [1, 2, 3, 3 if bad else 4],
                "customer_email": ["a@x.org", "b@x.org", "nope" if bad else "c@x.org", "d@x.org"],
                "amount": [10.0, None, 6000.0 if bad else 60.0, 20.0],
                "country": ["US", "DE", "US", "XX" if bad else "FR"],
                "created_at": pd.to_datetime(
                    [
                        "2026-11-26 01:00",
                        "2026-11-26 02:00",
                        "2026-11-26 03:00",
                        "2026-11-20 04:00" if bad else "2026-11-26 04:00",
                    ]
                ),
            }
        ).astype({"created_at": "datetime64[us]"})
    if name == "customers":
        return pd.DataFrame(
            {
                "tenant": ["a", "a", "b", "b"],
                "customer_id": [1, 2, 1, 2 if not bad else 1],
                "phone": ["+1", None if bad else "+2", "x", "+4"],
                "status": ["ok", "n/a" if bad else "ok", "ok", "ok"],
                "score": [Decimal(v) for v in ("10.5", "20", "30", "400" if bad else "40")],
                "signed_up": pd.to_datetime(["2026-01-01"] * 4).date,
            }
        )
    return pd.DataFrame(
        {
            "departmentid": [1, 2, 2 if bad else 3],
            "name": ["a", "b", "c"],
            "budget": [Decimal("1.5"), Decimal("2.5"), Decimal("3.5")],
            "modifieddate": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
        }
    )


def summary(result: Any) -> list[tuple[str, str, Any]]:
    """What a verdict says, independent of the order of the checks."""
    return sorted((c.name, c.status, json.dumps(c.observed, default=str)) for c in result.checks)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for path in CONTRACTS.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize("name", PAIRS)
def test_the_files_are_odcs_v3(name: str) -> None:
    document = yaml.safe_load((CONTRACTS / f"{name}.odcs.yaml").read_text())
    assert is_odcs(document)
    assert_valid_odcs(document)


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("bad", [False, True], ids=["good", "bad"])
def test_odcs_and_native_give_the_same_verdicts_on_files(
    folder: Path, name: str, bad: bool
) -> None:
    data = folder / f"{name}.parquet"
    frame(name, bad=bad).to_parquet(data)
    native = validate(folder / f"{name}.yml", data=str(data), now=NOW)
    odcs = validate(folder / f"{name}.odcs.yaml", data=str(data), now=NOW)
    assert odcs.error is None and native.error is None
    assert summary(odcs) == summary(native)
    assert odcs.status == native.status == ("fail" if bad else "pass")


@pytest.mark.postgres
@pytest.mark.parametrize("name", PAIRS)
def test_odcs_and_native_give_the_same_verdicts_on_postgresql(
    folder: Path, name: str, postgres_url: str
) -> None:
    engine = sa.create_engine(postgres_url)
    table = f"odcs_{name}"
    try:
        with engine.begin() as connection:
            frame(name, bad=True).to_sql(table, connection, index=False, if_exists="replace")
    finally:
        engine.dispose()
    native = validate(folder / f"{name}.yml", data=postgres_url, table=table, now=NOW)
    odcs = validate(folder / f"{name}.odcs.yaml", data=postgres_url, table=table, now=NOW)
    assert odcs.error is None, odcs.error
    assert summary(odcs) == summary(native)
    assert odcs.status == "fail"


def test_the_native_meaning_of_each_file(folder: Path) -> None:
    for name in PAIRS:
        read = load_contract(folder / f"{name}.odcs.yaml")
        native = load_contract(folder / f"{name}.yml")
        assert read.dataset == native.dataset
        assert read.source == native.source
        assert read.freshness == native.freshness and read.volume == native.volume
        assert read.schema_ == native.schema_ or _columns(read) == _columns(native)
        assert _checks(read) == _checks(native)


def _columns(contract: Contract) -> Any:
    assert contract.schema_ is not None
    return [(c.name, c.type) for c in contract.schema_.columns], contract.schema_.extra_columns


def _checks(contract: Contract) -> list[str]:
    return sorted(
        json.dumps(c.model_dump(mode="json"), sort_keys=True) for c in contract.all_checks
    )


def test_what_does_not_map_is_listed_in_one_warning(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="airflow_opsguard.odcs"):
        load_contract(folder / "customers.odcs.yaml")
    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith(f"{folder / 'customers.odcs.yaml'}: 6 ODCS items not checked")
    for part in (
        "properties[signed_up].logicalTypeOptions.format: 'yyyy-MM-dd' is not checked",
        "quality[1] (sql): mustBeLessThan 3600",
        "quality[2] (text)",
        "quality[3] (custom): a custom rule for soda is not run here",
        "relationships: relationships are not checked",
        "slaProperties[0] (frequency): this service level is not checked",
    ):
        assert part in message


def test_legacy_rules_and_bounds() -> None:
    document = {
        "apiVersion": "v3.0.0",
        "kind": "DataContract",
        "id": "x",
        "schema": [
            {
                "name": "t",
                "properties": [
                    {"name": "a", "quality": [{"rule": "nullCheck", "mustBe": 0}]},
                    {"name": "b", "quality": [{"rule": "duplicateCount", "mustBeLessThan": 1}]},
                    {
                        "name": "c",
                        "logicalType": "integer",
                        "logicalTypeOptions": {"minimum": 0, "exclusiveMaximum": 10},
                        "quality": [
                            {
                                "type": "sql",
                                "query": "SELECT COUNT(*) FROM t WHERE (c * 2) IS NOT TRUE",
                                "mustBe": 0,
                            }
                        ],
                    },
                ],
                "quality": [{"metric": "rowCount", "mustBeGreaterThan": 0}],
            }
        ],
    }
    contract, unmapped = odcs_to_contract(document)
    assert unmapped == []
    parsed = Contract.model_validate(contract)
    names = [c.display_name for c in parsed.all_checks]
    assert names == ["range(c)", "not_null(a)", "unique(b)", "expression(c * 2)"]
    assert parsed.volume is not None and parsed.volume.min_rows == 1
    (expression,) = [c for c in parsed.checks if c.type == "expression"]
    assert expression.if_null == "fail"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- errors


def test_an_invalid_odcs_document_is_one_line(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = folder / "typo.odcs.yaml"
    path.write_text("apiVersion: v3.1.0\nkind: DataContract\nid: x\nschemas: []\n")
    assert main(["check", str(path), "--no-store"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"opsguard: {path}: ODCS schemas: ") and "\n" not in err
    with pytest.raises(ContractError, match="ODCS schemas"):
        load_contract(path)


def test_several_objects_need_a_choice(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = yaml.safe_load((folder / "orders.odcs.yaml").read_text())
    document["schema"].append({"name": "refunds", "properties": [{"name": "id"}]})
    path = folder / "two.odcs.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ContractError, match="2 schema objects"):
        load_contract(path)
    out = folder / "refunds.yml"
    assert (
        main(["convert", str(path), "--object", "refunds", "--to", "opsguard", "--out", str(out)])
        == 0
    )
    assert load_contract(out).dataset == "refunds"


# --------------------------------------------------------------------------- converting


FULL = """\
dataset: orders
description: Orders of the shop.
source: {url: "postgresql://etl@db.example:5433/shop", table: sales.orders}
schema:
  extra_columns: fail
  columns:
    - {name: order_id, type: integer, nullable: false, unique: true}
    - {name: email, type: string, pattern: '^[^@]+@[^@]+$', mostly: 0.9}
    - {name: amount, type: decimal, nullable: false, min: 0, max: 100000, strict_min: true}
    - {name: country, type: string, allowed: [US, DE], severity: warn}
    - {name: note, type: string, min_length: 1, max_length: 200}
    - {name: created_at, type: timestamp}
freshness: {column: created_at, fail_after: 6h}
volume: {min_rows: 1, max_rows: 1000, severity: warn}
checks:
  - {type: unique, columns: [order_id, country]}
  - {type: statistic, column: amount, statistic: mean, min: 1, max: 500}
  - {type: statistic, column: order_id, statistic: distinct_count, min: 2}
  - {type: not_allowed, column: email, values: [root@localhost]}
  - {type: expression, expression: "amount < 50000 OR country = 'DE'"}
  - {type: expression, expression: "note <> ''", if_null: pass, name: notes_not_blank}
  - {type: not_null, column: country, severity: warn, mostly: 0.9}
"""


def test_opsguard_to_odcs_and_back_keeps_every_check(tmp_path: Path) -> None:
    source = tmp_path / "orders.yml"
    source.write_text(FULL)
    document, unmapped = to_odcs(str(source))
    assert unmapped == []
    assert_valid_odcs(document)
    assert "etl" not in json.dumps(document) or "password" not in json.dumps(document)
    odcs = tmp_path / "orders.odcs.yaml"
    odcs.write_text(yaml.safe_dump(document, sort_keys=False))
    back = load_contract(odcs)
    original = load_contract(source)
    assert _checks(back) == _checks(original)
    assert _columns(back) == _columns(original)
    assert back.volume == original.volume and back.freshness == original.freshness
    assert back.description == original.description
    assert back.source is not None and back.source.table == "sales.orders"
    # ... and again: a converted ODCS document converts to itself.
    again, _ = to_odcs(str(odcs))
    assert again == document


@pytest.mark.parametrize("name", PAIRS)
def test_odcs_to_opsguard_and_back_keeps_the_verdicts(folder: Path, name: str) -> None:
    mapping, _ = to_opsguard(str(folder / f"{name}.odcs.yaml"))
    ours = folder / f"{name}.converted.yml"
    ours.write_text(yaml.safe_dump(mapping, sort_keys=False))
    document, _ = to_odcs(str(ours))
    assert_valid_odcs(document)
    written = folder / f"{name}.again.odcs.yaml"
    written.write_text(yaml.safe_dump(document, sort_keys=False))
    data = folder / f"{name}.parquet"
    frame(name, bad=True).to_parquet(data)
    first = validate(folder / f"{name}.odcs.yaml", data=str(data), now=NOW)
    assert summary(validate(ours, data=str(data), now=NOW)) == summary(first)
    assert summary(validate(written, data=str(data), now=NOW)) == summary(first)


def test_the_convert_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "orders.yml"
    source.write_text(
        FULL
        + "distribution: {reference: ref.json, columns: [amount]}\non_fail: skip\n  \n".replace(
            "  \n", ""
        )
    )
    out = tmp_path / "orders.odcs.yaml"
    assert main(["convert", str(source), "--to", "odcs", "--out", str(out)]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"opsguard: {source}: not converted: distribution: ODCS has no equivalent",
        f"opsguard: {source}: not converted: on_fail: skip: what a gate does is not part of ODCS",
    ]
    assert_valid_odcs(yaml.safe_load(out.read_text()))
    assert main(["convert", str(out), "--to", "opsguard"]) == 0
    converted = yaml.safe_load(capsys.readouterr().out)
    assert converted["dataset"] == "orders"
    assert main(["convert", str(tmp_path / "none.yml"), "--to", "odcs"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"opsguard: {tmp_path / 'none.yml'}: no such contract file"
    )


def test_reading_odcs_pulls_in_no_heavy_library() -> None:
    import subprocess
    import sys

    heavy = {"airflow", "great_expectations", "pandas", "scipy", "numpy", "duckdb", "pyarrow"}
    probe = (
        "import json, sys\n"
        "from airflow_opsguard import load_contract\n"
        f"assert load_contract({str(CONTRACTS / 'orders.odcs.yaml')!r}).dataset == 'orders'\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    assert "open_data_contract_standard" in loaded
    assert not loaded & heavy, loaded & heavy
