"""SQL functions whose spelling differs between databases.

The plan is written once in SQLAlchemy Core; these constructs compile per dialect, so
a check means the same thing on DuckDB, SQLite, PostgreSQL, MariaDB and the warehouses
(Snowflake, BigQuery, Databricks SQL, Trino; their statements are kept as reviewed
snapshots in tests/warehouses/snapshots/).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

# Written into the SQL rather than bound: DuckDB folds `CASE WHEN .. THEN 1 ELSE 0` over
# constants, and runs a scan of counts like these about a third faster than over parameters.
ONE = sa.literal_column("1", sa.Integer())
ZERO = sa.literal_column("0", sa.Integer())


def count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet ``condition`` (null over no rows, as ``SUM`` is), in SQL that
    every database runs: ``SUM(CASE WHEN condition THEN 1 ELSE 0 END)``."""
    return sa.func.sum(sa.case((condition, ONE), else_=ZERO))


class regex_search(FunctionElement[bool]):
    """True when the value contains a match of the pattern (``re.search`` semantics)."""

    type = sa.Boolean()
    name = "regex_search"
    inherit_cache = True


@compiles(regex_search)
def _regex_default(element: regex_search, compiler: SQLCompiler, **kw: Any) -> str:
    value, pattern = list(element.clauses)
    return compiler.process(value.regexp_match(pattern), **kw)


@compiles(regex_search, "duckdb")
def _regex_duckdb(element: regex_search, compiler: SQLCompiler, **kw: Any) -> str:
    # DuckDB's `~` matches the whole string; regexp_matches searches like `re.search`.
    return f"regexp_matches({compiler.process(element.clauses, **kw)})"


@compiles(regex_search, "snowflake")
def _regex_snowflake(element: regex_search, compiler: SQLCompiler, **kw: Any) -> str:
    # REGEXP_LIKE and RLIKE match the whole string in Snowflake (an implicit ^...$);
    # REGEXP_INSTR gives the position of the first match anywhere, 0 for none.
    return f"REGEXP_INSTR({compiler.process(element.clauses, **kw)}) > 0"


@compiles(regex_search, "trino")
def _regex_trino(element: regex_search, compiler: SQLCompiler, **kw: Any) -> str:
    # Trino's regexp_like is true when the pattern matches anywhere (Java syntax).
    return f"regexp_like({compiler.process(element.clauses, **kw)})"


@compiles(regex_search, "databricks")
def _regex_databricks(element: regex_search, compiler: SQLCompiler, **kw: Any) -> str:
    # Spark SQL's RLIKE finds the pattern anywhere in the string (Java syntax).
    value, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({value} RLIKE {pattern})"


@compiles(regex_search, "mysql")
@compiles(regex_search, "mariadb")
def _regex_mysql(element: regex_search, compiler: SQLCompiler, **kw: Any) -> str:
    # REGEXP follows the column's collation, case-insensitive by default (utf8mb4_general_ci).
    # The inline flag (?-i) makes it case-sensitive, as re.search is, in MariaDB's PCRE and
    # MySQL 8's ICU alike; REGEXP BINARY would match bytes and break multi-byte characters.
    value, pattern = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"{value} REGEXP CONCAT('(?-i)', {pattern})"


class char_length(FunctionElement[int]):
    """The length of a string in characters (not bytes)."""

    type = sa.Integer()
    name = "char_length"
    inherit_cache = True


@compiles(char_length)
def _length_default(element: char_length, compiler: SQLCompiler, **kw: Any) -> str:
    return f"length({compiler.process(element.clauses, **kw)})"


@compiles(char_length, "mysql")
@compiles(char_length, "mariadb")
@compiles(char_length, "postgresql")
def _length_char(element: char_length, compiler: SQLCompiler, **kw: Any) -> str:
    return f"char_length({compiler.process(element.clauses, **kw)})"


@compiles(char_length, "mssql")
def _length_mssql(element: char_length, compiler: SQLCompiler, **kw: Any) -> str:
    return f"len({compiler.process(element.clauses, **kw)})"


class exact_text(FunctionElement[str]):
    """A text value compared exactly, as Python compares strings: case and trailing
    spaces count (in ``IN``, ``GROUP BY``, ``DISTINCT`` and regular expressions)."""

    type = sa.String()
    name = "exact_text"
    inherit_cache = True


@compiles(exact_text)
def _exact_default(element: exact_text, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL, SQLite and DuckDB compare text exactly by default.
    return compiler.process(element.clauses, **kw)


@compiles(exact_text, "snowflake")
def _exact_snowflake(element: exact_text, compiler: SQLCompiler, **kw: Any) -> str:
    # A column may carry a collation ('en-ci' ignores case); 'utf8' compares code points.
    return f"COLLATE({compiler.process(element.clauses, **kw)}, 'utf8')"


@compiles(exact_text, "mysql")
@compiles(exact_text, "mariadb")
def _exact_mysql(element: exact_text, compiler: SQLCompiler, **kw: Any) -> str:
    # The default collations (utf8mb4_general_ci, ..._0900_ai_ci) ignore case, so 'us'
    # would pass `IN ('US')` and 'Ann' would duplicate 'ann'. A binary collation of
    # utf8mb4 compares code points and keeps characters (BINARY would compare bytes);
    # MariaDB's nopad variant also counts trailing spaces.
    mariadb = getattr(compiler.dialect, "is_mariadb", False)
    collation = "utf8mb4_nopad_bin" if mariadb else "utf8mb4_bin"
    value = compiler.process(element.clauses, **kw)
    return f"CONVERT({value} USING utf8mb4) COLLATE {collation}"


class by_dialect(sa.sql.expression.ColumnElement[Any]):
    """One of two equivalent expressions, chosen when compiling: ``mysql`` on MySQL and
    MariaDB, ``default`` elsewhere (where one database plans or computes a form badly)."""

    inherit_cache = False  # two sub-expressions; not worth a cache key of its own

    def __init__(self, default: sa.ColumnElement[Any], mysql: sa.ColumnElement[Any]) -> None:
        self.default = default
        self.mysql = mysql
        self.type = default.type

    def get_children(self, **kw: Any) -> tuple[sa.ColumnElement[Any], ...]:
        return (self.default, self.mysql)


@compiles(by_dialect)
def _by_dialect_default(element: by_dialect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.default, **kw)


@compiles(by_dialect, "mysql")
@compiles(by_dialect, "mariadb")
def _by_dialect_mysql(element: by_dialect, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.mysql, **kw)
