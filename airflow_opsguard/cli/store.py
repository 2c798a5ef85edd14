"""``opsguard db upgrade | current``: the results store's migrations as a deploy step;
``opsguard store prune``: its retention.

Run ``opsguard db upgrade`` once per release, before the workers start, with a role that
may create tables; the workers then only read and write (see docs/deployment.md).
Without ``--store`` the commands use the store that the gates of this Airflow write to
(``[opsguard] store_url`` or ``store_conn_id``, ...) when Airflow is set up here, else
the CLI's default store.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_BEHIND = 0, 1
_STORE_HELP = (
    "results store URL (default: the store this Airflow's gates use, [opsguard] store_url "
    "or store_conn_id, else $OPSGUARD_STORE_URL, else $AIRFLOW_HOME/opsguard.db)"
)


def add_db_commands(commands: Any) -> None:
    """Add ``db`` to the ``opsguard`` parser's subcommands."""
    db = commands.add_parser("db", help="migrate the results store (a deploy step)")
    actions = db.add_subparsers(dest="action", required=True, parser_class=type(db))

    upgrade = actions.add_parser(
        "upgrade", help="migrate the results store to this release's schema"
    )
    upgrade.add_argument("--store", help=_STORE_HELP)
    upgrade.set_defaults(func=_upgrade)

    current = actions.add_parser(
        "current",
        aliases=["status"],
        help="print the store's schema revision; exit 1 when it needs `opsguard db upgrade`",
    )
    current.add_argument("--store", help=_STORE_HELP)
    current.set_defaults(func=_current)


def add_store_commands(commands: Any) -> None:
    """Add ``store`` (retention) to the ``opsguard`` parser's subcommands."""
    from airflow_opsguard.cli.args import add_output_options

    store = commands.add_parser("store", help="look after the results store (retention)")
    actions = store.add_subparsers(dest="action", required=True, parser_class=type(store))
    prune = actions.add_parser(
        "prune",
        help="remove history older than a duration; what is still in use stays",
        description="Removes runs (with their check results, metrics and profiles), SLA "
        "misses, sent alerts and resolved incidents older than --older-than, in short "
        "batches. Keeps the runs of open incidents, of baseline versions and of batches "
        "still in quarantine.",
    )
    prune.add_argument(
        "--older-than",
        help=f"a duration: 90d, 12w, P90D (default: ${RETENTION_ENV} or [opsguard] retention)",
    )
    prune.add_argument("--dry-run", action="store_true", help="count, remove nothing")
    add_output_options(prune)
    prune.set_defaults(func=_prune)


RETENTION_ENV = "OPSGUARD_RETENTION"


def _prune(args: argparse.Namespace) -> int:
    import json

    from airflow_opsguard.contract.durations import parse_duration
    from airflow_opsguard.errors import OpsGuardError
    from airflow_opsguard.store.retention import prune
    from airflow_opsguard.store.store import ResultStore

    text = args.older_than or _retention_setting()
    if not text:
        raise OpsGuardError(
            f"give --older-than (90d keeps three months), or set ${RETENTION_ENV} "
            "or [opsguard] retention"
        )
    try:
        older_than = parse_duration(text)  # durations are longer than zero
    except ValueError as exc:
        raise OpsGuardError(f"--older-than: {exc}") from None
    with ResultStore(store_url(args.store)) as store:
        report = prune(store, older_than, dry_run=args.dry_run)
    print(json.dumps(report.to_dict()) if args.format == "json" else report.describe())
    return EXIT_OK


def _retention_setting() -> str | None:
    found = os.environ.get(RETENTION_ENV, "").strip()
    if found or not _airflow_is_set_up():
        return found or None
    from airflow_opsguard.runtime import config_value

    return config_value("retention")


def _upgrade(args: argparse.Namespace) -> int:
    from airflow_opsguard.store.migrate import upgrade_store

    url = store_url(args.store)
    with _quiet():
        state = upgrade_store(url)
    print(state.describe())
    return EXIT_OK


def _current(args: argparse.Namespace) -> int:
    from airflow_opsguard.store.migrate import store_state

    state = store_state(store_url(args.store))
    print(state.describe())
    return EXIT_OK if state.current else EXIT_BEHIND


def store_url(given: str | None) -> str:
    """``--store``; else, where Airflow is set up, the store its gates use; else the
    CLI's default (``$OPSGUARD_STORE_URL`` or a SQLite file in ``$OPSGUARD_HOME``)."""
    if given:
        return given
    if _airflow_is_set_up():
        # The command line sits above the Airflow layer: it may ask Airflow's config.
        from airflow_opsguard.runtime import store_url_in_airflow

        return store_url_in_airflow()
    from airflow_opsguard.store.urls import default_store_url

    return default_store_url()


@contextmanager
def _quiet() -> Iterator[None]:
    """Alembic's and the store's progress stay out of the output (Airflow's logging,
    once loaded, shows INFO): the command's one line says what happened."""
    loggers = [logging.getLogger(name) for name in ("alembic", "airflow_opsguard.store")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _airflow_is_set_up() -> bool:
    """An Airflow deployment on this machine: ``$AIRFLOW_HOME``, an ``[opsguard]`` setting
    in the environment, or ``~/airflow/airflow.cfg``."""
    if os.environ.get("AIRFLOW_HOME"):
        return True
    if any(name.startswith("AIRFLOW__OPSGUARD__") for name in os.environ):
        return True
    return (Path.home() / "airflow" / "airflow.cfg").is_file()
