"""Alembic's entry point for the results store; run by ``airflow_opsguard.store.migrate``.

The caller hands over a connection (``config.attributes["connection"]``) that already
holds the migration lock; this script never opens one of its own.
"""

from __future__ import annotations

from alembic import context

from airflow_opsguard.store.tables import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError(
        "run the results store migrations through airflow_opsguard.store.migrate.upgrade()"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
