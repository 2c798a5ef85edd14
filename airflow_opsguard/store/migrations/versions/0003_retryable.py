"""Whether a run's error may pass on a retry (a database that did not answer).

Gates retry such errors and fail at once on others; the UI and alerts tell them apart.
Additive, with a default, so older workers keep writing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

RUNS = "opsguard_runs"


def upgrade() -> None:
    # A plain ADD COLUMN: a batch (copy-and-rename) of the parent table would cascade
    # deletes into the check results on SQLite.
    op.add_column(
        RUNS, sa.Column("retryable", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {RUNS} DROP COLUMN retryable")  # SQLite 3.35+
    else:
        op.drop_column(RUNS, "retryable")
