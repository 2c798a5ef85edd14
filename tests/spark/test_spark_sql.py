"""The Spark SQL dialect, compiled without Spark: names in backticks, RLIKE for a
regular expression, dates and timestamps as typed literals, a literal LIMIT, and text
(a pattern with backslashes, a value with quotes) bound as parameters, never quoted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import sqlalchemy as sa

from airflow_opsguard.engines.dialects import char_length, regex_search
from airflow_opsguard.engines.spark_sql import SparkDialect

TABLE = sa.table(
    "opsguard_source_1",
    sa.column("created at", sa.DateTime(timezone=True)),
    sa.column("local_ts", sa.DateTime()),
    sa.column("day", sa.Date()),
    sa.column("email", sa.String()),
)


def spark_sql(statement: sa.Select[tuple[int]]) -> tuple[str, dict[str, object]]:
    compiled = statement.compile(
        dialect=SparkDialect(), compile_kwargs={"render_postcompile": True}
    )
    return " ".join(str(compiled).split()), dict(compiled.params)


def test_temporal_values_are_typed_literals_in_utc() -> None:
    c = TABLE.c
    berlin = timezone(timedelta(hours=1))
    text, params = spark_sql(
        sa.select(sa.func.count())
        .select_from(TABLE)
        .where(
            c["created at"] >= datetime(2026, 2, 1, 13, 30, tzinfo=berlin),
            c.local_ts < datetime(2026, 2, 1, 12, 0, 0, 250000),
            c.day.in_([date(2026, 2, 1), date(2026, 2, 2)]),
        )
    )
    assert text == (
        "SELECT count(*) AS `count_1` FROM `opsguard_source_1` "
        "WHERE `opsguard_source_1`.`created at` >= TIMESTAMP '2026-02-01 12:30:00+00:00' "
        "AND `opsguard_source_1`.`local_ts` < TIMESTAMP_NTZ '2026-02-01 12:00:00.250000' "
        "AND `opsguard_source_1`.`day` IN (DATE '2026-02-01', DATE '2026-02-02')"
    )
    assert params == {}  # written into the SQL: no time zone of a session or driver applies


def test_text_is_bound_and_regex_is_rlike() -> None:
    c = TABLE.c
    pattern = r"^[^@]+@\w+\.com$"
    text, params = spark_sql(
        sa.select(c.email)
        .where(
            sa.not_(regex_search(c.email, sa.literal(pattern))),
            char_length(c.email) > 3,
            c.email.not_in(["o'brien@example.com", "x"]),
        )
        .limit(5)
    )
    assert "`opsguard_source_1`.`email` RLIKE :param_1" in text
    assert "length(`opsguard_source_1`.`email`) > :param_2" in text
    assert text.endswith("LIMIT 5")
    assert params["param_1"] == pattern  # as written: Spark's string escapes never apply
    assert "o'brien" not in text
    assert "NOT IN (:email_1_1, :email_1_2)" in text
    assert params["email_1_1"] == "o'brien@example.com"


def test_a_utc_timestamp_keeps_its_instant() -> None:
    text, _ = spark_sql(
        sa.select(sa.func.count())
        .select_from(TABLE)
        .where(TABLE.c["created at"] > datetime(2026, 1, 1, tzinfo=UTC))
    )
    assert "TIMESTAMP '2026-01-01 00:00:00+00:00'" in text
