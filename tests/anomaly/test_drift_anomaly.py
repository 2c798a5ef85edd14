"""Anomaly checks over drift scores: creeping drift below the fixed thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from airflow_opsguard import validate
from airflow_opsguard.errors import ContractError
from airflow_opsguard.formats import load_contract
from airflow_opsguard.store import ResultStore

START = datetime(2026, 11, 1, 6, tzinfo=UTC)


def spec(reference: Path) -> dict[str, object]:
    return {
        "dataset": "scores",
        "schema": {"columns": [{"name": "amount", "type": "float"}]},
        "distribution": {"reference": str(reference), "columns": ["amount"]},
        "checks": [
            {
                "type": "anomaly",
                "metric": "drift",
                "column": "amount",
                "min_history": 5,
                "fail_after": None,
            }
        ],
    }


def test_a_jump_in_the_drift_score_warns_before_the_threshold_fails(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    reference = tmp_path / "reference.parquet"
    pd.DataFrame({"amount": rng.normal(100, 15, 20_000)}).to_parquet(reference)
    data = tmp_path / "day.parquet"
    found = []
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        # Six healthy days, then a shift of a tenth of a standard deviation.
        for day, mean in enumerate([100, 100, 100, 100, 100, 100, 101.5]):
            pd.DataFrame({"amount": rng.normal(mean, 15, 20_000)}).to_parquet(data)
            result = validate(spec(reference), data, now=START + timedelta(days=day), store=store)
            found.append({c.name: c for c in result.checks})
        history = store.metric_history("scores", "drift(amount)")
    assert len(history) == 7
    assert [f["anomaly(drift(amount))"].status for f in found[:6]] == ["pass"] * 6
    assert found[0]["anomaly(drift(amount))"].message.startswith("learning: 0 of 5 runs")
    last = found[6]
    assert last["distribution(amount)"].status == "pass"  # below the fixed threshold
    assert last["anomaly(drift(amount))"].status == "warn"
    assert "drift(amount)" in last["anomaly(drift(amount))"].message


def test_drift_is_watched_only_for_a_compared_column(tmp_path: Path) -> None:
    contract = spec(tmp_path / "reference.parquet")
    contract["schema"] = {
        "columns": [{"name": "amount", "type": "float"}, {"name": "fee", "type": "float"}]
    }
    contract["checks"] = [{"type": "anomaly", "metric": "drift", "column": "fee"}]
    with pytest.raises(ContractError, match=r"checks\[0\]: the drift of 'fee' is measured only"):
        load_contract(contract)
