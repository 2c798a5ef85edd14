from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_opsguard import ContractError, load_contract
from airflow_opsguard.contract.models import (
    CHECK_TYPES,
    Contract,
    NotNullCheck,
    RangeCheck,
    UniqueCheck,
)

DESIGN_EXAMPLE = """\
dataset: orders
source:
  path: data/orders.parquet
schema:
  columns:
    - {name: order_id, type: integer, nullable: false, unique: true}
    - {name: amount, type: float, nullable: false, min: 0, max: 100000}
    - {name: country, type: string, allowed: [US, DE, FR]}
    - {name: email, type: string, pattern: '^[^@]+@[^@]+$'}
    - {name: created_at, type: timestamp}
  extra_columns: fail
freshness:
  column: created_at
  warn_after: 6h
  fail_after: 1d
volume:
  min_rows: 1000
  max_rows: 10000000
on_fail: fail
"""


def write(tmp_path: Path, text: str, name: str = "contract.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_design_example_loads_with_every_check_it_states(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, DESIGN_EXAMPLE))
    names = [c.display_name for c in contract.all_checks]
    assert names == [
        "not_null(order_id)",
        "unique(order_id)",
        "not_null(amount)",
        "range(amount)",
        "allowed(country)",
        "pattern(email)",
    ]
    assert contract.freshness is not None
    assert contract.freshness.fail_after.total_seconds() == 86400
    assert contract.volume is not None and contract.volume.max_rows == 10_000_000
    assert contract.on_fail == "fail"
    assert contract.origin == str(tmp_path / "contract.yml")


def test_checks_derived_from_columns_block_by_default(tmp_path: Path) -> None:
    # Lesson from other plugins: required/unique must not default to warnings.
    contract = load_contract(write(tmp_path, DESIGN_EXAMPLE))
    assert {c.severity for c in contract.all_checks} == {"fail"}


def test_only_dataset_is_required() -> None:
    contract = load_contract({"dataset": "x"})
    assert contract.all_checks == ()
    assert contract.schema_ is None and contract.source is None


def test_fingerprint_ignores_formatting_and_key_order(tmp_path: Path) -> None:
    a = load_contract(write(tmp_path, DESIGN_EXAMPLE, "a.yml"))
    reordered = DESIGN_EXAMPLE.replace("volume:\n  min_rows: 1000\n  max_rows: 10000000\n", "")
    reordered = "volume: {max_rows: 10000000, min_rows: 1000}\n# a comment\n" + reordered
    b = load_contract(write(tmp_path, reordered, "b.yml"))
    assert a.fingerprint == b.fingerprint
    c = load_contract(write(tmp_path, DESIGN_EXAMPLE.replace("1000\n", "1001\n"), "c.yml"))
    assert c.fingerprint != a.fingerprint


def test_contracts_are_frozen() -> None:
    contract = load_contract({"dataset": "x"})
    with pytest.raises(ValueError, match="frozen"):
        contract.dataset = "y"  # type: ignore[misc]


def test_python_construction_matches_yaml() -> None:
    contract = Contract(
        dataset="orders",
        checks=(
            NotNullCheck(column="id"),
            UniqueCheck(columns=("id", "day")),
            RangeCheck(column="amount", min=0, severity="warn", mostly=0.99),
        ),
    )
    same = load_contract(
        {
            "dataset": "orders",
            "checks": [
                {"type": "not_null", "column": "id"},
                {"type": "unique", "columns": ["id", "day"]},
                {"type": "range", "column": "amount", "min": 0, "severity": "warn", "mostly": 0.99},
            ],
        }
    )
    assert contract.fingerprint == same.fingerprint
    assert [c.display_name for c in contract.all_checks] == [
        "not_null(id)",
        "unique(id, day)",
        "range(amount)",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("type: float", "type: flaot"), r":7: schema\.columns\[1\]\.type: 'flaot' is not allowed"),
        (("min_rows: 1000", "min_row: 1000"), r":17: volume\.min_row: unknown key 'min_row'"),
        (("warn_after: 6h", "warn_after: 2d"), r":12: freshness: warn_after \(2d\) is longer"),
        (
            ("pattern: '^[^@]+@[^@]+$'", "pattern: '(ab'"),
            r":9: schema\.columns\[3\]\.pattern: invalid regular expression",
        ),
        (
            ("fail_after: 1d", "fail_after: soon"),
            r":15: freshness\.fail_after: 'soon' is not a dur",
        ),
        (("on_fail: fail", "on_fail: explode"), r":19: on_fail: 'explode' is not allowed"),
        (("dataset: orders", "datset: orders"), r":1: dataset: this key is required"),
        (
            ("min: 0, max: 100000", "min: 10, max: 1"),
            r":7: schema\.columns\[1\]\.min: min \(10\) is greater than max \(1\)",
        ),
        (("type: string, allowed", "type: boolean, allowed"), None),
        (("{name: email, type: string", "{name: email, type: integer"), r"need a string column"),
        (("column: created_at", "column: updated_at"), r":13: freshness\.column: 'updated_at'"),
    ],
)
def test_errors_name_file_line_and_key(
    tmp_path: Path, change: tuple[str, str], message: str | None
) -> None:
    path = write(tmp_path, DESIGN_EXAMPLE.replace(*change))
    if message is None:  # a valid variation: it must load
        load_contract(path)
        return
    with pytest.raises(ContractError, match=message) as info:
        load_contract(path)
    assert str(info.value).startswith(str(path))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dataset: [", r"invalid YAML"),
        ("- just a list", r"a contract is a mapping"),
        ("dataset: x\ndistribution: {columns: [a]}\n", r":2: distribution: give a reference"),
        ("dataset: x\nchecks:\n  - {type: unqiue, column: a}\n", r":3: checks\[0\]: unknown check"),
        ("dataset: x\nchecks:\n  - {column: a}\n", r"each check needs a 'type'"),
        ("dataset: x\nchecks:\n  - {type: unique}\n", r"give either 'column' or 'columns'"),
        ("dataset: x\nchecks:\n  - {type: not_null, column: a, mostly: 1.5}\n", r"mostly"),
        ("dataset: x\nchecks:\n  - {type: pattern, column: a, pattern: '(?=x)'}\n", r"look-around"),
        (
            "dataset: x\nschema: {columns: [{name: a}]}\n"
            "checks:\n  - {type: not_null, column: b}\n",
            r"checks\[0\]: column 'b' is not in schema.columns",
        ),
        ("dataset: x\nschema: {columns: [{name: a}, {name: a}]}\n", r"'a' is listed twice"),
        ("dataset: x\nsource: {path: a.csv, url: 'sqlite://'}\n", r"one of path, url or conn_id"),
        ("dataset: x\nvolume: {}\n", r"give 'min_rows', 'max_rows' or both"),
    ],
)
def test_more_contract_mistakes(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ContractError, match=message):
        load_contract(write(tmp_path, text))


def test_missing_contract_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match=r"nope\.yml: no such contract file"):
        load_contract(tmp_path / "nope.yml")


# Errors inside a check name its key path without the union's tag, at the key's line,
# for every check kind (the loader once knew only some kinds by name).
CROSS_TABLE_MISTAKES = [
    (
        "  - type: expression\n    expression: a > b\n    if_null: maybe\n",
        5,
        r"checks\[0\]\.if_null: 'maybe' is not allowed",
    ),
    (
        "  - type: reference\n    column: customer_id\n    to:\n      table: customers\n"
        "      column: ''\n",
        7,
        r"checks\[0\]\.to\.column: String should have at least 1 character",
    ),
    (
        "  - type: reconcile\n    metric: sum\n    column: amount\n    to: {table: archive}\n"
        "    tolerance: -1\n",
        7,
        r"checks\[0\]\.tolerance: Input should be greater than or equal to 0",
    ),
]


@pytest.mark.parametrize(
    ("check", "line", "message"), CROSS_TABLE_MISTAKES, ids=["expression", "reference", "reconcile"]
)
def test_errors_in_cross_table_checks_name_key_and_line(
    tmp_path: Path, check: str, line: int, message: str
) -> None:
    path = write(tmp_path, "dataset: orders\nchecks:\n" + check)
    with pytest.raises(ContractError, match=f"^{re.escape(str(path))}:{line}: {message}"):
        load_contract(path)


@pytest.mark.parametrize("kind", CHECK_TYPES)
def test_an_error_in_any_kind_of_check_names_its_key_and_line(tmp_path: Path, kind: str) -> None:
    # severity is the first key every check validates, so its error is the one reported.
    path = write(tmp_path, f"dataset: orders\nchecks:\n  - type: {kind}\n    severity: loud\n")
    with pytest.raises(ContractError) as info:
        load_contract(path)
    assert str(info.value).startswith(f"{path}:4: checks[0].severity: 'loud' is not allowed")
