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

Deployments migrate as a deploy step (``opsguard db upgrade``, :func:`upgrade_store`)
with a role that may create tables; workers then only read and write. A worker finds a
current schema with one read and never needs DDL; ``[opsguard] auto_migrate = False``
(``OPSGUARD_AUTO_MIGRATE=false``) stops them from even trying (:func:`auto_migrate`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from airflow_opsguard.errors import StoreError
from airflow_opsguard.store.engine import (
    SQLITE_BEGIN,
    create_store_engine,
    prepare_location,
    sqlite_path,
)
from airflow_opsguard.store.locks import migration_lock
from airflow_opsguard.store.tables import VERSION_TABLE
from airflow_opsguard.store.urls import default_store_url, mask_url, parse_store_url

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

# The newest revision under migrations/versions (a test keeps the two in step).
HEAD = "0010"
MIGRATIONS = Path(__file__).resolve().with_name("migrations")
# Set to false (or [opsguard] auto_migrate = False in Airflow) so that opening a store
# never migrates it: an old schema is then an error that says to run `opsguard db upgrade`.
AUTO_MIGRATE_ENV = "OPSGUARD_AUTO_MIGRATE"
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})
# The process-wide setting from the Airflow layer ([opsguard] auto_migrate); None: unset.
_auto_migrate_setting: bool | None = None


class MigrationError(StoreError):
    """A store's migration failed; ``reason`` is the database's message, in one line."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot migrate results store {url}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class SchemaState:
    """Where a store's schema stands against this release's.

    ``revision`` is the store's revision (None: no tables yet); ``previous`` the one it
    had before :func:`upgrade_store` ran (equal to ``revision`` when nothing was done).
    """

    url: str  # masked
    revision: str | None
    previous: str | None
    head: str = HEAD

    @property
    def newer(self) -> bool:
        """The store was migrated by a newer release (its revisions only add: usable)."""
        return is_newer(self.revision)

    @property
    def current(self) -> bool:
        """This release can use the store as it is, without migrating it."""
        return self.revision == self.head or self.newer

    @property
    def migrated(self) -> bool:
        return self.revision != self.previous

    def describe(self) -> str:
        """One line: the store, its revision, and what that means."""
        revision = f"schema {self.revision}" if self.revision else "no tables yet"
        if self.migrated:
            verdict = f"migrated from {self.previous or 'an empty database'}"
        elif self.revision == self.head:
            verdict = "current"
        elif self.newer:
            verdict = f"newer than this release's {self.head}, which can use it"
        else:
            verdict = f"this release needs {self.head}: run `opsguard db upgrade`"
        return f"results store {self.url}: {revision} ({verdict})"


def set_auto_migrate(enabled: bool | None) -> None:
    """Whether stores opened in this process migrate themselves, for every store not told
    otherwise; None goes back to ``$OPSGUARD_AUTO_MIGRATE`` (default: they do). The
    Airflow layer sets it from ``[opsguard] auto_migrate``."""
    global _auto_migrate_setting
    _auto_migrate_setting = enabled


def auto_migrate() -> bool:
    """Whether opening a store may migrate it: :func:`set_auto_migrate`'s setting, else
    ``$OPSGUARD_AUTO_MIGRATE``, else True."""
    if _auto_migrate_setting is not None:
        return _auto_migrate_setting
    text = os.environ.get(AUTO_MIGRATE_ENV, "").strip()
    return parse_flag(text, f"${AUTO_MIGRATE_ENV}") if text else True


def parse_flag(text: str, name: str) -> bool:
    """``true``/``false`` (also 1/0, yes/no, on/off); anything else is a StoreError."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise StoreError(f"{name}: {text!r} is not true or false")


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


def store_revision(engine: sa.Engine) -> str | None:
    """The store's schema revision, read without a lock or any DDL (None: empty)."""
    with engine.connect() as connection:
        return current_revision(connection)


def is_newer(revision: str | None) -> bool:
    """A revision this release does not ship: a newer release migrated the store."""
    return revision is not None and revision != HEAD and _is_unknown(revision)


def is_current(revision: str | None) -> bool:
    """This release can use a store at ``revision`` without migrating it."""
    return revision == HEAD or is_newer(revision)


def upgrade(engine: sa.Engine, revision: str = "head") -> str | None:
    """Migrate the store to ``revision`` (default: the newest), once, under a lock; return
    the revision it is at afterwards.

    A store that is current already is found with one read, without the lock, so roles
    that may not create tables can open it. Several processes may open a new store at
    the same moment: one migrates, the others wait for it and then find nothing left to
    do. Raises :class:`MigrationError` when the migration fails (no right to create
    tables, a lock that never came), with the database's reason in one line.
    """
    to_head = revision in ("head", HEAD)
    if to_head:
        found = store_revision(engine)
        if is_current(found):
            return found
    url = mask_url(engine.url)
    try:
        with engine.connect() as connection:
            connection.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with migration_lock(connection):
                found = current_revision(connection)
                if to_head and is_current(found):
                    connection.commit()
                    return found
                _run_upgrade(connection, revision)
                connection.commit()
    except sa.exc.SQLAlchemyError as exc:
        raise MigrationError(url, _reason(exc)) from None
    target = HEAD if revision == "head" else revision
    log.info("results store %s migrated to schema %s", url, target)
    return target


def _run_upgrade(connection: sa.Connection, revision: str) -> None:
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(alembic_config(connection), revision)
    except CommandError as exc:
        raise MigrationError(mask_url(connection.engine.url), _reason(exc)) from None


def store_state(url: str | sa.URL | None = None) -> SchemaState:
    """Where the schema of the store at ``url`` (default: :func:`default_store_url`)
    stands, read without changing anything. Raises StoreError when it cannot be read."""
    return _with_engine(url, migrate=False)


def upgrade_store(url: str | sa.URL | None = None) -> SchemaState:
    """Migrate the store at ``url`` (default: :func:`default_store_url`) to this
    release's schema: the deploy step, run with a role that may create tables (it
    migrates whatever :func:`auto_migrate` says). Raises StoreError when it cannot."""
    return _with_engine(url, migrate=True)


def _with_engine(url: str | sa.URL | None, *, migrate: bool) -> SchemaState:
    parsed = parse_store_url(default_store_url() if url is None else url)
    masked = mask_url(parsed)
    path = sqlite_path(parsed)
    if not migrate and path is not None and not path.exists():
        return SchemaState(url=masked, revision=None, previous=None)  # not created here
    engine = create_store_engine(parsed)
    try:
        if migrate:
            prepare_location(parsed)
        previous = store_revision(engine)
        now = upgrade(engine) if migrate else previous
    except StoreError:
        raise
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        raise StoreError(f"cannot read results store {masked}: {_reason(exc)}") from None
    finally:
        engine.dispose()
    return SchemaState(url=masked, revision=now, previous=previous)


def _reason(exc: BaseException) -> str:
    """The database's message in one line, without SQL, parameters or secrets."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return mask_url(lines[0] if lines else type(cause).__name__)[:300]


def _is_unknown(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        ScriptDirectory(str(MIGRATIONS)).get_revision(revision)
    except CommandError:
        return True
    return False
