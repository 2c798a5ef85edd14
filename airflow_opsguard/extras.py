"""The optional dependencies (pip extras) and the one-line error a missing one gives.

Only some users need a PostgreSQL or MySQL driver, Great Expectations or OpenLineage,
so they are extras (``pip install 'airflow-opsguard[postgres]'``). This module is the
one place that knows which module comes with which extra: where an optional module is
imported (directly, or by SQLAlchemy for a database URL), the ImportError goes through
:func:`missing_extra_message` and becomes the package's own error, with a message that
says what to install.
"""

from __future__ import annotations

from typing import NamedTuple

DISTRIBUTION = "airflow-opsguard"


class Extra(NamedTuple):
    """What provides an optional module: the distribution and the extra that installs it."""

    distribution: str
    extra: str


# Top-level module (or dotted package) -> what installs it. Keep pyproject.toml's
# [project.optional-dependencies] in step (tests/packaging checks both).
EXTRAS: dict[str, Extra] = {
    "psycopg": Extra("psycopg", "postgres"),
    "pymysql": Extra("PyMySQL", "mysql"),
    "great_expectations": Extra("great-expectations", "gx"),
    "airflow.providers.openlineage": Extra("apache-airflow-providers-openlineage", "openlineage"),
    "openlineage": Extra("openlineage-python", "openlineage"),
    "pyspark": Extra("pyspark", "spark"),
    "airflow.providers.slack": Extra("apache-airflow-providers-slack", "slack"),
    "slack_sdk": Extra("apache-airflow-providers-slack", "slack"),
    "airflow.providers.pagerduty": Extra("apache-airflow-providers-pagerduty", "pagerduty"),
    "snowflake": Extra("snowflake-sqlalchemy", "warehouses"),
    "sqlalchemy_bigquery": Extra("sqlalchemy-bigquery", "warehouses"),
    "databricks": Extra("databricks-sqlalchemy", "warehouses"),
    "trino": Extra("trino", "warehouses"),
}
# A database URL's scheme -> the module of its SQLAlchemy dialect, for the schemes an
# extra installs (SQLAlchemy says only "Can't load plugin" when it is missing).
DIALECT_MODULES = {
    "snowflake": "snowflake",
    "bigquery": "sqlalchemy_bigquery",
    "databricks": "databricks",
    "trino": "trino",
}


def extra_for(module: str) -> Extra | None:
    """The extra that installs ``module`` (or a module inside it), or None."""
    for name, extra in EXTRAS.items():
        if module == name or module.startswith(name + "."):
            return extra
    return None


def install_hint(extra: Extra) -> str:
    """``psycopg is not installed: pip install 'airflow-opsguard[postgres]'``."""
    return f"{extra.distribution} is not installed: pip install '{DISTRIBUTION}[{extra.extra}]'"


def missing_extra_message(exc: ImportError) -> str | None:
    """The one-line message for an ImportError of a module that an extra installs, or
    None when the module that failed to import is not one of the extras' (a broken
    installation, or a driver we do not provide: the caller keeps its own message)."""
    if not exc.name:
        return None
    extra = extra_for(exc.name)
    return None if extra is None else install_hint(extra)
