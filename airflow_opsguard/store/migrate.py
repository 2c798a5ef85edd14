"""Bring a store's schema to the version this release writes, with Alembic.

The migration scripts ship inside the package (``migrations/``) and run from code: no
``alembic.ini`` for users. Alembic's version table is ``opsguard_alembic_version``, so a
store in the database that Airflow uses never touches Airflow's ``alembic_version``.

To add a revision (developers)::

    from alembic import command
    from airflow_opsguard.store.migrate import alembic_config
    command.revision(alembic_config(), message="what it does", rev_id="0003")

then write its ``upgrade()``/``downgrade()`` by hand (never import ``tables.py`` there:
a revision is frozen in time) and move ``HEAD`` here. Keep revisions additive (new
tables, nullable columns or columns with a server default, indexes), so that workers
still on an older release can keep writing to a store that a newer one migrated.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from airflow_opsguard.errors import StoreError
from airflow_opsguard.store.engine import SQLITE_BEGIN
from airflow_opsguard.store.locks import migration_lock
from airflow_opsguard.store.tables import VERSION_TABLE
from airflow_opsguard.store.urls import mask_url

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

# The newest revision under migrations/versions (a test keeps the two in step).
HEAD = "0008"
MIGRATIONS = Path(__file__).resolve().with_name("migrations")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration for the shipped scripts, running on ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def current_revision(connection: sa.Connection) -> str | None:
    """The schema revision of the store, or None for an empty database."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return None
    version = sa.table(VERSION_TABLE, sa.column("version_num", sa.String()))
    revision: str | None = connection.execute(sa.select(version.c.version_num)).scalar()
    return revision


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Migrate the store to ``revision`` (default: the newest), once, under a lock.

    Several processes may open a new store at the same moment: one migrates, the others
    wait for it and then find nothing left to do.
    """
    if revision in ("head", HEAD) and _at_head(engine):
        return
    with engine.connect() as connection:
        connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with migration_lock(connection):
            found = current_revision(connection)
            if revision in ("head", HEAD) and found == HEAD:
                connection.commit()
                return
            from alembic import command
            from alembic.util import CommandError

            try:
                command.upgrade(alembic_config(connection), revision)
            except CommandError as exc:
                if found is not None and _is_unknown(found):
                    # A newer airflow-opsguard migrated this store. Its migrations only
                    # add, so this release can still read and write it.
                    log.info(
                        "results store %s has schema %s, newer than this release (%s)",
                        mask_url(engine.url),
                        found,
                        HEAD,
                    )
                    connection.rollback()
                    return
                raise StoreError(
                    f"cannot migrate results store {mask_url(engine.url)}: {exc}"
                ) from None
            connection.commit()
    target = HEAD if revision == "head" else revision
    log.info("results store %s migrated to schema %s", mask_url(engine.url), target)


def _at_head(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        return current_revision(connection) == HEAD


def _is_unknown(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        ScriptDirectory(str(MIGRATIONS)).get_revision(revision)
    except CommandError:
        return True
    return False
