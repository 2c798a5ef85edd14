"""The backends of the engine tests: where the shared DataFrame lives, how to check it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from airflow_opsguard import GateResult, validate
from airflow_opsguard.checks.observations import Observations
from airflow_opsguard.engines.measuring import measure
from airflow_opsguard.formats import load_contract

TABLE = "eng_orders"


def orders() -> pd.DataFrame:
    """Twelve orders with one problem of each kind the checks look for."""
    return pd.DataFrame(
        {
            "order_id": list(range(1, 13)),
            "customer": [
                "ann",
                "bob",
                "cid",
                "dee",
                "eve",
                "fay",
                "gus",
                "hal",
                "ivy",
                "jon",
                "Ann",
                "bob",
            ],
            "region": ["n", "n", "s", "s", "e", "e", "w", "w", "n", "s", "n", "n"],
            "amount": [10.0, 20.5, 30.0, None, 5.0, -3.5, 100.0, 250.25, 7.0, 8.0, 9.0, 1000.0],
            "price": [Decimal(f"{n}.99") for n in range(1, 12)] + [None],
            "country": ["US", "DE", "FR", "US", "XX", "DE", "FR", "US", "DE", None, "FR", "us"],
            "email": [
                "ann@example.com",
                "Bob@example.com",
                "cid@example.com",
                "dee-at-example.com",
                None,
                "fay@example.com",
                "gus@example.com",
                "hal@example.com",
                "ivy@example.com",
                "jon@example.com",
                "ann@example.com",
                "bob@example.com",
            ],
            "name": ["Zoë", "Al", "Bea", "Cy", "Dot", "Ed", "Flo", "Gil", "Hope", "I", "Jo", "Kai"],
            "is_active": [True, True, False, True, True, True, False, True, True, True, True, True],
            "order_date": [date(2026, 2, d) for d in range(1, 13)],
            "created_at": pd.to_datetime([f"2026-02-{d:02d} 12:00" for d in range(1, 12)] + [None]),
            "updated_at": pd.to_datetime(
                [f"2026-02-{d:02d} 18:30" for d in range(2, 14)]
            ).tz_localize("UTC"),
        }
    )


# Native types for the DataFrame's columns that pandas would otherwise guess.
SQL_TYPES: dict[str, Any] = {
    "price": sa.Numeric(12, 2),
    "customer": sa.String(20),
    "region": sa.String(2),
    "country": sa.String(2),
    "name": sa.String(20),
}


@dataclass
class Backend:
    """Where the shared frame lives, and how a contract is checked there."""

    name: str
    url: str | None = None  # databases
    path: Path | None = None  # the file engine
    schema: str | None = None  # the schema (database, for MariaDB) of the tables
    loaded: set[str] = field(default_factory=set)

    @property
    def is_database(self) -> bool:
        return self.url is not None

    def engine(self) -> sa.Engine:
        assert self.url is not None
        connect_args = (
            {"init_command": "SET time_zone = '+00:00'"} if self.name == "mariadb" else {}
        )
        return sa.create_engine(self.url, poolclass=sa.pool.NullPool, connect_args=connect_args)

    def load(self, frame: pd.DataFrame, table: str, dtype: Mapping[str, Any] | None = None) -> Any:
        """Store ``frame`` as ``table`` (a file for the file engine); return the ``data``."""
        if not self.is_database:
            assert self.path is not None
            target = self.path / f"{table}.parquet"
            if table not in self.loaded:
                frame.to_parquet(target, index=False)
                self.loaded.add(table)
            return str(target)
        if table not in self.loaded:
            engine = self.engine()
            types = {k: v for k, v in {**SQL_TYPES, **(dtype or {})}.items() if k in frame}
            frame.to_sql(table, engine, if_exists="replace", index=False, dtype=types)
            engine.dispose()
            self.loaded.add(table)
        return self.url

    def check(self, contract: Mapping[str, Any], table: str = TABLE, **kwargs: Any) -> GateResult:
        data = self.load(orders(), TABLE) if table == TABLE else self.data_for(table)
        extra = {"table": table} if self.is_database else {}
        return validate(dict(contract), data=data, **extra, **kwargs)

    def measure(self, contract: Mapping[str, Any], table: str = TABLE) -> Observations:
        data = self.load(orders(), TABLE) if table == TABLE else self.data_for(table)
        extra = {"table": table} if self.is_database else {}
        return measure(load_contract(dict(contract)), data, **extra)

    def data_for(self, table: str) -> Any:
        if self.is_database:
            return self.url
        assert self.path is not None
        return str(self.path / f"{table}.parquet")

    def execute(self, sql: str) -> list[Any]:
        """Run SQL as the test's own admin (never through the code under test)."""
        engine = self.engine()
        with engine.begin() as connection:
            result = connection.exec_driver_sql(sql)
            rows = list(result.all()) if result.returns_rows else []
        engine.dispose()
        return rows


def utc(value: datetime | date) -> datetime:
    """Observed timestamps as aware UTC datetimes (naive ones are UTC)."""
    from airflow_opsguard.checks.evaluate import as_utc

    return as_utc(value)
