"""A database gate with a baseline reads its table on one connection: the checks' scan and
the profile kept for the next baseline version share it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from airflow_opsguard import promote_baseline, validate
from airflow_opsguard.store import ResultStore


@pytest.fixture
def data_connections() -> Iterator[list[str]]:
    """The databases connected to, one entry per connection opened."""
    opened: list[str] = []

    def count(connection: sa.Connection) -> None:
        opened.append(str(connection.engine.url.database))

    sa.event.listen(sa.engine.Engine, "engine_connect", count)
    try:
        yield opened
    finally:
        sa.event.remove(sa.engine.Engine, "engine_connect", count)


def test_a_table_with_a_baseline_is_read_on_one_connection(
    tmp_path: Path, data_connections: list[str]
) -> None:
    data = tmp_path / "shop.db"
    engine = sa.create_engine(f"sqlite:///{data}")
    frame = pd.DataFrame({"amount": [float(i % 50) for i in range(200)], "country": ["US"] * 200})
    frame.to_sql("orders", engine, index=False)
    engine.dispose()
    data_connections.clear()  # writing the table is not the gate's
    spec: dict[str, Any] = {
        "dataset": "orders",
        "source": {"url": f"sqlite:///{data}", "table": "orders"},
        "distribution": {"columns": ["amount", "country"], "baseline": "orders-main"},
    }
    with ResultStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        first = validate(spec, store=store)
        promote_baseline("orders-main", dataset="orders", store=store)
        second = validate(spec, store=store)
    assert first.profile is not None and second.profile is not None
    assert first.profile["rows"] == 200
    assert {c.name: c.status for c in second.checks} == {
        "distribution(amount)": "pass",
        "distribution(country)": "pass",
    }
    assert data_connections.count(str(data)) == 2  # one per run (was two: scan, profile)
