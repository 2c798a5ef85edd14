"""`draft_contract` and `opsguard init`: drafts that load, pass on the data they came
from, are byte-stable, and catch the accidents of the example feed."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest
import yaml
from adoption_data import NOW, broken_copy, example_orders

from airflow_opsguard import load_contract, validate
from airflow_opsguard.drafting import draft, draft_contract


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    return example_orders(tmp_path / "data")


def _drafted(orders: Path, tmp_path: Path) -> Path:
    out = tmp_path / "contracts" / "orders.yml"
    out.parent.mkdir()
    draft_contract(orders, out=out, now=NOW)
    return out


def _would_fail(result: object) -> set[str]:
    """The names of the checks that would fail or error once enforced."""
    return {c.name for c in result.checks if (c.would_be or c.status) in ("fail", "error")}  # type: ignore[attr-defined]


def test_the_draft_of_the_example_orders_says_what_the_data_shows(
    orders: Path, tmp_path: Path
) -> None:
    out = _drafted(orders, tmp_path)
    contract = load_contract(out)
    assert contract.mode == "shadow"
    assert contract.source is not None and contract.source.path == "../data/orders.parquet"
    columns = {c.name: c for c in contract.schema_.columns}
    assert list(columns) == ["order_id", "amount", "country", "email", "created_at"]
    assert columns["order_id"].unique and not columns["order_id"].nullable
    assert columns["order_id"].max is None  # a key grows
    assert columns["amount"].min == 0 and columns["amount"].max is not None
    assert columns["amount"].type == "float" and not columns["amount"].unique
    assert columns["country"].allowed == ("DE", "FR", "US")
    assert columns["email"].pattern is not None and "@" in columns["email"].pattern
    assert contract.freshness is not None and contract.freshness.column == "created_at"
    assert contract.volume is not None
    assert contract.volume.min_rows == 2500 and contract.volume.max_rows == 10000
    assert contract.distribution is not None
    assert [c.name for c in contract.distribution.columns] == ["amount", "country"]
    assert (out.parent / "orders.profile.json").is_file()
    text = out.read_text()
    assert "# amount: float; no nulls in 5,000 rows; seen 0.64" in text  # the numbers, said
    assert all(len(line) <= 100 for line in text.splitlines())


def test_the_draft_passes_on_the_data_it_came_from(orders: Path, tmp_path: Path) -> None:
    result = validate(_drafted(orders, tmp_path), now=NOW)
    assert result.status == "pass"
    assert result.would_be == "pass", [c.message for c in result.checks if c.would_be != "pass"]
    assert len(result.checks) > 15


def test_the_same_data_gives_the_same_draft_byte_for_byte(orders: Path, tmp_path: Path) -> None:
    first = draft(orders, out=tmp_path / "a.yml", now=NOW).text
    later = draft(orders, out=tmp_path / "a.yml", now=NOW.replace(hour=13)).text
    copy = orders.with_name("copy.parquet")
    copy.write_bytes(orders.read_bytes())
    assert first == later
    assert draft(copy, out=tmp_path / "a.yml", now=NOW).text == first.replace(
        "orders.parquet", "copy.parquet"
    ).replace("dataset: orders", "dataset: copy")


@pytest.mark.parametrize(
    ("kind", "caught"),
    [
        ("renamed", {"schema(email)", "schema(extra columns)"}),
        ("nulls", {"not_null(amount)"}),
        ("stale", {"freshness(created_at)"}),
    ],
)
def test_the_draft_catches_the_accidents_of_the_feed(
    orders: Path, tmp_path: Path, kind: str, caught: set[str]
) -> None:
    contract = _drafted(orders, tmp_path)
    result = validate(contract, data=broken_copy(orders, kind), now=NOW)
    assert result.status == "pass"  # shadow mode: watched, not blocking
    assert result.would_be == "fail"
    assert caught <= _would_fail(result)
    enforced = load_contract(contract).model_copy(update={"mode": "enforce"})
    assert validate(enforced, data=broken_copy(orders, kind), now=NOW).status == "fail"


def test_data_already_stale_gets_its_freshness_rule_commented_out(
    orders: Path, tmp_path: Path
) -> None:
    stale = broken_copy(orders, "stale")
    text = draft_contract(stale, now=NOW)
    assert "# Left out: the newest value is already 3d" in text
    assert "\n# freshness:\n#   column: created_at\n" in text
    contract = tmp_path / "stale.yml"
    contract.write_text(text.replace("orders_stale.parquet", str(stale)))
    loaded = load_contract(contract)
    assert loaded.freshness is None
    assert validate(loaded, data=stale, now=NOW).would_be == "pass"


def test_a_dataframe_is_drafted_from_python_with_patterns_and_no_source() -> None:
    rows = 60
    frame = pd.DataFrame(
        {
            "id": [str(uuid.UUID(int=i * 7919 + 1)) for i in range(rows)],
            "currency": ["EUR", "USD", "GBP", "JPY", "CHF", "SEK"] * 10,
            "country": [f"{chr(65 + i % 26)}{chr(65 + i // 26)}" for i in range(rows)],
            "email": [f"user{i}@example.org" for i in range(rows)],
            "score": [None if i % 10 == 0 else i / 3 for i in range(rows)],
            "active": [i % 2 == 0 for i in range(rows)],
            "day": pd.date_range("2026-09-28", periods=rows, freq="D").date,
        }
    )
    text = draft_contract(frame, dataset="accounts", now=NOW)
    document = yaml.safe_load(text)
    assert document["dataset"] == "accounts" and "source" not in document
    assert "distribution" not in document  # no file to write the profile to
    columns = {c["name"]: c for c in document["schema"]["columns"]}
    assert columns["id"]["unique"] is True and "8}-" in columns["id"]["pattern"]
    assert columns["currency"]["allowed"] == ["CHF", "EUR", "GBP", "JPY", "SEK", "USD"]
    assert columns["country"]["pattern"] == "^[A-Z]{2}$"  # 60 codes: too many to list
    assert "nullable" not in columns["score"] and columns["score"]["min"] == 0
    assert columns["active"] == {"name": "active", "type": "boolean", "nullable": False}
    assert document["freshness"]["column"] == "day"
    assert document["freshness"]["fail_after"] == "2d"  # a date: its midnight, so 2d
    assert validate(load_contract(document), data=frame, now=NOW).would_be == "pass"
    bad = frame.assign(country=["gb"] * rows, currency=["EURO"] * rows)
    failing = _would_fail(validate(load_contract(document), data=bad, now=NOW))
    assert {"pattern(country)", "allowed(currency)"} <= failing


def test_an_empty_table_is_drafted_without_rules_it_cannot_back(tmp_path: Path) -> None:
    empty = tmp_path / "empty.parquet"
    pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": pd.Series([], dtype="str")}).to_parquet(
        empty
    )
    text = draft_contract(empty, now=NOW)
    document = yaml.safe_load(text)
    assert document["schema"]["columns"] == [
        {"name": "a", "type": "integer"},
        {"name": "b", "type": "string"},
    ]
    assert "volume" not in document and "# No volume band: the data had no rows." in text
    assert validate(load_contract(document), data=empty, now=NOW).would_be == "pass"


def test_names_that_yaml_would_misread_are_quoted_and_comments_stay_comments() -> None:
    names = ["a: b # c", "new\nline", "x\u2028y", "'quoted'", "true", "- dash", "tab\there"]
    frame = pd.DataFrame({name: [1, 2, 3, 4, 5] for name in names})
    frame["null"] = ["yes", "no", "yes", "no", "yes"]
    text = draft_contract(frame, dataset="odd: name", now=NOW)
    document = yaml.safe_load(text)
    assert document["dataset"] == "odd: name"
    assert [c["name"] for c in document["schema"]["columns"]] == [*names, "null"]
    assert text.isascii() and all(ch.isprintable() for ch in text.replace("\n", ""))
    assert validate(load_contract(document), data=frame, now=NOW).would_be == "pass"


def test_a_file_whose_name_does_not_tell_its_format_keeps_the_format(tmp_path: Path) -> None:
    export = tmp_path / "export.txt"
    export.write_text("sku_code,price\nA-1,3.5\nA-2,4.25\nA-3,10\n")
    out = tmp_path / "export.yml"
    text = draft_contract(export, out=out, now=NOW, file_format="csv")
    document = yaml.safe_load(text)
    assert document["source"] == {"path": "export.txt", "format": "csv"}
    assert document["schema"]["columns"][0]["unique"] is True  # named like a key
    assert validate(load_contract(out), now=NOW).would_be == "pass"


def test_an_arrow_table_drafts_as_its_dataframe_does(orders: Path) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(orders)
    from_arrow = draft_contract(table, dataset="orders", now=NOW)
    from_pandas = draft_contract(table.to_pandas(), dataset="orders", now=NOW)
    assert from_arrow.replace("<pyarrow.Table>", "<pandas.DataFrame>") == from_pandas
    assert (
        validate(load_contract(yaml.safe_load(from_arrow)), data=table, now=NOW).would_be == "pass"
    )
