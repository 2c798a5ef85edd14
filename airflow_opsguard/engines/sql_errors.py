"""Tell a database that failed (retry later) from a request that cannot work (fix it).

A refused connection, a wrong password, a dropped link, a deadlock or a statement timeout
is *retryable*: the same check may pass its turn later. A missing table or a query with
a syntax error is not. Databases say which through SQLSTATEs (PostgreSQL), error numbers
(MySQL, MariaDB, Snowflake), error types (Trino) or, for the rest, the DB-API exception
class.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

# PostgreSQL SQLSTATE classes and codes that a retry may cure: connection exceptions,
# invalid authorisation, insufficient resources, operator intervention (timeouts,
# shutdowns), system errors, serialisation failures, deadlocks and lock timeouts.
_PG_CLASSES = ("08", "28", "53", "57", "58")
_PG_CODES = frozenset({"40001", "40P01", "55P03"})
_PG_TIMEOUT = "57014"  # query_canceled: statement_timeout, or a cancel request

# MySQL/MariaDB: too many connections, access denied, shutdown, lock wait timeout,
# deadlock, interrupted, killed, statement time limits; 2000 and above are client
# (connection) errors.
_MYSQL_CODES = frozenset({1040, 1045, 1053, 1205, 1213, 1317, 1927, 1969, 3024})
_MYSQL_TIMEOUTS = frozenset({1969, 3024})

_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "disk i/o error")

# Snowflake: 604 the statement was cancelled, 630 it reached STATEMENT_TIMEOUT_IN_SECONDS.
_SNOWFLAKE_TIMEOUTS = frozenset({604, 630})
# Trino: error types a retry may cure (EXCEEDED_TIME_LIMIT, from query_max_execution_time,
# is one of INSUFFICIENT_RESOURCES); USER_ERROR (no such table, bad SQL) is not.
_TRINO_TRANSIENT = frozenset({"INSUFFICIENT_RESOURCES", "INTERNAL_ERROR", "EXTERNAL"})
_TRINO_TIMEOUTS = frozenset({"EXCEEDED_TIME_LIMIT", "EXCEEDED_CPU_LIMIT"})


def is_retryable(exc: sa.exc.DBAPIError) -> bool:
    """Whether a retry may cure the error (the server, the link, a lock, a timeout)."""
    if exc.connection_invalidated:
        return True
    state = sqlstate(exc)
    if state is not None:
        return state.startswith(_PG_CLASSES) or state in _PG_CODES
    code = mysql_code(exc)
    if code is not None:
        return code in _MYSQL_CODES or code >= 2000
    original = exc.orig
    if type(original).__module__.startswith("sqlite3"):
        return any(text in str(original).lower() for text in _SQLITE_TRANSIENT)
    if _snowflake_errno(exc) in _SNOWFLAKE_TIMEOUTS:
        return True
    trino_type = getattr(original, "error_type", None) if _from(exc, "trino") else None
    if trino_type is not None:
        return trino_type in _TRINO_TRANSIENT
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)


# Two transactions in each other's way: the loser may simply run again.
_PG_CONFLICTS = frozenset({"40001", "40P01", "55P03"})  # serialization, deadlock, lock wait
# Lock wait timeout, deadlock, and MariaDB's "record has changed since last read" (1020:
# with innodb_snapshot_isolation, the default from 11.6, a write to a row that another
# transaction changed after this one's snapshot).
_MYSQL_CONFLICTS = frozenset({1020, 1205, 1213})


def is_conflict(exc: sa.exc.DBAPIError) -> bool:
    """Whether the transaction lost a race with another (a deadlock, a serialization
    failure, a lock wait that timed out): running it again is the cure."""
    return sqlstate(exc) in _PG_CONFLICTS or mysql_code(exc) in _MYSQL_CONFLICTS


def is_timeout(exc: sa.exc.DBAPIError) -> bool:
    """Whether the statement hit its time limit."""
    return (
        sqlstate(exc) == _PG_TIMEOUT
        or mysql_code(exc) in _MYSQL_TIMEOUTS
        or _snowflake_errno(exc) in _SNOWFLAKE_TIMEOUTS
        or (_from(exc, "trino") and getattr(exc.orig, "error_name", None) in _TRINO_TIMEOUTS)
    )


def _from(exc: sa.exc.DBAPIError, driver: str) -> bool:
    return type(exc.orig).__module__.startswith(driver)


def _snowflake_errno(exc: sa.exc.DBAPIError) -> int | None:
    """The Snowflake connector's error number, if any."""
    errno = getattr(exc.orig, "errno", None) if _from(exc, "snowflake") else None
    return errno if isinstance(errno, int) else None


def sqlstate(exc: sa.exc.DBAPIError) -> str | None:
    """The PostgreSQL SQLSTATE of the error (psycopg 3 and psycopg2), if any."""
    original = exc.orig
    if not type(original).__module__.startswith("psycopg"):
        return None  # PyMySQL has a sqlstate too, in MySQL's own meaning
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return state if isinstance(state, str) else None


def mysql_code(exc: sa.exc.DBAPIError) -> int | None:
    """The MySQL/MariaDB error number (PyMySQL, mysqlclient), if any."""
    original = exc.orig
    if not type(original).__module__.startswith(("pymysql", "MySQLdb", "mysql", "mariadb")):
        return None
    args = getattr(original, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def reason(exc: BaseException) -> str:
    """The database's own first line, without SQLAlchemy's SQL dump and background link."""
    original = getattr(exc, "orig", None) or exc
    args: tuple[Any, ...] = tuple(getattr(original, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str):
        text = args[1]  # PyMySQL: (1045, "Access denied ...")
    else:
        text = str(original)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__
