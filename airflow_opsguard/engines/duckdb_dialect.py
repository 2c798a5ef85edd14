"""DuckDB's SQLAlchemy dialect (duckdb_engine's) with SQLAlchemy's statement cache on.

duckdb_engine turns the cache off for want of testing, not for a known fault: its
dialect is PostgreSQL's, whose compiler caches, and it adds no compile step of its own
that depends on more than the statement. With the cache, a plan whose checks compile to
the same statements (every run of a contract) is compiled once per process rather than
for each query: a few milliseconds per check run, a tenth of checking a million rows
in memory. Imported by SQLAlchemy when the first DuckDB database opens.
"""

from __future__ import annotations

import duckdb_engine


class CachingDialect(duckdb_engine.Dialect):
    """duckdb_engine's dialect, caching compiled statements."""

    supports_statement_cache = True
    # DuckDB has every function a plan uses (the engine suite runs each check kind on
    # it): the executor need not compile a plan first to find checks it cannot express,
    # a compile that the statement cache would not keep.
    expresses_every_check = True
