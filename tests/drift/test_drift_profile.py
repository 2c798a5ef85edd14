"""Profiles: computed alike by every engine (DuckDB for files and DataFrames, SQL
pushdown for SQLite, PostgreSQL and MariaDB) and by numpy; versioned JSON that refuses
what it cannot read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from drift_arrays import categorical_profile, numeric_profile
from drift_data import DriftBackend

import airflow_opsguard
from airflow_opsguard.drift.profile import (
    PROFILE_VERSION,
    ColumnProfile,
    Profile,
    ProfileError,
    looks_like_profile,
)
from airflow_opsguard.errors import DataSourceError


def assert_same_column(found: ColumnProfile, expected: ColumnProfile) -> None:
    assert (found.name, found.type, found.count, found.nulls) == (
        expected.name,
        expected.type,
        expected.count,
        expected.nulls,
    )
    if expected.categorical is not None:
        assert found.categorical == expected.categorical
        return
    assert found.numeric is not None and expected.numeric is not None
    got, want = found.numeric, expected.numeric
    assert got.edges == want.edges
    assert got.counts == want.counts
    assert (got.p25, got.median, got.p75) == (want.p25, want.median, want.p75)
    assert (got.minimum, got.maximum) == (want.minimum, want.maximum)
    assert got.mean == pytest.approx(want.mean, rel=1e-9)
    assert got.std == pytest.approx(want.std, rel=1e-6)
    assert [m is None for m in got.means] == [m is None for m in want.means]
    assert [m for m in got.means if m is not None] == pytest.approx(
        [m for m in want.means if m is not None], rel=1e-9
    )


def test_every_engine_profiles_like_numpy(
    drift_backend: DriftBackend, drift_frames: dict[str, pd.DataFrame]
) -> None:
    frame = drift_frames["reference"]
    where = drift_backend.data(drift_frames, "reference")
    profile = airflow_opsguard.profile(where["data"], table=where.get("table"))
    assert profile.rows == len(frame)
    assert profile.names == ("amount", "quantity", "country", "returned")
    expected = {
        "amount": numeric_profile("amount", frame["amount"].to_numpy(), column_type="float"),
        "quantity": numeric_profile(
            "quantity", frame["quantity"].to_numpy(), column_type="integer"
        ),
        "country": categorical_profile("country", frame["country"].to_numpy(dtype=object)),
        "returned": categorical_profile(
            "returned", frame["returned"].to_numpy(dtype=object), column_type="boolean"
        ),
    }
    for name, want in expected.items():
        found = profile.column(name)
        assert found is not None
        assert_same_column(found, want)


def test_a_dataframe_profiles_like_its_parquet_file(
    drift_frames: dict[str, pd.DataFrame], references: Path
) -> None:
    from_frame = airflow_opsguard.profile(drift_frames["reference"])
    from_file = Profile.read(references / "reference.json")
    for column in from_file.columns:
        found = from_frame.column(column.name)
        assert found is not None
        assert_same_column(found, column)


def test_numbers_get_quantile_bins_and_categories_their_top_values() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(0, 1, 10_000),
            "k": rng.integers(0, 3, 10_000),  # three values: bins at the values
            "c": rng.choice([f"v{i}" for i in range(8)], 10_000),
        }
    )
    profile = airflow_opsguard.profile(frame, columns=["x", "k", "c"], bins=10, top=3)
    x, k, c = (profile.column(n) for n in "xkc")
    assert x is not None and x.numeric is not None
    assert len(x.numeric.edges) == 9
    assert all(abs(n - 1_000) <= 1 for n in x.numeric.counts[1:])  # deciles
    assert x.numeric.counts[0] == 999  # below the first edge, which is the 1000th value
    assert k is not None and k.numeric is not None
    assert k.numeric.edges == (0.0, 1.0, 2.0)  # duplicated quantiles merged
    assert k.numeric.counts[0] == 0  # nothing below the smallest value
    assert k.numeric.means[1:] == (0.0, 1.0, 2.0)  # each bin holds one value
    assert c is not None and c.categorical is not None
    assert len(c.categorical.top) == 3
    assert c.categorical.other == 10_000 - sum(n for _, n in c.categorical.top) > 0
    assert c.categorical.distinct == 8
    assert not c.categorical.complete


def test_json_round_trip_is_exact_and_compact(references: Path) -> None:
    profile = Profile.read(references / "reference.json")
    text = profile.to_json()
    assert "\n" not in text and "NaN" not in text and "Infinity" not in text
    assert Profile.from_json(text) == profile
    data = json.loads(text)
    assert data["opsguard_profile"] == PROFILE_VERSION
    assert set(data["columns"]["amount"]) >= {
        "type",
        "count",
        "null_fraction",
        "edges",
        "counts",
        "min",
        "max",
        "mean",
        "std",
    }
    assert set(data["columns"]["country"]) >= {"type", "count", "null_fraction", "top", "other"}


def test_infinities_and_columns_without_values_survive_json() -> None:
    frame = pd.DataFrame(
        {
            "x": [1.0, 2.0, np.inf, -np.inf, 3.0] * 20,
            "d": pd.to_datetime(["2026-01-01"] * 100),
            "none": [None] * 100,
        }
    )
    profile = airflow_opsguard.profile(frame)
    again = Profile.from_json(profile.to_json())
    x = again.column("x")
    assert x is not None and x.numeric is not None
    assert x.numeric.maximum is None  # not finite
    assert x.numeric.counts[-1] == 40  # 3.0 and +inf, from the last edge up
    assert again.column("d") == ColumnProfile("d", "timestamp", "TIMESTAMP", 100, 0)
    none = again.column("none")
    assert none is not None and none.numeric is None and none.null_fraction == 1.0


def test_a_profile_of_another_version_is_refused_clearly(tmp_path: Path, references: Path) -> None:
    data = json.loads((references / "reference.json").read_text())
    data["opsguard_profile"] = 2
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ProfileError) as info:
        Profile.read(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert "version 2" in message and "reads version 1" in message
    assert "opsguard profile" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[1, 2]", "not an opsguard profile"),
        ('{"rows": 3}', "not an opsguard profile"),
        ("{not json", "not JSON"),
        ('{"opsguard_profile": 1, "rows": 3}', "missing key 'columns'"),
        (
            '{"opsguard_profile": 1, "rows": 3, "columns": {"a": {"count": -1, "nulls": 0}}}',
            "not a count",
        ),
        (
            '{"opsguard_profile": 1, "rows": 3, "columns": {"a": {"count": 3, "nulls": 0, '
            '"edges": [2, 1], "counts": [1, 1, 1], "min": 0, "max": 3, "mean": 1, "p25": 1, '
            '"median": 1, "p75": 2}}}',
            "ascending",
        ),
    ],
)
def test_what_is_not_a_profile_is_refused(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ProfileError, match=fragment):
        Profile.read(path)


def test_a_missing_profile_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"nope\.json: no such file"):
        Profile.read(tmp_path / "nope.json")


def test_profiles_are_told_from_json_data(tmp_path: Path, references: Path) -> None:
    data = tmp_path / "rows.json"
    data.write_text('[{"a": 1}, {"a": 2}]')
    assert looks_like_profile(str(references / "reference.json"))
    assert not looks_like_profile(str(data))
    assert not looks_like_profile(str(references / "reference.parquet"))


def test_bad_profile_requests_are_data_source_errors(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3]})
    with pytest.raises(DataSourceError, match="no column 'b'"):
        airflow_opsguard.profile(frame, columns=["b"])
    with pytest.raises(DataSourceError, match="no such file"):
        airflow_opsguard.profile(tmp_path / "missing.parquet")
    with pytest.raises(DataSourceError, match="say which table"):
        airflow_opsguard.profile(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(DataSourceError, match="goes with a database URL"):
        airflow_opsguard.profile(frame, table="t")
    with pytest.raises(DataSourceError, match="bins"):
        airflow_opsguard.profile(frame, bins=1)
