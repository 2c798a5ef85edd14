"""Where the store lives by default, which drivers plain URLs use, and masking secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from store_helpers import make_result

from airflow_opsguard.errors import StoreError
from airflow_opsguard.store import ResultStore, default_store_url, mask_url
from airflow_opsguard.store.urls import parse_store_url


def test_the_default_store_is_a_sqlite_file_in_opsguard_home(opsguard_home: Path) -> None:
    assert default_store_url() == f"sqlite:///{opsguard_home / 'opsguard.db'}"


def test_inside_airflow_the_default_store_sits_in_airflow_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPSGUARD_HOME")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    assert default_store_url() == f"sqlite:///{tmp_path / 'airflow' / 'opsguard.db'}"


def test_opsguard_home_wins_over_airflow_home(
    opsguard_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    assert default_store_url() == f"sqlite:///{opsguard_home / 'opsguard.db'}"


def test_without_either_home_it_is_in_the_users_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPSGUARD_HOME")
    monkeypatch.delenv("AIRFLOW_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    assert default_store_url() == f"sqlite:///{tmp_path / 'me' / '.opsguard' / 'opsguard.db'}"


def test_opsguard_store_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGUARD_STORE_URL", "postgresql://u@db/results")
    monkeypatch.setenv("AIRFLOW_HOME", "/opt/airflow")
    assert default_store_url() == "postgresql://u@db/results"


def test_a_store_without_url_creates_the_default_file(opsguard_home: Path) -> None:
    assert not opsguard_home.exists()
    result = make_result()
    with ResultStore() as store:
        assert store.record(result)
    assert (opsguard_home / "opsguard.db").is_file()
    with ResultStore(f"sqlite:///{opsguard_home / 'opsguard.db'}") as same:
        assert same.get(result.run_id or "") is not None


def test_in_airflow_a_store_without_url_writes_to_airflow_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPSGUARD_HOME")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    with ResultStore() as store:
        assert store.record(make_result())
    assert (tmp_path / "airflow" / "opsguard.db").is_file()


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u:p@db/x", "postgresql+psycopg"),
        ("postgres://u@db/x", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg"),
        ("mysql://root@db/x", "mysql+pymysql"),
        ("mariadb://root@db/x", "mariadb+pymysql"),
        ("sqlite:////tmp/x.db", "sqlite"),
    ],
)
def test_plain_urls_use_the_installed_drivers(given: str, driver: str) -> None:
    url = parse_store_url(given)
    assert url.drivername == driver
    sa.create_engine(url).dispose()  # the driver imports


def test_mysql_urls_talk_utf8mb4() -> None:
    assert parse_store_url("mysql://root@db/x").query["charset"] == "utf8mb4"
    assert parse_store_url("mysql://root@db/x?charset=latin1").query["charset"] == "latin1"


def test_a_file_path_means_a_sqlite_file(tmp_path: Path) -> None:
    url = parse_store_url(str(tmp_path / "results.db"))
    assert (url.drivername, url.database) == ("sqlite", str(tmp_path / "results.db"))


@pytest.mark.parametrize(
    "bad", ["", "   ", "postgresql://u:hunter2@host:notaport/db", "nosuchdb://u:hunter2@h/x"]
)
def test_a_bad_url_is_one_clear_error_without_the_password(bad: str) -> None:
    with pytest.raises(StoreError) as caught:
        ResultStore(bad)
    message = str(caught.value)
    assert "hunter2" not in message
    assert "\n" not in message
    assert "results store" in message


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://etl:hunter2@db:5432/x", "postgresql://etl:***@db:5432/x"),
        ("postgresql+psycopg://etl:p@ss:w/rd@db/x", "postgresql+psycopg://etl:***@db/x"),
        ("mysql://root@db/x", "mysql://root@db/x"),
        ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
        ("https://bot:hunter2@hooks.example.com/x?a=1", "https://bot:***@hooks.example.com/x?a=1"),
        (
            "https://hooks.example.com/x?token=hunter2&channel=ops",
            "https://hooks.example.com/x?token=***&channel=ops",
        ),
        ("snowflake://u@acct/db?password=hunter2", "snowflake://u@acct/db?password=***"),
        ("sqlite:////var/lib/opsguard.db", "sqlite:////var/lib/opsguard.db"),
        ("host=db user=etl password=hunter2 dbname=x", "host=db user=etl password=*** dbname=x"),
        (
            "could not connect to postgresql://etl:hunter2@db/x (api_key='hunter2')",
            "could not connect to postgresql://etl:***@db/x (api_key=***)",
        ),
        ("data/orders.parquet", "data/orders.parquet"),
        ("s3://bucket/path/with:colon@sign.parquet", "s3://bucket/path/with:colon@sign.parquet"),
    ],
)
def test_mask_url_hides_passwords_and_tokens(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_url_takes_sqlalchemy_url_objects() -> None:
    url = sa.make_url("postgresql+psycopg://etl:p%40ss@db/x")
    assert mask_url(url) == "postgresql+psycopg://etl:***@db/x"
