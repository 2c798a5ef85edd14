"""Drafts of database tables: measured in the database (SQLite, PostgreSQL), and the
draft checks the same table."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from adoption_data import NOW

from airflow_opsguard import load_contract, validate
from airflow_opsguard.drafting import draft_contract


def _payments(rows: int = 400) -> pd.DataFrame:
    start = pd.Timestamp(NOW.replace(tzinfo=None)) - timedelta(hours=rows)
    return pd.DataFrame(
        {
            "payment_id": range(1, rows + 1),
            "amount": [round(5 + (i * 37 % 500) / 4, 2) for i in range(rows)],
            "currency": [("EUR", "USD", "GBP")[i % 3] for i in range(rows)],
            "note": [None if i % 4 else f"note {i}" for i in range(rows)],
            "paid_at": [start + timedelta(hours=i + 1) for i in range(rows)],
        }
    )


def _check_draft(url: str, out: Path) -> dict[str, object]:
    text = draft_contract(url, "payments", out=out, now=NOW)
    document: dict[str, object] = yaml.safe_load(text)
    columns = {c["name"]: c for c in document["schema"]["columns"]}  # type: ignore[index]
    assert columns["payment_id"]["unique"] is True and columns["payment_id"]["type"] == "integer"
    assert columns["currency"]["allowed"] == ["EUR", "GBP", "USD"]
    assert "nullable" not in columns["note"]  # three in four notes are null
    assert columns["amount"]["min"] == 0 and columns["amount"]["max"] >= 129.75
    freshness = document["freshness"]
    assert freshness == {"column": "paid_at", "warn_after": "12h", "fail_after": "1d"}  # hourly
    assert document["volume"] == {"min_rows": 200, "max_rows": 800}
    result = validate(load_contract(out), now=NOW)
    assert result.would_be == "pass", [c.message for c in result.checks if c.would_be != "pass"]
    later = validate(load_contract(out), now=NOW + timedelta(days=2))
    assert later.would_be == "fail" and any(
        c.name == "freshness(paid_at)" and c.would_be == "fail" for c in later.checks
    )
    return document


def test_a_sqlite_table_is_drafted_in_the_database(tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    engine = sa.create_engine(f"sqlite:///{database}")
    _payments().to_sql("payments", engine, index=False)
    engine.dispose()
    out = tmp_path / "contracts" / "payments.yml"
    out.parent.mkdir()
    document = _check_draft(f"sqlite:///{database}", out)
    assert document["source"] == {"url": "sqlite:///../shop.db", "table": "payments"}


def test_a_postgresql_table_is_drafted_in_the_database(postgres_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(postgres_url)
    _payments().to_sql("payments", engine, index=False, if_exists="replace")
    engine.dispose()
    document = _check_draft(postgres_url, tmp_path / "payments.yml")
    assert document["source"] == {"url": postgres_url, "table": "payments"}


def test_a_password_is_left_out_of_the_drafted_source(postgres_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(postgres_url)
    _payments(20).to_sql("payments_small", engine, index=False, if_exists="replace")
    engine.dispose()
    with_password = sa.make_url(postgres_url).set(password="s3cret")
    shown = with_password.render_as_string(hide_password=False)
    text = draft_contract(shown, "payments_small", now=NOW)
    assert "s3cret" not in text
    assert "The password is left out" in text


def test_a_database_without_a_table_is_one_clear_error(tmp_path: Path) -> None:
    from airflow_opsguard.errors import DataSourceError

    with pytest.raises(DataSourceError, match="say which table"):
        draft_contract(f"sqlite:///{tmp_path / 'x.db'}", now=NOW)


def test_a_mariadb_table_is_drafted_in_the_database(mariadb_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(mariadb_url)
    _payments().to_sql("payments", engine, index=False, if_exists="replace")
    engine.dispose()
    document = _check_draft(mariadb_url, tmp_path / "payments.yml")
    assert document["source"] == {"url": mariadb_url, "table": "payments"}
