"""Regular expressions, lengths and text comparison mean the same on every database, and a
check a dialect cannot express is an error that says so, never a verdict."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from engine_backends import Backend
from sqlalchemy.dialects import mssql

from airflow_opsguard.checks.evaluate import evaluate_check
from airflow_opsguard.checks.keys import check_keys
from airflow_opsguard.checks.observations import CheckObservation, ObservedColumn
from airflow_opsguard.engines.dialects import char_length, exact_text, regex_search
from airflow_opsguard.engines.executor import mark_inexpressible
from airflow_opsguard.engines.plan import build_plan
from airflow_opsguard.formats import load_contract

# (value, pattern, re.search finds it)
SEARCHES = [
    ("bob@example.com", "^[a-z]+@", True),
    ("Bob@example.com", "^[a-z]+@", False),  # case counts
    ("ABC", "abc", False),
    ("xxbobxx", "bob", True),  # a search, not a whole-value match
    ("été", "^.{3}$", True),  # characters, not bytes
    ("a.b", r"a\.b", True),
    ("axb", r"a\.b", False),
    ("line1\nline2", "^line2", False),
]


@pytest.fixture(
    params=[
        "duckdb",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def connection(request: pytest.FixtureRequest) -> Iterator[sa.Connection]:
    """A connection to each engine's database (DuckDB runs the file engine's plan)."""
    if request.param == "duckdb":
        url = "duckdb:///:memory:"
    elif request.param == "sqlite":
        url = "sqlite://"
    else:
        backend: Backend = request.getfixturevalue(f"backend_{request.param}")
        assert backend.url is not None
        url = backend.url
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def test_regex_search_is_a_case_sensitive_search(connection: sa.Connection) -> None:
    found = [
        connection.execute(
            sa.select(regex_search(exact_text(sa.literal(value)), sa.literal(pattern)))
        ).scalar_one()
        for value, pattern, _ in SEARCHES
    ]
    assert [bool(f) for f in found] == [expected for _, _, expected in SEARCHES]


def test_regex_search_on_a_plain_literal(connection: sa.Connection) -> None:
    # Without exact_text too: MariaDB's REGEXP follows the connection's case-insensitive
    # collation unless the pattern turns case-sensitivity on.
    matched = connection.execute(
        sa.select(regex_search(sa.literal("Bob"), sa.literal("^bob$")))
    ).scalar_one()
    assert not matched


def test_char_length_counts_characters(connection: sa.Connection) -> None:
    lengths = [
        connection.execute(sa.select(char_length(sa.literal(text)))).scalar_one()
        for text in ("Zoë", "日本語", "", "abc ")
    ]
    assert lengths == [3, 3, 0, 4]


def test_exact_text_tells_case_and_trailing_spaces_apart(connection: sa.Connection) -> None:
    value = exact_text(sa.literal("us"))
    assert not connection.execute(sa.select(value.in_(["US"]))).scalar_one()
    assert connection.execute(sa.select(value.in_(["us"]))).scalar_one()
    assert connection.execute(sa.select(exact_text(sa.literal("Zoë")))).scalar_one() == "Zoë"
    mysql = connection.dialect.name == "mysql" and not getattr(connection.dialect, "is_mariadb", 0)
    if not mysql:  # MySQL's utf8mb4_bin pads with spaces; MariaDB's nopad collation does not
        spaced = exact_text(sa.literal("US "))
        assert not connection.execute(sa.select(spaced.in_(["US"]))).scalar_one()


def test_a_check_the_dialect_cannot_express_is_an_error() -> None:
    contract = load_contract(
        {
            "dataset": "orders",
            "checks": [
                {"type": "pattern", "column": "email", "pattern": "^[^@]+@"},
                {"type": "not_null", "column": "email"},
                {"type": "length", "column": "email", "max_length": 100},
            ],
        }
    )
    columns = [ObservedColumn("email", "NVARCHAR(100)", "string")]
    plan = build_plan(contract, columns, sa.table("orders"))
    mark_inexpressible(plan, mssql.dialect())  # SQL Server has no regular expressions
    errors = {p.key: p.error for p in plan.checks}
    assert errors["not_null(email)"] is None
    assert errors["length(email)"] is None
    message = errors["pattern(email)"]
    assert message is not None
    assert "mssql" in message and "pattern(email)" in message
    # The evaluation reports it as an error, never as pass or fail.
    key = next(k for k in check_keys(contract) if k.key == "pattern(email)")
    assert key.check is not None
    result = evaluate_check(key.check, CheckObservation(error=message), rows=10)
    assert result.status == "error"
    assert "mssql" in result.message
