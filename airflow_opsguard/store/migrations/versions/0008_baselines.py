"""Baselines: reference profiles kept, versioned, under names; and each run's profile.

``opsguard_baselines`` holds one row per version of a named baseline (a drift reference
profile as JSON), who made it and from which run. ``opsguard_run_profiles`` keeps the
profile of a run's data for contracts that use a baseline, so that a passing run can be
promoted to the next version later. New tables only.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

if TYPE_CHECKING:
    from datetime import datetime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BASELINES = "opsguard_baselines"
RUN_PROFILES = "opsguard_run_profiles"
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
        BASELINES,
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("dataset", sa.String(255), nullable=False),
        sa.Column("profile", _long_text(), nullable=False),
        sa.Column("run_id", sa.String(255)),
        sa.Column("created_at", _datetime(), nullable=False),
        sa.Column("created_by", sa.String(255)),
        sa.Column("reason", _long_text()),
        sa.PrimaryKeyConstraint("name", "version", name="pk_opsguard_baselines"),
        **MYSQL_OPTIONS,
    )
    op.create_table(
        RUN_PROFILES,
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("profile", _long_text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["opsguard_runs.run_id"],
            name="fk_opsguard_run_profiles_run_id_opsguard_runs",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name="pk_opsguard_run_profiles"),
        **MYSQL_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table(RUN_PROFILES)
    op.drop_table(BASELINES)
