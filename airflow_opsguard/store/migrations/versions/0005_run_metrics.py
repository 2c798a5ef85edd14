"""Run metrics: one row per metric of a run (rows, null fractions, means, ...).

Anomaly and row-count-change checks read a metric's history as one index range of
(dataset, name, checked_at). The run's verdict is copied onto each row so that "the
previous passing run" needs no join. A new table only: workers of older releases keep
writing runs (without metrics) to a store that this revision migrated.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

if TYPE_CHECKING:
    from datetime import datetime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

METRICS = "opsguard_metrics"
# Frozen copies of this revision's types (never import tables.py in a revision).
MYSQL_OPTIONS: dict[str, Any] = {
    "mysql_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_bin",
}


def _datetime() -> sa.types.TypeEngine[datetime]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    # Names up to 500 characters: (run_id, name) and (dataset, name, checked_at) stay
    # within MySQL's 3072-byte index keys in utf8mb4.
    op.create_table(
        METRICS,
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("dataset", sa.String(255), nullable=False),
        sa.Column("checked_at", _datetime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["opsguard_runs.run_id"],
            name="fk_opsguard_metrics_run_id_opsguard_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "name", name="pk_opsguard_metrics"),
        **MYSQL_OPTIONS,
    )
    # The history of one metric of one dataset, newest first.
    op.create_index(
        "ix_opsguard_metrics_dataset_name_checked_at", METRICS, ["dataset", "name", "checked_at"]
    )


def downgrade() -> None:
    op.drop_table(METRICS)
