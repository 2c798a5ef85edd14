"""The building blocks every contract model shares: one bounds rule, one vocabulary each."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel

from airflow_opsguard import ContractError, load_contract
from airflow_opsguard.contract import models
from airflow_opsguard.contract.models import ON_FAIL, Bounded, Contract, OnFail

# Every model that takes bounds, written so that each key has its own line. `line` is
# the line of the low key, which the error names.
BOUNDED = {
    "column min/max": (
        "schema:\n  columns:\n    - name: amount\n      type: float\n      min: 10\n      max: 5\n",
        6,
        "schema.columns[0].min",
        "min",
        "max",
    ),
    "column lengths": (
        "schema:\n  columns:\n    - name: code\n      type: string\n"
        "      min_length: 10\n      max_length: 5\n",
        6,
        "schema.columns[0].min_length",
        "min_length",
        "max_length",
    ),
    "range check": (
        "checks:\n  - type: range\n    column: amount\n    min: 10\n    max: 5\n",
        5,
        "checks[0].min",
        "min",
        "max",
    ),
    "statistic check": (
        "checks:\n  - type: statistic\n    column: amount\n    statistic: mean\n"
        "    min: 10\n    max: 5\n",
        6,
        "checks[0].min",
        "min",
        "max",
    ),
    "length check": (
        "checks:\n  - type: length\n    column: code\n    min_length: 10\n    max_length: 5\n",
        5,
        "checks[0].min_length",
        "min_length",
        "max_length",
    ),
    "volume": (
        "volume:\n  min_rows: 10\n  max_rows: 5\n",
        3,
        "volume.min_rows",
        "min_rows",
        "max_rows",
    ),
}


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "contract.yml"
    path.write_text("dataset: orders\n" + body)
    return path


@pytest.mark.parametrize(("body", "line", "key", "low", "high"), BOUNDED.values(), ids=BOUNDED)
def test_low_above_high_is_rejected_at_its_key_and_line(
    tmp_path: Path, body: str, line: int, key: str, low: str, high: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ContractError) as info:
        load_contract(path)
    assert str(info.value) == f"{path}:{line}: {key}: {low} (10) is greater than {high} (5)"


@pytest.mark.parametrize(("body", "low", "high"), [(v[0], v[3], v[4]) for v in BOUNDED.values()])
def test_equal_bounds_are_allowed(tmp_path: Path, body: str, low: str, high: str) -> None:
    contract = load_contract(write(tmp_path, body.replace(f"{high}: 5", f"{high}: 10")))
    assert contract.dataset == "orders"


def test_bounds_of_different_kinds_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path, "schema:\n  columns:\n    - name: day\n      min: 2024-01-01\n      max: 5\n"
    )
    with pytest.raises(
        ContractError, match=r":5: schema\.columns\[0\]\.min: min and max must be of"
    ):
        load_contract(path)


def contract_models() -> list[type[BaseModel]]:
    return [
        value
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, BaseModel)
    ]


def test_every_model_with_a_low_and_high_key_uses_the_bounds_rule() -> None:
    checked = 0
    for model in contract_models():
        for name in model.model_fields:
            high = "max" + name.removeprefix("min")
            if name.startswith("min") and high in model.model_fields:
                assert issubclass(model, Bounded), model
                assert (name, high) in model.bound_pairs, model
                checked += 1
    assert checked == 6  # column (2 pairs), range, statistic, length, volume


def test_on_fail_is_one_vocabulary() -> None:
    assert get_args(OnFail) == ON_FAIL == ("fail", "skip", "quarantine", "warn")
    schema = Contract.model_json_schema(by_alias=True)
    assert tuple(schema["properties"]["on_fail"]["enum"]) == ON_FAIL
    # The gate's decisions use the contract's vocabulary, not a copy of it.
    from airflow_opsguard import decision

    assert decision.OnFail is OnFail
