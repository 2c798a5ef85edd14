"""Data and backends of the drift tests (a module of its own: test modules import it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

COUNTRIES = ["US", "DE", "FR", "UK"]
SHARES = [0.50, 0.25, 0.15, 0.10]
COLUMNS = ["amount", "quantity", "country", "returned"]


def orders(
    rng: np.random.Generator,
    rows: int,
    *,
    shift: float = 0.0,
    countries: list[str] = COUNTRIES,
    shares: list[float] = SHARES,
) -> pd.DataFrame:
    """Orders: amount ~ N(100 + 15 * shift, 15), quantity ~ Poisson(3), a country and a
    returned flag (10%); a few nulls in amount."""
    amount = rng.normal(100 + 15 * shift, 15, rows).round(2)
    amount[rng.random(rows) < 0.01] = np.nan
    return pd.DataFrame(
        {
            "amount": amount,
            "quantity": rng.poisson(3, rows),
            "country": rng.choice(countries, rows, p=shares),
            "returned": rng.random(rows) < 0.1,
        }
    )


@dataclass
class DriftBackend:
    """Where the current data lives: a Parquet folder, or a database."""

    name: str
    folder: Path | None = None
    url: str | None = None
    loaded: set[str] = field(default_factory=set)

    def data(self, frames: dict[str, pd.DataFrame], name: str) -> dict[str, Any]:
        """``validate()`` arguments that point at frame ``name`` on this backend."""
        if name not in self.loaded:
            frame = frames[name]
            if self.folder is not None:
                frame.to_parquet(self.folder / f"{name}.parquet", index=False)
            else:
                assert self.url is not None
                engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
                types = {"country": sa.String(8)}
                frame.to_sql(f"drift_{name}", engine, if_exists="replace", index=False, dtype=types)
                engine.dispose()
            self.loaded.add(name)
        if self.folder is not None:
            return {"data": str(self.folder / f"{name}.parquet")}
        return {"data": self.url, "table": f"drift_{name}"}
