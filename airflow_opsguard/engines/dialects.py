"""SQL functions whose spelling differs between databases.

The plan is written once in SQLAlchemy Core; these constructs compile per dialect, so
a check means the same thing on DuckDB, SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


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
