"""The engine suites of tests/engines, run on Spark: every check kind gives the verdicts,
counts and samples that it gives on the file engine, SQLite, PostgreSQL and MariaDB.

The suites' tests that take any ``backend`` are taken over as they are (those for
databases only are not); this folder's conftest makes ``backend`` Spark (a DataFrame,
and a contract's Spark path).
"""

from __future__ import annotations

import inspect

import test_backends
import test_relation_checks

for _suite in (test_backends, test_relation_checks):
    globals().update(
        {
            name: test
            for name, test in vars(_suite).items()
            if name.startswith("test_") and "backend" in inspect.signature(test).parameters
        }
    )
