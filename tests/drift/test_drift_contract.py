"""The ``distribution`` section: strict validation with key paths, references read from
the contract's folder, and clear errors for references that cannot be used (while the
other checks still run)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airflow_opsguard import ContractError, load_contract, validate
from airflow_opsguard.checks.results import CheckResult, GateResult


def write(folder: Path, text: str, name: str = "orders.yml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def drift_checks(result: GateResult) -> dict[str, CheckResult]:
    return {c.column or "": c for c in result.checks if c.type == "distribution"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "dataset: x\ndistribution:\n  reference: r.json\n"
            "  columns: [a, {name: b, methd: psi}]\n",
            r":4: distribution\.columns\[1\]\.methd: unknown key 'methd'",
        ),
        (
            "dataset: x\ndistribution:\n  reference: r.json\n  columns: []\n",
            r":4: distribution\.columns: list at least one column",
        ),
        (
            "dataset: x\ndistribution:\n  reference: r.json\n  columns: [a, a]\n",
            r"distribution\.columns: column 'a' is listed twice",
        ),
        (
            "dataset: x\ndistribution:\n  reference: r.json\n  columns:\n"
            "    - {name: a, warn: 0.3, fail: 0.2}\n",
            r":5: distribution\.columns\[0\]: warn \(0\.3\) is above fail \(0\.2\)",
        ),
        (
            "dataset: x\ndistribution:\n  reference: r.json\n  columns:\n"
            "    - {name: a, method: entropy}\n",
            r"distribution\.columns\[0\]\.method: 'entropy' is not allowed",
        ),
        (
            "dataset: x\ndistribution:\n  reference: r.json\n  columns: [a]\n  min_rows: -1\n",
            r":5: distribution\.min_rows",
        ),
        (
            "dataset: x\ndistribution:\n  reference: ''\n  columns: [a]\n",
            r":3: distribution\.reference",
        ),
        (
            "dataset: x\nschema:\n  columns: [{name: a, type: float}]\n"
            "distribution:\n  reference: r.json\n  columns: [b]\n",
            r"distribution\.columns\[0\]: column 'b' is not in schema\.columns",
        ),
        (
            "dataset: x\nschema:\n  columns: [{name: c, type: string}]\n"
            "distribution:\n  reference: r.json\n  columns:\n"
            "    - {name: c, method: wasserstein}\n",
            r":7: distribution\.columns\[0\]\.method: wasserstein does not apply to string",
        ),
        (
            "dataset: x\nschema:\n  columns: [{name: t, type: timestamp}]\n"
            "distribution:\n  reference: r.json\n  columns: [t]\n",
            r"distribution\.columns\[0\]: 't' is timestamp; distributions compare numbers",
        ),
    ],
)
def test_mistakes_in_the_section_name_the_line_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ContractError, match=message) as info:
        load_contract(write(tmp_path, text))
    assert str(info.value).startswith(str(tmp_path / "orders.yml"))
    assert "\n" not in str(info.value)


def test_the_section_loads_with_shorthand_and_overrides(tmp_path: Path) -> None:
    contract = load_contract(
        write(
            tmp_path,
            "dataset: x\ndistribution:\n  reference: r.json\n  severity: warn\n"
            "  columns: [amount, {name: country, method: psi, warn: 0.1, fail: 0.25}]\n",
        )
    )
    section = contract.distribution
    assert section is not None
    assert [c.name for c in section.columns] == ["amount", "country"]
    assert section.columns[1].method == "psi" and section.columns[1].fail == 0.25
    assert (section.severity, section.min_rows, section.bins, section.top) == ("warn", 100, 20, 50)
    assert contract.columns_used == ("amount", "country")


def test_a_contract_without_the_section_keeps_its_fingerprint_shape() -> None:
    plain = load_contract({"dataset": "x"})
    with_section = load_contract(
        {"dataset": "x", "distribution": {"reference": "r.json", "columns": ["a"]}}
    )
    assert plain.fingerprint != with_section.fingerprint
    assert "distribution" not in json.dumps(
        plain.model_dump(mode="json", by_alias=True, exclude={"description", "distribution"})
    )


CONTRACT = """\
dataset: orders
source:
  path: data/current.parquet
volume:
  min_rows: 10
distribution:
  reference: {reference}
  columns: [amount, country]
"""


@pytest.fixture
def project(tmp_path: Path, drift_frames: dict[str, pd.DataFrame], references: Path) -> Path:
    """A contract folder: data/current.parquet (drifted amounts), refs/reference.json."""
    (tmp_path / "data").mkdir()
    (tmp_path / "refs").mkdir()
    drift_frames["shifted"].to_parquet(tmp_path / "data" / "current.parquet", index=False)
    shutil.copy(references / "reference.json", tmp_path / "refs" / "reference.json")
    return tmp_path


def test_a_relative_reference_is_read_from_the_contract_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = write(project, CONTRACT.format(reference="refs/reference.json"))
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    result = validate(str(path))
    checks = drift_checks(result)
    assert checks["amount"].status == "fail"
    assert checks["country"].status == "pass"


def test_a_missing_reference_is_an_error_that_names_it_and_other_checks_still_run(
    project: Path,
) -> None:
    path = write(project, CONTRACT.format(reference="refs/gone.parquet"))
    result = validate(str(path))
    assert result.status == "error"
    volume = next(c for c in result.checks if c.type == "volume")
    assert volume.status == "pass"
    for check in drift_checks(result).values():
        assert check.status == "error"
        assert "distribution.reference" in check.message
        assert str(project / "refs" / "gone.parquet") in check.message
        assert "no such file" in check.message


def test_a_reference_profile_of_another_version_is_refused_clearly(project: Path) -> None:
    data = json.loads((project / "refs" / "reference.json").read_text())
    data["opsguard_profile"] = 7
    (project / "refs" / "future.json").write_text(json.dumps(data))
    result = validate(str(write(project, CONTRACT.format(reference="refs/future.json"))))
    for check in drift_checks(result).values():
        assert check.status == "error"
        assert "future.json" in check.message
        assert "version 7" in check.message and "reads version 1" in check.message


def test_problems_with_one_column_stay_with_that_column(
    project: Path, drift_frames: dict[str, pd.DataFrame]
) -> None:
    frame = drift_frames["healthy"].assign(
        amount=lambda f: f["amount"].astype(str),  # text now, numbers in the reference
        created=pd.Timestamp("2026-01-01"),
    )
    frame.to_parquet(project / "data" / "current.parquet", index=False)
    reference = str(project / "refs" / "reference.json")
    spec: dict[str, Any] = {
        "dataset": "orders",
        "distribution": {
            "reference": reference,
            "columns": [
                "amount",
                {"name": "country", "method": "wasserstein"},
                "quantity",
                "created",
                "missing",
            ],
        },
    }
    checks = drift_checks(validate(spec, data=str(project / "data" / "current.parquet")))
    assert "is string in the data but float in the reference" in checks["amount"].message
    assert "wasserstein does not apply to 'country'" in checks["country"].message
    assert checks["quantity"].status == "pass"  # the healthy column is judged
    assert "distributions compare numbers, strings and booleans" in checks["created"].message
    assert "column 'missing' is not in the data" in checks["missing"].message
    assert {c.status for name, c in checks.items() if name != "quantity"} == {"error"}


def test_a_column_the_reference_lacks_is_named(
    project: Path, drift_frames: dict[str, pd.DataFrame]
) -> None:
    frame = drift_frames["healthy"].assign(extra=1.5)
    frame.to_parquet(project / "data" / "current.parquet", index=False)
    spec = {
        "dataset": "orders",
        "distribution": {"reference": str(project / "refs/reference.json"), "columns": ["extra"]},
    }
    check = drift_checks(validate(spec, data=str(project / "data" / "current.parquet")))["extra"]
    assert check.status == "error"
    assert "has no column 'extra'" in check.message


def test_severity_thresholds_and_min_rows_are_honoured(
    project: Path, drift_frames: dict[str, pd.DataFrame]
) -> None:
    data = str(project / "data" / "current.parquet")  # amounts shifted by half a sd
    reference = str(project / "refs" / "reference.json")

    def amount(**section: Any) -> CheckResult:
        columns = section.pop("columns", ["amount"])
        spec = {
            "dataset": "o",
            "distribution": {"reference": reference, "columns": columns, **section},
        }
        return drift_checks(validate(spec, data=data))["amount"]

    assert amount().status == "fail"
    assert amount(severity="warn").status == "warn"
    assert amount(columns=[{"name": "amount", "severity": "warn"}]).status == "warn"
    lenient = amount(columns=[{"name": "amount", "fail": 0.9, "warn": 0.8}])
    assert lenient.status == "pass" and lenient.expected == "< 0.9 (wasserstein)"
    psi = amount(columns=[{"name": "amount", "method": "psi"}])
    assert psi.expected == "< 0.25 (psi)" and psi.metrics["method"] == "psi"
    assert psi.observed == psi.metrics["psi"]
    short = amount(min_rows=1_000_000)
    assert short.status == "warn"
    assert "fewer than min_rows (1,000,000)" in short.message
