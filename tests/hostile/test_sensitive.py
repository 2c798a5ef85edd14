"""Sensitive data: a column's ``sensitive: true`` and a contract's ``samples: false``.

A contract with a sensitive e-mail column and a sensitive card-number column, and data
whose failing values are distinctive strings, is checked with every kind of check on
those columns, through the CLI (JSON and text), through the gate pipeline with a SQLite
and a PostgreSQL store, an alert route to a local webhook and a quarantine, and through
a real ``dag.test()`` run of a ``QualityGateOperator``. Then everything that was written
is read (the output, every table and column of the store, the webhook bodies, XCom,
quarantine sidecars, the task log): no failing value of a sensitive column is anywhere,
the counts are right, and a plain column's samples are still there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from airflow_opsguard.formats import load_contract
from airflow_opsguard.pipeline import run_gate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "quarantine"))
from quarantine_helpers import gate_batch
from recorders import WebhookRecorder, webhook_server

OPSGUARD = str(Path(sys.executable).with_name("opsguard"))
PYTHON = sys.executable
NOW = "2026-12-07T08:00:00+00:00"

# The failing values of the sensitive columns: none of these may appear anywhere. The
# card numbers are matched on their last twelve digits, which a float rendering
# (9.999777755553333e+15) keeps too.
LEAKED_EMAIL = "leak-me-123@x.com"
SECRETS = ["leak-", "777755553333", "666644442222"]
# A plain column's failing value: shown, unless the contract says samples: false.
PLAIN_SAMPLE = "BOGUS-STATUS"

ROWS = [
    # id, email, card, status
    (1, "ok-a@x.com", 4111111111111111, "new"),
    (2, LEAKED_EMAIL, 4222222222222222, "new"),
    (3, LEAKED_EMAIL, 9999777755553333, "new"),  # duplicate e-mail; card out of range
    (4, None, 4333333333333333, PLAIN_SAMPLE),
    (5, "leak-nopattern-789", 4444444444444444, "new"),
    (6, "leak-toolong-abcdefghij@x.com", 8888666644442222, "new"),
]
CARDS = [4111111111111111, 4222222222222222, 4333333333333333, 4444444444444444]

# Check name -> failing count.
EXPECTED = {
    "not_null(email)": 1,
    "unique(email)": 2,
    "pattern(email)": 1,
    "length(email)": 1,
    "allowed(email)": 4,
    "range(card)": 2,
    "allowed(status)": 1,
    "card below 9e15": 1,
    "id below 6": 1,
    "reference(card)": 2,
}


def contract_text(
    *, source: dict[str, Any], cards: dict[str, Any], samples: bool = True, **more: Any
) -> str:
    document: dict[str, Any] = {
        "dataset": f"customers_{uuid.uuid4().hex[:8]}",
        "source": source,
        "schema": {
            "columns": [
                {"name": "id", "type": "integer"},
                {
                    "name": "email",
                    "type": "string",
                    "sensitive": True,
                    "nullable": False,
                    "unique": True,
                    "pattern": "^[^@]+@[^@]+$",
                    "max_length": 20,
                },
                {
                    "name": "card",
                    "type": "integer",
                    "sensitive": True,
                    "min": 4000000000000000,
                    "max": 4999999999999999,
                },
                {"name": "status", "type": "string", "allowed": ["new"]},
            ]
        },
        "checks": [
            {"type": "allowed", "column": "email", "values": ["ok-a@x.com"]},
            {
                "type": "expression",
                "expression": "card < 9000000000000000",
                "name": "card below 9e15",
            },
            {"type": "expression", "expression": "id < 6", "name": "id below 6"},
            {
                "type": "reference",
                "column": "card",
                "to": {**cards, "column": "number"},
                "name": "reference(card)",
            },
            {"type": "statistic", "column": "card", "statistic": "max", "max": 5000000000000000},
        ],
        **more,
    }
    if not samples:
        document["samples"] = False
    return yaml.safe_dump(document, sort_keys=False)


def frame() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=["id", "email", "card", "status"]).astype(
        {"id": "int64", "card": "int64"}
    )


def parquet_files(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "batch" / "customers.parquet"
    data.parent.mkdir()
    frame().to_parquet(data)
    cards = folder / "cards.parquet"
    pd.DataFrame({"number": CARDS}, dtype="int64").to_parquet(cards)
    return data, cards


def leaks(*texts: str, extra: tuple[str, ...] = ()) -> list[str]:
    joined = "\n".join(texts)
    return [s for s in (*SECRETS, *extra) if s in joined]


def database_text(url: str, *, exclude: frozenset[str] = frozenset()) -> str:
    """Every row of every table (but those in ``exclude``), as text."""
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        parts = []
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                if table.name in exclude:
                    continue
                for row in connection.execute(sa.select(table)):
                    parts.append(f"{table.name}: {tuple(row)!r}")
        assert parts, f"nothing stored in {url}"
        return "\n".join(parts)
    finally:
        engine.dispose()


def checks_of(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in result["checks"]}


def assert_counts(result: dict[str, Any], *, samples: bool) -> None:
    checks = checks_of(result)
    assert result["status"] == "fail"
    for name, count in EXPECTED.items():
        assert checks[name]["failing_count"] == count, (name, checks[name])
        assert checks[name]["status"] == "fail", (name, checks[name])
    for name in EXPECTED:
        if name in ("allowed(status)", "id below 6") and samples:
            continue
        assert checks[name]["samples"] == [], (name, checks[name])
    if samples:  # a plain column's samples still work
        assert checks["allowed(status)"]["samples"] == [PLAIN_SAMPLE]
        assert checks["id below 6"]["samples"] == [{"id": 6}]
        assert PLAIN_SAMPLE in checks["allowed(status)"]["message"]
    # The mean of a sensitive column (its value, with one row) is not kept.
    assert "mean(card)" not in result.get("metrics", {}) and "mean(id)" in result["metrics"]
    # The range's extremes are values too: counts instead.
    assert "min" not in checks["range(card)"].get("metrics", {})
    assert "max" not in checks["range(card)"].get("metrics", {})
    (statistic,) = (c for c in result["checks"] if c["type"] == "statistic")
    assert statistic["status"] == "fail" and statistic["observed"] is None


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (so that all of it can be read), on the
    server of the session's database."""
    name = f"opsguard_sens_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# ------------------------------------------------------------------ the CLI


@pytest.mark.parametrize("samples", [True, False], ids=["sensitive", "samples-false"])
def test_cli_json_and_text_keep_sensitive_values_out(tmp_path: Path, samples: bool) -> None:
    data, cards = parquet_files(tmp_path)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    with webhook_server() as hook:
        contract = tmp_path / "customers.yml"
        contract.write_text(
            contract_text(
                source={"path": str(data)},
                cards={"path": str(cards)},
                samples=samples,
                alerts=[{"on": ["fail"], "webhook": hook.url}],
            )
        )
        outputs = []
        for form in ("json", "text"):
            done = subprocess.run(
                [
                    OPSGUARD,
                    "check",
                    str(contract),
                    "--store",
                    store,
                    "--format",
                    form,
                    "--now",
                    NOW,
                ],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 1, done.stderr
            assert "Traceback" not in done.stderr
            outputs += [done.stdout, done.stderr]
            if form == "json":
                assert_counts(json.loads(done.stdout), samples=samples)
            else:
                assert "allowed(email)" in done.stdout and "4 of 5 values" in done.stdout
        bodies = json.dumps(hook.bodies())
    assert hook.bodies(), "the webhook was not called"
    plain = () if samples else (PLAIN_SAMPLE,)
    assert leaks(*outputs, bodies, database_text(store), extra=plain) == []
    if samples:
        assert PLAIN_SAMPLE in outputs[0] and PLAIN_SAMPLE in outputs[2]


# ------------------------------------------------------------------ the pipeline


def gate_and_read(
    contract_file: Path, store: str, hook: WebhookRecorder, *, data: Any = None
) -> tuple[dict[str, Any], list[str]]:
    """Gate once (alerting) and once more as a batch that quarantines; what was written."""
    run = run_gate(str(contract_file), data=data, store=store, now=NOW, alert=True, record=True)
    assert run.result is not None
    payload = run.payload
    result, settlement = gate_batch(
        str(contract_file), batch_id=f"b-{uuid.uuid4().hex[:6]}", data=data, store=store, now=NOW
    )
    assert result is not None and settlement.action == "quarantined", settlement
    texts = [json.dumps(payload), json.dumps(result.to_dict()), json.dumps(hook.bodies())]
    return payload, texts


@pytest.mark.parametrize("samples", [True, False], ids=["sensitive", "samples-false"])
def test_files_with_a_sqlite_store_webhook_and_quarantine(tmp_path: Path, samples: bool) -> None:
    data, cards = parquet_files(tmp_path)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    with webhook_server() as hook:
        contract = tmp_path / "customers.yml"
        contract.write_text(
            contract_text(
                source={"path": str(data.parent)},
                cards={"path": str(cards)},
                samples=samples,
                on_fail="quarantine",
                alerts=[{"on": ["fail"], "webhook": hook.url}],
            )
        )
        payload, texts = gate_and_read(contract, store, hook)
    assert hook.bodies()
    assert_counts(payload, samples=samples)
    sidecars = [p.read_text() for p in tmp_path.rglob("*.json")]
    assert sidecars, "no quarantine sidecar was written"
    plain = () if samples else (PLAIN_SAMPLE,)
    assert leaks(*texts, *sidecars, database_text(store), extra=plain) == []
    assert (PLAIN_SAMPLE in texts[0]) is samples


@pytest.mark.postgres
@pytest.mark.parametrize("samples", [True, False], ids=["sensitive", "samples-false"])
def test_postgres_data_and_store_with_webhook_and_quarantine(
    tmp_path: Path, postgres_db: str, samples: bool
) -> None:
    engine = sa.create_engine(postgres_db)
    frame().to_sql("customers", engine, index=False)
    pd.DataFrame({"number": CARDS}, dtype="int64").to_sql("cards", engine, index=False)
    engine.dispose()
    store = postgres_db
    with webhook_server() as hook:
        contract = tmp_path / "customers.yml"
        contract.write_text(
            contract_text(
                source={"url": postgres_db, "table": "customers"},
                cards={"table": "cards"},
                samples=samples,
                on_fail="quarantine",
                alerts=[{"on": ["fail"], "webhook": hook.url}],
            )
        )
        payload, texts = gate_and_read(contract, store, hook)
    assert hook.bodies()
    assert_counts(payload, samples=samples)
    # The store's tables and the quarantine's records (not the data, nor the quarantine
    # table, which hold the rows themselves).
    engine = sa.create_engine(postgres_db)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    data_tables = frozenset({"customers", "cards", "customers_quarantine"})
    assert data_tables <= tables  # the bad batch was set aside
    stored = database_text(postgres_db, exclude=data_tables)
    assert "opsguard" in stored and "quarantine" in stored
    plain = () if samples else (PLAIN_SAMPLE,)
    assert leaks(*texts, stored, extra=plain) == []


# ------------------------------------------------------------------ the engine


def test_the_engine_runs_no_sample_query_for_a_sensitive_column(tmp_path: Path) -> None:
    """Every statement the engine sends to the database, recorded: a sample query (one
    with a LIMIT) only for the plain columns' checks, and duplicates only counted."""
    from airflow_opsguard.checks.observations import ObservedColumn
    from airflow_opsguard.contract.models import Contract
    from airflow_opsguard.engines.executor import run_plan

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'data.db'}")
    frame().to_sql("customers", engine, index=False)
    document = yaml.safe_load(contract_text(source={"path": "x"}, cards={"table": "cards"}))
    # SQLite has no regular expressions, and the other table is not needed here.
    for column in document["schema"]["columns"]:
        column.pop("pattern", None)
    document["checks"] = [c for c in document["checks"] if c["type"] != "reference"]
    columns = [
        ObservedColumn("id", "BIGINT", "integer"),
        ObservedColumn("email", "TEXT", "string"),
        ObservedColumn("card", "BIGINT", "integer"),
        ObservedColumn("status", "TEXT", "string"),
    ]
    sent: list[str] = []

    def record(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    found = {}
    for samples in (True, False):
        sent.clear()
        contract = Contract.model_validate({**document, "samples": samples})
        with engine.connect() as connection:
            observed = run_plan(
                connection, contract, sa.table("customers"), columns, source_name="customers"
            )
        found[samples] = (list(sent), observed)
    engine.dispose()

    sent_with, observed = found[True]
    sampled = [s for s in sent_with if "LIMIT" in s.upper()]
    # The plain column's allowed check and the expression on id only.
    assert sampled and all("email" not in s and "card" not in s for s in sampled), sampled
    assert any("status" in s for s in sampled) and any("id <" in s for s in sampled)
    grouped = [s for s in sent_with if "GROUP BY" in s.upper()]
    assert grouped and all("sum(" in s.lower() for s in grouped), grouped
    checks = observed.checks
    assert checks["unique(email)"].failing == 2 and checks["unique(email)"].samples == ()
    assert checks["range(card)"].minimum is None and checks["range(card)"].failing == 2
    assert checks["allowed(status)"].samples == (PLAIN_SAMPLE,)
    sent_without, observed = found[False]
    assert not [s for s in sent_without if "LIMIT" in s.upper()]
    assert observed.checks["allowed(status)"].samples == ()
    assert observed.checks["allowed(status)"].failing == 1


@pytest.mark.parametrize("backend", ["files", pytest.param("postgres", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("sensitive", [True, False])
def test_a_database_error_on_a_sensitive_check_is_withheld(
    tmp_path: Path, sensitive: bool, backend: str, request: pytest.FixtureRequest
) -> None:
    """An expression that cannot run: DuckDB's message quotes the value it could not
    convert. On a sensitive column the quoted value is withheld; on a plain one it is
    kept."""
    data, cards = parquet_files(tmp_path)
    source: dict[str, Any] = {"path": str(data)}
    if backend == "postgres":
        url = request.getfixturevalue("postgres_db")
        engine = sa.create_engine(url)
        frame().to_sql("customers", engine, index=False)
        engine.dispose()
        source = {"url": url, "table": "customers"}
    document = yaml.safe_load(contract_text(source=source, cards={"path": str(cards)}))
    document["checks"] = [
        {"type": "expression", "expression": "CAST(email AS INTEGER) > 0", "name": "cast"}
    ]
    if not sensitive:
        for column in document["schema"]["columns"]:
            column["sensitive"] = False
    contract = tmp_path / "c.yml"
    contract.write_text(yaml.safe_dump(document))
    run = run_gate(str(contract), now=NOW, record=False)
    # DuckDB stops the whole scan (a conversion error reads as unreadable data); other
    # databases fail the one check. Either way the error is there, and says why.
    shown = json.dumps(run.payload)
    cast = [c for c in run.payload["checks"] if c["name"] == "cast"]
    assert (cast[0]["status"] if cast else run.payload["status"]) == "error", shown
    if sensitive:
        assert "@x.com" not in shown and leaks(shown) == []
        assert "'***'" in shown or "withheld" in shown, shown
    else:  # the proof that the database's message quotes a value
        assert "@x.com" in shown, shown


# ------------------------------------------------------------------ a DAG run

DAG_SCRIPT = """\
import json, os, sys
import pendulum
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(sys.argv[1])
assert not bag.import_errors, bag.import_errors
dag = bag.get_dag("sensitive_gate")
run = dag.test(logical_date=pendulum.datetime(2026, 12, 7, 8, tz="UTC"))
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session
from sqlalchemy import select
with create_session() as session:
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances(session=session)}
    xcoms = [
        [x.task_id, x.key, x.value if isinstance(x.value, str) else json.dumps(x.value)]
        for x in session.scalars(select(XComModel).where(XComModel.run_id == run.run_id))
    ]
print("OUTCOME " + json.dumps({"states": states, "xcoms": xcoms}))
"""

DAG = """\
from __future__ import annotations
import pendulum
from airflow.sdk import DAG
from airflow_opsguard.operators import QualityGateOperator

with DAG("sensitive_gate", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         catchup=False):
    QualityGateOperator(task_id="gate", contract={contract!r}, store={store!r})
"""


def test_a_dag_run_keeps_sensitive_values_out_of_xcom_logs_and_store(tmp_path: Path) -> None:
    home = tmp_path / "airflow"
    dags = home / "dags"
    dags.mkdir(parents=True)
    data, cards = parquet_files(tmp_path)
    store = f"sqlite:///{tmp_path / 'store.db'}"
    contract = tmp_path / "customers.yml"
    contract.write_text(
        contract_text(
            source={"path": str(data)},
            cards={"path": str(cards)},
            alerts=[{"on": ["fail"], "log": True}],
        )
    )
    dag_file = dags / "sensitive_gate.py"
    dag_file.write_text(DAG.format(contract=str(contract), store=store))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
    env.pop("OPSGUARD_STORE_URL", None)
    airflow = str(Path(sys.executable).with_name("airflow"))
    migrate = subprocess.run(
        [airflow, "db", "migrate"], capture_output=True, text=True, env=env, timeout=600
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    done = subprocess.run(
        [PYTHON, "-c", DAG_SCRIPT, str(dag_file)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    log = done.stdout + done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("OUTCOME ")]
    outcome = json.loads(line.removeprefix("OUTCOME "))
    assert outcome["states"] == {"gate": "failed"}, log[-3000:]
    xcoms = {(task, key): _decoded(value) for task, key, value in outcome["xcoms"]}
    result = xcoms[("gate", "opsguard_result")]
    assert_counts(result, samples=True)
    # The gate logged its report (the failing checks by name, with their counts).
    assert "allowed(email)" in log and "unique(email)" in log, log[-3000:]
    assert PLAIN_SAMPLE in log  # a plain column's sample is logged as ever
    assert leaks(log, json.dumps(outcome), database_text(store)) == []


def _decoded(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value  # a plain string (a link)


# ------------------------------------------------------------------ the contract


def test_the_keys_are_strict_and_a_sensitive_column_cannot_be_a_distribution_column(
    tmp_path: Path,
) -> None:
    from airflow_opsguard.errors import ContractError

    bad = tmp_path / "bad.yml"
    bad.write_text(
        textwrap.dedent(
            """\
            dataset: d
            schema:
              columns:
                - {name: email, type: string, sensitve: true}
            """
        )
    )
    with pytest.raises(ContractError, match="sensitve"):
        load_contract(bad)
    bad.write_text("dataset: d\nsample: false\n")
    with pytest.raises(ContractError, match="sample"):
        load_contract(bad)
    bad.write_text(
        textwrap.dedent(
            """\
            dataset: d
            schema:
              columns:
                - {name: email, type: string, sensitive: true}
            distribution:
              reference: ref.json
              columns: [email]
            """
        )
    )
    with pytest.raises(ContractError, match="sensitive"):
        load_contract(bad)
