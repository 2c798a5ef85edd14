"""The first schema: one row per gate run, one row per check of a run.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

if TYPE_CHECKING:
    from datetime import datetime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the column types of this revision (never import them from tables.py,
# which describes the newest schema).
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
        "opsguard_runs",
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("dataset", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("checked_at", _datetime(), nullable=False),
        sa.Column("checked_at_utcoffset", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("rows", sa.BigInteger(), nullable=True),
        sa.Column("contract_fingerprint", sa.String(128), nullable=True),
        sa.Column("data_fingerprint", sa.JSON(), nullable=True),
        sa.Column("source", _long_text(), nullable=True),
        sa.Column("error", _long_text(), nullable=True),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_opsguard_runs"),
        **MYSQL_OPTIONS,
    )
    op.create_index(
        "ix_opsguard_runs_dataset_checked_at", "opsguard_runs", ["dataset", "checked_at"]
    )
    op.create_index("ix_opsguard_runs_checked_at", "opsguard_runs", ["checked_at"])
    op.create_table(
        "opsguard_check_results",
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("column_name", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("observed", sa.JSON(), nullable=True),
        sa.Column("expected", sa.JSON(), nullable=True),
        sa.Column("message", _long_text(), nullable=False),
        sa.Column("failing_count", sa.BigInteger(), nullable=True),
        sa.Column("failing_fraction", sa.Double(), nullable=True),
        sa.Column("samples", sa.JSON(), nullable=True),
        sa.Column("mostly", sa.Double(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["opsguard_runs.run_id"],
            name="fk_opsguard_check_results_run_id_opsguard_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_opsguard_check_results"),
        **MYSQL_OPTIONS,
    )
    # The history of one check: its rows across runs, joined to the runs of one dataset.
    op.create_index(
        "ix_opsguard_check_results_name_run_id", "opsguard_check_results", ["name", "run_id"]
    )


def downgrade() -> None:
    op.drop_table("opsguard_check_results")
    op.drop_table("opsguard_runs")
