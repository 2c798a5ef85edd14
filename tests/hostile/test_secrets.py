"""Hostile input: passwords that hold the characters URLs are made of, and a run that
must leave no secret behind.

- A URL is parsed once (:class:`SecretURL`): whatever its password holds (``@``, ``:``,
  ``/``, ``%40``, ``#``, ``?``, blanks, non-ASCII), no piece of it is rendered.
- ``opsguard check`` against a database that cannot be reached shows no piece of the
  password (error line, text report, JSON ``error`` and ``source``), nor of the store's.
- After gates ran with a password in the source URL and in the store URL (SQLite store
  and PostgreSQL data; PostgreSQL store), through the CLI and through a quarantine on
  PostgreSQL, every table and column of the store and of the data database, the spool
  and the sidecar files are read: the password and the webhook and runbook tokens are
  nowhere. Release reopens the data without a stored credential.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from airflow_opsguard.urls import SecretURL, database_url, mask_text, mask_url, secrets_in

OPSGUARD = str(Path(sys.executable).with_name("opsguard"))

# Each holds what URLs are made of; their letters are rare enough that any three of
# them in a row in an output can only come from the password.
PASSWORDS = [
    pytest.param("Qx@Vz:Wk@Jy", id="at-colon-at"),
    pytest.param("Kq7/Zx@Wv9", id="slash-at"),
    pytest.param("Jz%40Qk%3Av", id="percent-escaped"),
    pytest.param("Xk#Qz?Vw@Jb", id="hash-question-at"),
    pytest.param("Zq Wx@Jk Vy", id="blanks-at"),
    pytest.param("Ωq✓Zx@Жy", id="unicode-at"),
    pytest.param("Yq:Vz/Xk?Jw#Zp@Qb%40Kx", id="everything"),
    pytest.param("Kv@QzXw@Jy", id="two-ats"),
]
# SQLAlchemy's make_url splits user information at the first "@", so these fail to
# parse there at all (its message would quote the rest of the password); our database
# URLs are read with airflow_opsguard.urls.database_url, which reads the password whole.
SQLALCHEMY_QUOTES_THE_REST = {"Qx@Vz:Wk@Jy"}


def fragments(secret: str, length: int = 3) -> set[str]:
    """Every piece of ``length`` characters of the secret, as written and decoded."""
    found: set[str] = set()
    for form in {secret, unquote(secret)}:
        found |= {form[i : i + length] for i in range(len(form) - length + 1)}
    return found


def leaked(secret: str, *texts: str) -> list[str]:
    joined = "\n".join(texts)
    return sorted(f for f in fragments(secret) if f in joined)


# ------------------------------------------------------------------ SecretURL


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_parsed_url_never_renders_its_password(password: str) -> None:
    text = f"postgresql://etl:{password}@db.example.com:5432/dw?sslmode=require"
    url = SecretURL.parse(text)
    shown = "postgresql://etl:***@db.example.com:5432/dw?sslmode=require"
    renderings = [
        str(url),
        repr(url),
        f"{url}",
        f"{url:>80}",
        "%s" % url,  # noqa: UP031 (the old way of formatting renders it too)
        json.dumps({"url": url}, default=str),
        mask_url(text),
        mask_url(url),
        mask_text(f"cannot connect to {text}: connection refused"),
        mask_text(f"source table 'orders' in {text}\nsecond line"),
    ]
    assert leaked(password, *renderings) == []
    assert all(shown in r for r in renderings[:3]), renderings
    assert mask_text(f"cannot connect to {text}: refused") == f"cannot connect to {shown}: refused"
    with pytest.raises(TypeError):
        json.dumps(url)  # never serialised as it is
    with pytest.raises(AttributeError):
        url.host = "elsewhere"  # type: ignore[misc]
    # What connects gets the password whole, and the host SQLAlchemy would have missed.
    parsed = database_url(text)
    assert (parsed.password, parsed.host, parsed.port) == (
        unquote(password),
        "db.example.com",
        5432,
    )
    assert (parsed.drivername, parsed.database) == ("postgresql+psycopg", "dw")
    assert leaked(password, str(parsed), repr(parsed), mask_url(parsed)) == []
    # What a log masker is given to hide: the password as written and decoded.
    assert {password, unquote(password)} <= set(secrets_in(text))
    assert {password, unquote(password)} <= set(secrets_in(f"cannot connect to {text}: refused"))


@pytest.mark.parametrize("password", PASSWORDS)
def test_a_message_quoting_the_password_or_what_sqlalchemy_made_of_it_is_masked(
    password: str,
) -> None:
    escaped = f"postgresql://etl:{quote(unquote(password), safe='')}@db.example.com/dw"
    url = sa.make_url(escaped)
    message = f"password authentication failed for {unquote(password)!r}"
    assert leaked(password, mask_text(message, url)) == []
    if "@" in password and password not in SQLALCHEMY_QUOTES_THE_REST:
        # As written, SQLAlchemy takes the rest of the password for the host, and the
        # driver quotes that host in its message.
        misread = sa.make_url(f"postgresql://etl:{password}@127.0.0.1/dw")
        assert misread.host is not None and "@" in misread.host
        said = f"failed to resolve host {misread.host!r}: Name or service not known"
        assert leaked(password, mask_text(said, misread), mask_url(misread)) == []
        assert "'***@127.0.0.1'" in mask_text(said, misread)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://hooks.example.com/x?token=Tk1&channel=ops", "?token=***&channel=ops"),
        ("https://wiki/x?api_key=A&key=B&sig=C&X-Amz-Signature=D&page=2", "&page=2"),
        ("https://wiki/x?access_token=A&password=B#auth=C", "#auth=***"),
        ("s3://bucket/path/with:colon@sign.parquet", "s3://bucket/path/with:colon@sign.parquet"),
        ("sqlite:////tmp/a@b/x.db", "sqlite:////tmp/a@b/x.db"),
        # Hive partitions named like secrets are folders, not parameters.
        ("s3://b/orders/key=3/customer_key=5/x.parquet", "s3://b/orders/key=3/customer_key=5/"),
        ("data/orders/key=3/part.parquet", "data/orders/key=3/part.parquet"),
    ],
)
def test_secret_parameters_are_masked_and_paths_kept(text: str, shown: str) -> None:
    masked = mask_url(text)
    assert shown in masked
    assert not any(f"={v}" in masked for v in ("Tk1", "A", "B", "C", "D"))


# ------------------------------------------------------------------ the CLI


@pytest.mark.parametrize("password", PASSWORDS)
def test_check_against_an_unreachable_database_shows_no_piece_of_either_password(
    password: str, tmp_path: Path
) -> None:
    contract = tmp_path / "orders.yml"
    contract.write_text("dataset: orders\nsource: {table: public.orders}\nvolume: {min_rows: 1}\n")
    data = f"postgresql://etl:{password}@127.0.0.1:1/dw"  # nothing listens on port 1
    store = f"postgresql://opsguard:{password}@127.0.0.1:1/results"
    outputs = []
    for form in ("json", "text"):
        done = subprocess.run(
            [OPSGUARD, "check", str(contract), "--data", data, "--store", store, "--format", form],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        outputs += [done.stdout, done.stderr]
        if form == "json":
            result = json.loads(done.stdout)
            assert result["status"] == "error"
            assert "etl:***@" in result["source"] and "etl:***@" in result["error"]
    assert leaked(password, *outputs) == []


# ------------------------------------------------------------------ nothing stored

PASSWORD = "S3cr3t-p@ss:w/rd"
ESCAPED = quote(PASSWORD, safe="")
HOOK_SECRET, HOOK_TOKEN, RUNBOOK_TOKEN = "WhS3cretPath", "WhT0ken-Qz", "RbT0ken-Kx"
# The CLI's data URL is given escaped, the store URL and release's --data as pasted.
NEEDLES = sorted(
    fragments(PASSWORD, 5) | fragments(ESCAPED, 5) | {HOOK_SECRET, HOOK_TOKEN, RUNBOOK_TOKEN}
)


@dataclass
class Role:
    name: str
    admin: str  # the superuser URL of the session's database (to reflect anything)
    data_db: str
    store_db: str

    def url(self, database: str, *, escaped: bool) -> str:
        secret = ESCAPED if escaped else PASSWORD
        return f"postgresql://{self.name}:{secret}@127.0.0.1:5432/{database}"

    def admin_url(self, database: str) -> str:
        return sa.make_url(self.admin).set(database=database).render_as_string(False)


@pytest.fixture
def role(postgres_url: str) -> Iterator[Role]:
    """A PostgreSQL role with a distinctive password owning two fresh databases."""
    name = f"opsguard_secret_{uuid.uuid4().hex[:8]}"
    made = Role(name, postgres_url, f"{name}_data", f"{name}_store")
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {name} LOGIN PASSWORD '{PASSWORD}'")
        for database in (made.data_db, made.store_db):
            connection.exec_driver_sql(f'CREATE DATABASE "{database}" OWNER {name}')
    try:
        yield made
    finally:
        with admin.connect() as connection:
            for database in (made.data_db, made.store_db):
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            connection.exec_driver_sql(f"DROP ROLE IF EXISTS {name}")
        admin.dispose()


def rows(failing: bool) -> list[dict[str, Any]]:
    return [{"id": i, "amount": -1.0 if failing and i % 3 == 0 else float(i)} for i in range(9)]


def stage(url: str, table: str, failing: bool = True) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    staged = sa.Table(table, meta, sa.Column("id", sa.Integer), sa.Column("amount", sa.Float))
    meta.create_all(engine)
    with engine.begin() as connection:
        connection.execute(staged.insert(), rows(failing))
    engine.dispose()


def spec(source: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "dataset": "secret_orders",
        "source": source,
        "runbook": f"https://wiki.example.com/orders?token={RUNBOOK_TOKEN}",
        "owner": "data-platform@example.com",
        "schema": {
            "columns": [
                {"name": "id", "type": "integer"},
                {"name": "amount", "type": "float", "min": 0},
            ]
        },
        "alerts": [
            {
                "on": ["fail"],
                "webhook": f"http://127.0.0.1:1/services/T0/{HOOK_SECRET}?token={HOOK_TOKEN}",
                "retries": 0,
            }
        ],
        **extra,
    }


def opsguard(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [OPSGUARD, *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def scan_database(url: str) -> list[str]:
    """``schema.table.column: needle`` for every needle found in any row of any table."""
    found: list[str] = []
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            schemas = [
                s
                for s in inspector.get_schema_names()
                if s not in ("information_schema", "pg_catalog", "pg_toast")
            ]
            for schema in schemas:
                for name in inspector.get_table_names(schema=schema):
                    table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=connection)
                    for row in connection.execute(sa.select(table)):
                        for column, value in row._mapping.items():
                            text = (
                                value if isinstance(value, str) else json.dumps(value, default=str)
                            )
                            found += [
                                f"{schema}.{name}.{column}: {n}" for n in NEEDLES if n in text
                            ]
    finally:
        engine.dispose()
    return found


def scan_files(folder: Path, skip: set[Path]) -> list[str]:
    found: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p not in skip):
        text = path.read_bytes().decode("utf-8", errors="replace")
        found += [f"{path}: {n}" for n in NEEDLES if n in text]
    return found


def tables_in(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("store_kind", ["sqlite", "postgres"])
def test_after_gates_with_passwords_no_table_file_or_output_holds_a_secret(
    store_kind: str, role: Role, tmp_path: Path, opsguard_home: Path
) -> None:
    from airflow_opsguard.pipeline import run_gate

    data = role.url(role.data_db, escaped=True)
    store = (
        role.url(role.store_db, escaped=False)  # as pasted: "@", ":" and "/" unescaped
        if store_kind == "postgres"
        else f"sqlite:///{tmp_path / 'store' / 'opsguard.db'}"
    )
    outputs: list[str] = []
    written: set[Path] = set()

    # 1. The CLI, the contract in a file, alerts to a webhook that does not answer.
    stage(data, "cli_orders")
    cli_contract = tmp_path / "cli.yml"
    cli_contract.write_text(yaml.safe_dump(spec({"url": data, "table": "cli_orders"})))
    written.add(cli_contract)
    for form in ("json", "text"):
        done = opsguard("check", str(cli_contract), "--store", store, "--format", form)
        assert done.returncode == 1, done.stderr  # a failing verdict, stored, alerted
        outputs += [done.stdout, done.stderr]

    # 2. The CLI with the store down (its URL with the password): spooled, not lost.
    down = f"postgresql://{role.name}:{PASSWORD}@127.0.0.1:1/nowhere"
    done = opsguard("check", str(cli_contract), "--store", down, "--format", "json")
    assert done.returncode == 1, done.stderr
    outputs += [done.stdout, done.stderr]
    assert list((opsguard_home / "spool").glob("*")), "nothing spooled"

    # 3. Quarantine on PostgreSQL, the contract given inline (no file to go back to).
    stage(data, "inline_staging")
    inline = spec({"url": data, "table": "inline_staging"}, on_fail="quarantine")
    run = run_gate(inline, store=store, batch_id="inline-b1", act=True, alert=True)
    assert run.settlement is not None and run.settlement.action == "quarantined"

    # 4. Quarantine on PostgreSQL, the contract in a file: release needs no --data.
    stage(data, "file_staging")
    filed = tmp_path / "filed.yml"
    filed.write_text(
        yaml.safe_dump(spec({"url": data, "table": "file_staging"}, on_fail="quarantine"))
    )
    written.add(filed)
    run = run_gate(str(filed), store=store, batch_id="file-b1", act=True, alert=True)
    assert run.settlement is not None and run.settlement.action == "quarantined"

    # 5. Quarantine of files, with a sidecar next to them.
    parquet = tmp_path / "files" / "orders.parquet"
    parquet.parent.mkdir()
    pd.DataFrame(rows(True)).to_parquet(parquet)
    run = run_gate(
        spec({"path": str(parquet)}, on_fail="quarantine"),
        store=store,
        batch_id="files-b1",
        act=True,
        alert=True,
    )
    assert run.settlement is not None and run.settlement.action == "quarantined"
    assert list(tmp_path.rglob("_opsguard_quarantine.json")), "no sidecar"

    # Release re-opens the data without a stored credential: from the contract file
    # (re-checked: it still fails, so refused; then forced) ...
    refused = opsguard("quarantine", "release", "file-b1", "--store", store)
    assert refused.returncode == 1, refused.stderr  # it could read the data again
    forced = opsguard("quarantine", "release", "file-b1", "--force", "--store", store)
    assert forced.returncode == 0, forced.stderr
    # ... and for the inline contract only from the caller: one clear line, then --data.
    asked = opsguard("quarantine", "drop", "inline-b1", "--store", store)
    assert asked.returncode == 2
    assert len(asked.stderr.strip().splitlines()) == 1
    assert "password masked" in asked.stderr and "--data" in asked.stderr
    dropped = opsguard(
        "quarantine",
        "drop",
        "inline-b1",
        "--store",
        store,
        "--data",
        role.url(role.data_db, escaped=False),
    )
    assert dropped.returncode == 0, dropped.stderr
    outputs += [refused.stdout, refused.stderr, forced.stdout, forced.stderr]
    outputs += [asked.stdout, asked.stderr, dropped.stdout, dropped.stderr]
    listed = opsguard("quarantine", "list", "--status", "all", "--store", store, "--format", "json")
    assert {b["batch_id"] for b in json.loads(listed.stdout)} == {
        "inline-b1",
        "file-b1",
        "files-b1",
    }
    outputs += [listed.stdout, listed.stderr]

    # Everything the runs wrote, read back in full.
    found = [f"output: {n}" for n in NEEDLES if n in "\n".join(outputs)]
    assert "opsguard_quarantine_log" in tables_in(role.admin_url(role.data_db))
    found += scan_database(role.admin_url(role.data_db))
    store_tables = scan_database(
        role.admin_url(role.store_db) if store_kind == "postgres" else store
    )
    found += store_tables
    found += scan_files(opsguard_home, set())  # the spool of results and alerts
    found += scan_files(tmp_path, written)  # sidecars, the SQLite store, anything else
    assert found == []
    # The scan finds what is there: the contract files hold the secrets, and so does a
    # row put in the data database.
    assert {f.split(": ")[0] for f in scan_files(tmp_path, set())} >= {str(p) for p in written}
    canary = sa.create_engine(data)
    with canary.begin() as connection:
        connection.execute(sa.text("CREATE TABLE canary (probe text)"))
        connection.execute(sa.text("INSERT INTO canary VALUES (:p)"), {"p": ESCAPED})
    canary.dispose()
    assert scan_database(role.admin_url(role.data_db)) != []
    stored = tables_in(role.admin_url(role.store_db) if store_kind == "postgres" else store)
    assert {"opsguard_runs", "opsguard_quarantine", "opsguard_alerts"} <= stored
