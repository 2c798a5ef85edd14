"""Quarantine: one row per batch (or the bad rows of a batch) a gate set aside.

``opsguard_quarantine`` records what was quarantined, where it went, why (the failing
checks), and what a reviewer decided (released or dropped, by whom, why, when). The
primary key is the batch id, stable across retries of a gate task, so a retried gate
records its batch once. A new table only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

if TYPE_CHECKING:
    from datetime import datetime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

QUARANTINE = "opsguard_quarantine"
# Frozen copies of this revision's types (never import tables.py in a revision).
MYSQL_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _datetime() -> sa.types.TypeEngine[datetime]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _long_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        QUARANTINE,
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(255), nullable=False),
        sa.Column("run_id", sa.String(255), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("location", _long_text(), nullable=False),
        sa.Column("source", _long_text(), nullable=True),
        sa.Column("publish_to", sa.String(500), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=True),
        sa.Column("clean_rows", sa.BigInteger(), nullable=True),
        sa.Column("reasons", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("details", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("dag_id", sa.String(250), nullable=True),
        sa.Column("task_id", sa.String(250), nullable=True),
        sa.Column("dag_run_id", sa.String(250), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("reviewed_at", _datetime(), nullable=True),
        sa.Column("reviewed_by", sa.String(255), nullable=True),
        sa.Column("review_reason", _long_text(), nullable=True),
        sa.Column("review_run_id", sa.String(255), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("batch_id", name="pk_opsguard_quarantine"),
        **MYSQL_OPTIONS,
    )
    # The batches of one dataset (or of one status), newest first; a run's batches.
    op.create_index(
        "ix_opsguard_quarantine_dataset_created_at", QUARANTINE, ["dataset", "created_at"]
    )
    op.create_index(
        "ix_opsguard_quarantine_status_created_at", QUARANTINE, ["status", "created_at"]
    )
    op.create_index("ix_opsguard_quarantine_run_id", QUARANTINE, ["run_id"])


def downgrade() -> None:
    op.drop_table(QUARANTINE)
