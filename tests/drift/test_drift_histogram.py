"""A drift result keeps the whole reference and current distribution (``metrics
["histogram"]``): every bin of a number column, every top category and "other" of a
string column, bounded in size, and without category names under ``samples: false``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from airflow_opsguard import validate
from airflow_opsguard.checks.results import CheckResult
from airflow_opsguard.drift.histogram import MAX_CELLS, OTHER


def spec(reference: Path, **distribution: Any) -> dict[str, Any]:
    return {
        "dataset": "orders",
        "schema": {
            "columns": [
                {"name": "amount", "type": "float"},
                {"name": "country", "type": "string"},
            ]
        },
        "distribution": {"reference": str(reference), "columns": ["amount", "country"]}
        | distribution,
    }


def checks_of(contract: dict[str, Any], data: pd.DataFrame) -> dict[str, CheckResult]:
    result = validate(contract, data, record=False)
    return {c.column or "": c for c in result.checks if c.type == "distribution"}


def frame(rows: int, shift: float, countries: list[str], weights: list[float]) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    share = np.asarray(weights) / sum(weights)
    return pd.DataFrame(
        {
            "amount": rng.normal(100 + shift * 10, 10, rows).round(2),
            "country": rng.choice(countries, size=rows, p=share),
        }
    )


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    path = tmp_path / "reference.parquet"
    frame(4000, 0.0, ["US", "DE", "FR", "UK"], [50, 30, 15, 5]).to_parquet(path)
    return path


def test_every_bin_and_every_category_is_kept_with_both_shares(reference: Path) -> None:
    current = frame(2000, 1.0, ["US", "DE", "FR", "XX"], [45, 30, 15, 10])
    checks = checks_of(spec(reference), current)
    amount = checks["amount"].metrics["histogram"]
    assert amount["cells"] == "bins" and amount["merged"] == 1
    assert len(amount["reference"]) == len(amount["current"]) == len(amount["labels"]) == 20
    assert len(amount["edges"]) == 19  # open at both ends: below the first, from the last up
    assert amount["labels"][0].startswith("< ") and amount["labels"][-1].startswith(">= ")
    assert sum(amount["reference"]) == pytest.approx(1, abs=1e-3)
    assert sum(amount["current"]) == pytest.approx(1, abs=1e-3)
    assert all(0.04 <= s <= 0.06 for s in amount["reference"])  # quantile bins: equal mass
    assert amount["current"][-1] > 0.2  # shifted up by one sd: the top 5% now holds 26%

    country = checks["country"].metrics["histogram"]
    assert country["cells"] == "categories"
    assert country["labels"] == ["US", "DE", "FR", "UK", OTHER]
    assert country["folded"] == 0 and country["withheld"] is False
    assert country["reference"][-1] == 0  # the reference had no other value
    assert country["current"][3] == 0  # UK vanished ...
    assert country["current"][-1] == pytest.approx(0.1, abs=0.03)  # ... and XX is "other"
    json.dumps(checks["amount"].metrics, allow_nan=False)  # plain JSON for the store


def test_the_contracts_largest_settings_still_give_a_small_result(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    names = [f"c{i:03d}" + "x" * (200 if i == 5 else 0) for i in range(300)]
    weights = 1 / np.arange(1, 301)
    rows = 20_000
    data = pd.DataFrame(
        {
            "amount": rng.normal(0, 1, rows),
            "country": rng.choice(names, size=rows, p=weights / weights.sum()),
        }
    )
    path = tmp_path / "reference.parquet"
    data.to_parquet(path)
    checks = checks_of(spec(path, bins=1000, top=10000), data.sample(5000, random_state=1))
    amount = checks["amount"].metrics["histogram"]
    assert len(amount["reference"]) <= MAX_CELLS and amount["merged"] > 1
    assert len(amount["edges"]) == len(amount["reference"]) - 1
    assert sum(amount["reference"]) == pytest.approx(1, abs=1e-2)  # merged bins add up
    country = checks["country"].metrics["histogram"]
    assert len(country["labels"]) == MAX_CELLS and country["labels"][-1] == OTHER
    assert country["labels"][0] == "c000"  # the most frequent first
    assert country["folded"] > 0 and country["reference"][-1] > 0  # the rest is "other"
    assert sum(country["current"]) == pytest.approx(1, abs=1e-2)
    assert country["labels"][5] == "c005" + "x" * 75 + "…"  # a long name is cut
    assert len(json.dumps(country)) < 7000


def test_samples_false_keeps_the_shares_and_withholds_every_category_name(
    reference: Path,
) -> None:
    current = frame(2000, 0.0, ["US", "DE", "XX", "YY"], [45, 30, 15, 10])
    checks = checks_of(spec(reference) | {"samples": False}, current)
    country = checks["country"]
    assert country.status == "fail"
    histogram = country.metrics["histogram"]
    assert histogram["labels"] == ["#1", "#2", "#3", "#4", OTHER]
    assert histogram["withheld"] is True
    assert histogram["current"][-1] == pytest.approx(0.25, abs=0.03)  # XX and YY
    text = json.dumps(country.metrics) + country.message + str(country.observed)
    for name in ("US", "DE", "FR", "UK", "XX", "YY"):
        assert f"'{name}'" not in text and f'"{name}"' not in text
    assert "vanished: #3 (was 14.9%)" in country.message  # FR, by its rank in the reference
    assert "2 values the reference never had at" in country.message
    # Numbers keep their bin edges (aggregates, like the mean the metrics keep).
    assert checks["amount"].metrics["histogram"]["labels"][0].startswith("< ")


def test_without_samples_false_the_messages_name_the_categories(reference: Path) -> None:
    current = frame(2000, 0.0, ["US", "DE", "XX", "YY"], [45, 30, 15, 10])
    message = checks_of(spec(reference), current)["country"].message
    assert "'XX' appeared at" in message and "'FR' vanished" in message
