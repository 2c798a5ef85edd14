"""Incidents hold before they resolve: passing runs in a row, returns, a flapping mark.

An incident resolves after the contract's ``resolution.after_passes`` passing runs in a
row. ``passing_runs`` counts them while it is recovering (NULL in older rows reads as
0), ``returns`` (JSON, ISO 8601 moments) lists when its failure came back while it was
recovering, and ``flapping`` marks one whose failure started often within a window.
New nullable columns only: rows of before read as they were.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INCIDENTS = "opsguard_incidents"
COLUMNS = ("passing_runs", "returns", "flapping")


def upgrade() -> None:
    op.add_column(INCIDENTS, sa.Column("passing_runs", sa.Integer(), nullable=True))
    op.add_column(INCIDENTS, sa.Column("returns", sa.JSON(none_as_null=True), nullable=True))
    op.add_column(INCIDENTS, sa.Column("flapping", sa.Boolean(), nullable=True))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {INCIDENTS} DROP COLUMN {column}")  # SQLite 3.35+
        else:
            op.drop_column(INCIDENTS, column)
