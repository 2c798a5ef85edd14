"""GX suites inside our gates: one verdict with our own checks, on files, DataFrames and
PostgreSQL, through validate(), the CLI and the results store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from gx_data import (
    BETWEEN,
    IN_SET,
    MEAN,
    NOT_NULL,
    REGEX,
    ROWS,
    SUITE,
    orders,
    verdicts,
    write_suite,
)

from airflow_opsguard import Contract, ContractError, validate
from airflow_opsguard.cli import main
from airflow_opsguard.store import ResultStore

CONTRACT = """\
dataset: orders
source: {{path: {data}}}
volume: {{min_rows: 1}}
gx_suite: {suite}
"""


def contract_file(folder: Path, *, data: str = "orders.parquet", suite: str = "suite.json") -> Path:
    path = folder / "orders.yml"
    path.write_text(CONTRACT.format(data=data, suite=suite), encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A contract folder with bad orders and the suite; the working directory is elsewhere,
    so relative paths must resolve against the contract file's folder."""
    home = tmp_path / "contracts"
    home.mkdir()
    orders(bad=True).to_parquet(home / "orders.parquet")
    write_suite(home / "suite.json")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    return home


def test_failing_suite_fails_the_gate_naming_the_expectation(folder: Path) -> None:
    result = validate(contract_file(folder))
    assert result.status == "fail"
    found = {c.name: c for c in result.checks}
    assert found["volume"].status == "pass"  # our own checks share the verdict
    failed = found[NOT_NULL]
    assert (failed.type, failed.status, failed.severity) == ("gx", "fail", "fail")
    assert (failed.column, failed.observed, failed.expected) == ("email", 1, 0)
    assert failed.failing_count == 1 and failed.failing_fraction == 0.25
    assert failed.metrics["suite"] == "orders_suite"
    regex = found[REGEX]
    assert (regex.status, regex.severity, regex.samples) == ("warn", "warn", ("nope",))
    assert found[IN_SET].status == "warn"  # meta: {severity: warn}
    assert found[IN_SET].samples == ("FR",)
    assert found[BETWEEN].status == "pass"
    assert found[ROWS].status == "pass" and found[ROWS].observed == 4
    assert found[MEAN].observed == pytest.approx(25.125)
    # The JSON of `opsguard check --format json` carries them as any check.
    payload = json.loads(json.dumps(result.to_dict()))
    named = [c for c in payload["checks"] if c["name"] == NOT_NULL]
    assert named[0]["type"] == "gx" and named[0]["status"] == "fail"


def test_a_passing_suite_passes(folder: Path) -> None:
    orders().to_parquet(folder / "orders.parquet")
    result = validate(contract_file(folder))
    assert result.status == "pass", [(c.name, c.message) for c in result.checks]
    assert len([c for c in result.checks if c.type == "gx"]) == len(SUITE["expectations"])


def test_only_warnings_warn(folder: Path) -> None:
    suite = {"name": "w", "expectations": SUITE["expectations"][1:]}
    write_suite(folder / "suite.json", suite)
    result = validate(contract_file(folder))
    assert result.status == "warn"


def test_an_exception_inside_gx_is_an_error_naming_the_expectation(folder: Path) -> None:
    suite = {
        "name": "broken",
        "expectations": [
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {"column": "gone", "min_value": 0},
            },
            {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        ],
    }
    write_suite(folder / "suite.json", suite)
    result = validate(contract_file(folder))
    assert result.status == "error"
    error = next(c for c in result.checks if c.status == "error")
    assert error.name == "expect_column_values_to_be_between(gone)"
    assert "gone" in error.message and "GX raised" in error.message
    assert next(c for c in result.checks if c.name == ROWS).status == "pass"


def test_several_suites_and_python_suites(folder: Path) -> None:
    import great_expectations as gx

    python_suite = gx.ExpectationSuite(
        name="py",
        expectations=[gx.expectations.ExpectColumnValuesToBeUnique(column="order_id")],
    )
    contract = {"dataset": "orders", "gx_suite": [str(folder / "suite.json")]}
    by_argument = validate(contract, orders(bad=True), gx_suites=[python_suite, dict(SUITE)])
    names = [c.name for c in by_argument.checks]
    assert names.count(NOT_NULL) == 2  # the file's and the mapping's
    assert "expect_column_values_to_be_unique(order_id)" in names
    # A Contract built in Python may hold the suite object itself.
    held = Contract(dataset="orders", gx_suite=python_suite)
    assert isinstance(held.gx_suite[0], dict)
    result = validate(held, orders(bad=True))
    assert [(c.name, c.status) for c in result.checks] == [
        ("expect_column_values_to_be_unique(order_id)", "pass")
    ]


def test_the_suite_is_part_of_the_fingerprint(folder: Path) -> None:
    plain = Contract(dataset="orders")
    assert Contract(dataset="orders", gx_suite=[]).fingerprint == plain.fingerprint
    assert Contract(dataset="orders", gx_suite="a.json").fingerprint != plain.fingerprint


def test_the_store_keeps_gx_checks(folder: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    validate(contract_file(folder), store=url)
    with ResultStore(url) as store:
        stored = store.results(dataset="orders", limit=1)
    assert stored[0].status == "fail"
    assert next(c.name for c in stored[0].checks if c.type == "gx") == NOT_NULL


def test_nothing_is_written_next_to_the_data(folder: Path, tmp_path: Path) -> None:
    contract = contract_file(folder)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert validate(contract).status == "fail"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_csv_files_run_through_the_same_reader(folder: Path) -> None:
    orders(bad=True).to_csv(folder / "orders.csv", index=False)
    from_csv = validate(contract_file(folder, data="orders.csv"))
    from_parquet = validate(contract_file(folder))
    assert verdicts(from_csv) == verdicts(from_parquet)


# --------------------------------------------------------------------------- PostgreSQL


def _load(url: str, table: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            orders(bad=True).to_sql(table, connection, index=False, if_exists="replace")
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_parquet_and_postgresql_give_the_same_verdicts(folder: Path, postgres_url: str) -> None:
    _load(postgres_url, "gx_orders")
    on_file = validate(contract_file(folder))
    on_table = validate(contract_file(folder), data=postgres_url, table="gx_orders")
    assert verdicts(on_table) == verdicts(on_file)
    assert on_table.status == on_file.status == "fail"
    assert "gx_orders" in (on_table.source or "")
    samples = {c.name: c.samples for c in on_table.checks}
    assert samples[REGEX] == ("nope",)


@pytest.mark.postgres
def test_a_query_source_and_no_password_in_results(folder: Path, postgres_url: str) -> None:
    _load(postgres_url, "gx_orders_q")
    path = folder / "query.yml"
    url = sa.make_url(postgres_url).set(password="s3cret-pw")
    body: dict[str, Any] = {
        "dataset": "orders",
        "source": {
            "url": url.render_as_string(hide_password=False),
            "query": "SELECT * FROM gx_orders_q;",
        },
        "gx_suite": "suite.json",
    }
    path.write_text(json.dumps(body), encoding="utf-8")  # JSON is YAML
    result = validate(path)
    on_file = validate(contract_file(folder))
    assert verdicts(result) == verdicts(on_file)
    assert "s3cret-pw" not in json.dumps(result.to_dict())


@pytest.mark.postgres
def test_a_missing_table_column_is_an_error_on_postgresql(folder: Path, postgres_url: str) -> None:
    _load(postgres_url, "gx_orders_e")
    suite = {
        "name": "e",
        "expectations": [
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "gone"}}
        ],
    }
    write_suite(folder / "suite.json", suite)
    result = validate(contract_file(folder), data=postgres_url, table="gx_orders_e")
    assert [(c.name, c.status) for c in result.checks if c.type == "gx"] == [
        ("expect_column_values_to_not_be_null(gone)", "error")
    ]


# --------------------------------------------------------------------------- broken suites


BROKEN = {
    "bad_json": ('{"name": "x", "expectations": [', "not valid JSON"),
    "unknown_type": (
        json.dumps({"name": "x", "expectations": [{"type": "expect_the_moon", "kwargs": {}}]}),
        "unknown expectation type 'expect_the_moon'",
    ),
    "bad_argument": (
        json.dumps(
            {
                "name": "x",
                "expectations": [
                    {"type": "expect_column_values_to_be_between", "kwargs": {"min_value": 1}}
                ],
            }
        ),
        "expectations[0] (expect_column_values_to_be_between): column",
    ),
    "not_a_suite": ("[1, 2]", "a GX suite is a JSON object"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_suite_is_one_line_naming_the_file(
    kind: str, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = BROKEN[kind]
    (folder / "suite.json").write_text(text, encoding="utf-8")
    code = main(["check", str(contract_file(folder)), "--no-store", "--no-alerts"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert str(folder / "suite.json") in err and expected in err
    with pytest.raises(ContractError):
        validate(contract_file(folder))


def test_a_missing_suite_file_is_named(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(contract_file(folder, suite="nowhere.json")), "--no-store"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"opsguard: {folder / 'nowhere.json'}: no such GX suite file"


def test_the_cli_check_fails_with_the_expectation_named(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", str(contract_file(folder)), "--no-store", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    failing = [c["name"] for c in out["checks"] if c["status"] == "fail"]
    assert failing == [NOT_NULL]


@pytest.mark.postgres
def test_gx_reads_postgresql_read_only_in_utc(tmp_path: Path, postgres_url: str) -> None:
    settings = (
        "SELECT current_setting('default_transaction_read_only') AS read_only,"
        " current_setting('TimeZone') AS zone"
    )
    suite = {
        "name": "session",
        "expectations": [
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": c, "value_set": [v]}}
            for c, v in (("read_only", "on"), ("zone", "UTC"))
        ],
    }
    contract = {"dataset": "session", "source": {"url": postgres_url, "query": settings}}
    result = validate({**contract, "gx_suite": [suite]})
    assert [(c.name, c.status) for c in result.checks] == [
        ("expect_column_values_to_be_in_set(read_only)", "pass"),
        ("expect_column_values_to_be_in_set(zone)", "pass"),
    ]


@pytest.mark.parametrize("withheld", ["sensitive", "samples: false"])
def test_a_suite_on_a_sensitive_column_keeps_no_failing_values(folder: Path, withheld: str) -> None:
    """GX knows nothing of sensitive columns: the gate strips what it quotes."""
    path = contract_file(folder)
    if withheld == "sensitive":
        extra = "schema:\n  columns:\n    - {name: email, type: string, sensitive: true}\n"
        extra += "    - {name: country, type: string, sensitive: true}\n"
        extra += "  extra_columns: allow\n"
    else:
        extra = "samples: false\n"
    path.write_text(path.read_text() + extra, encoding="utf-8")
    result = validate(path)
    found = {c.name: c for c in result.checks}
    assert found[REGEX].status == "warn" and found[REGEX].failing_count == 1
    assert found[REGEX].samples == () and found[IN_SET].samples == ()
    text = json.dumps(result.to_dict())
    assert "nope" not in text and '"FR"' not in text
