"""Drift end to end through ``validate()``: the same current data in a Parquet file,
SQLite, PostgreSQL and MariaDB gives the same verdicts and the same statistics, equal to
what numpy computes from the same values; with the reference as data or as a profile."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from drift_arrays import current_column
from drift_data import COLUMNS, DriftBackend

from airflow_opsguard import validate
from airflow_opsguard.checks.distribution import evaluate_distribution
from airflow_opsguard.checks.observations import CheckObservation
from airflow_opsguard.checks.results import CheckResult, GateResult
from airflow_opsguard.contract.models import Distribution
from airflow_opsguard.drift.observations import DriftObservation
from airflow_opsguard.drift.profile import Profile

# Expected status per column; every other column passes.
EXPECTED: dict[str, dict[str, str]] = {
    "healthy": {},
    "shifted": {"amount": "fail"},
    "moved": {"country": "fail"},
    "new": {"country": "fail"},
    "vanished": {"country": "fail"},
    "few": dict.fromkeys(COLUMNS, "warn"),
}
MESSAGES: dict[str, dict[str, str]] = {
    "shifted": {"amount": "mean 100"},
    "moved": {"country": r"'US' (49|50)\.\d% -> (29|3\d)\.\d%"},
    "new": {"country": r"'XX' appeared at (9|10)\.\d%"},
    "vanished": {"country": r"'FR' vanished \(was 1[45]\.\d%\)"},
    "few": {"amount": "not judged"},
}


def contract(reference: Path) -> dict[str, Any]:
    return {
        "dataset": "orders",
        "distribution": {"reference": str(reference), "columns": COLUMNS},
    }


def by_column(result: GateResult) -> dict[str, CheckResult]:
    return {c.column or "": c for c in result.checks if c.type == "distribution"}


def numpy_result(profile: Profile, frame: pd.DataFrame, column: str) -> CheckResult:
    """The verdict computed from the frame's values with numpy, not by an engine."""
    reference = profile.column(column)
    assert reference is not None
    values = frame[column].to_numpy(dtype=object if reference.categorical else float)
    section = Distribution(reference="numpy", columns=(column,))
    observation = CheckObservation(
        value=DriftObservation(reference, current_column(reference, values), "numpy")
    )
    return evaluate_distribution(section, section.columns[0], observation)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_verdicts_and_statistics_agree_on_every_backend(
    drift_backend: DriftBackend,
    drift_frames: dict[str, pd.DataFrame],
    references: Path,
    name: str,
) -> None:
    result = validate(
        contract(references / "reference.json"), **drift_backend.data(drift_frames, name)
    )
    assert result.error is None
    checks = by_column(result)
    assert sorted(checks) == sorted(COLUMNS)
    profile = Profile.read(references / "reference.json")
    for column, check in checks.items():
        assert check.name == f"distribution({column})"
        assert check.status == EXPECTED[name].get(column, "pass"), check.message
        fragment = MESSAGES.get(name, {}).get(column)
        if fragment:
            assert re.search(fragment, check.message), check.message
        expected = numpy_result(profile, drift_frames[name], column)
        assert check.status == expected.status
        assert check.observed == pytest.approx(expected.observed, abs=1e-4)
        assert check.message == expected.message or check.status == "warn"
    overall = "warn" if name == "few" else ("pass" if not EXPECTED[name] else "fail")
    assert result.status == overall


def test_reference_as_data_or_as_profile_gives_the_same_result(
    drift_backend: DriftBackend, drift_frames: dict[str, pd.DataFrame], references: Path
) -> None:
    where = drift_backend.data(drift_frames, "shifted")
    from_profile = by_column(validate(contract(references / "reference.json"), **where))
    from_data = by_column(validate(contract(references / "reference.parquet"), **where))
    for column in COLUMNS:
        assert from_profile[column].status == from_data[column].status
        assert from_profile[column].observed == pytest.approx(from_data[column].observed, abs=1e-9)


def test_result_is_plain_json_with_the_statistics(
    drift_frames: dict[str, pd.DataFrame], references: Path, tmp_path: Path
) -> None:
    import json

    drift_frames["new"].to_parquet(tmp_path / "new.parquet")
    result = validate(contract(references / "reference.json"), data=str(tmp_path / "new.parquet"))
    checks = {c["column"]: c for c in json.loads(json.dumps(result.to_dict()))["checks"]}
    country = checks["country"]
    assert country["type"] == "distribution"
    assert country["expected"] == "< 0.12 (js)"
    metrics = country["metrics"]
    assert {"psi", "js", "cramers_v", "noise", "beyond_noise", "statistic"} <= set(metrics)
    assert metrics["statistic"] == country["observed"]
    assert [n["value"] for n in metrics["new"]] == ["XX"]
    assert metrics["new"][0]["share"] == pytest.approx(0.1, abs=0.015)
    amount = checks["amount"]
    assert {"psi", "js", "wasserstein", "mean", "std", "bins", "scale"} <= set(amount["metrics"])
    assert amount["metrics"]["null_fraction"]["reference"] == pytest.approx(0.01, abs=0.003)
    assert amount["expected"] == "< 0.3 (wasserstein)"
