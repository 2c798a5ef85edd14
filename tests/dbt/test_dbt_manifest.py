"""Reading dbt manifests and mapping what they say, without running dbt: the manifests
of older dbt releases (kept in manifests/), broken manifests, and the mapping's cases
that the real project does not have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from dbt_manifests import V12, data_test, model, source, write_manifest

from airflow_opsguard.cli import main
from airflow_opsguard.dbt import ManifestError, import_manifest
from airflow_opsguard.dbt.datatypes import contract_type

MANIFESTS = Path(__file__).resolve().parent / "manifests"
ORDERS = "model.shop.orders"
CUSTOMERS = "model.shop.customers"


def contracts(path: Path, *select: str) -> dict[str, dict]:
    """The imported contracts by name, as mappings (notes under "notes")."""
    found = {}
    for imported in import_manifest(path, select):
        mapping = yaml.safe_load(imported.text) if imported.text else {}
        found[imported.name] = {**mapping, "notes": list(imported.notes)}
    return found


@pytest.mark.parametrize("fixture", ["dbt-1.6-v10.json", "dbt-1.7-v11.json", "dbt-1.8-v12.json"])
def test_older_dbt_releases(fixture: str) -> None:
    found = contracts(MANIFESTS / fixture)
    assert sorted(found) == ["customers", "orders", "shop.raw_orders"]
    customers = found["customers"]
    assert customers["source"] == {"table": "shop.main.customers"}
    assert customers["schema"]["columns"][0] == {
        "name": "customer_id",
        "type": "integer",
        "nullable": False,
        "unique": True,
    }
    orders = found["orders"]
    assert [c["name"] for c in orders["schema"]["columns"]] == [
        "order_id",
        "customer_id",
        "amount",
        "status",
        "ordered_at",
    ]
    reference = {
        "type": "reference",
        "column": "customer_id",
        "to": {"table": "shop.main.customers", "column": "customer_id"},
    }
    assert reference in orders["checks"]  # the relationships test, in every release
    assert found["shop.raw_orders"]["freshness"]["fail_after"] == "1d"
    if fixture == "dbt-1.8-v12.json":  # dbt 1.8 keeps the foreign key's to: "ref('customers')"
        assert not any("foreign_key" in note for note in orders["notes"])
    else:  # before 1.8, dbt drops a foreign key's `to`: nothing names the other table
        assert "constraint foreign_key: names no referenced table" in orders["notes"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a JSON document"),
        ("[]", "the document: expected a JSON object, found a list"),
        ('{"nodes": {}}', "metadata: missing (is this a dbt manifest?)"),
        (
            '{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v9.json"}}',
            "metadata.dbt_schema_version: manifest v9 is not supported; v10 to v12 are",
        ),
        (
            '{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v13.json"}}',
            "manifest v13 is not supported",
        ),
        (
            '{"metadata": {"dbt_schema_version": "https://example.com/catalog/v1.json"}}',
            "metadata.dbt_schema_version: 'https://example.com/catalog/v1.json' is not a "
            "dbt manifest schema",
        ),
        (
            json.dumps({"metadata": {"dbt_schema_version": V12}, "nodes": [], "sources": {}}),
            "nodes: expected a JSON object, found a list",
        ),
        (
            json.dumps(
                {
                    "metadata": {"dbt_schema_version": V12},
                    "nodes": {"model.shop.orders": {"resource_type": "model", "name": "orders"}},
                    "sources": {},
                }
            ),
            "nodes['model.shop.orders'].schema: missing",
        ),
    ],
)
def test_a_broken_manifest_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match="^" + str(path).replace(".", r"\.")):
        import_manifest(path)
    assert main(["import-dbt", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"opsguard: {path}: ") and message in err
    assert err.count("\n") == 1


def test_a_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no such file .*dbt parse"):
        import_manifest(tmp_path / "target" / "manifest.json")


def test_url_and_conn_id_exclude_each_other(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, {ORDERS: model("orders")})
    with pytest.raises(SystemExit) as exit_code:
        main(["import-dbt", str(path), "--out", "x", "--url", "sqlite://", "--conn-id", "c"])
    assert exit_code.value.code == 2


@pytest.mark.parametrize(
    ("data_type", "ours"),
    [
        ("integer", "integer"),
        ("BIGINT", "integer"),
        ("numeric(38, 0)", "decimal"),
        ("NUMBER(10,2)", "decimal"),
        ("double precision", "float"),
        ("character varying(255)", "string"),
        ("text", "string"),
        ("timestamp(6) with time zone", "timestamp"),
        ("TIMESTAMP_NTZ", "timestamp"),
        ("date", "date"),
        ("bool", "boolean"),
        ("json", None),
        ("array<int>", None),
        ("", None),
    ],
)
def test_data_types(data_type: str, ours: str | None) -> None:
    assert contract_type(data_type) == ours


def test_constraints_of_older_dbt_and_several_columns(tmp_path: Path) -> None:
    orders = model(
        "orders",
        {"id": {"data_type": "int"}, "line": {"data_type": "int"}, "customer_id": {}},
        enforced=True,
        constraints=[
            {"type": "primary_key", "columns": ["id", "line"]},
            # dbt 1.6 to 1.8: the foreign key as an expression
            {"type": "foreign_key", "columns": ["customer_id"], "expression": "customers (id)"},
            {"type": "custom", "columns": ["id"]},
        ],
    )
    found = contracts(write_manifest(tmp_path, {ORDERS: orders}))["orders"]
    columns = {c["name"]: c for c in found["schema"]["columns"]}
    assert columns["id"] == {"name": "id", "type": "integer", "nullable": False}
    assert columns["customer_id"] == {"name": "customer_id"}  # declared in an enforced contract
    assert {"type": "unique", "columns": ["id", "line"]} in found["checks"]
    assert {
        "type": "reference",
        "column": "customer_id",
        "to": {"table": "customers", "column": "id"},
    } in found["checks"]
    assert found["notes"] == ["constraint custom: constraint type 'custom' has no counterpart"]


def test_generic_tests_of_every_kind(tmp_path: Path) -> None:
    tests = dict(
        [
            data_test("not_null", ORDERS, "id"),
            data_test("not_null", ORDERS, "id", config={"severity": "warn"}),
            data_test("accepted_range", ORDERS, "amount", namespace="dbt_utils", min_value=0),
            data_test(
                "accepted_range",
                ORDERS,
                "ordered_at",
                namespace="dbt_utils",
                min_value="'2020-01-01'",
                inclusive=False,
            ),
            data_test("accepted_values", ORDERS, "status", values=["a", "b"], quote=True),
            data_test("accepted_values", ORDERS, "code", values=["1", "2"], quote=False),
            data_test("accepted_values", ORDERS, "level", values=[1, 2], quote=False),
            data_test("unique", ORDERS, "id", config={"error_if": "> 10"}),
            data_test(
                "unique_combination_of_columns",
                ORDERS,
                namespace="dbt_utils",
                combination_of_columns=["id", "status"],
            ),
            data_test("expression_is_true", ORDERS, namespace="dbt_utils", expression="a > b"),
            data_test("expect_column_to_exist", ORDERS, "id", namespace="dbt_expectations"),
            data_test("not_null", ORDERS, "coalesce(a, b)"),
            data_test("unique", ORDERS, "status", config={"where": "status <> 'x'"}),
            data_test("not_null", ORDERS, "paid_at", config={"where": "status = 'paid'"}),
            data_test(
                "accepted_values",
                ORDERS,
                "status",
                values=["a", "o'b"],
                config={"where": "kind = 1"},
            ),
            data_test("not_null", ORDERS, "id", config={"where": "day > {{ var('start') }}"}),
        ]
    )
    manifest = write_manifest(tmp_path, {ORDERS: model("orders"), **tests})
    found = contracts(manifest)["orders"]
    columns = {c["name"]: c for c in found["schema"]["columns"]}
    assert columns["id"] == {"name": "id", "nullable": False}
    assert columns["amount"] == {"name": "amount", "min": 0}
    assert columns["status"] == {"name": "status", "allowed": ["a", "b"]}
    assert columns["level"] == {"name": "level", "allowed": [1, 2]}
    checks = found["checks"]
    assert {"type": "not_null", "column": "id", "severity": "warn"} in checks
    # dbt tolerates 10 duplicates: a warning, never a block on what dbt passes
    assert {"type": "unique", "column": "id", "severity": "warn"} in checks
    assert {
        "type": "expression",
        "expression": "ordered_at > '2020-01-01'",
        "if_null": "pass",
    } in checks
    assert {"type": "expression", "expression": "code in (1, 2)", "if_null": "pass"} in checks
    assert {"type": "unique", "columns": ["id", "status"]} in checks
    assert {"type": "expression", "expression": "a > b", "if_null": "pass"} in checks
    notes = found["notes"]
    assert any("imported as a warning: its threshold (error_if '> 10')" in n for n in notes)
    assert any(
        "'expect_column_to_exist' (from dbt_expectations) has no counterpart" in n for n in notes
    )
    assert any("its column is an expression ('coalesce(a, b)')" in n for n in notes)
    assert any(
        "its where filter (status <> 'x') has no counterpart for a unique test" in n for n in notes
    )
    assert any("its where filter (day > {{ var('start') }}) is a template" in n for n in notes)
    assert len(notes) == 5
    # A test's where filter: the rows it drops pass (a NULL filter drops the row).
    assert {
        "type": "expression",
        "expression": "not coalesce((status = 'paid'), false) or (paid_at is not null)",
        "if_null": "pass",
    } in checks
    assert {
        "type": "expression",
        "expression": "not coalesce((kind = 1), false) or "
        "(status is null or status in ('a', 'o''b'))",
        "if_null": "pass",
    } in checks
    assert found["schema"]["extra_columns"] == "allow"  # no enforced model contract


def test_relationships_across_databases_and_to_sources(tmp_path: Path) -> None:
    other = model("customers", database="crm")
    raw = source("shop", "raw_customers")
    nodes = dict(
        [
            data_test(
                "relationships",
                ORDERS,
                "customer_id",
                depends_on=[CUSTOMERS, ORDERS],
                to="ref('customers')",
                field="id",
            ),
            data_test(
                "relationships",
                ORDERS,
                "buyer_id",
                depends_on=["source.shop.shop.raw_customers", ORDERS],
                to="source('shop', 'raw_customers')",
                field="id",
            ),
        ]
    )
    manifest = write_manifest(
        tmp_path,
        {ORDERS: model("orders"), CUSTOMERS: other, **nodes},
        {"source.shop.shop.raw_customers": raw},
    )
    found = contracts(manifest, "orders")["orders"]
    assert found["checks"] == [
        {
            "type": "reference",
            "column": "buyer_id",
            "to": {"table": "raw.raw_customers", "column": "id"},
        }
    ]
    assert found["notes"] == [
        "test relationships_orders_customer_id: the referenced table is in another database "
        "(crm); a reference check reads one database"
    ]


def test_source_freshness_cases(tmp_path: Path) -> None:
    sources = {
        "source.shop.shop.events": source(
            "shop",
            "events",
            loaded_at_field="_loaded_at",
            freshness={
                "warn_after": {"count": 30, "period": "minute"},
                "error_after": {"count": None, "period": None},
                "filter": "kind = 'x'",
            },
        ),
        "source.shop.shop.clicks": source(
            "shop",
            "clicks",
            loaded_at_field="convert_timezone('UTC', at)",
            freshness={"error_after": {"count": 2, "period": "day"}},
        ),
        "source.shop.shop.users": source("shop", "users"),  # nothing to check
    }
    found = contracts(write_manifest(tmp_path, {}, sources))
    assert sorted(found) == ["shop.clicks", "shop.events"]
    events = found["shop.events"]
    assert events["freshness"] == {"column": "_loaded_at", "warn_after": "30m"}
    assert events["notes"] == [
        "source freshness: its filter (kind = 'x') has no counterpart: the newest value of "
        "every row counts"
    ]
    clicks = found["shop.clicks"]
    assert "freshness" not in clicks
    assert clicks["notes"] == ["source freshness: needs a column, not convert_timezone('UTC', at)"]


def test_selection_and_ephemeral_models(tmp_path: Path) -> None:
    nodes = {
        ORDERS: model("orders"),
        "model.shop.stg_orders": model("stg_orders", materialized="ephemeral"),
        "model.other.fx": {**model("fx"), "package_name": "other"},
    }
    manifest = write_manifest(tmp_path, nodes)
    everything = import_manifest(manifest)
    assert [c.name for c in everything] == ["orders", "stg_orders"]  # the project's own
    ephemeral = everything[1]
    assert ephemeral.text is None
    assert ephemeral.notes == ("an ephemeral model has no table to check",)
    assert [c.name for c in import_manifest(manifest, ["fx"])] == ["fx"]
    assert [c.name for c in import_manifest(manifest, ["model.shop.orders"])] == ["orders"]
    out = tmp_path / "out"
    assert (
        main(
            ["import-dbt", str(manifest), "--select", "orders", "--select", "fx", "--out", str(out)]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["fx.yml", "orders.yml"]


def test_the_written_text_is_commented_and_stable(tmp_path: Path) -> None:
    tests = dict([data_test("not_null", ORDERS, "id"), data_test("unique", ORDERS, "id")])
    orders = model("orders", {"id": {"data_type": "bigint"}}, enforced=True)
    manifest = write_manifest(tmp_path, {ORDERS: orders, **tests})
    [first] = import_manifest(manifest, url="postgresql://db.example/analytics")
    [second] = import_manifest(manifest, url="postgresql://db.example/analytics")
    assert first.text == second.text
    assert first.text == (
        "# dbt model orders (model.shop.orders, models/orders.sql)\n"
        f"# imported by `opsguard import-dbt` from {manifest}\n"
        "# (dbt 1.10.0, manifest v12).\n"
        "dataset: orders\n"
        "source:\n"
        '  # dbt\'s relation: "analytics"."public"."orders"\n'
        "  url: postgresql://db.example/analytics\n"
        "  table: public.orders\n"
        "schema:\n"
        "  extra_columns: fail  # the dbt model contract is enforced: dbt builds exactly these "
        "columns\n"
        "  columns:\n"
        "    # data_type bigint; test not_null_orders_id; test unique_orders_id\n"
        "    - {name: id, type: integer, nullable: false, unique: true}\n"
    )
