"""Data for the adoption tests: the example orders of dags_examples, and broken copies
of them in the styles the drafts must catch."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
# The clock of every adoption test: drafts and checks agree on it.
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def _examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "opsguard_example_data", ROOT / "dags_examples" / "example_data.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example_orders(folder: Path) -> Path:
    """The demo's healthy orders (5,000 rows, fresh at NOW) as Parquet in ``folder``."""
    paths: dict[str, Path] = _examples().write_example_data(folder, now=NOW)
    return paths["orders"]


def broken_copy(orders: Path, kind: str) -> Path:
    """A copy of the orders with one upstream accident: ``renamed`` (email -> mail),
    ``nulls`` (a fifth of the amounts null) or ``stale`` (everything three days older)."""
    frame = pd.read_parquet(orders)
    if kind == "renamed":
        frame = frame.rename(columns={"email": "mail"})
    elif kind == "nulls":
        frame.loc[frame.sample(frac=0.2, random_state=4).index, "amount"] = None
    elif kind == "stale":
        frame["created_at"] = frame["created_at"] - timedelta(days=3)
    else:
        raise ValueError(kind)
    target = orders.with_name(f"orders_{kind}.parquet")
    frame.to_parquet(target, index=False)
    return target
