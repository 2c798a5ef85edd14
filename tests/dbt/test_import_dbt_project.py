"""``opsguard import-dbt`` on a real dbt project: dbt builds it into DuckDB, the command
writes the contracts, and they pass on the built tables and fail on broken ones."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml
from dbt_runner import BuiltProject, build_project, run_dbt

from airflow_opsguard import validate
from airflow_opsguard.cli import main
from airflow_opsguard.formats import load_contract

# The seeds were loaded at 2026-12-01 11:45 at the latest.
NOW = "2026-12-01T12:00:00"


def import_dbt(manifest: Path, out: Path, *args: str) -> int:
    return main(["import-dbt", str(manifest), "--out", str(out), *args])


# The fixtures live here, not in a conftest.py: a second tests/*/conftest.py loaded up
# front would shadow tests/airflow's (its tests import names from `conftest`).
@pytest.fixture(scope="module")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> BuiltProject:
    """tests/dbt/project, seeded and built by the real dbt into a DuckDB file of its own."""
    return build_project(tmp_path_factory.mktemp("dbt"))


@pytest.fixture
def fresh_copy(built_project: BuiltProject, tmp_path: Path) -> BuiltProject:
    """A copy of the built DuckDB file that a test may break."""
    database = tmp_path / "shop.duckdb"
    database.write_bytes(built_project.database.read_bytes())
    return BuiltProject(built_project.folder, built_project.manifest, database)


@pytest.fixture(scope="module")
def contracts(built_project: BuiltProject, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("contracts")
    assert import_dbt(built_project.manifest, out) == 0
    return out


def statuses(result: object) -> dict[str, str]:
    return {check.name: check.status for check in result.checks}  # type: ignore[attr-defined]


def test_one_contract_per_model_and_checked_source(contracts: Path) -> None:
    assert sorted(p.name for p in contracts.iterdir()) == [
        "customers.yml",
        "orders.yml",
        "shop.raw_orders.yml",  # raw_customers has nothing to check: no file
    ]
    for path in contracts.iterdir():
        load_contract(path)  # every file loads with the contract loader


def test_the_contract_holds_what_dbt_knows(contracts: Path) -> None:
    orders = yaml.safe_load((contracts / "orders.yml").read_text())
    assert orders["dataset"] == "orders"
    assert orders["source"] == {"table": "shop.main.orders"}
    assert orders["schema"]["extra_columns"] == "fail"  # the model contract is enforced
    columns = {c["name"]: c for c in orders["schema"]["columns"]}
    assert list(columns) == ["order_id", "customer_id", "amount", "status", "ordered_at"]
    assert columns["order_id"] == {
        "name": "order_id",
        "type": "integer",
        "nullable": False,
        "unique": True,
    }
    assert columns["amount"] == {"name": "amount", "type": "decimal", "min": 0, "max": 10000}
    checks = orders["checks"]
    assert {"type": "expression", "expression": "amount >= 0", "if_null": "pass"} in checks
    # The test's where filter: only the rows it keeps must pass.
    assert {
        "type": "expression",
        "expression": "not coalesce((status <> 'returned'), false) or (amount is null or "
        "(amount > 1))",
        "if_null": "pass",
        "severity": "warn",
    } in checks
    assert {
        "type": "allowed",
        "column": "status",
        "values": ["placed", "shipped", "completed", "returned"],
        "severity": "warn",  # the dbt test's severity
    } in checks
    # The foreign key constraint and the relationships test are one check.
    references = [c for c in checks if c["type"] == "reference"]
    assert references == [
        {
            "type": "reference",
            "column": "customer_id",
            "to": {"table": "shop.main.customers", "column": "customer_id"},
        }
    ]
    text = (contracts / "orders.yml").read_text()
    assert "# constraint foreign_key; test relationships_orders_customer_id" in text
    source = yaml.safe_load((contracts / "shop.raw_orders.yml").read_text())
    assert source["freshness"] == {"column": "loaded_at", "warn_after": "12h", "fail_after": "1d"}


def test_what_does_not_map_is_listed_once(
    built_project: BuiltProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert import_dbt(built_project.manifest, tmp_path) == 0
    out, err = capsys.readouterr()
    assert f"{tmp_path / 'orders.yml'}: model orders: 5 columns, 10 checks" in out
    lines = err.splitlines()
    for needle in (
        "test is_even_orders_order_id: generic test 'is_even' has no counterpart",
        "test no_order_before_launch: a singular test (its own SQL) has no counterpart",
    ):
        found = [line for line in lines if needle in line]
        assert len(found) == 1, (needle, err)
        assert found[0].startswith(
            f"opsguard: {built_project.manifest}: not imported: model orders"
        )
    assert len(lines) == 2
    header = (tmp_path / "orders.yml").read_text().split("\ndataset:")[0]
    assert "# Not imported from dbt:" in header
    assert "generic test 'is_even' has no counterpart" in header


def test_the_contracts_pass_on_the_built_tables(
    built_project: BuiltProject, contracts: Path
) -> None:
    for path in sorted(contracts.iterdir()):
        result = validate(path, data=built_project.url, now=NOW, record=False)
        assert result.status == "pass", (path.name, statuses(result))
    orders = validate(contracts / "orders.yml", data=built_project.url, now=NOW, record=False)
    assert len(orders.checks) == 16


def test_the_contracts_fail_on_broken_tables(fresh_copy: BuiltProject, contracts: Path) -> None:
    # Another writer replaces the table without dbt's constraints and breaks each rule.
    with duckdb.connect(str(fresh_copy.database)) as db:
        db.execute(
            """
            create or replace table main.orders as
            select * from main.orders
            union all select 10, 1, 12.00, 'placed', timestamp '2026-12-01 11:50'
            union all select 15, 99, -5.00, 'lost', null
            """
        )
        db.execute("create or replace table main.customers as select * from main.customers")
        db.execute("update main.customers set email = 'nobody' where customer_id = 4")
    result = validate(contracts / "orders.yml", data=fresh_copy.url, now=NOW, record=False)
    found = statuses(result)
    assert result.status == "fail"
    assert found["unique(order_id)"] == "fail"
    assert found["not_null(ordered_at)"] == "fail"
    assert found["range(amount)"] == "fail"
    assert found["allowed(status)"] == "warn"  # a warn-severity dbt test
    assert found["expression(amount >= 0)"] == "fail"
    assert found["reference(customer_id -> shop.main.customers.customer_id)"] == "fail"
    # accepted_range with where: status <> 'returned' (the lost order's -5.00 fails it)
    [filtered] = [name for name in found if name.startswith("expression(not coalesce(")]
    assert found[filtered] == "warn"
    customers = validate(contracts / "customers.yml", data=fresh_copy.url, now=NOW, record=False)
    assert statuses(customers)["expression(email like '%@%')"] == "fail"


def test_a_renamed_column_fails_the_enforced_schema(
    fresh_copy: BuiltProject, contracts: Path
) -> None:
    with duckdb.connect(str(fresh_copy.database)) as db:
        # orders' foreign key holds customers as they are: without it, they may change.
        db.execute("create or replace table main.orders as select * from main.orders")
        db.execute(
            "create or replace table main.customers as "
            "select customer_id, email, tier as level from main.customers"
        )
    result = validate(contracts / "customers.yml", data=fresh_copy.url, now=NOW, record=False)
    found = statuses(result)
    assert found["schema(tier)"] == "fail"
    assert found["schema(extra columns)"] == "fail"


@pytest.mark.parametrize(
    ("now", "status"),
    [(NOW, "pass"), ("2026-12-02T01:00:00", "warn"), ("2026-12-03T00:00:00", "fail")],
)
def test_source_freshness_follows_dbt(
    built_project: BuiltProject, contracts: Path, now: str, status: str
) -> None:
    result = validate(
        contracts / "shop.raw_orders.yml", data=built_project.url, now=now, record=False
    )
    assert statuses(result)["freshness(loaded_at)"] == status


def test_same_project_same_contracts(built_project: BuiltProject, tmp_path: Path) -> None:
    # A second `dbt parse` writes a new manifest (new ids, times): the contracts are the same.
    first, second = tmp_path / "first", tmp_path / "second"
    assert import_dbt(built_project.manifest, first) == 0
    copy = tmp_path / "reparsed"
    run_dbt(built_project.folder, built_project.database, "parse", "--target-path", str(copy))
    assert import_dbt(copy / "manifest.json", second) == 0
    for path in first.iterdir():
        text = path.read_text().replace(str(built_project.manifest), "MANIFEST")
        again = (second / path.name).read_text().replace(str(copy / "manifest.json"), "MANIFEST")
        assert text == again, path.name


def test_select_and_url(
    built_project: BuiltProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        import_dbt(
            built_project.manifest,
            tmp_path,
            "--select",
            "orders",
            "source:shop",
            "--url",
            built_project.url,
        )
        == 0
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.yml", "shop.raw_orders.yml"]
    orders = tmp_path / "orders.yml"
    assert load_contract(orders).source.url == built_project.url  # type: ignore[union-attr]
    # With the URL in the contract, `opsguard check` needs no --data.
    capsys.readouterr()
    assert main(["check", str(orders), "--now", NOW, "--no-store", "--no-alerts"]) == 0
    assert "orders: PASS" in capsys.readouterr().out


def test_conn_id(built_project: BuiltProject, tmp_path: Path) -> None:
    assert (
        import_dbt(built_project.manifest, tmp_path, "--select", "customers", "--conn-id", "shop")
        == 0
    )
    source = load_contract(tmp_path / "customers.yml").source
    assert source is not None
    assert (source.conn_id, source.table, source.url) == ("shop", "shop.main.customers", None)


def test_unknown_selection_is_one_line(
    built_project: BuiltProject, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert import_dbt(built_project.manifest, tmp_path, "--select", "ordres") == 2
    err = capsys.readouterr().err
    assert err == (
        f"opsguard: {built_project.manifest}: --select ordres: no model or source of that "
        "name (a model's name, or source:NAME[.TABLE])\n"
    )
    assert not list(tmp_path.iterdir())
